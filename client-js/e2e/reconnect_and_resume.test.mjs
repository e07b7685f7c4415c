// @ts-check
// Two browsers in a meeting; alice reaches the server through a UDP relay that the test breaks,
// as a network outage would (no Leave, nothing sent). Alice sees Reconnecting, then — once the
// relay is back — Reconnected, as the same participant; bob never sees her leave; video flows
// both ways afterwards. First an outage alice notices at once (ICMP unreachable, she resumes
// before the server notices), then a silent one both ends notice by their idle timeouts (bob
// sees her reconnecting and back), then one that kills only her media session (she closes
// signaling herself, without Leave, and resumes both). Waits on events and counters, never on fixed sleeps.

import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { after, before, test } from "node:test";

import { CHROMIUM, cleanupAll, demoOrigin, ensureServerBinary, startServer } from "./harness.mjs";
import { events, expectLiveVideo, expectMoreVideoFrames, joinDemo, waitForEvent } from "./pages.mjs";
import { UdpRelay } from "./udp_relay.mjs";

/** @type {Awaited<ReturnType<typeof startServer>>} */
let server;
/** @type {string} */
let origin;
/** @type {UdpRelay} */
let relay;

before(async () => {
  assert.ok(existsSync(CHROMIUM), `${CHROMIUM} missing: apt-get install -y chromium chromium-driver`);
  ensureServerBinary();
  server = await startServer();
  origin = demoOrigin(server);
  const wt = server.ready.webtransport[0];
  assert.ok(wt !== undefined, "the server reported no WebTransport address");
  relay = new UdpRelay(Number(wt.slice(wt.lastIndexOf(":") + 1)));
  await relay.start();
});

after(() => {
  relay?.close();
  cleanupAll();
});

/**
 * Alice (through the relay) and bob in `meeting`, each seeing the other's video.
 * @param {string} meeting
 */
async function twoBrowsers(meeting) {
  flowsBefore = relay.flows.length;
  const alice = await joinDemo({ origin, dataDir: server.dataDir, meeting, identity: "alice", query: { relayPort: String(relay.port) } });
  const bob = await joinDemo({ origin, dataDir: server.dataDir, meeting, identity: "bob" });
  return { alice, bob };
}

/**
 * Runs `body` with both browsers; prints their logs if it fails; closes them.
 * @param {string} meeting
 * @param {(alice: import("./pages.mjs").Joined, bob: import("./pages.mjs").Joined) => Promise<void>} body
 */
async function withTwoBrowsers(meeting, body) {
  const { alice, bob } = await twoBrowsers(meeting);
  try {
    await expectLiveVideo(bob.page, "alice");
    await expectLiveVideo(alice.page, "bob");
    await body(alice, bob);
  } catch (e) {
    for (const l of [...alice.logs, ...bob.logs]) console.log(l);
    console.log(`alice: ${(await events(alice.page)).join(", ")}`);
    console.log(`bob: ${(await events(bob.page)).join(", ")}`);
    console.log(server.stderr().slice(-5000));
    throw e;
  } finally {
    await relay.restore();
    await alice.browser.close();
    await bob.browser.close();
  }
}

/**
 * After Reconnected: the same participant, the right events in order, video both ways, and
 * bob never saw alice leave.
 * @param {import("./pages.mjs").Joined} alice
 * @param {import("./pages.mjs").Joined} bob
 * @param {string | undefined} aliceSid
 */
