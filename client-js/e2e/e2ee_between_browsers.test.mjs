// @ts-check
// End-to-end encryption between real browsers through the real server: alice and bob share a
// passphrase and see each other's video (alice's audio too); carol has a wrong one, gets
// EncryptionError for their tracks and never decodes a frame of them (they get errors for hers).
// Alice and bob then rotate to a new key (index 1) and media keeps flowing. Waits on conditions.

import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { after, before, test } from "node:test";

import { CHROMIUM, cleanupAll, demoOrigin, ensureServerBinary, startServer } from "./harness.mjs";
import { TIMEOUT, events, expectLiveVideo, expectMoreVideoFrames, joinDemo, remoteStats, waitForEvent } from "./pages.mjs";

const MEETING = "e2e-e2ee";

/** @type {Awaited<ReturnType<typeof startServer>>} */
let server;
/** @type {string} */
let origin;

before(async () => {
  assert.ok(existsSync(CHROMIUM), `${CHROMIUM} missing: apt-get install -y chromium chromium-driver`);
  ensureServerBinary();
  server = await startServer();
  origin = demoOrigin(server);
});

after(() => cleanupAll());

/**
 * @param {string} identity
 * @param {string} passphrase
 * @param {boolean} mic
 */
function join(identity, passphrase, mic) {
  return joinDemo({ origin, dataDir: server.dataDir, meeting: MEETING, identity, query: { e2ee: passphrase }, mic });
}

/**
 * Decoded frames of every track of `identity` in `page`, and whether anything was drawn into a canvas of it.
 * @param {import("playwright-core").Page} page
 * @param {string} identity
 */
function decodedOf(page, identity) {
  return page.evaluate((id) => {
    const p = window.dtDemo?.room.remoteParticipants.get(id);
    const decoded = [...(p?.trackPublications.values() ?? [])].reduce((n, pub) => n + (pub.track?.stats.framesOutput ?? 0), 0);
    // A canvas nothing was drawn into is fully transparent.
    const drawn = [...document.querySelectorAll(`canvas[data-remote-identity="${id}"]`)].some((c) => {
      if (!(c instanceof HTMLCanvasElement) || c.width === 0 || c.height === 0) return false;
      const data = c.getContext("2d")?.getImageData(0, 0, c.width, c.height).data ?? [];
      for (let i = 3; i < data.length; i += 4) if (data[i] !== 0) return true;
      return false;
    });
    return { decoded, drawn, tracks: p?.trackPublications.size ?? 0 };
  }, identity);
}

test("browsers with the same passphrase see each other; a wrong passphrase sees nothing; rotation keeps media flowing", { timeout: 300_000 }, async (t) => {
  const alice = await join("alice", "correct horse battery staple", true);
  const bob = await join("bob", "correct horse battery staple", false);
  const carol = await join("carol", "wrong passphrase", false);
  const all = [alice, bob, carol];
  try {
    await expectLiveVideo(bob.page, "alice");
    await expectLiveVideo(alice.page, "bob");
    await bob.page.waitForFunction(
      () => {
        const p = window.dtDemo?.room.remoteParticipants.get("alice");
        return [...(p?.trackPublications.values() ?? [])].some((pub) => pub.kind === "audio" && (pub.track?.stats.framesOutput ?? 0) > 10);
      },
      undefined,
      { timeout: TIMEOUT, polling: 100 },
    );

    // Encryption runs in a dedicated worker, not on the page's thread.
    for (const j of all) {
      const workers = j.page.workers().map((w) => w.url());
      assert.ok(workers.some((u) => /worker/.test(u)), `${j.identity} has no encryption worker: ${workers.join(", ")}`);
    }

    // Carol: errors, never a decoded frame, never a drawn canvas.
    await waitForEvent(carol.page, "encryptionError:alice:AuthenticationFailed");
    await waitForEvent(carol.page, "encryptionError:bob:AuthenticationFailed");
    await waitForEvent(alice.page, "encryptionError:carol:AuthenticationFailed");
    await waitForEvent(bob.page, "encryptionError:carol:AuthenticationFailed");
    // Let some more of their frames reach carol (and fail) before looking.
    const failedBefore = await carol.page.evaluate(() => window.dtDemo?.room.e2eeStats?.decryptFailures ?? 0);
    await carol.page.waitForFunction((n) => (window.dtDemo?.room.e2eeStats?.decryptFailures ?? 0) >= n + 30, failedBefore, {
      timeout: TIMEOUT,
      polling: 100,
    });
    for (const id of ["alice", "bob"]) {
      const d = await decodedOf(carol.page, id);
      assert.ok(d.tracks > 0, `carol does not know ${id}'s tracks`);
      assert.equal(d.decoded, 0, `carol decoded ${d.decoded} frames of ${id}`);
      assert.equal(d.drawn, false, `carol drew ${id}'s video`);
    }
    const carolStats = await carol.page.evaluate(() => window.dtDemo?.room.e2eeStats);
    t.diagnostic(`carol: ${JSON.stringify(carolStats)}`);

    // EncryptionError is rate-limited: at most twice a second per track.
    const carolEvents = (await events(carol.page)).filter((e) => e.startsWith("encryptionError:"));
    const failures = carolStats?.decryptFailures ?? 0;
    assert.ok(carolEvents.length < failures, `${carolEvents.length} events for ${failures} failed frames`);

    // Rotation on both good browsers: media continues.
    await Promise.all(
      [alice, bob].map((j) => j.page.evaluate(() => window.dtDemo?.keyProvider?.setKey("second passphrase after rotation", 1))),
    );
    const encryptedBefore = await alice.page.evaluate(() => window.dtDemo?.room.e2eeStats?.framesEncrypted ?? 0);
    await expectMoreVideoFrames(bob.page, "alice", 30);
    await expectMoreVideoFrames(alice.page, "bob", 30);
    await expectLiveVideo(bob.page, "alice");
    await expectLiveVideo(alice.page, "bob");
    assert.ok((await alice.page.evaluate(() => window.dtDemo?.room.e2eeStats?.framesEncrypted ?? 0)) > encryptedBefore);
    const carolAfter = await decodedOf(carol.page, "alice");
    assert.equal(carolAfter.decoded, 0, "carol decoded alice after the rotation");
    for (const j of [alice, bob]) {
      t.diagnostic(`${j.identity}: ${JSON.stringify(await j.page.evaluate(() => window.dtDemo?.room.e2eeStats))}`);
      const between = (await events(j.page)).filter((e) => e.startsWith("encryptionError:") && !e.includes(":carol:"));
      t.diagnostic(`${j.identity}'s errors about the other good browser (around the rotation): ${between.join(", ") || "none"}`);
    }
    t.diagnostic(`alice as bob receives her: ${JSON.stringify(await remoteStats(bob.page, "alice"))}`);
  } catch (e) {
    for (const j of all) {
      for (const l of j.logs) console.log(l);
      console.log(`${j.identity}: ${(await events(j.page)).join(", ")}`);
    }
    console.log(server.stderr().slice(-5000));
    throw e;
  } finally {
    for (const j of all) await j.browser.close();
  }
});
