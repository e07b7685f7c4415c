// @ts-check
// Two Chromium browsers join one meeting through the real Rust server, publish the fake camera
// (VP8, 320x240 @ 15 fps) and microphone (Opus), and each sees the other's video: the remote
// canvas has non-black pixels that change over time. Waits on conditions, never on fixed sleeps.

import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { after, before, test } from "node:test";

import {
  CHROMIUM,
  DEMO_DIST,
  cleanupAll,
  ensureServerBinary,
  launchBrowser,
  mintToken,
  startServer,
  startStaticServer,
} from "./harness.mjs";

/** @typedef {import("playwright-core").Page} Page */

const MEETING = "e2e-two-browsers";
const TIMEOUT = 60_000;

/** @type {Awaited<ReturnType<typeof startServer>>} */
let server;
/** @type {string} */
let origin;

before(async () => {
  assert.ok(existsSync(CHROMIUM), `${CHROMIUM} missing: apt-get install -y chromium chromium-driver`);
  assert.ok(existsSync(DEMO_DIST), "demo-dist missing: npm run build:demo");
  ensureServerBinary();
  server = await startServer();
  origin = (await startStaticServer(DEMO_DIST, server.ready.http)).origin;
});

after(() => cleanupAll());

/**
 * Samples the canvas showing `identity`'s camera: mean brightness and a checksum.
 * @param {Page} page
 * @param {string} identity
 */
function sample(page, identity) {
  return page.evaluate((id) => {
    const canvas = document.querySelector(`canvas[data-remote-identity="${id}"]`);
    if (!(canvas instanceof HTMLCanvasElement) || canvas.width === 0) return null;
    const ctx = canvas.getContext("2d");
    if (ctx === null) return null;
    const { data } = ctx.getImageData(0, 0, canvas.width, canvas.height);
    let sum = 0;
    let hash = 0;
    for (let i = 0; i < data.length; i += 4) {
      const v = (data[i] ?? 0) + (data[i + 1] ?? 0) + (data[i + 2] ?? 0);
      sum += v;
      hash = (hash * 31 + v) >>> 0;
    }
    return { mean: sum / (data.length / 4) / 3, hash, width: canvas.width, height: canvas.height };
  }, identity);
}

/**
 * Waits until `page` shows `identity`'s video: non-black, and changing between two samples.
 * @param {Page} page
 * @param {string} identity
 */
async function expectLiveVideo(page, identity) {
  await page.waitForFunction(
    (id) => {
      const c = document.querySelector(`canvas[data-remote-identity="${id}"]`);
      if (!(c instanceof HTMLCanvasElement) || c.width === 0) return false;
      const ctx = c.getContext("2d");
      if (ctx === null) return false;
      const { data } = ctx.getImageData(0, 0, c.width, c.height);
      let sum = 0;
      for (let i = 0; i < data.length; i += 4) sum += (data[i] ?? 0) + (data[i + 1] ?? 0) + (data[i + 2] ?? 0);
      return sum / (data.length / 4) / 3 > 10;
    },
    identity,
    { timeout: TIMEOUT, polling: 100 },
  );
  const first = await sample(page, identity);
  assert.ok(first !== null, "canvas disappeared");
  // The fake camera animates: wait for a different picture.
  await page.waitForFunction(
    ([id, hash]) => {
      const c = document.querySelector(`canvas[data-remote-identity="${id}"]`);
      if (!(c instanceof HTMLCanvasElement) || c.width === 0) return false;
      const ctx = c.getContext("2d");
      if (ctx === null) return false;
      const { data } = ctx.getImageData(0, 0, c.width, c.height);
      let h = 0;
      for (let i = 0; i < data.length; i += 4) h = (h * 31 + (data[i] ?? 0) + (data[i + 1] ?? 0) + (data[i + 2] ?? 0)) >>> 0;
      return h !== hash;
    },
    /** @type {[string, number]} */ ([identity, first.hash]),
    { timeout: TIMEOUT, polling: 100 },
  );
  const second = await sample(page, identity);
  assert.ok(second !== null && second.mean > 10, `video of ${identity} went black`);
  return { first, second };
}

