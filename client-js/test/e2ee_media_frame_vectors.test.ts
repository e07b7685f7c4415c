/**
 * Cross-implementation vectors (../proto/vectors/sframe/media_frames.json), produced by the Rust
 * client (dark-tower-client/tests/e2ee_media_frame_vectors.rs): this implementation must give the
 * same base keys, sender keys and encrypted media frames, byte for byte.
 */

import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

import { EncryptionError } from "../src/e2ee/errors.js";
import { FrameDecryptor, FrameEncryptor, mediaMetadata, senderKid } from "../src/e2ee/frame.js";
import { KeyProvider, baseKeyFromPassphrase, senderBaseKey } from "../src/e2ee/keys.js";
import { CipherSuite } from "../src/e2ee/sframe.js";
import { fromHex, toHex } from "../src/proto/bytes.js";
import type { MediaHeader } from "../src/proto/media.js";
import type { FrameCase } from "./vectors.js";

type JsonHeader = FrameCase["header"];

interface PassphraseCase {
  passphrase: string;
  salt_hex: string;
  iterations: number;
  base_key_hex: string;
}

interface SenderKeyCase {
  shared_key_hex: string;
  participant: string;
  sender_key_hex: string;
}

interface MediaFrameCase {
  name: string;
  cipher_suite: number;
  sender: string;
  key_index: number;
  session_tag: number;
  kid: number;
  ctr: number;
  header: JsonHeader;
  sfu_rewritten_header: JsonHeader;
  metadata_hex: string;
  payload_hex: string;
  sframe_hex: string;
  shared_key_hex?: string;
  passphrase?: string;
}

interface Doc {
  passphrases: PassphraseCase[];
  sender_keys: SenderKeyCase[];
  frames: MediaFrameCase[];
}

const doc = JSON.parse(
  readFileSync(fileURLToPath(new URL("../../proto/vectors/sframe/media_frames.json", import.meta.url)), "utf8"),
) as Doc;

function header(h: JsonHeader): MediaHeader {
  return {
    trackAlias: h.track_alias,
    spatialId: h.spatial_id,
    temporalId: h.temporal_id,
    groupSeq: BigInt(h.group_seq),
    frameSeq: h.frame_seq,
    captureTsUs: BigInt(h.capture_ts_us),
    keyframe: h.keyframe,
    discardable: h.discardable,
    endOfGroup: h.end_of_group,
    audioLevel: h.audio_level ?? undefined,
  };
}

async function rejection(p: Promise<unknown>): Promise<EncryptionError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof EncryptionError) return e;
    throw e;
  }
  throw new Error("expected an EncryptionError");
}

describe("E2EE cross-implementation vectors", () => {
  it("passphrases give the recorded base keys", async () => {
    expect(doc.passphrases.length).toBeGreaterThanOrEqual(3);
    for (const c of doc.passphrases) {
      const key = await baseKeyFromPassphrase(c.passphrase, { salt: fromHex(c.salt_hex), iterations: c.iterations });
      expect(toHex(key), c.passphrase).toBe(c.base_key_hex);
    }
  });

  it("sender keys match", async () => {
    expect(doc.sender_keys.length).toBeGreaterThanOrEqual(3);
    for (const c of doc.sender_keys) {
      expect(toHex(await senderBaseKey(fromHex(c.shared_key_hex), c.participant))).toBe(c.sender_key_hex);
    }
  });

  expect(doc.frames.length).toBeGreaterThanOrEqual(5);
  for (const c of doc.frames) {
    it(`frame ${c.name} encrypts and decrypts exactly`, async () => {
      const suite = c.cipher_suite === 5 ? CipherSuite.Aes256GcmSha512 : CipherSuite.Aes128GcmSha256;
      const keys = new KeyProvider({ cipherSuite: suite, now: () => 0 });
      if (c.passphrase !== undefined) await keys.setSharedPassphrase(c.key_index, c.passphrase);
      else await keys.setSharedKey(c.key_index, fromHex(c.shared_key_hex ?? ""));

      const h = header(c.header);
      expect(toHex(mediaMetadata(h))).toBe(c.metadata_hex);
      expect(senderKid(c.session_tag, c.key_index)).toBe(BigInt(c.kid));

      const enc = FrameEncryptor.withState(c.sender, c.session_tag, BigInt(c.ctr));
      const payload = fromHex(c.payload_hex);
      expect(toHex(await enc.encryptFrame(keys, h, payload))).toBe(c.sframe_hex);

      const dec = new FrameDecryptor();
      const wire = fromHex(c.sframe_hex);
      expect(toHex(await dec.decryptFrame(keys, c.sender, h, wire))).toBe(c.payload_hex);
      expect(toHex(await dec.decryptFrame(keys, c.sender, header(c.sfu_rewritten_header), wire))).toBe(c.payload_hex);
      const tampered = { ...h, keyframe: !h.keyframe };
      expect((await rejection(dec.decryptFrame(keys, c.sender, tampered, wire))).kind).toBe("AuthenticationFailed");
    });
  }
});
