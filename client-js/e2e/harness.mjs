// @ts-check
// Shared parts of the browser tests: the Rust server, a static server for the demo page that
// proxies /v1 to the Rust server (same origin: the HTTP API sends no CORS headers), and Chromium.

import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import http from "node:http";
import { tmpdir } from "node:os";
import { extname, join, normalize } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

export const PACKAGE_ROOT = fileURLToPath(new URL("..", import.meta.url));
export const REPO_ROOT = fileURLToPath(new URL("../..", import.meta.url));
export const SERVER_BIN = join(REPO_ROOT, "target/debug/dark-tower-server");
export const DEMO_DIST = join(PACKAGE_ROOT, "demo-dist");
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

/** Builds the server binary if it is missing (normally it exists). */
export function ensureServerBinary() {
  if (existsSync(SERVER_BIN)) return;
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

const TYPES = /** @type {Record<string, string>} */ ({
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".map": "application/json",
  ".svg": "image/svg+xml",
});

/**
 * Serves `root` on 127.0.0.1 (a secure context) and proxies /v1/ to `apiAddr` (host:port).
 * @param {string} root
 * @param {string} apiAddr
 * @returns {Promise<{ origin: string, close: () => void }>}
 */
export function startStaticServer(root, apiAddr) {
  const [apiHost, apiPort] = apiAddr.split(":");
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://x");
    if (url.pathname.startsWith("/v1/")) {
      const upstream = http.request(
        { host: apiHost, port: Number(apiPort), path: req.url, method: req.method, headers: req.headers },
        (up) => {
          res.writeHead(up.statusCode ?? 502, up.headers);
          up.pipe(res);
        },
      );
      upstream.on("error", (e) => {
        res.writeHead(502);
        res.end(String(e));
      });
      req.pipe(upstream);
      return;
    }
    const path = normalize(join(root, url.pathname === "/" ? "index.html" : url.pathname));
    if (!path.startsWith(root) || !existsSync(path) || !statSync(path).isFile()) {
      res.writeHead(404);
      res.end("not found");
      return;
    }
    res.writeHead(200, { "content-type": TYPES[extname(path)] ?? "application/octet-stream" });
    res.end(readFileSync(path));
  });
  const close = () => {
    server.closeAllConnections();
    server.close();
  };
  cleanups.push(close);
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const addr = server.address();
      if (addr === null || typeof addr === "string") return reject(new Error("no address"));
      resolve({ origin: `http://127.0.0.1:${addr.port}`, close });
    });
  });
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

/** Launches a headless Chromium that is closed on exit. */
export async function launchBrowser() {
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
  // Playwright also kills the browsers it launched when Node exits.
  cleanups.push(() => void browser.close().catch(() => undefined));
  return browser;
}