/**
 * Opens the demo page, joined with camera and microphone.
 * @param {string} identity
 */
async function join(identity) {
  const browser = await launchBrowser();
  const page = await browser.newPage();
  /** @type {string[]} */
  const console_ = [];
  page.on("console", (m) => console_.push(`[${identity}] ${m.type()}: ${m.text()}`));
  page.on("pageerror", (e) => console_.push(`[${identity}] pageerror: ${e.message}`));
  const token = mintToken(server.dataDir, identity, MEETING);
  await page.goto(`${origin}/?autojoin=1&camera=1&mic=1&token=${encodeURIComponent(token)}`);
  await page.waitForFunction(
    () => {
      const d = window.dtDemo;
      if (d === undefined) return false;
      if (d.error !== undefined) throw new Error(d.error);
      return d.events.includes("localTrackPublished:camera") && d.events.includes("localTrackPublished:microphone");
    },
    undefined,
    { timeout: TIMEOUT, polling: 100 },
  );
  return { browser, page, logs: console_ };
}

/**
 * Receive counters of `identity`'s tracks as seen in `page`.
 * @param {Page} page
 * @param {string} identity
 */
function remoteStats(page, identity) {
  return page.evaluate((id) => {
    const p = window.dtDemo?.room.remoteParticipants.get(id);
    if (p === undefined) return null;
    return [...p.trackPublications.values()].map((pub) => ({ source: pub.source, stats: pub.track?.stats }));
  }, identity);
}

test("two browsers in one meeting see each other's video", { timeout: 240_000 }, async (t) => {
  const alice = await join("alice");
  const bob = await join("bob");
  t.after(() => {
    if (process.exitCode) for (const l of [...alice.logs, ...bob.logs]) console.log(l);
  });
  try {
    const seenByBob = await expectLiveVideo(bob.page, "alice");
    const seenByAlice = await expectLiveVideo(alice.page, "bob");
    t.diagnostic(`bob sees alice ${seenByBob.second.width}x${seenByBob.second.height}, mean ${seenByBob.second.mean.toFixed(1)}`);
    t.diagnostic(`alice sees bob ${seenByAlice.second.width}x${seenByAlice.second.height}, mean ${seenByAlice.second.mean.toFixed(1)}`);

    // Audio went over datagrams and decodes.
    for (const [page, other] of /** @type {const} */ ([[alice.page, "bob"], [bob.page, "alice"]])) {
      await page.waitForFunction(
        (id) => {
          const p = window.dtDemo?.room.remoteParticipants.get(id);
          return [...(p?.trackPublications.values() ?? [])].some((pub) => pub.kind === "audio" && (pub.track?.stats.framesOutput ?? 0) > 10);
        },
        other,
        { timeout: TIMEOUT, polling: 100 },
      );
      t.diagnostic(`${other} as received: ${JSON.stringify(await remoteStats(page, other))}`);
    }

    // Alice leaves; Bob is told.
    await alice.page.evaluate(() => window.dtDemo?.room.disconnect());
    await bob.page.waitForFunction(() => window.dtDemo?.events.includes("participantDisconnected:alice") ?? false, undefined, {
      timeout: TIMEOUT,
      polling: 100,
    });
    const aliceEvents = await alice.page.evaluate(() => window.dtDemo?.events ?? []);
    assert.ok(aliceEvents.some((e) => e.startsWith("disconnected:")), "alice saw Disconnected");
  } catch (e) {
    for (const l of [...alice.logs, ...bob.logs]) console.log(l);
    console.log(server.stderr().slice(-5000));
    throw e;
  } finally {
    await alice.browser.close();
    await bob.browser.close();
  }
});
