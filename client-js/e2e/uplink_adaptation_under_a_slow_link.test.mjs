// @ts-check
// Uplink adaptation in a real browser: bob reaches the server through a relay that limits what
// he sends to 120 kbit/s (a bounded queue, excess dropped), while alice watches his camera at
// the highest quality. Bob's frames wait on the WebTransport streams, so his controller sees
// congestion and lowers the bitrate of the layer alice watches (it is the only one wanted, so it
// is lowered, not dropped) and alice keeps getting video. When the limit is lifted, bob probes
// back up to the layer's full bitrate. Waits on conditions, never on fixed sleeps.

import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { after, before, test } from "node:test";

import { CHROMIUM, cleanupAll, demoOrigin, ensureServerBinary, startServer } from "./harness.mjs";
import { TIMEOUT, events, expectLiveVideo, expectMoreVideoFrames, joinDemo } from "./pages.mjs";
import { ThrottledUdpRelay } from "./throttled_udp_relay.mjs";

const MEETING = "e2e-uplink";

/** @type {Awaited<ReturnType<typeof startServer>>} */
let server;
/** @type {string} */
let origin;
/** @type {ThrottledUdpRelay} */
let relay;

before(async () => {
  assert.ok(existsSync(CHROMIUM), `${CHROMIUM} missing: apt-get install -y chromium chromium-driver`);
  ensureServerBinary();
  server = await startServer();
  origin = demoOrigin(server);
  const wt = server.ready.webtransport[0];
  assert.ok(wt !== undefined, "the server reported no WebTransport address");
  relay = new ThrottledUdpRelay(Number(wt.slice(wt.lastIndexOf(":") + 1)));
  await relay.start();
});

after(() => {
  relay?.close();
  cleanupAll();
});

/**
 * Bob's camera: its uplink controller's state and its layers.
 * @param {import("playwright-core").Page} page
 */
function uplink(page) {
  return page.evaluate(() => {
    const pub = [...(window.dtDemo?.room.localParticipant.trackPublications.values() ?? [])].find((x) => x.source === "camera");
    return { stats: pub?.uplinkStats, layers: (pub?.layers ?? []).map((l) => ({ wanted: l.wanted, allowed: l.allowed, bitrate: l.bitrate })) };
  });
}

test("a publisher behind a slow link lowers its bitrate, and probes back up when the link clears", { timeout: 300_000 }, async (t) => {
  const alice = await joinDemo({ origin, dataDir: server.dataDir, meeting: MEETING, identity: "alice", mic: false });
  const bob = await joinDemo({ origin, dataDir: server.dataDir, meeting: MEETING, identity: "bob", mic: false, query: { relayPort: String(relay.port) } });
  try {
    await expectLiveVideo(alice.page, "bob");
    const clear = await uplink(bob.page);
    assert.equal(clear.layers[2]?.bitrate, 300_000);
    t.diagnostic(`unlimited: ${JSON.stringify(clear.stats)}`);

    relay.setRate(120_000);
    let at = Date.now();
    await bob.page.waitForFunction(
      () => {
        const pub = [...(window.dtDemo?.room.localParticipant.trackPublications.values() ?? [])].find((x) => x.source === "camera");
        const top = pub?.layers[2];
        return (pub?.uplinkStats?.decreases ?? 0) > 0 && top !== undefined && top.allowed && top.bitrate <= 150_000;
      },
      undefined,
      { timeout: TIMEOUT, polling: 100 },
    );
    const congested = await uplink(bob.page);
    t.diagnostic(`limited to 120 kbit/s: top layer at ${congested.layers[2]?.bitrate} bit/s after ${Date.now() - at} ms, ${JSON.stringify(congested.stats)}`);
    // The only layer someone watches keeps running, lower: alice still gets video.
    await expectMoreVideoFrames(alice.page, "bob", 10);

    relay.setRate(Infinity);
    at = Date.now();
    await bob.page.waitForFunction(
      () => {
        const pub = [...(window.dtDemo?.room.localParticipant.trackPublications.values() ?? [])].find((x) => x.source === "camera");
        return pub?.layers[2]?.bitrate === 300_000;
      },
      undefined,
      { timeout: 120_000, polling: 200 },
    );
    const back = await uplink(bob.page);
    t.diagnostic(`limit lifted: back at 300 kbit/s after ${Date.now() - at} ms, ${JSON.stringify(back.stats)}; relay dropped ${relay.stats.dropped} packets`);
    await expectMoreVideoFrames(alice.page, "bob", 10);
    await expectLiveVideo(alice.page, "bob");
  } catch (e) {
    for (const l of [...alice.logs, ...bob.logs]) console.log(l);
    console.log(`bob: ${(await events(bob.page)).join(", ")}`);
    console.log(`bob's uplink: ${JSON.stringify(await uplink(bob.page))}`);
    console.log(server.stderr().slice(-5000));
    throw e;
  } finally {
    await alice.browser.close();
    await bob.browser.close();
  }
});
