/**
 * SFrame (RFC 9605) with WebCrypto: the header codec, the two AES-GCM cipher suites, key
 * derivation and the AEAD step. Mirrors `dark_tower_client::e2ee::sframe`.
 */

import { EncryptionError } from "./errors.js";

/** Length of an AES-GCM nonce (`AEAD.Nn`). */
export const NONCE_LEN = 12;
/** Length of the authentication tag (`AEAD.Nt`). */
export const TAG_LEN = 16;
/** The longest SFrame header: config byte, 8-byte KID, 8-byte CTR. */
export const MAX_HEADER_LEN = 17;

const U64_MAX = (1n << 64n) - 1n;

/** An SFrame cipher suite (RFC 9605 §4.5). Only the AES-GCM suites are implemented. */
export enum CipherSuite {
  /** `AES_128_GCM_SHA256_128`: 16-byte key, HKDF-SHA256. The default. */
  Aes128GcmSha256 = 0x0004,
  /** `AES_256_GCM_SHA512_128`: 32-byte key, HKDF-SHA512. */
  Aes256GcmSha512 = 0x0005,
}

/** `AEAD.Nk` of a suite, in bytes. */
export function keyLen(suite: CipherSuite): number {
  return suite === CipherSuite.Aes256GcmSha512 ? 32 : 16;
}

function hashOf(suite: CipherSuite): "SHA-256" | "SHA-512" {
  return suite === CipherSuite.Aes256GcmSha512 ? "SHA-512" : "SHA-256";
}

/** Views `bytes` as backed by a plain `ArrayBuffer`, as WebCrypto wants; copies only if not. */
export function own(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  return bytes.buffer instanceof ArrayBuffer ? (bytes as Uint8Array<ArrayBuffer>) : new Uint8Array(bytes);
}

/** The SFrame header (RFC 9605 §4.3): key id and counter, both u64. */
export interface SframeHeader {
  /** Key id. */
  kid: bigint;
  /** Counter; never repeats for one key. */
  ctr: bigint;
}

/** Bytes needed for `v` big-endian without leading zero bytes (at least 1). */
function minLen(v: bigint): number {
  let n = 1;
  while (v >> BigInt(8 * n) !== 0n) n++;
  return n;
}

function checkU64(v: bigint, what: string): void {
  if (v < 0n || v > U64_MAX) throw new RangeError(`${what} out of the u64 range`);
}

/** The length of {@link encodeSframeHeader}'s output. */
export function sframeHeaderLen(h: SframeHeader): number {
  const part = (v: bigint): number => (v < 8n ? 0 : minLen(v));
  return 1 + part(h.kid) + part(h.ctr);
}

/** Encodes the header in the shortest form. Throws `RangeError` for values outside u64. */
export function encodeSframeHeader(h: SframeHeader): Uint8Array<ArrayBuffer> {
  checkU64(h.kid, "kid");
  checkU64(h.ctr, "ctr");
  const out = new Uint8Array(sframeHeaderLen(h));
  let config = 0;
  let pos = 1;
  const parts: [bigint, number, number][] = [
    [h.kid, 4, 0x80],
    [h.ctr, 0, 0x08],
  ];
  for (const [value, shift, flag] of parts) {
    if (value < 8n) {
      config |= Number(value) << shift;
    } else {
      const len = minLen(value);
      config |= flag | ((len - 1) << shift);
      for (let i = 0; i < len; i++) out[pos + i] = Number((value >> BigInt(8 * (len - 1 - i))) & 0xffn);
      pos += len;
    }
  }
  out[0] = config;
  return out;
}

/**
 * Reads a header from the front of `buf`; returns it and its length. Accepts non-minimal
 * lengths, like the Rust reader.
 */
export function decodeSframeHeader(buf: Uint8Array): { header: SframeHeader; len: number } {
  const config = buf[0];
  if (config === undefined) throw EncryptionError.malformed("empty frame");
  let pos = 1;
  const read = (extended: boolean, bits: number): bigint => {
    if (!extended) return BigInt(bits);
    const len = bits + 1;
    if (pos + len > buf.length) throw EncryptionError.malformed("header longer than the frame");
    let v = 0n;
    for (let i = 0; i < len; i++) v = (v << 8n) | BigInt(buf[pos + i] ?? 0);
    pos += len;
    return v;
  };
  const kid = read((config & 0x80) !== 0, (config >> 4) & 0x07);
  const ctr = read((config & 0x08) !== 0, config & 0x07);
  return { header: { kid, ctr }, len: pos };
}

function u64be(v: bigint): Uint8Array {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, v);
  return out;
}

/** `"SFrame 1.0 Secret <kind> " || KID (u64 BE) || cipher suite (u16 BE)`. */
function label(kind: "key" | "salt", kid: bigint, suite: CipherSuite): Uint8Array<ArrayBuffer> {
  const text = new TextEncoder().encode(`SFrame 1.0 Secret ${kind} `);
  const out = new Uint8Array(text.length + 10);
  out.set(text);
  out.set(u64be(kid), text.length);
  out[text.length + 8] = suite >> 8;
  out[text.length + 9] = suite & 0xff;
  return out;
}

