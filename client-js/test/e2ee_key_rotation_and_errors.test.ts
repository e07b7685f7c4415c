/**
 * KeyProvider, FrameEncryptor and FrameDecryptor behaviour with a virtual clock: rotation window,
 * participant keys, counters, and the typed errors (mirrors the Rust unit tests in
 * dark-tower-client/src/e2ee/).
 */

import { describe, expect, it } from "vitest";

import { EncryptionError, KeyError } from "../src/e2ee/errors.js";
import { FrameDecryptor, FrameEncryptor, mediaMetadata, senderKid } from "../src/e2ee/frame.js";
import { KeyProvider, baseKeyFromPassphrase, senderBaseKey } from "../src/e2ee/keys.js";
import { SframeKey, decodeSframeHeader } from "../src/e2ee/sframe.js";
import { toHex } from "../src/proto/bytes.js";
import type { MediaHeader } from "../src/proto/media.js";

const ALICE = "PA_00000000000a11ce";
const BOB = "PA_0000000000000b0b";
const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const KEY = enc("sixteen byte key and then some");

const HEADER: MediaHeader = {
  trackAlias: 7,
  spatialId: 1,
  temporalId: 2,
  groupSeq: 5n,
  frameSeq: 3,
  captureTsUs: 1_700_000_000_000_000n,
  keyframe: false,
  discardable: true,
  endOfGroup: false,
  audioLevel: undefined,
};

class VirtualClock {
  t = 1000;
  readonly now = (): number => this.t;
}

async function failure(p: Promise<unknown>): Promise<EncryptionError | KeyError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof EncryptionError || e instanceof KeyError) return e;
    throw e;
  }
  throw new Error("expected a typed error");
}

async function provider(clock: VirtualClock): Promise<KeyProvider> {
  const k = new KeyProvider({ now: clock.now, rotationWindowMs: 2000 });
  await k.setSharedKey(0, KEY);
  return k;
}

describe("media metadata", () => {
  it("covers version, flags, layer, audio level and capture time, not alias or sequence numbers", () => {
    const h = { ...HEADER, audioLevel: 42 };
    const m = toHex(mediaMetadata(h));
    expect(m).toBe("010a122a00060a24181e4000");
    expect(toHex(mediaMetadata({ ...h, trackAlias: 99, groupSeq: 1n, frameSeq: 1000 }))).toBe(m);
    for (const changed of [
      { ...h, keyframe: true },
      { ...h, spatialId: 0 },
      { ...h, temporalId: 0 },
      { ...h, audioLevel: 41 },
      { ...h, captureTsUs: h.captureTsUs + 1n },
    ]) {
      expect(toHex(mediaMetadata(changed))).not.toBe(m);
    }
  });
});

