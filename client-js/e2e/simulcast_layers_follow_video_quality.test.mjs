// @ts-check
// Simulcast and dynacast in real browsers through the real server: bob publishes his camera
// (320x240) as three layers, each its own VideoEncoder (80x60, 160x120, 320x240). Alice asks
// for "low", "medium" and "high" with setVideoQuality and decodes frames of that size. While
// alice, bob's only subscriber, asks for "low", the SFU tells bob (SubscribedLayers) that nobody
// wants his upper layers and he stops encoding them; "high" starts the top layer again.

import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { after, before, test } from "node:test";

import { CHROMIUM, cleanupAll, demoOrigin, ensureServerBinary, startServer } from "./harness.mjs";
import { TIMEOUT, cameraCanvas, events, expectLiveVideo, expectMoreVideoFrames, joinDemo } from "./pages.mjs";

const MEETING = "e2e-simulcast";

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
 * Alice receives bob's camera at `quality`.
 * @param {import("playwright-core").Page} page
 * @param {"low" | "medium" | "high"} quality
 */
function setBobQuality(page, quality) {
  return page.evaluate(async (q) => {
    const p = window.dtDemo?.room.remoteParticipants.get("bob");
    const pub = [...(p?.trackPublications.values() ?? [])].find((x) => x.source === "camera");
    if (pub === undefined) throw new Error("no camera of bob");
    await pub.setVideoQuality(q);
  }, quality);
}

/**
 * Waits until alice's canvas of bob's camera shows decoded frames of `width` x `height`.
 * @param {import("playwright-core").Page} page
 * @param {number} width
 * @param {number} height
 */
async function expectDecodedSize(page, width, height) {
  await page.waitForFunction(
    ([sel, w, h]) => {
      const c = document.querySelector(sel);
      return c instanceof HTMLCanvasElement && c.width === w && c.height === h;
    },
    /** @type {[string, number, number]} */ ([cameraCanvas("bob"), width, height]),
    { timeout: TIMEOUT, polling: 50 },
  );
}

/**
 * Bob's camera layers as his page sees them.
 * @param {import("playwright-core").Page} page
 */
function cameraLayers(page) {
  return page.evaluate(() => {
    const pub = [...(window.dtDemo?.room.localParticipant.trackPublications.values() ?? [])].find((x) => x.source === "camera");
    return (pub?.layers ?? []).map((l) => ({ spatialId: l.spatialId, width: l.width, height: l.height, wanted: l.wanted, framesEncoded: l.framesEncoded, keyframes: l.keyframes }));
  });
}

/**
 * Waits until bob's layers' wanted flags are `wanted`.
 * @param {import("playwright-core").Page} page
 * @param {boolean[]} wanted
 */
function expectWanted(page, wanted) {
  return page.waitForFunction(
    (w) => {
      const pub = [...(window.dtDemo?.room.localParticipant.trackPublications.values() ?? [])].find((x) => x.source === "camera");
      const layers = pub?.layers ?? [];
      return layers.length === w.length && layers.every((l, i) => l.wanted === w[i]);
    },
    wanted,
    { timeout: TIMEOUT, polling: 50 },
  );
}

/**
 * Waits until bob's layer `spatialId` encoded `more` further frames.
 * @param {import("playwright-core").Page} page
 * @param {number} spatialId
 * @param {number} more
 */
async function expectMoreEncoded(page, spatialId, more) {
  const start = (await cameraLayers(page))[spatialId]?.framesEncoded ?? 0;
  await page.waitForFunction(
    ([id, target]) => {
      const pub = [...(window.dtDemo?.room.localParticipant.trackPublications.values() ?? [])].find((x) => x.source === "camera");
      return (pub?.layers[id]?.framesEncoded ?? 0) >= target;
    },
    /** @type {[number, number]} */ ([spatialId, start + more]),
    { timeout: TIMEOUT, polling: 50 },
  );
}

