// @ts-check
// Device switching in a real browser: Chromium's fake capture offers two cameras and two
// microphones (`device-count=2`). Alice, in a meeting with bob, switches camera, microphone and
// speaker from the demo's settings; her camera and microphone are captured again into the same
// publications (bob sees no new track, and keeps receiving video and audio), the speaker applies
// to her audio elements. Then her camera track ends by itself (as when a camera is unplugged): the
// room falls back to the default camera and bob's video goes on. Waits on conditions.

import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { after, before, test } from "node:test";

import { CHROMIUM, cleanupAll, demoOrigin, ensureServerBinary, startServer } from "./harness.mjs";
import { TIMEOUT, events, expectLiveVideo, expectMoreVideoFrames, joinDemo, waitForEvent } from "./pages.mjs";

const MEETING = "e2e-devices";

/** @type {Awaited<ReturnType<typeof startServer>>} */
let server;

before(async () => {
  assert.ok(existsSync(CHROMIUM), `${CHROMIUM} missing: apt-get install -y chromium chromium-driver`);
  ensureServerBinary();
  server = await startServer();
});

after(() => cleanupAll());

/**
 * Alice's device in use for `source`, and its label.
 * @param {import("playwright-core").Page} page
 * @param {"camera" | "microphone"} source
 */
function inUse(page, source) {
  return page.evaluate((s) => {
    const pub = [...(window.dtDemo?.room.localParticipant.trackPublications.values() ?? [])].find((p) => p.source === s);
    return { sid: pub?.trackSid, deviceId: pub?.track.deviceId ?? "", label: pub?.track.mediaStreamTrack.label ?? "" };
  }, source);
}

/**
 * Bob's count of received frames of alice's `kind` track.
 * @param {import("playwright-core").Page} page
 * @param {"audio" | "video"} kind
 */
function framesOf(page, kind) {
  return page.evaluate((k) => {
    const p = window.dtDemo?.room.remoteParticipants.get("alice");
    return [...(p?.trackPublications.values() ?? [])].find((x) => x.kind === k)?.track?.stats.framesOutput ?? 0;
  }, kind);
}

test("switching camera, microphone and speaker between two fake devices; falling back when a camera goes away", { timeout: 300_000 }, async (t) => {
  const origin = demoOrigin(server);
  const alice = await joinDemo({ origin, dataDir: server.dataDir, meeting: MEETING, identity: "alice", browser: { fakeDevices: 2 } });
  const bob = await joinDemo({ origin, dataDir: server.dataDir, meeting: MEETING, identity: "bob" });
  try {
    await expectLiveVideo(bob.page, "alice");
    const cameras = await alice.page.evaluate(async () =>
      (await navigator.mediaDevices.enumerateDevices()).filter((d) => d.kind === "videoinput").map((d) => ({ id: d.deviceId, label: d.label })),
    );
    t.diagnostic(`alice's cameras: ${cameras.map((c) => c.label).join(", ")}`);
    assert.equal(cameras.length, 2, "Chromium offers two fake cameras");

    const before = await inUse(alice.page, "camera");
    const other = cameras.find((c) => c.id !== before.deviceId);
    assert.ok(other !== undefined);
    await alice.page.click("#toggle-settings");
    await alice.page.waitForSelector(`#device-videoinput option[value="${other.id}"]`, { state: "attached", timeout: TIMEOUT });
    await alice.page.selectOption("#device-videoinput", other.id);
    await waitForEvent(alice.page, `activeDevice:videoinput:${other.id}`);
    const after = await inUse(alice.page, "camera");
    t.diagnostic(`camera ${before.label} -> ${after.label}`);
    assert.equal(after.deviceId, other.id);
    assert.equal(after.label, other.label);
    assert.equal(after.sid, before.sid, "same publication");
    await expectMoreVideoFrames(bob.page, "alice", 20);
    await expectLiveVideo(bob.page, "alice");

    // Microphone: the other one; bob keeps decoding her audio.
    const mic = await inUse(alice.page, "microphone");
    const micIds = await alice.page.$$eval("#device-audioinput option", (os) => os.map((o) => /** @type {HTMLOptionElement} */ (o).value));
    const otherMic = micIds.find((id) => id !== "" && id !== mic.deviceId);
    assert.ok(otherMic !== undefined, `a second microphone: ${micIds.join(", ")}`);
    await alice.page.selectOption("#device-audioinput", otherMic);
    await waitForEvent(alice.page, `activeDevice:audioinput:${otherMic}`);
    assert.equal((await inUse(alice.page, "microphone")).deviceId, otherMic);
    const audioBefore = await framesOf(bob.page, "audio");
    await bob.page.waitForFunction(
      (n) => {
        const p = window.dtDemo?.room.remoteParticipants.get("alice");
        return ([...(p?.trackPublications.values() ?? [])].find((x) => x.kind === "audio")?.track?.stats.framesOutput ?? 0) > n + 25;
      },
      audioBefore,
      { timeout: TIMEOUT, polling: 100 },
    );

    // Speaker: applied to alice's audio elements (bob's voice).
    const speakers = await alice.page.$$eval("#device-audiooutput option", (os) => os.map((o) => /** @type {HTMLOptionElement} */ (o).value));
    const speaker = speakers.find((id) => id !== "");
    if (speaker === undefined) {
      t.diagnostic("no second speaker offered: speaker switching not checked");
    } else {
      await alice.page.selectOption("#device-audiooutput", speaker);
      await waitForEvent(alice.page, `activeDevice:audiooutput:${speaker}`);
      const sinks = await alice.page.$$eval("audio[data-remote-identity]", (as) => as.map((a) => /** @type {HTMLAudioElement & { sinkId: string }} */ (a).sinkId));
      assert.ok(sinks.length > 0 && sinks.every((s) => s === speaker), `sinks ${sinks.join(", ")}`);
    }

    // The camera in use goes away (its track ends by itself): back to the default camera.
    const eventsBefore = (await events(alice.page)).length;
    await alice.page.evaluate(() => {
      const pub = [...(window.dtDemo?.room.localParticipant.trackPublications.values() ?? [])].find((p) => p.source === "camera");
      pub?.track.mediaStreamTrack.dispatchEvent(new Event("ended"));
    });
    await alice.page.waitForFunction(
      (n) => (window.dtDemo?.events.slice(n) ?? []).some((e) => e.startsWith("activeDevice:videoinput:")),
      eventsBefore,
      { timeout: TIMEOUT, polling: 100 },
    );
    const fallback = await inUse(alice.page, "camera");
    t.diagnostic(`after the camera went away: ${fallback.label}`);
    assert.equal(fallback.sid, before.sid);
    await expectMoreVideoFrames(bob.page, "alice", 20);
    await expectLiveVideo(bob.page, "alice");
    const bobEvents = await events(bob.page);
    assert.ok(!bobEvents.some((e) => e.startsWith("trackUnpublished:alice")), `bob saw a track go: ${bobEvents.join(", ")}`);
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
