// @ts-check
// The demo page as the browser tests drive it: join, wait for live video, read counters.

import assert from "node:assert/strict";

import { launchBrowser, mintToken } from "./harness.mjs";

/** @typedef {import("playwright-core").Page} Page */
/** @typedef {{ browser: import("playwright-core").Browser, page: Page, logs: string[], identity: string }} Joined */

export const TIMEOUT = 60_000;

/**
 * Mean brightness and a checksum of the canvas showing `identity`'s camera (null if none yet).
 * @param {Page} page
 * @param {string} identity
 */
export function sample(page, identity) {
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
export async function expectLiveVideo(page, identity) {
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
 * Opens the demo page in a new browser, joined with camera and microphone.
 * @param {{ origin: string, dataDir: string, meeting: string, identity: string, query?: Record<string, string>, mic?: boolean }} o
 * @returns {Promise<Joined>}
 */
export async function joinDemo(o) {
  const browser = await launchBrowser();
  const page = await browser.newPage();
  /** @type {string[]} */
  const logs = [];
  page.on("console", (m) => logs.push(`[${o.identity}] ${m.type()}: ${m.text()}`));
  page.on("pageerror", (e) => logs.push(`[${o.identity}] pageerror: ${e.message}`));
  const token = mintToken(o.dataDir, o.identity, o.meeting);
  const mic = o.mic ?? true;
  const query = new URLSearchParams({ autojoin: "1", camera: "1", mic: mic ? "1" : "0", token, ...o.query });
  await page.goto(`${o.origin}/?${query}`);
  await page.waitForFunction(
    (withMic) => {
      const d = window.dtDemo;
      if (d === undefined) return false;
      if (d.error !== undefined) throw new Error(d.error);
      return d.events.includes("localTrackPublished:camera") && (!withMic || d.events.includes("localTrackPublished:microphone"));
    },
    mic,
    { timeout: TIMEOUT, polling: 100 },
  );
  return { browser, page, logs, identity: o.identity };
}

/**
 * Receive counters of `identity`'s tracks as seen in `page`.
 * @param {Page} page
 * @param {string} identity
 */
export function remoteStats(page, identity) {
  return page.evaluate((id) => {
    const p = window.dtDemo?.room.remoteParticipants.get(id);
    if (p === undefined) return null;
    return [...p.trackPublications.values()].map((pub) => ({ source: pub.source, stats: pub.track?.stats }));
  }, identity);
}

/**
 * Frames decoded so far of `identity`'s camera in `page` (0 if not subscribed).
 * @param {Page} page
 * @param {string} identity
 */
export function videoFramesOut(page, identity) {
  return page.evaluate((id) => {
    const p = window.dtDemo?.room.remoteParticipants.get(id);
    const pub = [...(p?.trackPublications.values() ?? [])].find((x) => x.kind === "video");
    return pub?.track?.stats.framesOutput ?? 0;
  }, identity);
}

/**
 * Waits until `page` decoded `more` further frames of `identity`'s camera.
 * @param {Page} page
 * @param {string} identity
 * @param {number} more
 */
export async function expectMoreVideoFrames(page, identity, more) {
  const start = await videoFramesOut(page, identity);
  await page.waitForFunction(
    ([id, target]) => {
      const p = window.dtDemo?.room.remoteParticipants.get(id);
      const pub = [...(p?.trackPublications.values() ?? [])].find((x) => x.kind === "video");
      return (pub?.track?.stats.framesOutput ?? 0) >= target;
    },
    /** @type {[string, number]} */ ([identity, start + more]),
    { timeout: TIMEOUT, polling: 100 },
  );
}

/**
 * The page's event log.
 * @param {Page} page
 */
export function events(page) {
  return page.evaluate(() => window.dtDemo?.events ?? []);
}

/**
 * Waits until the page's event log has `entry`.
 * @param {Page} page
 * @param {string} entry
 * @param {number} [timeout]
 */
export function waitForEvent(page, entry, timeout = TIMEOUT) {
  return page.waitForFunction((e) => window.dtDemo?.events.includes(e) ?? false, entry, { timeout, polling: 50 });
}