/** The derived values of RFC 9605 §4.4.2. */
export interface DerivedKeyMaterial {
  /** `sframe_key` (`AEAD.Nk` bytes). */
  key: Uint8Array<ArrayBuffer>;
  /** `sframe_salt` (12 bytes). */
  salt: Uint8Array<ArrayBuffer>;
}

/**
 * Derives `sframe_key` and `sframe_salt` for `kid` from `baseKey`: HKDF-Extract with an empty
 * salt, then HKDF-Expand with each label (WebCrypto's HKDF does both steps per call).
 */
export async function deriveKeyMaterial(suite: CipherSuite, kid: bigint, baseKey: Uint8Array): Promise<DerivedKeyMaterial> {
  checkU64(kid, "kid");
  const ikm = await crypto.subtle.importKey("raw", own(baseKey), "HKDF", false, ["deriveBits"]);
  const hash = hashOf(suite);
  const salt = new Uint8Array(0);
  const expand = async (info: Uint8Array<ArrayBuffer>, bytes: number): Promise<Uint8Array<ArrayBuffer>> =>
    new Uint8Array(await crypto.subtle.deriveBits({ name: "HKDF", hash, salt, info }, ikm, bytes * 8));
  const key = await expand(label("key", kid, suite), keyLen(suite));
  const s = await expand(label("salt", kid, suite), NONCE_LEN);
  return { key, salt: s };
}

/** The key and salt of one KID, ready to seal and open frames. */
export class SframeKey {
  private constructor(
    /** The cipher suite. */
    readonly suite: CipherSuite,
    /** The key id this key belongs to. */
    readonly kid: bigint,
    private readonly salt: Uint8Array,
    private readonly aes: CryptoKey,
  ) {}

  /** Derives the key for `kid` from `baseKey` (RFC 9605 §4.4.2). */
  static async derive(suite: CipherSuite, kid: bigint, baseKey: Uint8Array): Promise<SframeKey> {
    const m = await deriveKeyMaterial(suite, kid, baseKey);
    const aes = await crypto.subtle.importKey("raw", m.key, "AES-GCM", false, ["encrypt", "decrypt"]);
    return new SframeKey(suite, kid, m.salt, aes);
  }

  /** The nonce for counter `ctr`: the salt XOR the counter, left-padded to 12 bytes. */
  nonce(ctr: bigint): Uint8Array<ArrayBuffer> {
    const out = new Uint8Array(this.salt);
    const c = u64be(ctr);
    for (let i = 0; i < 8; i++) out[NONCE_LEN - 8 + i] = (out[NONCE_LEN - 8 + i] ?? 0) ^ (c[i] ?? 0);
    return out;
  }

  /**
   * Encrypts `plaintext` with counter `ctr` and returns header, ciphertext and tag. The AAD is
   * the header followed by `metadata`. The caller guarantees `ctr` is new for this key.
   */
  async seal(ctr: bigint, metadata: Uint8Array, plaintext: Uint8Array): Promise<Uint8Array<ArrayBuffer>> {
    const header = encodeSframeHeader({ kid: this.kid, ctr });
    const aad = new Uint8Array(header.length + metadata.length);
    aad.set(header);
    aad.set(metadata, header.length);
    let sealed: ArrayBuffer;
    try {
      sealed = await crypto.subtle.encrypt(
        { name: "AES-GCM", iv: this.nonce(ctr), additionalData: aad, tagLength: TAG_LEN * 8 },
        this.aes,
        own(plaintext),
      );
    } catch {
      throw new EncryptionError("FrameTooLarge", "frame too large for AES-GCM");
    }
    const out = new Uint8Array(header.length + sealed.byteLength);
    out.set(header);
    out.set(new Uint8Array(sealed), header.length);
    return out;
  }

  /**
   * Decrypts an SFrame ciphertext whose header was read as `header` (`headerLen` bytes) and
   * whose KID is this key's; checks the tag over the header and `metadata`.
   */
  async open(header: SframeHeader, headerLen: number, metadata: Uint8Array, sframe: Uint8Array): Promise<Uint8Array<ArrayBuffer>> {
    if (header.kid !== this.kid) throw EncryptionError.unknownKeyId(header.kid);
    if (sframe.length < headerLen + TAG_LEN) throw EncryptionError.malformed("frame shorter than its header and tag");
    const aad = new Uint8Array(headerLen + metadata.length);
    aad.set(sframe.subarray(0, headerLen));
    aad.set(metadata, headerLen);
    try {
      const plain = await crypto.subtle.decrypt(
        { name: "AES-GCM", iv: this.nonce(header.ctr), additionalData: aad, tagLength: TAG_LEN * 8 },
        this.aes,
        own(sframe.subarray(headerLen)),
      );
      return new Uint8Array(plain);
    } catch {
      throw new EncryptionError("AuthenticationFailed", "frame authentication failed (wrong key or tampered frame)");
    }
  }
}
