// @ts-check
// Runs in the page: measures SFrame encryption and decryption of media frames, on the page's
// thread and through the encryption worker, against plain WebCrypto AES-GCM of the same bytes
// (the baseline, measured in the same run). Results go to `window.benchResult`.

import { FrameDecryptor, FrameEncryptor, KeyProvider } from "../dist/e2ee/index.js";
import { WorkerCryptor } from "../dist/e2ee/worker_client.js";

const SIZES = [1024, 10 * 1024, 100 * 1024];
const SEQUENTIAL = 1000;
const PIPELINED = 1000;
const ALICE = "PA_00000000000000a1";

/** @param {number} frameSeq @param {boolean} keyframe */
function header(frameSeq, keyframe) {
  return {
    trackAlias: 7, spatialId: 0, temporalId: 0, groupSeq: 0n, frameSeq,
    captureTsUs: 1_700_000_000_000_000n, keyframe, discardable: false, endOfGroup: false, audioLevel: undefined,
  };
}

/** Microseconds per call of `f`, run `n` times one after another (after 200 warm-up calls). */
async function sequential(/** @type {(i: number) => Promise<unknown>} */ f, n = SEQUENTIAL) {
  for (let i = 0; i < 200; i++) await f(i);
  const t0 = performance.now();
  for (let i = 0; i < n; i++) await f(i);
  return ((performance.now() - t0) * 1000) / n;
}

/** Microseconds per frame when `n` calls are in flight at once (throughput). */
async function pipelined(/** @type {(i: number) => Promise<unknown>} */ f, n = PIPELINED) {
  await Promise.all(Array.from({ length: 200 }, (_, i) => f(i)));
  const t0 = performance.now();
  await Promise.all(Array.from({ length: n }, (_, i) => f(i)));
  return ((performance.now() - t0) * 1000) / n;
}

async function run() {
  const key = new TextEncoder().encode("a benchmark key of thirty-two b!");
  const keys = new KeyProvider();
  await keys.setSharedKey(0, key);
  const aes = await crypto.subtle.importKey("raw", key.subarray(0, 16), "AES-GCM", false, ["encrypt", "decrypt"]);
  const iv = new Uint8Array(12);
  const worker = new WorkerCryptor(new Worker(new URL("../dist/e2ee/worker.js", import.meta.url), { type: "module" }), true);
  worker.init({ local: ALICE, cipherSuite: keys.cipherSuite, rotationWindowMs: keys.rotationWindowMs });
  worker.applyKeyOp({ kind: "shared", index: 0, key });
  const rows = [];
  for (const size of SIZES) {
    const payload = new Uint8Array(size);
    crypto.getRandomValues(payload.subarray(0, Math.min(size, 65536)));
    const h = header(1, false);
    const enc = FrameEncryptor.create(ALICE);
    const sealed = await enc.encryptFrame(keys, h, payload);
    const dec = new FrameDecryptor();
    const rawSealed = new Uint8Array(await crypto.subtle.encrypt({ name: "AES-GCM", iv }, aes, payload));
    const row = {
      bytes: size,
      baselineAesGcmEncryptUs: await sequential(() => crypto.subtle.encrypt({ name: "AES-GCM", iv }, aes, payload)),
      baselineAesGcmDecryptUs: await sequential(() => crypto.subtle.decrypt({ name: "AES-GCM", iv }, aes, rawSealed)),
      pageEncryptUs: await sequential(() => enc.encryptFrame(keys, h, payload)),
      pageDecryptUs: await sequential(() => dec.decryptFrame(keys, ALICE, h, sealed)),
      workerEncryptUs: await sequential(() => worker.encrypt(h, payload.slice())),
      workerDecryptUs: await sequential(() => worker.decrypt(ALICE, h, sealed.slice())),
      pageEncryptPipelinedUs: await pipelined(() => enc.encryptFrame(keys, h, payload)),
      workerEncryptPipelinedUs: await pipelined(() => worker.encrypt(h, payload.slice())),
      workerDecryptPipelinedUs: await pipelined(() => worker.decrypt(ALICE, h, sealed.slice())),
    };
    rows.push(row);
  }
  worker.close();
  return { userAgent: navigator.userAgent, hardwareConcurrency: navigator.hardwareConcurrency, rows };
}

const out = document.getElementById("out");
run().then(
  (r) => {
    Object.assign(window, { benchResult: r });
    if (out) out.textContent = JSON.stringify(r, null, 2);
  },
  (e) => {
    Object.assign(window, { benchError: String(e) });
    if (out) out.textContent = String(e);
  },
);
