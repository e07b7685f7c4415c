// @ts-check
// Cross-implementation check: a Chromium browser (fake camera and microphone, the demo app) and
// the Rust `bot` (dark-tower-client) meet through the real server. The bot publishes real VP8
// and Opus from the committed fixtures (examples/fixtures); the browser decodes and renders its
// video (canvas pixels non-black and changing, at the fixture's 320x240) and decodes its audio
// (the tile's decoded level above silence). The bot checks the browser's VP8 frames and Opus
// packets structurally; once it has verified 30 of each it says so, the test stops it (SIGINT)
// and it must exit 0 (`--expect-peers 1`: no frame failed, the browser delivered both). Waits on
// conditions and on the bot's output and exit, never on fixed sleeps.

import assert from "node:assert/strict";
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";

import { startBot, ensureBotBinary } from "./bot.mjs";
import { CHROMIUM, PACKAGE_ROOT, cleanupAll, demoOrigin, ensureServerBinary, startServer } from "./harness.mjs";
import { TIMEOUT, expectDecodedAudio, expectLiveVideo, joinDemo, remoteStats } from "./pages.mjs";

const MEETING = "e2e-browser-and-bot";
/** The longest the bot stays; the test ends it (SIGINT) once both sides have verified. */
const BOT_SECONDS = "180";
/** The bot verifies a peer after this many checked VP8 frames and as many Opus packets (2 s of video). */
const MIN_FRAMES = "30";

/** @type {Awaited<ReturnType<typeof startServer>>} */
let server;

before(async () => {
  assert.ok(existsSync(CHROMIUM), `${CHROMIUM} missing: apt-get install -y chromium chromium-driver`);
  ensureServerBinary();
  ensureBotBinary();
  server = await startServer();
});

after(() => cleanupAll());

test("a browser and the Rust bot exchange real VP8 and Opus", { timeout: 240_000 }, async (t) => {
  const browser = await joinDemo({ origin: demoOrigin(server), dataDir: server.dataDir, meeting: MEETING, identity: "alice" });
  const bot = startBot({ server, meeting: MEETING, identity: "bot", args: ["--seconds", BOT_SECONDS, "--expect-peers", "1", "--min-frames", MIN_FRAMES] });
  try {
    // The browser renders the bot's VP8: the fixture's size, non-black, changing.
    const seen = await expectLiveVideo(browser.page, "bot");
    assert.deepEqual([seen.second.width, seen.second.height], [320, 240], "the fixture's picture size");
    // ... and decodes its Opus.
    const level = await expectDecodedAudio(browser.page, "bot", 25);
    t.diagnostic(`alice sees the bot ${seen.second.width}x${seen.second.height} (mean ${seen.second.mean.toFixed(1)}), hears level ${level.toFixed(3)}`);
    mkdirSync(join(PACKAGE_ROOT, "e2e-artifacts"), { recursive: true });
    await browser.page.screenshot({ path: join(PACKAGE_ROOT, "e2e-artifacts", "browser_and_bot.png") });
    const stats = await remoteStats(browser.page, "bot");
    t.diagnostic(`the bot as alice receives it: ${JSON.stringify(stats)}`);
    for (const s of stats ?? []) assert.equal(s.stats?.errors ?? 0, 0, `decoder errors on the bot's ${s.source}`);

    // The bot verified alice's VP8 and Opus structurally, and nothing failed its checks.
    // Once the bot says so, stop it (it reports as at a deadline) and read its report.
    await bot.waitForLine(/^bot: verified media from alice$/, TIMEOUT);
    bot.interrupt();
    const result = await bot.done;
    t.diagnostic(`bot: ${result.stdout.trim()}`);
    assert.equal(result.code, 0, `bot failed:\n${result.stdout}\n${result.stderr}`);
    const alice = result.peers.find((p) => p.identity === "alice");
    assert.ok(alice !== undefined, `the bot reports no peer alice: ${result.stdout}`);
    assert.equal(alice.verified, true);
    assert.equal(alice.bad, 0);
    assert.equal(alice.unchecked, 0, "alice's tracks are VP8 and Opus, which the bot checks");
    assert.ok(alice.video_frames >= 30, `${alice.video_frames} VP8 frames`);
    assert.ok(alice.audio_frames >= 30, `${alice.audio_frames} Opus packets`);
  } catch (e) {
    for (const l of browser.logs) console.log(l);
    console.log(`bot stderr:\n${bot.stderr()}`);
    console.log(server.stderr().slice(-5000));
    throw e;
  } finally {
    bot.kill();
    await browser.browser.close();
  }
});
