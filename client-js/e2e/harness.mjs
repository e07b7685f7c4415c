// @ts-check
// Shared parts of the browser tests: the Rust server (which serves the demo app itself, from the
// assets embedded at build time, at its HTTP address) and Chromium.

import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

export const PACKAGE_ROOT = fileURLToPath(new URL("..", import.meta.url));
export const REPO_ROOT = fileURLToPath(new URL("../..", import.meta.url));
export const SERVER_BIN = join(REPO_ROOT, "target/debug/dark-tower-server");
/** The demo build the server embeds (`npm run build:demo` writes it). */
export const DEMO_ASSETS = join(REPO_ROOT, "dark-tower-server/assets/demo");
export const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

/** @type {Array<() => void>} */
const cleanups = [];
let exiting = false;
/** Runs every cleanup once; also on process exit, so nothing outlives the test. */
export function cleanupAll() {
  if (exiting) return;
  exiting = true;
  for (const c of cleanups.splice(0).reverse()) {
    try {
      c();
    } catch {
      // Best effort.
    }
  }
}
process.on("exit", cleanupAll);
for (const sig of /** @type {const} */ (["SIGINT", "SIGTERM"])) {
  process.on(sig, () => {
    cleanupAll();
    process.exit(1);
  });
}

/** @param {string} dir @returns {number} the newest modification time of a file under `dir` */
function newestMtime(dir) {
  let newest = 0;
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    const st = statSync(p);
    newest = Math.max(newest, st.isDirectory() ? newestMtime(p) : st.mtimeMs);
  }
  return newest;
}

/**
 * Builds the server binary if it is missing, or older than the demo build it embeds (after
 * `npm run build:demo`); normally it exists and is up to date (CI builds it first).
 */
export function ensureServerBinary() {
  if (existsSync(SERVER_BIN) && statSync(SERVER_BIN).mtimeMs >= newestMtime(DEMO_ASSETS)) return;
  execFileSync("cargo", ["build", "-p", "dark-tower-server", "--bin", "dark-tower-server"], {
    cwd: REPO_ROOT,
    stdio: "inherit",
  });
}

/**
 * @typedef {{ http: string, admin: string, webtransport: string[], certificate_sha256: string, api_key: string | null }} ReadyLine
 * @typedef {{ ready: ReadyLine, dataDir: string, stderr: () => string, stop: () => void }} RunningServer
 */

/**
 * Starts the Rust server on ephemeral loopback ports; resolves with its ready line.
 * @param {number} timeoutMs
 * @returns {Promise<RunningServer>}
 */
export function startServer(timeoutMs = 60_000) {
  const dataDir = mkdtempSync(join(tmpdir(), "dt-e2e-"));
  const child = spawn(
    SERVER_BIN,
    ["--data-dir", dataDir, "--http", "127.0.0.1:0", "--admin", "127.0.0.1:0", "--webtransport", "127.0.0.1:0"],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  let err = "";
  child.stderr.on("data", (d) => {
    err = (err + String(d)).slice(-20_000);
  });
  const stop = () => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    rmSync(dataDir, { recursive: true, force: true });
  };
  cleanups.push(stop);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server not ready in ${timeoutMs} ms:\n${err}`)), timeoutMs);
    const lines = createInterface({ input: child.stdout });
    lines.once("line", (line) => {
      clearTimeout(timer);
      try {
        /** @type {ReadyLine} */
        const ready = JSON.parse(line);
        resolve({ ready, dataDir, stderr: () => err, stop });
      } catch (e) {
        reject(new Error(`bad ready line ${line}: ${e}`));
      }
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code}:\n${err}`));
    });
  });
}

/**
 * Mints an access token with the server's CLI.
 * @param {string} dataDir
 * @param {string} identity
 * @param {string} meeting
 */
export function mintToken(dataDir, identity, meeting) {
  return execFileSync(
    SERVER_BIN,
    ["token", "create", "--data-dir", dataDir, "--identity", identity, "--meeting", meeting, "--name", identity],
    { encoding: "utf8" },
  ).trim();
}

/**
 * The origin the server serves the demo app at (its HTTP address: same origin as the API).
 * @param {RunningServer} server
 */
export function demoOrigin(server) {
  return `http://${server.ready.http}`;
}

/** Chromium flags from shared/BROWSER_TESTING.md, with fake camera and microphone. */
export const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
  "--use-fake-device-for-media-stream",
  "--use-fake-ui-for-media-stream",
  "--autoplay-policy=no-user-gesture-required",
];

/**
 * Launches a headless Chromium that is closed on exit; `fakeDevices` > 1 gives it that many fake
 * cameras and microphones (Chromium's `device-count` option of the fake capture device).
 * @param {{ fakeDevices?: number }} [o]
 */
export async function launchBrowser(o = {}) {
  const args = CHROMIUM_ARGS.map((a) => {
    if (a === "--use-fake-device-for-media-stream" && (o.fakeDevices ?? 1) > 1) return `${a}=device-count=${o.fakeDevices}`;
    return a;
  });
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args });
  // Playwright also kills the browsers it launched when Node exits.
  cleanups.push(() => void browser.close().catch(() => undefined));
  return browser;
}
