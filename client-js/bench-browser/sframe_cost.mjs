// @ts-check
// SFrame cost per media frame in Chromium: `npm run bench:browser` (builds dist/ first).
// Prints µs per frame for 1 KB, 10 KB and 100 KB payloads: plain WebCrypto AES-GCM (the baseline
// of this run), SFrame encrypt/decrypt on the page's thread, and through the encryption worker
// (one at a time = latency; 1000 in flight = throughput), with ratios against the baseline.
// A benchmark, not a test: it asserts nothing.

import { existsSync } from "node:fs";
import { join } from "node:path";

import { CHROMIUM, PACKAGE_ROOT, cleanupAll, launchBrowser } from "../e2e/harness.mjs";
import { startStaticServer } from "./static_server.mjs";

if (!existsSync(join(PACKAGE_ROOT, "dist/e2ee/worker.js"))) throw new Error("dist/ missing: npm run build");
if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} missing`);

try {
  const { origin, close } = await startStaticServer(PACKAGE_ROOT);
  process.on("exit", close);
  const browser = await launchBrowser();
  const page = await browser.newPage();
  page.on("pageerror", (e) => console.error(`pageerror: ${e.message}`));
  await page.goto(`${origin}/bench-browser/sframe_cost.html`);
  await page.waitForFunction(
    () => {
      const w = /** @type {{ benchResult?: unknown, benchError?: string }} */ (/** @type {unknown} */ (window));
      if (w.benchError !== undefined) throw new Error(w.benchError);
      return w.benchResult !== undefined;
    },
    undefined,
    { timeout: 300_000, polling: 200 },
  );
  /** @type {{ userAgent: string, hardwareConcurrency: number, rows: Record<string, number>[] }} */
  const r = await page.evaluate(() => /** @type {never} */ (/** @type {{ benchResult: unknown }} */ (/** @type {unknown} */ (window)).benchResult));
  await browser.close();
  console.log(`${r.userAgent} (${r.hardwareConcurrency} cores)`);
  const f = (/** @type {number | undefined} */ v) => (v ?? 0).toFixed(1).padStart(8);
  const x = (/** @type {number | undefined} */ v, /** @type {number | undefined} */ base) => `${((v ?? 0) / (base ?? 1)).toFixed(1)}x`.padStart(7);
  console.log("µs per frame       bytes  AES-GCM enc  SFrame enc (page)  worker enc  worker enc ∥   AES-GCM dec  SFrame dec (page)  worker dec  worker dec ∥");
  for (const row of r.rows) {
    const be = row.baselineAesGcmEncryptUs;
    const bd = row.baselineAesGcmDecryptUs;
    console.log(
      `${String(row.bytes).padStart(24)} ${f(be)}     ${f(row.pageEncryptUs)} ${x(row.pageEncryptUs, be)} ${f(row.workerEncryptUs)} ${f(row.workerEncryptPipelinedUs)}     ${f(bd)}     ${f(row.pageDecryptUs)} ${x(row.pageDecryptUs, bd)} ${f(row.workerDecryptUs)} ${f(row.workerDecryptPipelinedUs)}`,
    );
  }
  console.log(`(page encrypt with 1000 in flight: ${r.rows.map((row) => `${row.bytes} B ${f(row.pageEncryptPipelinedUs).trim()} µs`).join(", ")})`);
} finally {
  cleanupAll();
}
