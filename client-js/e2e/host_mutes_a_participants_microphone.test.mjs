// @ts-check
// Moderation in real browsers: alice joins as a host, bob as a participant with his microphone
// on. Alice mutes bob's microphone (MuteParticipantTrack); bob's client obeys the server's
// TrackMuted about itself: his publication is muted, his page gets TrackMuted, his encoder stops
// (captured audio is skipped, nothing is encoded) and alice stops receiving his audio. Bob
// unmutes himself and his audio reaches alice again. Waits on conditions, never on fixed sleeps.

import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { after, before, test } from "node:test";

import { CHROMIUM, SERVER_BIN, cleanupAll, demoOrigin, ensureServerBinary, startServer } from "./harness.mjs";
import { TIMEOUT, events, joinDemo, waitForEvent } from "./pages.mjs";

const MEETING = "e2e-moderation";

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
function hostToken(identity) {
  return execFileSync(
    SERVER_BIN,
    ["token", "create", "--data-dir", server.dataDir, "--identity", identity, "--meeting", MEETING, "--name", identity, "--role", "host"],
    { encoding: "utf8" },
  ).trim();
}

/**
 * Audio frames of bob that alice received so far.
 * @param {import("playwright-core").Page} page
 */
function bobAudioReceived(page) {
  return page.evaluate(() => {
    const p = window.dtDemo?.room.remoteParticipants.get("bob");
    const pub = [...(p?.trackPublications.values() ?? [])].find((x) => x.source === "microphone");
    return pub?.track?.stats.framesReceived ?? 0;
  });
}

/**
 * Waits until alice received `more` further audio frames of bob.
 * @param {import("playwright-core").Page} page
 * @param {number} more
 */
async function expectMoreAudio(page, more) {
  const target = (await bobAudioReceived(page)) + more;
  await page.waitForFunction(
    (n) => {
      const p = window.dtDemo?.room.remoteParticipants.get("bob");
      const pub = [...(p?.trackPublications.values() ?? [])].find((x) => x.source === "microphone");
      return (pub?.track?.stats.framesReceived ?? 0) >= n;
    },
    target,
    { timeout: TIMEOUT, polling: 50 },
  );
}

/**
 * Bob's microphone publication as his page sees it.
 * @param {import("playwright-core").Page} page
 */
function bobMic(page) {
  return page.evaluate(() => {
    const pub = [...(window.dtDemo?.room.localParticipant.trackPublications.values() ?? [])].find((x) => x.source === "microphone");
    return { sid: pub?.trackSid, muted: pub?.isMuted, encoded: pub?.pipeline.stats.framesEncoded ?? 0, skipped: pub?.pipeline.stats.framesSkipped ?? 0 };
  });
}

test("a host mutes a participant's microphone and the participant's client stops sending it", { timeout: 240_000 }, async (t) => {
  const alice = await joinDemo({ origin, dataDir: server.dataDir, meeting: MEETING, identity: "alice", mic: false, query: { token: hostToken("alice") } });
  const bob = await joinDemo({ origin, dataDir: server.dataDir, meeting: MEETING, identity: "bob", mic: true });
  try {
    await expectMoreAudio(alice.page, 25);
    const mic = await bobMic(bob.page);
    assert.equal(mic.muted, false);

    await alice.page.evaluate(async (sid) => {
      const room = window.dtDemo?.room;
      const bobP = room?.remoteParticipants.get("bob");
      if (room === undefined || bobP === undefined || sid === undefined) throw new Error("no bob");
      await room.localParticipant.muteParticipantTrack(bobP, sid);
    }, mic.sid);

    // Bob's client obeys: TrackMuted about his own microphone, the publication is muted.
    await waitForEvent(bob.page, "trackMuted:bob:microphone");
    await waitForEvent(alice.page, "trackMuted:bob:microphone");
    const muted = await bobMic(bob.page);
    assert.equal(muted.muted, true);
    // Nothing more is encoded: captured audio keeps coming and is skipped.
    await bob.page.waitForFunction((n) => {
      const pub = [...(window.dtDemo?.room.localParticipant.trackPublications.values() ?? [])].find((x) => x.source === "microphone");
      return (pub?.pipeline.stats.framesSkipped ?? 0) >= n;
    }, muted.skipped + 50, { timeout: TIMEOUT, polling: 50 });
    const later = await bobMic(bob.page);
    assert.ok(later.encoded - muted.encoded <= 2, `bob encoded ${later.encoded - muted.encoded} audio frames while muted`);
    // And alice stops receiving them: her counter stays put for 1 s (frames in flight may land first).
    const stoppedAt = await alice.page.waitForFunction(
      () => {
        const p = window.dtDemo?.room.remoteParticipants.get("bob");
        const pub = [...(p?.trackPublications.values() ?? [])].find((x) => x.source === "microphone");
        const n = pub?.track?.stats.framesReceived ?? -1;
        const w = /** @type {{ lastAudio?: number, since?: number }} */ (/** @type {unknown} */ (window));
        const now = performance.now();
        if (w.lastAudio !== n) {
          w.lastAudio = n;
          w.since = now;
        }
        return now - (w.since ?? now) >= 1000 ? n : false;
      },
      undefined,
      { timeout: TIMEOUT, polling: 100 },
    );
    t.diagnostic(`bob's audio stopped reaching alice at frame ${await stoppedAt.jsonValue()}; bob skipped ${later.skipped - muted.skipped} captured frames`);

    // Only bob can unmute himself.
    await bob.page.evaluate(async () => {
      const pub = [...(window.dtDemo?.room.localParticipant.trackPublications.values() ?? [])].find((x) => x.source === "microphone");
      await pub?.unmute();
    });
    await waitForEvent(alice.page, "trackUnmuted:bob:microphone");
    await expectMoreAudio(alice.page, 25);
  } catch (e) {
    for (const l of [...alice.logs, ...bob.logs]) console.log(l);
    console.log(`alice: ${(await events(alice.page)).join(", ")}`);
    console.log(`bob: ${(await events(bob.page)).join(", ")}`);
    console.log(server.stderr().slice(-5000));
    throw e;
  } finally {
    await alice.browser.close();
    await bob.browser.close();
  }
});
