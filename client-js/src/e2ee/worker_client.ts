/**
 * The room's side of the encryption worker: requests out, answers matched by id. An
 * {@link InlineCryptor} does the same work on the calling thread, for unit tests (Node has no
 * `Worker`).
 */

import type { MediaHeader } from "../proto/media.js";
import { FrameCryptor, type CryptorInit } from "./cryptor.js";
import { EncryptionError } from "./errors.js";
import type { KeyOp } from "./external_key_provider.js";
import { transferable, type WorkerRequest, type WorkerResponse } from "./worker_protocol.js";

/** Encrypts and decrypts frames somewhere; failures reject with {@link EncryptionError}. */
export interface Cryptor {
  /** Starts over for a new connection. */
  init(init: CryptorInit): void;
  applyKeyOp(op: KeyOp): void;
  /** Encrypts; `payload` may be transferred (do not use it afterwards). */
  encrypt(header: MediaHeader, payload: Uint8Array): Promise<Uint8Array>;
  /** Decrypts; `payload` may be transferred (do not use it afterwards). */
  decrypt(sender: string, header: MediaHeader, payload: Uint8Array): Promise<Uint8Array>;
  /** Fails everything pending and, for a worker the room started, terminates it. */
  close(): void;
}

/** On the calling thread (unit tests). */
export class InlineCryptor implements Cryptor {
  private cryptor: FrameCryptor | undefined;
  private keys: Promise<void> = Promise.resolve();

  init(init: CryptorInit): void {
    this.cryptor = new FrameCryptor(init);
  }

  applyKeyOp(op: KeyOp): void {
    const c = this.cryptor;
    if (c !== undefined) this.keys = this.keys.then(() => c.applyKeyOp(op)).catch(() => undefined);
  }

  async encrypt(header: MediaHeader, payload: Uint8Array): Promise<Uint8Array> {
    await this.keys;
    return this.ready().encrypt(header, payload);
  }

  async decrypt(sender: string, header: MediaHeader, payload: Uint8Array): Promise<Uint8Array> {
    await this.keys;
    return this.ready().decrypt(sender, header, payload);
  }

  private ready(): FrameCryptor {
    if (this.cryptor === undefined) throw new Error("cryptor not initialised");
    return this.cryptor;
  }

  close(): void {
    this.cryptor = undefined;
  }
}

/**
 * Request ids, unique per page: an application's worker outlives one connection's cryptor, and a
 * late answer to the old one must not match a request of the new one.
 */
let nextRequestId = 1;

interface Waiter {
  resolve(payload: Uint8Array): void;
  reject(e: Error): void;
}

/** In a dedicated worker running `worker.ts`. */
export class WorkerCryptor implements Cryptor {
  private readonly pending = new Map<number, Waiter>();
  private failure: Error | undefined;

  constructor(
    private readonly worker: Worker,
    /** Terminate the worker on {@link close} (the room started it). */
    private readonly owned: boolean,
  ) {
    worker.onmessage = (ev: MessageEvent<WorkerResponse>) => this.answer(ev.data);
    worker.onerror = (ev: ErrorEvent) => {
      ev.preventDefault();
      this.fail(new Error(`the encryption worker failed: ${ev.message || "could not start"}`));
    };
  }

  private answer(r: WorkerResponse): void {
    const w = this.pending.get(r.id);
    if (w === undefined) return;
    this.pending.delete(r.id);
    if (r.type === "done") w.resolve(r.payload);
    else if (r.kind === "Internal") w.reject(new Error(r.message));
    else w.reject(new EncryptionError(r.kind, r.message));
  }

  private post(message: WorkerRequest, transfer: Transferable[] = []): void {
    this.worker.postMessage(message, transfer);
  }

  init(init: CryptorInit): void {
    this.post({ type: "init", init });
  }

  applyKeyOp(op: KeyOp): void {
    this.post({ type: "key", op });
  }

  private request(build: (id: number, payload: Uint8Array) => WorkerRequest, payload: Uint8Array): Promise<Uint8Array> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    const id = nextRequestId++;
    const t = transferable(payload);
    return new Promise<Uint8Array>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.post(build(id, t.bytes), t.transfer);
    });
  }

  encrypt(header: MediaHeader, payload: Uint8Array): Promise<Uint8Array> {
    return this.request((id, p) => ({ type: "encrypt", id, header, payload: p }), payload);
  }

  decrypt(sender: string, header: MediaHeader, payload: Uint8Array): Promise<Uint8Array> {
    return this.request((id, p) => ({ type: "decrypt", id, sender, header, payload: p }), payload);
  }

  private fail(e: Error): void {
    this.failure = e;
    for (const w of this.pending.values()) w.reject(e);
    this.pending.clear();
  }

  close(): void {
    for (const w of this.pending.values()) w.reject(new Error("the room disconnected"));
    this.pending.clear();
    if (this.owned) {
      this.worker.terminate();
      this.failure = new Error("the encryption worker was terminated");
    }
  }
}