describe("frame encryption", () => {
  it("counters increase per sender across calls, even concurrent ones", async () => {
    const keys = await provider(new VirtualClock());
    const e = FrameEncryptor.withState(ALICE, 0xdeadbeef, 0n);
    const sealed = await Promise.all(Array.from({ length: 20 }, () => e.encryptFrame(keys, HEADER, enc("x"))));
    expect(sealed.map((s) => decodeSframeHeader(s).header)).toEqual(
      Array.from({ length: 20 }, (_, i) => ({ kid: senderKid(0xdeadbeef, 0), ctr: BigInt(i) })),
    );
  });

  it("counter exhaustion is an error, not a wrap", async () => {
    const keys = await provider(new VirtualClock());
    const e = FrameEncryptor.withState(ALICE, 1, (1n << 64n) - 1n);
    const last = await e.encryptFrame(keys, HEADER, enc("x"));
    expect(decodeSframeHeader(last).header.ctr).toBe((1n << 64n) - 1n);
    expect((await failure(e.encryptFrame(keys, HEADER, enc("x")))).kind).toBe("CounterExhausted");
  });

  it("restarted senders use different KIDs and so different key streams", async () => {
    const keys = await provider(new VirtualClock());
    const a = await FrameEncryptor.withState(ALICE, 1, 0n).encryptFrame(keys, HEADER, enc("same"));
    const b = await FrameEncryptor.withState(ALICE, 2, 0n).encryptFrame(keys, HEADER, enc("same"));
    expect(toHex(a.subarray(decodeSframeHeader(a).len))).not.toBe(toHex(b.subarray(decodeSframeHeader(b).len)));
    // Real senders pick a random 32-bit session tag (equal by chance once in 2^32 runs).
    const x = await FrameEncryptor.create(ALICE).encryptFrame(keys, HEADER, enc("x"));
    const y = await FrameEncryptor.create(ALICE).encryptFrame(keys, HEADER, enc("x"));
    expect(decodeSframeHeader(x).header.kid).not.toBe(decodeSframeHeader(y).header.kid);
  });

  it("round trip survives SFU rewrites but not tampering or another sender's identity", async () => {
    const keys = await provider(new VirtualClock());
    const sealed = await FrameEncryptor.create(ALICE).encryptFrame(keys, HEADER, enc("payload"));
    const dec = new FrameDecryptor();
    const moved = { ...HEADER, trackAlias: 1234, groupSeq: 77n, frameSeq: 0 };
    expect(new TextDecoder().decode(await dec.decryptFrame(keys, ALICE, moved, sealed))).toBe("payload");
    expect((await failure(dec.decryptFrame(keys, ALICE, { ...HEADER, keyframe: true }, sealed))).kind).toBe("AuthenticationFailed");
    expect((await failure(dec.decryptFrame(keys, BOB, HEADER, sealed))).kind).toBe("AuthenticationFailed");
  });

  it("no key, unknown KID, foreign KID and malformed frames are typed errors", async () => {
    const clock = new VirtualClock();
    const empty = new KeyProvider({ now: clock.now });
    const e = FrameEncryptor.withState(ALICE, 1, 0n);
    expect((await failure(e.encryptFrame(empty, HEADER, enc("x")))).kind).toBe("NoSendingKey");
    const keys = await provider(clock);
    const sealed = await e.encryptFrame(keys, HEADER, enc("x"));
    const dec = new FrameDecryptor();
    const unknown = await failure(dec.decryptFrame(empty, ALICE, HEADER, sealed));
    expect(unknown.kind).toBe("UnknownKeyId");
    expect(unknown instanceof EncryptionError && unknown.kid).toBe(0x100n);
    const foreign = await (await SframeKey.derive(keys.cipherSuite, 1n << 40n, KEY)).seal(0n, mediaMetadata(HEADER), enc("x"));
    expect((await failure(dec.decryptFrame(keys, ALICE, HEADER, foreign))).kind).toBe("UnknownKeyId");
    expect((await failure(dec.decryptFrame(keys, ALICE, HEADER, new Uint8Array(0)))).kind).toBe("MalformedHeader");
    expect((await failure(dec.decryptFrame(keys, ALICE, HEADER, sealed.subarray(0, 10)))).kind).toBe("MalformedHeader");
  });

  it("a wrong shared key fails authentication", async () => {
    const clock = new VirtualClock();
    const keys = await provider(clock);
    const other = new KeyProvider({ now: clock.now });
    await other.setSharedKey(0, enc("a different key, same index 0"));
    const sealed = await FrameEncryptor.create(ALICE).encryptFrame(keys, HEADER, enc("secret"));
    expect((await failure(new FrameDecryptor().decryptFrame(other, ALICE, HEADER, sealed))).kind).toBe("AuthenticationFailed");
  });
});

