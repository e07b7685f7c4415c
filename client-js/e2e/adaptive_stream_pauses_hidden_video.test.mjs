// @ts-check
// Adaptive stream in a real browser: alice (adaptiveStream on) shows bob's camera in a canvas
// the demo's grid sizes, so she asks the SFU for at most that size; hiding the canvas pauses the subscription and
// bob's frames stop arriving; showing it again brings live video back. Waits on conditions.

import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { after, before, test } from "node:test";

import { CHROMIUM, cleanupAll, demoOrigin, ensureServerBinary, startServer } from "./harness.mjs";
import { TIMEOUT, events, expectLiveVideo, expectMoreVideoFrames, joinDemo } from "./pages.mjs";

const MEETING = "e2e-adaptive";

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
 * What alice's subscription to bob's camera asks for now.
 * @param {import("playwright-core").Page} page
 */
function bobCameraUpdate(page) {
  return page.evaluate(() => {
    const p = window.dtDemo?.room.remoteParticipants.get("bob");
    const pub = [...(p?.trackPublications.values() ?? [])].find((x) => x.kind === "video");
    const u = pub?.subscriptionUpdate();
    return u === undefined ? null : { paused: u.paused, maxWidth: u.maxWidth, maxHeight: u.maxHeight };
  });
}

/**
 * @param {import("playwright-core").Page} page
 * @param {string} display
 */
function setBobTileDisplay(page, display) {
  return page.evaluate((d) => {
    const tile = document.querySelector('canvas[data-remote-identity="bob"]')?.closest(".tile");
    if (!(tile instanceof HTMLElement)) throw new Error("no tile for bob");
    tile.style.display = d;
  }, display);
}

test("a hidden video is paused by adaptive stream and resumes when shown", { timeout: 240_000 }, async (t) => {
  const alice = await joinDemo({ origin, dataDir: server.dataDir, meeting: MEETING, identity: "alice", query: { adaptive: "1" }, mic: false });
  const bob = await joinDemo({ origin, dataDir: server.dataDir, meeting: MEETING, identity: "bob", mic: false });
  try {
    await expectLiveVideo(alice.page, "bob");
    await expectMoreVideoFrames(alice.page, "bob", 10);
    // The demo's grid sizes the tile: the request follows the canvas's size on screen.
    const shown = await alice.page.evaluate(() => {
      const r = document.querySelector('canvas[data-remote-identity="bob"]')?.getBoundingClientRect();
      return { width: (r?.width ?? 0) * devicePixelRatio, height: (r?.height ?? 0) * devicePixelRatio };
    });
    const update = await bobCameraUpdate(alice.page);
    assert.equal(update?.paused, false);
    assert.ok(Math.abs((update?.maxWidth ?? 0) - shown.width) <= 1 && Math.abs((update?.maxHeight ?? 0) - shown.height) <= 1, `asked for ${JSON.stringify(update)}, shown at ${JSON.stringify(shown)}`);

    await setBobTileDisplay(alice.page, "none");
    await alice.page.waitForFunction(
      () => {
        const p = window.dtDemo?.room.remoteParticipants.get("bob");
        const pub = [...(p?.trackPublications.values() ?? [])].find((x) => x.kind === "video");
        return pub?.subscriptionUpdate().paused === true;
      },
      undefined,
      { timeout: TIMEOUT, polling: 50 },
    );
    // Frames stop: the receive counter stays put for 1.5 s (frames in flight may land first).
    const stalledFor = await alice.page.waitForFunction(
      () => {
        const p = window.dtDemo?.room.remoteParticipants.get("bob");
        const pub = [...(p?.trackPublications.values() ?? [])].find((x) => x.kind === "video");
        const n = pub?.track?.stats.framesReceived ?? -1;
        const w = /** @type {{ lastN?: number, since?: number }} */ (/** @type {unknown} */ (window));
        const now = performance.now();
        if (w.lastN !== n) {
          w.lastN = n;
          w.since = now;
        }
        return now - (w.since ?? now) >= 1500 ? n : false;
      },
      undefined,
      { timeout: TIMEOUT, polling: 100 },
    );
    t.diagnostic(`bob's frames stopped at ${await stalledFor.jsonValue()} while hidden`);

    await setBobTileDisplay(alice.page, "");
    await expectMoreVideoFrames(alice.page, "bob", 10);
    await expectLiveVideo(alice.page, "bob");
    assert.equal((await bobCameraUpdate(alice.page))?.paused, false);
  } catch (e) {
    for (const l of [...alice.logs, ...bob.logs]) console.log(l);
    console.log(`alice: ${(await events(alice.page)).join(", ")}`);
    console.log(server.stderr().slice(-5000));
    throw e;
  } finally {
    await alice.browser.close();
    await bob.browser.close();
  }
});