async function expectResumed(alice, bob, aliceSid) {
  const aliceEvents = await events(alice.page);
  const tail = aliceEvents.slice(aliceEvents.indexOf("state:reconnecting"));
  assert.deepEqual(
    tail.filter((e) => e.startsWith("state:") || e.startsWith("reconnect") || e.startsWith("disconnected")),
    ["state:reconnecting", "reconnecting", "state:connected", "reconnected"],
  );
  assert.equal(await alice.page.evaluate(() => window.dtDemo?.room.localParticipant.sid), aliceSid, "same participant");
  await expectMoreVideoFrames(bob.page, "alice", 20);
  await expectMoreVideoFrames(alice.page, "bob", 20);
  await expectLiveVideo(bob.page, "alice");
  await expectLiveVideo(alice.page, "bob");
  const bobEvents = await events(bob.page);
  assert.ok(!bobEvents.includes("participantDisconnected:alice"), `bob saw alice leave: ${bobEvents.join(", ")}`);
  assert.ok(!aliceEvents.includes("participantDisconnected:bob"), "alice lost bob");
  return bobEvents.filter((e) => e.includes(":alice"));
}

/** Relay flows that existed before the current test's alice joined. */
let flowsBefore = 0;

/** @param {import("./pages.mjs").Joined} j */
const sidOf = (j) => j.page.evaluate(() => window.dtDemo?.room.localParticipant.sid);

test("a browser whose network fails resumes at once, and nobody sees it leave", { timeout: 240_000 }, async (t) => {
  await withTwoBrowsers("e2e-reconnect-refused", async (alice, bob) => {
    const aliceSid = await sidOf(alice);
    const cutAt = Date.now();
    relay.cut();
    await waitForEvent(alice.page, "reconnecting");
    const noticedMs = Date.now() - cutAt;
    assert.equal(await alice.page.evaluate(() => window.dtDemo?.room.state), "reconnecting");
    await relay.restore();
    await waitForEvent(alice.page, "reconnected");
    t.diagnostic(`alice noticed the outage after ${noticedMs} ms and resumed ${Date.now() - cutAt} ms after the cut`);
    const seen = await expectResumed(alice, bob, aliceSid);
    t.diagnostic(`bob's view of alice: ${seen.join(", ")}`);
  });
});

test("a silent outage: bob sees alice reconnecting and back, never leaving", { timeout: 240_000 }, async (t) => {
  await withTwoBrowsers("e2e-reconnect-silent", async (alice, bob) => {
    const aliceSid = await sidOf(alice);
    const cutAt = Date.now();
    relay.blackhole();
    // Both ends notice by their idle timeouts (the server's is 10 s); the grace period is 20 s.
    await waitForEvent(bob.page, "participantReconnecting:alice");
    await waitForEvent(alice.page, "reconnecting");
    assert.equal(await bob.page.evaluate(() => window.dtDemo?.room.remoteParticipants.get("alice")?.isReconnecting), true);
    const noticedMs = Date.now() - cutAt;
    await relay.restore();
    await waitForEvent(alice.page, "reconnected");
    await waitForEvent(bob.page, "participantReconnected:alice");
    t.diagnostic(`both noticed within ${noticedMs} ms; alice resumed ${Date.now() - cutAt} ms after the outage began`);
    assert.equal(await bob.page.evaluate(() => window.dtDemo?.room.remoteParticipants.get("alice")?.isReconnecting), false);
    const seen = await expectResumed(alice, bob, aliceSid);
    t.diagnostic(`bob's view of alice: ${seen.join(", ")}`);
  });
});

test("a dead media session alone: the room resumes both sessions", { timeout: 240_000 }, async (t) => {
  await withTwoBrowsers("e2e-reconnect-media", async (alice, bob) => {
    const aliceSid = await sidOf(alice);
    // Alice's flows: signaling first, then media (one QUIC connection each).
    const flows = relay.flows.slice(flowsBefore);
    assert.equal(flows.length, 2, `expected alice's signaling and media flows, got ${flows.join(", ")}`);
    const media = flows[1] ?? "";
    const cutAt = Date.now();
    relay.blackholeFlow(media);
    await waitForEvent(alice.page, "reconnecting");
    await waitForEvent(alice.page, "reconnected");
    t.diagnostic(`alice noticed the dead media session after ${Date.now() - cutAt} ms (QUIC idle timeout) and resumed`);
    const seen = await expectResumed(alice, bob, aliceSid);
    t.diagnostic(`bob's view of alice: ${seen.join(", ")}`);
  });
});