describe("key rotation with a virtual clock", () => {
  it("keeps the old key for the window only, cached or not", async () => {
    const clock = new VirtualClock();
    const keys = await provider(clock);
    const e = FrameEncryptor.withState(ALICE, 9, 0n);
    const dec = new FrameDecryptor();
    const before = await e.encryptFrame(keys, HEADER, enc("old key"));
    expect(new TextDecoder().decode(await dec.decryptFrame(keys, ALICE, HEADER, before))).toBe("old key");

    clock.t += 60_000;
    await keys.setSharedKey(1, enc("the next key, also long enough"));
    const after = await e.encryptFrame(keys, HEADER, enc("new key"));
    expect(decodeSframeHeader(after).header).toEqual({ kid: senderKid(9, 1), ctr: 1n });

    clock.t += 1999;
    expect(new TextDecoder().decode(await dec.decryptFrame(keys, ALICE, HEADER, before))).toBe("old key");
    expect(new TextDecoder().decode(await dec.decryptFrame(keys, ALICE, HEADER, after))).toBe("new key");
    expect(new TextDecoder().decode(await dec.decryptFrame(keys, ALICE, HEADER, before))).toBe("old key");

    clock.t += 1;
    const gone = await failure(dec.decryptFrame(keys, ALICE, HEADER, before));
    expect(gone.kind).toBe("UnknownKeyId");
    expect(new TextDecoder().decode(await dec.decryptFrame(keys, ALICE, HEADER, after))).toBe("new key");
  });

  it("reusing an index replaces at once; participant keys override and can be removed", async () => {
    const clock = new VirtualClock();
    const k = new KeyProvider({ now: clock.now, rotationWindowMs: 3000 });
    const [k1, k2, k3] = [enc("key number one, 32 bytes long!!!"), enc("key number two, 32 bytes long!!!"), enc("key number three, longer than 16")];
    await k.setSharedKey(0, k1);
    await k.setSharedKey(1, k2);
    await k.setSharedKey(0, k3);
    expect(k.receivingKey(clock.t, BOB, 0)).toEqual({ index: 0, key: k3, validUntil: undefined });
    expect(k.receivingKey(clock.t, BOB, 1)).toEqual({ index: 1, key: k2, validUntil: clock.t + 3000 });

    await k.setParticipantKey(ALICE, 0, k2);
    expect(k.sendingKey(ALICE)?.key).toEqual(k2);
    expect(k.sendingKey(BOB)?.key).toEqual(k3);
    const g = k.generation;
    await k.removeParticipantKey(ALICE);
    expect(k.generation).toBeGreaterThan(g);
    expect(k.sendingKey(ALICE)?.key).toEqual(k3);
    // Per-sender keys differ even from one shared key.
    expect(toHex(await senderBaseKey(k3, ALICE))).not.toBe(toHex(await senderBaseKey(k3, BOB)));
  });

  it("setters apply in call order even while a passphrase is being derived", async () => {
    const clock = new VirtualClock();
    const k = new KeyProvider({ now: clock.now });
    const slow = k.setSharedPassphrase(3, "a passphrase", { iterations: 20_000 });
    const fast = k.setSharedKey(4, KEY);
    await Promise.all([slow, fast]);
    expect(k.sendingKey(ALICE)?.index).toBe(4);
    expect(k.receivingKey(clock.t, ALICE, 3)?.key).toEqual(await baseKeyFromPassphrase("a passphrase", { iterations: 20_000 }));
  });

  it("refuses short keys, bad indexes, empty passphrases and zero iterations", async () => {
    const k = new KeyProvider();
    expect((await failure(k.setSharedKey(0, new Uint8Array(15)))).kind).toBe("KeyTooShort");
    expect((await failure(k.setParticipantKey(ALICE, 0, new Uint8Array(0)))).kind).toBe("KeyTooShort");
    expect((await failure(k.setSharedPassphrase(0, ""))).kind).toBe("EmptyPassphrase");
    expect((await failure(k.setSharedPassphrase(0, "x", { iterations: 0 }))).kind).toBe("ZeroIterations");
    await expect(k.setSharedKey(256, KEY)).rejects.toThrow(RangeError);
    await expect(k.setParticipantKey("alice", 0, KEY)).rejects.toThrow(RangeError);
    expect(k.sendingKey(ALICE)).toBeUndefined();
    expect(k.generation).toBe(0);
  });

  it("PBKDF2-HMAC-SHA256 matches RFC 7914 section 11", async () => {
    const key = await baseKeyFromPassphrase("passwd", { salt: enc("salt"), iterations: 1 });
    expect(toHex(key)).toBe("55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc");
  });
});
