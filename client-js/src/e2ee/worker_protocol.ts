/**
 * Messages between the room (main thread) and its encryption worker. Payloads travel as
 * `Uint8Array`s whose buffers are transferred, not copied.
 */

import type { MediaHeader } from "../proto/media.js";
import type { CryptorInit } from "./cryptor.js";
import type { EncryptionErrorKind } from "./errors.js";
import type { KeyOp } from "./external_key_provider.js";

/** To the worker. */
export type WorkerRequest =
  /** Starts over for a new connection (new encryptor, no keys). */
  | { readonly type: "init"; readonly init: CryptorInit }
  | { readonly type: "key"; readonly op: KeyOp }
  | { readonly type: "encrypt"; readonly id: number; readonly header: MediaHeader; readonly payload: Uint8Array }
  | { readonly type: "decrypt"; readonly id: number; readonly sender: string; readonly header: MediaHeader; readonly payload: Uint8Array };

/** From the worker: the answer to an `encrypt` or `decrypt`. */
export type WorkerResponse =
  | { readonly type: "done"; readonly id: number; readonly payload: Uint8Array }
  | { readonly type: "failed"; readonly id: number; readonly kind: EncryptionErrorKind | "Internal"; readonly message: string };

/** The buffers of `bytes` to transfer: its own buffer if it spans all of it, else a copy's. */
export function transferable(bytes: Uint8Array): { bytes: Uint8Array; transfer: ArrayBuffer[] } {
  const b = bytes.buffer;
  if (b instanceof ArrayBuffer && bytes.byteOffset === 0 && bytes.byteLength === b.byteLength) return { bytes, transfer: [b] };
  const copy = bytes.slice();
  return { bytes: copy, transfer: [copy.buffer] };
}
