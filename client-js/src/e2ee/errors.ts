/** Typed E2EE errors (mirrors `dark_tower_client::e2ee::E2eeError` and `KeyError`). */

import { DarkTowerError } from "../errors.js";

/**
 * Why a frame could not be encrypted or decrypted; same variants as the Rust `E2eeError`:
 * - `MalformedHeader`: the SFrame header is truncated, or the frame is shorter than header and tag.
 * - `UnknownKeyId`: no key for this key id from this sender (never set, or retired after rotation).
 * - `AuthenticationFailed`: wrong key, or the frame or its authenticated header bytes were changed.
 * - `UnknownSender`: the frame's track names no known participant, so there is no key to try (a
 *   room-level failure; the Rust `Room` reports it, the frame functions here never do).
 * - `CounterExhausted`: every counter value of this sender was used.
 * - `NoSendingKey`: no key is set for sending.
 * - `FrameTooLarge`: longer than AES-GCM can encrypt.
 */
export type EncryptionErrorKind =
  | "MalformedHeader"
  | "UnknownKeyId"
  | "AuthenticationFailed"
  | "UnknownSender"
  | "CounterExhausted"
  | "NoSendingKey"
  | "FrameTooLarge";

/** A frame could not be encrypted or decrypted. */
export class EncryptionError extends DarkTowerError {
  override readonly name = "EncryptionError";

  constructor(
    /** Which failure. */
    readonly kind: EncryptionErrorKind,
    message: string,
    /** The SFrame key id, for `UnknownKeyId`. */
    readonly kid?: bigint,
  ) {
    super(message);
  }

  /** A malformed SFrame header or frame. */
  static malformed(why: string): EncryptionError {
    return new EncryptionError("MalformedHeader", `malformed SFrame: ${why}`);
  }

  /** No key for `kid`. */
  static unknownKeyId(kid: bigint): EncryptionError {
    return new EncryptionError("UnknownKeyId", `no key for key id 0x${kid.toString(16)}`, kid);
  }
}

/** Why a key could not be set (mirrors the Rust `KeyError`). */
export type KeyErrorKind = "KeyTooShort" | "EmptyPassphrase" | "ZeroIterations";

/** A key or passphrase was refused. */
export class KeyError extends DarkTowerError {
  override readonly name = "KeyError";

  constructor(
    /** Which failure. */
    readonly kind: KeyErrorKind,
    message: string,
  ) {
    super(message);
  }
}
