// @ts-check
// The Rust `bot` (examples/src/bin/bot) as the browser tests run it: a non-browser peer built on
// dark-tower-client, publishing the committed VP8/Opus fixtures and checking what it receives.

import { execFileSync, spawn } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";

import { REPO_ROOT, mintToken } from "./harness.mjs";

export const BOT_BIN = join(REPO_ROOT, "target/debug/bot");
/** The fixtures the bot publishes with `--media-fixtures` (examples/fixtures/README.md). */
export const FIXTURES = join(REPO_ROOT, "examples/fixtures");

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
 * Builds the bot if it is missing or older than its sources (the bot's and the client crate's);
 * normally `cargo test --workspace` has built it already.
 */
export function ensureBotBinary() {
  const sources = Math.max(newestMtime(join(REPO_ROOT, "examples/src")), newestMtime(join(REPO_ROOT, "dark-tower-client/src")));
  if (existsSync(BOT_BIN) && statSync(BOT_BIN).mtimeMs >= sources) return;
  execFileSync("cargo", ["build", "-p", "dark-tower-examples", "--bin", "bot"], { cwd: REPO_ROOT, stdio: "inherit" });
}

/** @type {Set<import("node:child_process").ChildProcess>} */
const running = new Set();
process.on("exit", () => {
  for (const c of running) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
});

/**
 * @typedef {{ peer: string, identity: string, video_frames: number, audio_frames: number, lost: number, bad: number, unchecked: number, undecryptable: number, verified: boolean }} PeerReport
 * @typedef {{ code: number | null, stdout: string, stderr: string, peers: PeerReport[] }} BotResult
 */

/**
 * Starts a bot that joins `meeting` as `identity` with the media fixtures; `args` adds flags.
 * Resolves `done` when it exits, with its per-peer JSON report.
 * @param {{ server: { ready: { http: string }, dataDir: string }, meeting: string, identity: string, args: string[] }} o
 */
export function startBot(o) {
  const token = mintToken(o.server.dataDir, o.identity, o.meeting);
  const child = spawn(
    BOT_BIN,
    ["--url", `http://${o.server.ready.http}`, "--token", token, "--media-fixtures", FIXTURES, ...o.args],
    { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, RUST_LOG: process.env.RUST_LOG ?? "warn" } },
  );
  running.add(child);
  let stdout = "";
  let stderr = "";
  /** Every stderr line so far (for {@link waitForLine}), and who waits for which. */
  const lines = /** @type {string[]} */ ([]);
  /** @type {Array<{ re: RegExp, resolve: (line: string) => void }>} */
  let waiters = [];
  let partial = "";
  child.stdout.on("data", (d) => (stdout += String(d)));
  child.stderr.on("data", (d) => {
    stderr = (stderr + String(d)).slice(-20_000);
    const parts = (partial + String(d)).split("\n");
    partial = parts.pop() ?? "";
    for (const line of parts) {
      lines.push(line);
      waiters = waiters.filter((w) => {
        if (!w.re.test(line)) return true;
        w.resolve(line);
        return false;
      });
    }
  });
  /** @type {Promise<BotResult>} */
  const done = new Promise((resolve, reject) => {
    child.once("error", reject);
    child.once("exit", (code) => {
      running.delete(child);
      /** @type {PeerReport[]} */
      const peers = stdout
        .split("\n")
        .filter((l) => l.trim() !== "")
        .map((l) => JSON.parse(l));
      resolve({ code, stdout, stderr, peers });
    });
  });
  /**
   * Resolves with the first stderr line matching `re`; rejects if the bot exits first or after
   * `timeoutMs`.
   * @param {RegExp} re
   * @param {number} timeoutMs
   * @returns {Promise<string>}
   */
  const waitForLine = (re, timeoutMs) => {
    const seen = lines.find((l) => re.test(l));
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`bot printed no line matching ${re} in ${timeoutMs} ms:\n${stderr}`)), timeoutMs);
      const waiter = {
        re,
        /** @param {string} line */
        resolve: (line) => {
          clearTimeout(timer);
          resolve(line);
        },
      };
      waiters.push(waiter);
      void done.then((r) => {
        clearTimeout(timer);
        if (waiters.includes(waiter)) reject(new Error(`bot exited (${r.code}) before printing a line matching ${re}:\n${stderr}`));
      });
    });
  };
  return {
    done,
    waitForLine,
    stderr: () => stderr,
    /** Ends the run early (SIGINT): the bot reports as at its deadline and exits. */
    interrupt: () => child.kill("SIGINT"),
    kill: () => child.kill("SIGKILL"),
  };
}
