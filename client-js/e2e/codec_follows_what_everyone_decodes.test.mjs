// @ts-check
// Codec negotiation: alice prefers VP9 (the demo's `codec=vp9`). Alone in the meeting she
// publishes VP9. The Rust bot then joins; it announces no video decoders (the SDK does not
// decode), which counts as VP8 only — so alice publishes her camera again, in VP8, from the same
// capture, and the bot verifies her frames as VP8 structurally. Waits on conditions and on the
// bot's output and exit, never on fixed sleeps.

import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { after, before, test } from "node:test";

import { ensureBotBinary, startBot } from "./bot.mjs";
import { CHROMIUM, cleanupAll, demoOrigin, ensureServerBinary, startServer } from "./harness.mjs";
import { TIMEOUT, joinDemo } from "./pages.mjs";

const MEETING = "e2e-codec-negotiation";

/** @type {Awaited<ReturnType<typeof startServer>>} */
let server;

before(async () => {
  assert.ok(existsSync(CHROMIUM), `${CHROMIUM} missing: apt-get install -y chromium chromium-driver`);
  ensureServerBinary();
  ensureBotBinary();
  server = await startServer();
});

after(() => cleanupAll());

/**
 * The codec of the local camera publication, once there is one.
 * @param {import("playwright-core").Page} page
 * @param {string} expected
 */
async function cameraCodec(page, expected) {
  await page.waitForFunction(
    (want) => {
      const pubs = [...(window.dtDemo?.room?.localParticipant.trackPublications.values() ?? [])];
      return pubs.find((x) => x.source === "camera")?.info.codec === want;
    },
    expected,
    { timeout: TIMEOUT },
  );
}

test("a publisher preferring VP9 publishes VP8 once someone who cannot decode VP9 joins", { timeout: 240_000 }, async (t) => {
  const alice = await joinDemo({ origin: demoOrigin(server), dataDir: server.dataDir, meeting: MEETING, identity: "alice", query: { codec: "vp9" } });
  let bot;
  try {
    const vp9 = await alice.page.evaluate(async () => (await VideoEncoder.isConfigSupported({ codec: "vp09.00.10.08", width: 320, height: 240, bitrate: 300_000, framerate: 15 })).supported === true);
    // Chromium from apt encodes VP9 in software; without it this test would prove nothing.
    assert.ok(vp9, "this Chromium cannot encode VP9");
    await cameraCodec(alice.page, "vp09.00.10.08");
    t.diagnostic("alone, alice publishes VP9");

    bot = startBot({ server, meeting: MEETING, identity: "bot", args: ["--seconds", "180", "--expect-peers", "1", "--min-frames", "30"] });
    await cameraCodec(alice.page, "vp8");
    t.diagnostic("with the bot (no VP9 decoder announced), alice publishes VP8");

    await bot.waitForLine(/^bot: verified media from alice$/, TIMEOUT);
    bot.interrupt();
    const result = await bot.done;
    assert.equal(result.code, 0, `bot failed:\n${result.stdout}\n${result.stderr}`);
    const peer = result.peers.find((p) => p.identity === "alice");
    assert.ok(peer !== undefined && peer.verified, `the bot did not verify alice: ${result.stdout}`);
    // Frames of the VP9 track that reached the bot before alice published again are counted as
    // unchecked (the bot checks VP8 and Opus); none failed a check.
    assert.equal(peer.bad, 0);
    t.diagnostic(`the bot: ${peer.video_frames} VP8 frames verified, ${peer.unchecked} unchecked`);
  } catch (e) {
    for (const l of alice.logs) console.log(l);
    if (bot !== undefined) console.log(`bot stderr:\n${bot.stderr()}`);
    throw e;
  } finally {
    bot?.kill();
    await alice.browser.close();
  }
});
