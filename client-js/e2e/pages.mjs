// @ts-check
// The demo page as the browser tests drive it: join, wait for live video, read counters.

import assert from "node:assert/strict";

import { launchBrowser, mintToken } from "./harness.mjs";

/** @typedef {import("playwright-core").Page} Page */
/** @typedef {{ browser: import("playwright-core").Browser, page: Page, logs: string[], identity: string }} Joined */

export const TIMEOUT = 60_000;

/**
 * The CSS selector of the canvas showing `identity`'s camera.
 * @param {string} identity
 */
export const cameraCanvas = (identity) => `canvas[data-remote-identity="${identity}"][data-source="camera"]`;

/**
 * Mean brightness and a checksum of the canvas `selector` (null if none yet).
 * @param {Page} page
 * @param {string} selector
 */
export function sampleCanvas(page, selector) {
  return page.evaluate((sel) => {
    const canvas = document.querySelector(sel);
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
  }, selector);
}

/**
 * Mean brightness and a checksum of the canvas showing `identity`'s camera (null if none yet).
 * @param {Page} page
 * @param {string} identity
 */
export function sample(page, identity) {
  return sampleCanvas(page, cameraCanvas(identity));
}

/**
 * Waits until the canvas `selector` in `page` shows live video: non-black, and changing
 * between two samples.
 * @param {Page} page
 * @param {string} selector
 */
export async function expectLiveCanvas(page, selector) {
  await page.waitForFunction(
    (sel) => {
      const c = document.querySelector(sel);
      if (!(c instanceof HTMLCanvasElement) || c.width === 0) return false;
      const ctx = c.getContext("2d");
      if (ctx === null) return false;
      const { data } = ctx.getImageData(0, 0, c.width, c.height);
      let sum = 0;
      for (let i = 0; i < data.length; i += 4) sum += (data[i] ?? 0) + (data[i + 1] ?? 0) + (data[i + 2] ?? 0);
      return sum / (data.length / 4) / 3 > 10;
    },
    selector,
    { timeout: TIMEOUT, polling: 100 },
  );
  const first = await sampleCanvas(page, selector);
  assert.ok(first !== null, `${selector} disappeared`);
  // The source animates: wait for a different picture.
  await page.waitForFunction(
    ([sel, hash]) => {
      const c = document.querySelector(sel);
      if (!(c instanceof HTMLCanvasElement) || c.width === 0) return false;
      const ctx = c.getContext("2d");
      if (ctx === null) return false;
      const { data } = ctx.getImageData(0, 0, c.width, c.height);
      let h = 0;
      for (let i = 0; i < data.length; i += 4) h = (h * 31 + (data[i] ?? 0) + (data[i + 1] ?? 0) + (data[i + 2] ?? 0)) >>> 0;
      return h !== hash;
    },
    /** @type {[string, number]} */ ([selector, first.hash]),
    { timeout: TIMEOUT, polling: 100 },
  );
  const second = await sampleCanvas(page, selector);
  assert.ok(second !== null && second.mean > 10, `${selector} went black`);
  return { first, second };
}

/**
 * Waits until `page` shows `identity`'s video: non-black, and changing between two samples.
 * @param {Page} page
 * @param {string} identity
 */
export function expectLiveVideo(page, identity) {
  return expectLiveCanvas(page, cameraCanvas(identity));
}

/**
 * Waits until the canvas `selector` keeps the same picture for `ms` (sampled every 100 ms; a
 * frame in flight may land first). Resolves with the frozen picture's checksum.
 * @param {Page} page
 * @param {string} selector
 * @param {number} ms
 */
