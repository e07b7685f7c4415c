// @ts-check
// A codec other than VP8: alice and bob prefer VP9 (`RoomOptions.videoCodec`, the demo's
// `codec=vp9` flag). Headless Chromium encodes VP9 in software, so both publish VP9 (the
// track's codec says so), and each decodes and renders the other's VP9 video.

import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { after, before, test } from "node:test";

import { CHROMIUM, cleanupAll, demoOrigin, ensureServerBinary, startServer } from "./harness.mjs";
import { events, expectLiveVideo, expectMoreVideoFrames, joinDemo } from "./pages.mjs";

const MEETING = "e2e-vp9";
const VP9 = "vp09.00.10.08";

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
 * The codec of `identity`'s camera as `page` knows it (the local one when `identity` is empty),
 * and the decoder counters of a remote one.
 * @param {import("playwright-core").Page} page
 * @param {string} identity
 */
function camera(page, identity) {
  return page.evaluate((id) => {
    const room = window.dtDemo?.room;
    const p = id === "" ? room?.localParticipant : room?.remoteParticipants.get(id);
    const pub = [...(p?.trackPublications.values() ?? [])].find((x) => x.source === "camera");
    const track = pub?.track;
    const stats = track !== undefined && "stats" in track ? track.stats : undefined;
    return { codec: pub?.info.codec, errors: stats?.errors, framesOutput: stats?.framesOutput };
  }, identity);
}

test("two browsers that prefer VP9 publish and decode VP9", { timeout: 240_000 }, async (t) => {
  const alice = await joinDemo({ origin, dataDir: server.dataDir, meeting: MEETING, identity: "alice", mic: false, query: { codec: "vp9" } });
  const bob = await joinDemo({ origin, dataDir: server.dataDir, meeting: MEETING, identity: "bob", mic: false, query: { codec: "vp9" } });
  try {
    const support = await bob.page.evaluate(async (codec) => {
      const enc = await VideoEncoder.isConfigSupported({ codec, width: 320, height: 240, bitrate: 300_000, framerate: 15, latencyMode: "realtime" });
      const dec = await VideoDecoder.isConfigSupported({ codec, optimizeForLatency: true });
      return { encode: enc.supported === true, decode: dec.supported === true };
    }, VP9);
    assert.deepEqual(support, { encode: true, decode: true }, "this Chromium cannot encode and decode VP9");

    assert.equal((await camera(alice.page, "")).codec, VP9);
    assert.equal((await camera(bob.page, "")).codec, VP9);
    await expectLiveVideo(alice.page, "bob");
    await expectLiveVideo(bob.page, "alice");
    await expectMoreVideoFrames(alice.page, "bob", 15);
    const seen = await camera(alice.page, "bob");
    assert.equal(seen.codec, VP9);
    assert.equal(seen.errors, 0);
    t.diagnostic(`alice decoded ${seen.framesOutput} VP9 frames of bob`);
    const uplink = await bob.page.evaluate(() => {
      const pub = [...(window.dtDemo?.room.localParticipant.trackPublications.values() ?? [])].find((x) => x.source === "camera");
      return pub?.uplinkStats;
    });
    t.diagnostic(`bob's uplink: ${JSON.stringify(uplink)}`);
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
