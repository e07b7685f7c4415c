/**
 * Key management (mirrors `dark_tower_client::e2ee::keys`): passphrase and raw keys, per-sender
 * derivation, rotation with a grace window.
 */

import { KeyError } from "./errors.js";
import { CipherSuite, own } from "./sframe.js";

/**
 * PBKDF2 salt used when the application gives none: the ASCII bytes of
 * `"dark-tower/e2ee/v1/passphrase"`. Pass a per-meeting salt (e.g. the meeting name) instead.
 */
export const DEFAULT_PBKDF2_SALT: Uint8Array<ArrayBuffer> = new TextEncoder().encode("dark-tower/e2ee/v1/passphrase");
/** PBKDF2-HMAC-SHA256 iterations used when the application gives none (OWASP 2023). */
export const DEFAULT_PBKDF2_ITERATIONS = 600_000;
/** How long a replaced key is still accepted for decryption, unless configured otherwise. */
export const DEFAULT_ROTATION_WINDOW_MS = 5000;
/** The shortest raw key accepted (128 bits). */
export const MIN_KEY_LEN = 16;

const BASE_KEY_LEN = 32;
const SENDER_LABEL = new TextEncoder().encode("Dark Tower E2EE 1.0 sender key ");

/** PBKDF2 parameters for turning a passphrase into a base key. */
export interface PassphraseParams {
  /** The salt; {@link DEFAULT_PBKDF2_SALT} when absent. */
  salt?: Uint8Array;
  /** The iteration count; {@link DEFAULT_PBKDF2_ITERATIONS} when absent. */
  iterations?: number;
}

/** The u64 of a participant id (`PA_` + 16 hex digits, as in `ParticipantId`'s text form). */
export function participantIdValue(id: string): bigint {
  if (!/^PA_[0-9a-f]{16}$/.test(id)) throw new RangeError(`not a participant id: ${id}`);
  return BigInt(`0x${id.slice(3)}`);
}

/** The base key for a passphrase: PBKDF2-HMAC-SHA256(passphrase as UTF-8, salt, iterations), 32 bytes. */
export async function baseKeyFromPassphrase(passphrase: string, params: PassphraseParams = {}): Promise<Uint8Array<ArrayBuffer>> {
  if (passphrase.length === 0) throw new KeyError("EmptyPassphrase", "empty passphrase");
  const iterations = params.iterations ?? DEFAULT_PBKDF2_ITERATIONS;
  if (!Number.isInteger(iterations) || iterations < 1) {
    throw new KeyError("ZeroIterations", "PBKDF2 iterations must be at least 1");
  }
  const material = await crypto.subtle.importKey("raw", new TextEncoder().encode(passphrase), "PBKDF2", false, ["deriveBits"]);
  const salt = own(params.salt ?? DEFAULT_PBKDF2_SALT);
  const bits = await crypto.subtle.deriveBits({ name: "PBKDF2", hash: "SHA-256", salt, iterations }, material, BASE_KEY_LEN * 8);
  return new Uint8Array(bits);
}

/**
 * The SFrame base key of one sender: HKDF-SHA256 with an empty salt, the shared key as input
 * keying material and `"Dark Tower E2EE 1.0 sender key " || participant id (u64 BE)` as info,
 * 32 bytes.
 */
export async function senderBaseKey(shared: Uint8Array, sender: string): Promise<Uint8Array<ArrayBuffer>> {
  const info = new Uint8Array(SENDER_LABEL.length + 8);
  info.set(SENDER_LABEL);
  new DataView(info.buffer).setBigUint64(SENDER_LABEL.length, participantIdValue(sender));
  const ikm = await crypto.subtle.importKey("raw", own(shared), "HKDF", false, ["deriveBits"]);
  const bits = await crypto.subtle.deriveBits({ name: "HKDF", hash: "SHA-256", salt: new Uint8Array(0), info }, ikm, BASE_KEY_LEN * 8);
  return new Uint8Array(bits);
}

/** Options of a {@link KeyProvider}. */
export interface KeyProviderOptions {
  /** The SFrame cipher suite; every participant of a meeting must use the same. Default AES-128-GCM. */
  cipherSuite?: CipherSuite;
  /** How long a replaced key is still accepted for decryption, in ms. Default {@link DEFAULT_ROTATION_WINDOW_MS}. */
  rotationWindowMs?: number;
  /** The clock, in ms; `performance.now` by default. Tests pass a virtual one. */
  now?: () => number;
}

interface Entry {
  index: number;
  key: Uint8Array;
}

/** The current key of a scope and the replaced ones still inside their rotation window. */
class KeyRing {
  current: Entry | undefined;
  retired: { entry: Entry; until: number }[] = [];

  set(now: number, windowMs: number, index: number, key: Uint8Array): void {
    this.retired = this.retired.filter((r) => r.entry.index !== index && now < r.until);
    const old = this.current;
    if (old !== undefined && old.index !== index) this.retired.push({ entry: old, until: now + windowMs });
    this.current = { index, key };
  }