test("a subscriber gets the simulcast layer it asks for, and the publisher encodes only wanted layers", { timeout: 300_000 }, async (t) => {
  const alice = await joinDemo({ origin, dataDir: server.dataDir, meeting: MEETING, identity: "alice", mic: false });
  const bob = await joinDemo({ origin, dataDir: server.dataDir, meeting: MEETING, identity: "bob", mic: false });
  try {
    // Bob publishes three layers.
    await expectLiveVideo(alice.page, "bob");
    const declared = await bob.page.evaluate(() => {
      const pub = [...(window.dtDemo?.room.localParticipant.trackPublications.values() ?? [])].find((x) => x.source === "camera");
      return (pub?.info.layers ?? []).map((l) => `${l.spatialId}:${l.width}x${l.height}`);
    });
    assert.deepEqual(declared, ["0:80x60", "1:160x120", "2:320x240"]);
    // By default the SFU forwards the top layer, and only the top layer is wanted: the others
    // are not encoded at all.
    await expectDecodedSize(alice.page, 320, 240);
    await expectWanted(bob.page, [false, false, true]);

    // Groups are numbered per layer: let the top layer run ahead of the paused ones (a few
    // keyframes, 2 s apart), so that switching down must not take layer 0's lower group
    // numbers for stale ones.
    await bob.page.waitForFunction(
      () => {
        const pub = [...(window.dtDemo?.room.localParticipant.trackPublications.values() ?? [])].find((x) => x.source === "camera");
        return (pub?.layers[2]?.keyframes ?? 0) >= 4;
      },
      undefined,
      { timeout: TIMEOUT, polling: 100 },
    );
    let at = Date.now();
    await setBobQuality(alice.page, "low");
    await expectDecodedSize(alice.page, 80, 60);
    t.diagnostic(`low: 80x60 decoded ${Date.now() - at} ms after setVideoQuality`);
    await expectMoreVideoFrames(alice.page, "bob", 10);

    // Dynacast: alice is bob's only subscriber; nobody wants layers 1 and 2 any more.
    await expectWanted(bob.page, [true, false, false]);
    const paused = await cameraLayers(bob.page);
    await expectMoreEncoded(bob.page, 0, 15);
    const later = await cameraLayers(bob.page);
    assert.equal(later[2]?.framesEncoded, paused[2]?.framesEncoded, "the top layer is still being encoded");
    assert.equal(later[1]?.framesEncoded, paused[1]?.framesEncoded, "the middle layer is still being encoded");
    t.diagnostic(`while low: layer 0 encoded ${(later[0]?.framesEncoded ?? 0) - (paused[0]?.framesEncoded ?? 0)} frames, layers 1 and 2 none`);

    at = Date.now();
    await setBobQuality(alice.page, "medium");
    await expectDecodedSize(alice.page, 160, 120);
    t.diagnostic(`medium: 160x120 decoded ${Date.now() - at} ms after setVideoQuality`);
    await expectWanted(bob.page, [false, true, false]);

    at = Date.now();
    const before = await cameraLayers(bob.page);
    await setBobQuality(alice.page, "high");
    await expectDecodedSize(alice.page, 320, 240);
    t.diagnostic(`high: 320x240 decoded ${Date.now() - at} ms after setVideoQuality`);
    await expectWanted(bob.page, [false, false, true]);
    await expectMoreEncoded(bob.page, 2, 10);
    const resumed = await cameraLayers(bob.page);
    assert.ok((resumed[2]?.keyframes ?? 0) > (before[2]?.keyframes ?? 0), "the top layer resumed without a keyframe");
    await expectMoreVideoFrames(alice.page, "bob", 10);
    await expectLiveVideo(alice.page, "bob");
    // Each layer was encoded at its own size when it ran.
    assert.deepEqual(
      (await cameraLayers(bob.page)).map((l) => `${l.width}x${l.height}`),
      ["80x60", "160x120", "320x240"],
    );
  } catch (e) {
    for (const l of [...alice.logs, ...bob.logs]) console.log(l);
    console.log(`alice: ${(await events(alice.page)).join(", ")}`);
    console.log(`bob layers: ${JSON.stringify(await cameraLayers(bob.page))}`);
    console.log(server.stderr().slice(-5000));
    throw e;
  } finally {
    await alice.browser.close();
    await bob.browser.close();
  }
});
