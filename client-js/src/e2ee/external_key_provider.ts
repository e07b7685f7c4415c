/**
 * The application's handle on E2EE keys (LiveKit's `ExternalE2EEKeyProvider`): keys set here
 * reach the room's encryption worker, which holds the {@link KeyProvider} that encrypts and
 * decrypts. A passphrase is turned into a key here (PBKDF2 in WebCrypto, which does not block
 * the page); raw keys are used as given. Keys have an index (0–255): setting a key with a new
 * index rotates (the new key sends at once, the previous one still decrypts for the rotation
 * window, 5 s by default); every participant must use the same index for the same key.
 */

import { KeyError } from "./errors.js";
import {
  DEFAULT_ROTATION_WINDOW_MS,
  MIN_KEY_LEN,
  baseKeyFromPassphrase,
  participantIdValue,
  type PassphraseParams,
} from "./keys.js";
import { CipherSuite } from "./sframe.js";

/** One change of keys, as the worker applies it. */
export type KeyOp =
  | { readonly kind: "shared"; readonly index: number; readonly key: Uint8Array }
  | { readonly kind: "participant"; readonly participant: string; readonly index: number; readonly key: Uint8Array }
  | { readonly kind: "removeParticipant"; readonly participant: string };

/** Options of an {@link ExternalE2EEKeyProvider}. */
export interface ExternalE2EEKeyProviderOptions {
  /** The SFrame cipher suite; every participant must use the same. Default AES-128-GCM. */
  cipherSuite?: CipherSuite;
  /** How long a replaced key still decrypts, in ms (default 5000). */
  rotationWindowMs?: number;
  /** PBKDF2 salt and iterations for passphrases (defaults in docs/E2EE.md §3.1). */
  passphrase?: PassphraseParams;
}

/** Key changes kept to bring a late listener (a worker started after the keys were set) up to date. */
const MAX_HISTORY = 64;

function checkIndex(index: number): void {
  if (!Number.isInteger(index) || index < 0 || index > 255) throw new RangeError(`key index ${index} not in 0..=255`);
}

function rawKey(key: ArrayBuffer | Uint8Array): Uint8Array {
  const bytes = key instanceof Uint8Array ? new Uint8Array(key) : new Uint8Array(key.slice(0));
  if (bytes.length < MIN_KEY_LEN) {
    throw new KeyError("KeyTooShort", `key too short: ${bytes.length} bytes, at least ${MIN_KEY_LEN} needed`);
  }
  return bytes;
}

/** Keys the application sets; the room forwards them to its encryption worker. */
export class ExternalE2EEKeyProvider {
  /** The cipher suite. */
  readonly cipherSuite: CipherSuite;
  /** The rotation window, ms. */
  readonly rotationWindowMs: number;
  private readonly passphrase: PassphraseParams;
  private readonly history: KeyOp[] = [];
  private readonly listeners = new Set<(op: KeyOp) => void>();
  private queue: Promise<void> = Promise.resolve();
  private index: number | undefined;

  constructor(options: ExternalE2EEKeyProviderOptions = {}) {
    this.cipherSuite = options.cipherSuite ?? CipherSuite.Aes128GcmSha256;
    this.rotationWindowMs = options.rotationWindowMs ?? DEFAULT_ROTATION_WINDOW_MS;
    this.passphrase = options.passphrase ?? {};
  }

  /** The index of the shared key set last, if any. */
  get currentKeyIndex(): number | undefined {
    return this.index;
  }

  /**
   * Sets the shared key with `keyIndex` (default 0): a string is a passphrase (PBKDF2), bytes a
   * raw key of at least 16 bytes. Keys apply in call order, even while a passphrase is derived.
   */
  async setKey(key: string | ArrayBuffer | Uint8Array, keyIndex = 0): Promise<void> {
    checkIndex(keyIndex);
    const material = this.material(key);
    return this.apply(async () => {
      const k = await material;
      this.index = keyIndex;
      this.dispatch({ kind: "shared", index: keyIndex, key: k });
    });
  }

  /** Sets the key of one participant (its sid, "PA_…"), overriding the shared key with the same index for it. */
  async setParticipantKey(participant: string, key: string | ArrayBuffer | Uint8Array, keyIndex = 0): Promise<void> {
    participantIdValue(participant);
    checkIndex(keyIndex);
    const material = this.material(key);
    return this.apply(async () => {
      this.dispatch({ kind: "participant", participant, index: keyIndex, key: await material });
    });
  }

  /** Forgets the keys set for `participant`: the shared key applies to it again. */
  removeParticipantKey(participant: string): Promise<void> {
    return this.apply(() => this.dispatch({ kind: "removeParticipant", participant }));
  }

  /**
   * Calls `listener` with every key change, the earlier ones first (internal: the room's
   * encryption worker). Returns a function that stops it.
   */
  onKeyOp(listener: (op: KeyOp) => void): () => void {
    for (const op of this.history) listener(op);
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private material(key: string | ArrayBuffer | Uint8Array): Promise<Uint8Array> {
    const m = typeof key === "string" ? baseKeyFromPassphrase(key, this.passphrase) : Promise.resolve().then(() => rawKey(key));
    // Observed in the queued step; this only keeps an early failure from counting as unhandled.
    m.catch(() => undefined);
    return m;
  }

  private apply(step: () => Promise<void> | void): Promise<void> {
    const next = this.queue.then(step);
    this.queue = next.catch(() => undefined);
    return next;
  }

  private dispatch(op: KeyOp): void {
    this.history.push(op);
    if (this.history.length > MAX_HISTORY) this.history.shift();
    for (const l of this.listeners) l(op);
  }
}