  find(now: number, index: number): { key: Uint8Array; until: number | undefined } | undefined {
    if (this.current?.index === index) return { key: this.current.key, until: undefined };
    const r = this.retired.find((x) => x.entry.index === index && now < x.until);
    return r === undefined ? undefined : { key: r.entry.key, until: r.until };
  }
}

/** The shared or participant key a sender uses for one index (before per-sender derivation). */
export interface KeyLookup {
  /** The key index (low 8 bits of the KID). */
  index: number;
  /** The shared or participant key. */
  key: Uint8Array;
  /** For a retired key, the end of its rotation window (ms on the provider's clock). */
  validUntil: number | undefined;
}

function checkIndex(index: number): void {
  if (!Number.isInteger(index) || index < 0 || index > 255) throw new RangeError(`key index ${index} not in 0..=255`);
}

function checkKey(key: Uint8Array): void {
  if (key.length < MIN_KEY_LEN) {
    throw new KeyError("KeyTooShort", `key too short: ${key.length} bytes, at least ${MIN_KEY_LEN} needed`);
  }
}

/**
 * The keys of a meeting as seen by one client (same semantics as the Rust `KeyProvider`).
 *
 * A key is shared by everyone (a passphrase or a raw key the application distributes) or set for
 * one participant; a participant's own key takes precedence over the shared key with the same
 * index. Each sender encrypts with {@link senderBaseKey} of the key and its participant id.
 *
 * Rotation: setting a key with a new index makes it the sending key at once and keeps the
 * previous one for decryption for `rotationWindowMs`. Setting a key with the index in use
 * replaces it at once. Setters apply in call order, even while a passphrase is being derived.
 */
export class KeyProvider {
  /** The cipher suite. */
  readonly cipherSuite: CipherSuite;
  /** The rotation window in ms. */
  readonly rotationWindowMs: number;
  /** The clock in ms. */
  readonly now: () => number;
  private shared = new KeyRing();
  private participants = new Map<string, KeyRing>();
  private gen = 0;
  private queue: Promise<void> = Promise.resolve();

  constructor(options: KeyProviderOptions = {}) {
    this.cipherSuite = options.cipherSuite ?? CipherSuite.Aes128GcmSha256;
    this.rotationWindowMs = options.rotationWindowMs ?? DEFAULT_ROTATION_WINDOW_MS;
    this.now = options.now ?? ((): number => performance.now());
  }

  /** Bumped by every change; encryptors and decryptors drop their derived keys when it moves. */
  get generation(): number {
    return this.gen;
  }

  private apply(step: () => Promise<void> | void): Promise<void> {
    const next = this.queue.then(step);
    this.queue = next.catch(() => undefined);
    return next;
  }

  /** Sets the shared raw key with `index` (at least {@link MIN_KEY_LEN} bytes), rotating. */
  async setSharedKey(index: number, key: Uint8Array): Promise<void> {
    checkIndex(index);
    checkKey(key);
    const copy = new Uint8Array(key);
    return this.apply(() => {
      this.shared.set(this.now(), this.rotationWindowMs, index, copy);
      this.gen++;
    });
  }

  /** Sets the shared key from a passphrase ({@link baseKeyFromPassphrase}); slow on purpose. */
  async setSharedPassphrase(index: number, passphrase: string, params: PassphraseParams = {}): Promise<void> {
    checkIndex(index);
    const derived = baseKeyFromPassphrase(passphrase, params);
    // Observed in the queued step; this only keeps an early failure from counting as unhandled.
    derived.catch(() => undefined);
    return this.apply(async () => {
      const key = await derived;
      this.shared.set(this.now(), this.rotationWindowMs, index, key);
      this.gen++;
    });
  }

  /** Sets `participant`'s own key with `index`, for its sending and for decrypting its frames. */
  async setParticipantKey(participant: string, index: number, key: Uint8Array): Promise<void> {
    participantIdValue(participant);
    checkIndex(index);
    checkKey(key);
    const copy = new Uint8Array(key);
    return this.apply(() => {
      let ring = this.participants.get(participant);
      if (ring === undefined) {
        ring = new KeyRing();
        this.participants.set(participant, ring);
      }
      ring.set(this.now(), this.rotationWindowMs, index, copy);
      this.gen++;
    });
  }

  /** Forgets every key set for `participant`; the shared key applies to it again. */
  async removeParticipantKey(participant: string): Promise<void> {
    return this.apply(() => {
      if (this.participants.delete(participant)) this.gen++;
    });
  }

  /** The key `sender` encrypts with now: its own current key if set, else the shared current key. */
  sendingKey(sender: string): KeyLookup | undefined {
    const e = this.participants.get(sender)?.current ?? this.shared.current;
    return e === undefined ? undefined : { index: e.index, key: e.key, validUntil: undefined };
  }

  /** The key of `sender` with `index` a frame may be decrypted with at `now`. */
  receivingKey(now: number, sender: string, index: number): KeyLookup | undefined {
    const found = this.participants.get(sender)?.find(now, index) ?? this.shared.find(now, index);
    return found === undefined ? undefined : { index, key: found.key, validUntil: found.until };
  }
}
