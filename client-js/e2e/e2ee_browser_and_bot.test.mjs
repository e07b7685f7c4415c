// @ts-check
// Cross-implementation E2EE: a Chromium browser (demo app, fake camera and microphone) and the
// Rust `bot` (dark-tower-client) share a passphrase. Each derives the key on its own side with
// its own defaults (PBKDF2-HMAC-SHA256 salt and iterations, per-sender HKDF, KID layout: see
// docs/E2EE.md §3), so this fails if the TypeScript and Rust defaults drift apart. The browser
// decrypts, decodes and renders the bot's fixture VP8 (320x240, non-black, changing) and decodes
// its Opus; the bot decrypts the browser's frames and checks them structurally as VP8 and Opus
// (a frame that does not decrypt is counted and never verified). The server forwards only
// ciphertext. Waits on conditions and on the bot's exit, never on fixed sleeps.

import assert from "node:assert/strict";
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";

import { ensureBotBinary, startBot } from "./bot.mjs";
import { CHROMIUM, PACKAGE_ROOT, cleanupAll, demoOrigin, ensureServerBinary, startServer } from "./harness.mjs";
import { TIMEOUT, events, expectDecodedAudio, expectLiveVideo, joinDemo, remoteStats } from "./pages.mjs";

const MEETING = "e2e-e2ee-browser-and-bot";
const PASSPHRASE = "a browser and a bot share this passphrase";
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

test("a browser and the Rust bot with the same passphrase decrypt each other's media", { timeout: 240_000 }, async (t) => {
  // The bot joins first (and publishes), the browser second: the other order than in
  // browser_and_bot_exchange_real_media.test.mjs.
  const bot = startBot({
    server,
    meeting: MEETING,
    identity: "bot",
    args: ["--seconds", BOT_SECONDS, "--expect-peers", "1", "--min-frames", MIN_FRAMES, "--e2ee-passphrase", PASSPHRASE],
  });
  await bot.waitForLine(/^bot: joined /, TIMEOUT);
  const browser = await joinDemo({
    origin: demoOrigin(server),
    dataDir: server.dataDir,
    meeting: MEETING,
    identity: "alice",
    query: { e2ee: PASSPHRASE },
  });
  try {
    assert.ok((await events(browser.page)).includes("e2ee:on"), "the browser has E2EE on");
    const seen = await expectLiveVideo(browser.page, "bot");
    assert.deepEqual([seen.second.width, seen.second.height], [320, 240], "the fixture's picture size");
    const level = await expectDecodedAudio(browser.page, "bot", 25);
    t.diagnostic(`alice sees the bot ${seen.second.width}x${seen.second.height} (mean ${seen.second.mean.toFixed(1)}), hears level ${level.toFixed(3)}`);

    mkdirSync(join(PACKAGE_ROOT, "e2e-artifacts"), { recursive: true });
    await browser.page.screenshot({ path: join(PACKAGE_ROOT, "e2e-artifacts", "e2ee_browser_and_bot.png") });

    // What alice received from the bot was encrypted: the bot's tracks say so, and alice's
    // decryptor did the work.
    const tracks = await browser.page.evaluate(() => {
      const p = window.dtDemo?.room.remoteParticipants.get("bot");
      return [...(p?.trackPublications.values() ?? [])].map((pub) => ({ source: pub.source, encrypted: pub.info.encrypted }));
    });
    t.diagnostic(`the bot's tracks as alice sees them: ${JSON.stringify(tracks)}`);
    assert.equal(tracks.length, 2);
    for (const tr of tracks) assert.equal(tr.encrypted, true, `the bot's ${tr.source} is not marked encrypted`);
    const e2ee = await browser.page.evaluate(() => window.dtDemo?.room.e2eeStats);
    t.diagnostic(`alice's E2EE counters: ${JSON.stringify(e2ee)}`);
    assert.ok(e2ee !== undefined && e2ee.framesDecrypted > 25, "alice decrypted the bot's frames");
    const errors = (await events(browser.page)).filter((e) => e.startsWith("encryptionError:bot:"));
    assert.deepEqual(errors, [], "no frame of the bot failed to decrypt in the browser");
    t.diagnostic(`the bot as alice receives it: ${JSON.stringify(await remoteStats(browser.page, "bot"))}`);

    // The bot decrypted alice's frames and verified them as VP8 and Opus.
    // Once the bot says so, stop it (it reports as at a deadline) and read its report.
    await bot.waitForLine(/^bot: verified media from alice$/, TIMEOUT);
    // The bot decrypted at least MIN_FRAMES video and as many audio frames of alice's.
    const sent = await browser.page.evaluate(() => window.dtDemo?.room.e2eeStats?.framesEncrypted ?? 0);
    assert.ok(sent >= 2 * Number(MIN_FRAMES), `alice encrypted only ${sent} frames`);
    bot.interrupt();
    const result = await bot.done;
    t.diagnostic(`bot: ${result.stdout.trim()}`);
    assert.equal(result.code, 0, `bot failed:\n${result.stdout}\n${result.stderr}`);
    const alice = result.peers.find((p) => p.identity === "alice");
    assert.ok(alice !== undefined, `the bot reports no peer alice: ${result.stdout}`);
    assert.equal(alice.verified, true);
    assert.equal(alice.bad, 0);
    assert.equal(alice.unchecked, 0);
    assert.equal(alice.undecryptable, 0, "every frame of alice decrypted in the bot");
    assert.ok(alice.video_frames >= 30, `${alice.video_frames} VP8 frames`);
    assert.ok(alice.audio_frames >= 30, `${alice.audio_frames} Opus packets`);
  } catch (e) {
    for (const l of browser.logs) console.log(l);
    console.log(`events: ${(await events(browser.page)).join(", ")}`);
    console.log(`bot stderr:\n${bot.stderr()}`);
    console.log(server.stderr().slice(-5000));
    throw e;
  } finally {
    bot.kill();
    await browser.browser.close();
  }
});
