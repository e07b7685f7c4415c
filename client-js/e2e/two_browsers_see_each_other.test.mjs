// @ts-check
// Two Chromium browsers join one meeting through the real Rust server, publish the fake camera
// (VP8, 320x240 @ 15 fps) and microphone (Opus), and each sees the other's video: the remote
// canvas has non-black pixels that change over time. Waits on conditions, never on fixed sleeps.

import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { after, before, test } from "node:test";

import { CHROMIUM, cleanupAll, demoOrigin, ensureServerBinary, startServer } from "./harness.mjs";
import { TIMEOUT, expectLiveVideo, joinDemo, remoteStats } from "./pages.mjs";

const MEETING = "e2e-two-browsers";

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

/** @param {string} identity */
const join = (identity) => joinDemo({ origin, dataDir: server.dataDir, meeting: MEETING, identity });

test("two browsers in one meeting see each other's video", { timeout: 240_000 }, async (t) => {
  const alice = await join("alice");
  const bob = await join("bob");
  t.after(() => {
    if (process.exitCode) for (const l of [...alice.logs, ...bob.logs]) console.log(l);
  });
  try {
    const seenByBob = await expectLiveVideo(bob.page, "alice");
    const seenByAlice = await expectLiveVideo(alice.page, "bob");
    t.diagnostic(`bob sees alice ${seenByBob.second.width}x${seenByBob.second.height}, mean ${seenByBob.second.mean.toFixed(1)}`);
    t.diagnostic(`alice sees bob ${seenByAlice.second.width}x${seenByAlice.second.height}, mean ${seenByAlice.second.mean.toFixed(1)}`);

    // Audio went over datagrams and decodes.
    for (const [page, other] of /** @type {const} */ ([[alice.page, "bob"], [bob.page, "alice"]])) {
      await page.waitForFunction(
        (id) => {
          const p = window.dtDemo?.room.remoteParticipants.get(id);
          return [...(p?.trackPublications.values() ?? [])].some((pub) => pub.kind === "audio" && (pub.track?.stats.framesOutput ?? 0) > 10);
        },
        other,
        { timeout: TIMEOUT, polling: 100 },
      );
      t.diagnostic(`${other} as received: ${JSON.stringify(await remoteStats(page, other))}`);
    }

    // Alice leaves; Bob is told.
    await alice.page.evaluate(() => window.dtDemo?.room.disconnect());
    await bob.page.waitForFunction(() => window.dtDemo?.events.includes("participantDisconnected:alice") ?? false, undefined, {
      timeout: TIMEOUT,
      polling: 100,
    });
    const aliceEvents = await alice.page.evaluate(() => window.dtDemo?.events ?? []);
    assert.ok(aliceEvents.some((e) => e.startsWith("disconnected:")), "alice saw Disconnected");
  } catch (e) {
    for (const l of [...alice.logs, ...bob.logs]) console.log(l);
    console.log(server.stderr().slice(-5000));
    throw e;
  } finally {
    await alice.browser.close();
    await bob.browser.close();
  }
});
