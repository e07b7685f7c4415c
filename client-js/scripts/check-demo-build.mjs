// Fails when the committed demo build (dark-tower-server/assets/demo, embedded in the server
// binary) is not what `npm run build:demo` makes from the current sources: rebuilds into a
// temporary directory and compares every file byte for byte. Fix with `npm run build:demo`.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const committed = fileURLToPath(new URL("../../dark-tower-server/assets/demo", import.meta.url));
const out = mkdtempSync(join(tmpdir(), "dt-demo-build-"));

/** @param {string} dir @returns {string[]} */
function files(dir) {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? files(p) : [p];
  });
}

try {
  const vite = join(root, "node_modules/vite/bin/vite.js");
  execFileSync(process.execPath, [vite, "build", "--config", "demo/vite.config.ts", "--outDir", out, "--emptyOutDir", "--logLevel", "warn"], {
    cwd: root,
    stdio: "inherit",
  });
  const built = new Set(files(out).map((f) => relative(out, f)));
  const have = new Set(files(committed).map((f) => relative(committed, f)));
  /** @type {string[]} */
  const problems = [];
  for (const f of built) {
    if (!have.has(f)) problems.push(`missing from the committed build: ${f}`);
    else if (!readFileSync(join(out, f)).equals(readFileSync(join(committed, f)))) problems.push(`differs: ${f}`);
  }
  for (const f of have) if (!built.has(f)) problems.push(`stale file in the committed build: ${f}`);
  if (problems.length > 0) {
    for (const p of problems) console.error(p);
    console.error("dark-tower-server/assets/demo is out of date: run `npm run build:demo` in client-js/ and commit it");
    process.exitCode = 1;
  } else {
    console.log(`demo build up to date (${built.size} files)`);
  }
} finally {
  rmSync(out, { recursive: true, force: true });
}
