/**
 * The encryption worker: SFrame encryption and decryption of media frames off the main thread.
 * Start it with `new Worker(new URL("./worker.js", import.meta.url), { type: "module" })` (the
 * room does when `RoomOptions.e2ee.worker` is not given) or from the package export
 * `@dark-tower/client/e2ee-worker`. Requests are handled in order; key changes apply between
 * the frames around them.
 */

import { FrameCryptor } from "./cryptor.js";
import { EncryptionError } from "./errors.js";
import { transferable, type WorkerRequest, type WorkerResponse } from "./worker_protocol.js";

/** The parts of a dedicated worker's global scope used here (the DOM lib types `self` as a window). */
interface WorkerScope {
  onmessage: ((ev: MessageEvent<WorkerRequest>) => void) | null;
  postMessage(message: WorkerResponse, transfer: Transferable[]): void;
}

const scope = globalThis as unknown as WorkerScope;
let cryptor: FrameCryptor | undefined;

function reply(id: number, work: Promise<Uint8Array>): void {
  work.then(
    (payload) => {
      const t = transferable(payload);
      scope.postMessage({ type: "done", id, payload: t.bytes }, t.transfer);
    },
    (e: unknown) => {
      const kind = e instanceof EncryptionError ? e.kind : "Internal";
      scope.postMessage({ type: "failed", id, kind, message: e instanceof Error ? e.message : String(e) }, []);
    },
  );
}

function noCryptor(): Promise<never> {
  return Promise.reject(new Error("the encryption worker was not initialised"));
}

scope.onmessage = (ev) => {
  const m = ev.data;
  switch (m.type) {
    case "init":
      cryptor = new FrameCryptor(m.init);
      return;
    case "key":
      cryptor?.applyKeyOp(m.op).catch((e: unknown) => console.warn("E2EE key refused:", e));
      return;
    case "encrypt":
      reply(m.id, cryptor?.encrypt(m.header, m.payload) ?? noCryptor());
      return;
    case "decrypt":
      reply(m.id, cryptor?.decrypt(m.sender, m.header, m.payload) ?? noCryptor());
      return;
  }
};