export async function expectFrozenCanvas(page, selector, ms) {
  const handle = await page.waitForFunction(
    ([sel, stillFor]) => {
      const c = document.querySelector(sel);
      if (!(c instanceof HTMLCanvasElement) || c.width === 0) return false;
      const data = c.getContext("2d")?.getImageData(0, 0, c.width, c.height).data ?? [];
      let h = 0;
      for (let i = 0; i < data.length; i += 4) h = (h * 31 + (data[i] ?? 0) + (data[i + 1] ?? 0) + (data[i + 2] ?? 0)) >>> 0;
      const w = /** @type {{ frozen?: Record<string, { hash: number, since: number }> }} */ (/** @type {unknown} */ (window));
      w.frozen ??= {};
      const now = performance.now();
      const prev = w.frozen[sel];
      if (prev === undefined || prev.hash !== h) {
        w.frozen[sel] = { hash: h, since: now };
        return false;
      }
      return now - prev.since >= stillFor ? h : false;
    },
    /** @type {[string, number]} */ ([selector, ms]),
    { timeout: TIMEOUT, polling: 100 },
  );
  return /** @type {number} */ (await handle.jsonValue());
}

/**
 * A new browser on the demo's lobby (`query` adds URL flags); page errors and unhandled
 * rejections are collected in `errors`.
 * @param {string} origin
 * @param {string} label
 * @param {Record<string, string>} [query]
 */
export async function openLobby(origin, label, query = {}) {
  const browser = await launchBrowser();
  const page = await browser.newPage({ viewport: { width: 1280, height: 720 } });
  /** @type {string[]} */
  const logs = [];
  /** @type {string[]} */
  const errors = [];
  page.on("console", (m) => logs.push(`[${label}] ${m.type()}: ${m.text()}`));
  page.on("pageerror", (e) => {
    logs.push(`[${label}] pageerror: ${e.message}`);
    errors.push(e.message);
  });
  // Unhandled rejections also surface as pageerror in Chromium; record them explicitly too.
  await page.addInitScript(() => {
    window.addEventListener("unhandledrejection", (ev) => {
      const w = /** @type {{ unhandled?: string[] }} */ (/** @type {unknown} */ (window));
      (w.unhandled ??= []).push(String(ev.reason instanceof Error ? `${ev.reason.name}: ${ev.reason.message}` : ev.reason));
    });
  });
  const q = new URLSearchParams(query).toString();
  await page.goto(`${origin}/${q === "" ? "" : `?${q}`}`);
  await page.waitForSelector("#join", { timeout: TIMEOUT });
  return { browser, page, logs, errors, label };
}

/**
 * Unhandled promise rejections the page saw.
 * @param {Page} page
 */
export function unhandledRejections(page) {
  return page.evaluate(() => /** @type {{ unhandled?: string[] }} */ (/** @type {unknown} */ (window)).unhandled ?? []);
}

/**
 * Opens the demo page in a new browser, joined with camera and microphone.
 * @param {{ origin: string, dataDir: string, meeting: string, identity: string, query?: Record<string, string>, mic?: boolean, browser?: Parameters<typeof launchBrowser>[0] }} o
 * @returns {Promise<Joined>}
 */
export async function joinDemo(o) {
  const browser = await launchBrowser(o.browser);
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

/**
 * Waits until `page` decoded more than `n` audio frames of `identity` and its tile shows a
 * decoded level above silence; resolves with that level.
 * @param {import("playwright-core").Page} page
 * @param {string} identity
 * @param {number} n
 */
export async function expectDecodedAudio(page, identity, n) {
  await page.waitForFunction(
    ([id, min]) => {
      const p = window.dtDemo?.room.remoteParticipants.get(id);
      return [...(p?.trackPublications.values() ?? [])].some((pub) => pub.kind === "audio" && (pub.track?.stats.framesOutput ?? 0) > min);
    },
    /** @type {[string, number]} */ ([identity, n]),
    { timeout: TIMEOUT, polling: 100 },
  );
  const level = await page.waitForFunction(
    (sel) => {
      const t = document.querySelector(sel);
      const v = Number(t instanceof HTMLElement ? t.dataset.audioLevel : 0);
      return v > 0.02 ? v : false;
    },
    `.tile[data-identity="${identity}"][data-source="camera"]`,
    { timeout: TIMEOUT, polling: 50 },
  );
  return /** @type {number} */ (await level.jsonValue());
}
