/**
 * SFrame applied to media frames (mirrors `dark_tower_client::e2ee::frame`): the authenticated
 * header bytes, the KID layout, the per-sender encryptor and the decryptor.
 */

import { HEADER_LEN, encodeHeader, type MediaHeader } from "../proto/media.js";
import { EncryptionError } from "./errors.js";
import { senderBaseKey, type KeyLookup, type KeyProvider } from "./keys.js";
import { SframeKey, decodeSframeHeader } from "./sframe.js";

/**
 * The byte ranges `[start, end)` of the 28-byte media header that are authenticated as SFrame
 * metadata: version and flags, layer and audio level, capture timestamp. Left out because a
 * forwarder may rewrite them: track alias (2..6), group_seq (8..16), frame_seq (16..20).
 */
export const AUTHENTICATED_HEADER_RANGES: readonly (readonly [number, number])[] = [
  [0, 2],
  [6, 8],
  [20, 28],
];

/** Low bits of the KID that carry the key index; the 32 bits above carry the session tag. */
export const KEY_INDEX_BITS = 8;

const METADATA_LEN = 12;
const U64_MAX = (1n << 64n) - 1n;

/** The SFrame metadata of a media frame: the authenticated ranges of its canonical header encoding. */
export function mediaMetadata(header: MediaHeader): Uint8Array<ArrayBuffer> {
  const encoded = new Uint8Array(HEADER_LEN);
  encodeHeader(header, encoded);
  const out = new Uint8Array(METADATA_LEN);
  let n = 0;
  for (const [start, end] of AUTHENTICATED_HEADER_RANGES) {
    out.set(encoded.subarray(start, end), n);
    n += end - start;
  }
  return out;
}

/** The KID a sender uses: `sessionTag << 8 | keyIndex`. */
export function senderKid(sessionTag: number, keyIndex: number): bigint {
  return (BigInt(sessionTag >>> 0) << BigInt(KEY_INDEX_BITS)) | BigInt(keyIndex & 0xff);
}

/** The key index of a KID, or undefined for a KID no Dark Tower sender produces (above 40 bits). */
export function keyIndexOf(kid: bigint): number | undefined {
  if (kid >> BigInt(32 + KEY_INDEX_BITS) !== 0n) return undefined;
  return Number(kid & 0xffn);
}

function randomTag(): number {
  return crypto.getRandomValues(new Uint32Array(1))[0] ?? 0;
}

/**
 * Encrypts the local participant's media frames. One per local participant, shared by all of its
 * tracks: it owns the SFrame counter, which is reserved synchronously at each call, so
 * concurrent calls never share a counter value.
 */
export class FrameEncryptor {
  private nextCtr: bigint | undefined;
  private cached: { generation: number; lookup: KeyLookup; key: Promise<SframeKey> } | undefined;

  private constructor(
    /** The participant whose frames this encrypts. */
    readonly local: string,
    private readonly sessionTag: number,
    nextCtr: bigint,
  ) {
    this.nextCtr = nextCtr;
  }

  /** An encryptor for `local`'s frames with a random session tag and the counter at 0. */
  static create(local: string): FrameEncryptor {
    return new FrameEncryptor(local, randomTag(), 0n);
  }

  /**
   * An encryptor with a given session tag and next counter, for known-answer tests. Reusing a
   * (tag, counter) pair with the same key reveals plaintext: use {@link FrameEncryptor.create}.
   * @internal
   */
  static withState(local: string, sessionTag: number, nextCtr: bigint): FrameEncryptor {
    return new FrameEncryptor(local, sessionTag >>> 0, nextCtr);
  }

  /**
   * Encrypts a frame's payload: returns the SFrame ciphertext (SFrame header, encrypted
   * payload, tag) that replaces the payload after `header`, which stays as it is.
   */
  async encryptFrame(keys: KeyProvider, header: MediaHeader, payload: Uint8Array): Promise<Uint8Array<ArrayBuffer>> {
    const ctr = this.nextCtr;
    if (ctr === undefined) throw new EncryptionError("CounterExhausted", "SFrame counter exhausted; a new sender is needed");
    const lookup = keys.sendingKey(this.local);
    if (lookup === undefined) throw new EncryptionError("NoSendingKey", "no key set for sending");
    this.nextCtr = ctr < U64_MAX ? ctr + 1n : undefined;
    const generation = keys.generation;
    const c = this.cached;
    let key: Promise<SframeKey>;
    if (c !== undefined && c.generation === generation && c.lookup.index === lookup.index && c.lookup.key === lookup.key) {
      key = c.key;
    } else {
      const kid = senderKid(this.sessionTag, lookup.index);
      key = senderBaseKey(lookup.key, this.local).then((base) => SframeKey.derive(keys.cipherSuite, kid, base));
      this.cached = { generation, lookup, key };
    }
    return (await key).seal(ctr, mediaMetadata(header), payload);
  }
}

interface Cached {
  generation: number;
  validUntil: number | undefined;
  key: Promise<SframeKey>;
}

/** Derived keys kept per decryptor; when full, the cache starts over. */
const MAX_CACHED_KEYS = 256;

/** Decrypts remote participants' frames; keeps derived keys per (sender, KID) until the provider changes. */
export class FrameDecryptor {
  private cache = new Map<string, Cached>();

  /**
   * Decrypts the payload of a frame that `sender` (a participant id) published. `now` decides
   * whether a rotated-out key is still accepted; the provider's clock by default.
   */
  async decryptFrame(
    keys: KeyProvider,
    sender: string,
    header: MediaHeader,
    ciphertext: Uint8Array,
    now: number = keys.now(),
  ): Promise<Uint8Array<ArrayBuffer>> {
    const { header: sh, len } = decodeSframeHeader(ciphertext);
    const slot = `${sender}/${sh.kid}`;
    const generation = keys.generation;
    let cached = this.cache.get(slot);
    if (cached === undefined || cached.generation !== generation || (cached.validUntil !== undefined && now >= cached.validUntil)) {
      const index = keyIndexOf(sh.kid);
      const found = index === undefined ? undefined : keys.receivingKey(now, sender, index);
      if (found === undefined) {
        this.cache.delete(slot);
        throw EncryptionError.unknownKeyId(sh.kid);
      }
      if (this.cache.size >= MAX_CACHED_KEYS) this.cache.clear();
      const key = senderBaseKey(found.key, sender).then((base) => SframeKey.derive(keys.cipherSuite, sh.kid, base));
      cached = { generation, validUntil: found.validUntil, key };
      this.cache.set(slot, cached);
    }
    return (await cached.key).open(sh, len, mediaMetadata(header), ciphertext);
  }
}
