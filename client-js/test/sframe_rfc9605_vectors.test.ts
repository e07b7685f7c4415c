/**
 * RFC 9605 Appendix C test vectors (../proto/vectors/sframe/rfc9605.json, see its README): header
 * encodings and the AES-GCM suites. The Rust client checks the same file
 * (dark-tower-client/tests/sframe_rfc9605_vectors.rs).
 */

import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

import { fromHex, toHex } from "../src/proto/bytes.js";
import {
  CipherSuite,
  SframeKey,
  decodeSframeHeader,
  deriveKeyMaterial,
  encodeSframeHeader,
  sframeHeaderLen,
} from "../src/e2ee/sframe.js";

interface HeaderCase {
  kid: string;
  ctr: string;
  encoded: string;
}

interface SframeCase {
  cipher_suite: number;
  kid: string;
  ctr: string;
  base_key: string;
  sframe_key: string;
  sframe_salt: string;
  metadata: string;
  nonce: string;
  aad: string;
  pt: string;
  ct: string;
}

interface Vectors {
  header: HeaderCase[];
  sframe: SframeCase[];
}

/** The file as published has kid/ctr up to 2^64 - 1 as JSON numbers: quote them so they stay exact. */
function load(): Vectors {
  const path = fileURLToPath(new URL("../../proto/vectors/sframe/rfc9605.json", import.meta.url));
  const text = readFileSync(path, "utf8").replace(/"(kid|ctr)": (\d+)/g, '"$1": "$2"');
  return JSON.parse(text) as Vectors;
}

describe("RFC 9605 header vectors", () => {
  const { header } = load();

  it("has all 289 cases", () => {
    expect(header.length).toBe(289);
  });

  it("encodes and decodes every case", () => {
    for (const c of header) {
      const h = { kid: BigInt(c.kid), ctr: BigInt(c.ctr) };
      expect(toHex(encodeSframeHeader(h)), `${c.kid}/${c.ctr}`).toBe(c.encoded);
      expect(sframeHeaderLen(h)).toBe(c.encoded.length / 2);
      const withBody = fromHex(c.encoded + "626f6479");
      expect(decodeSframeHeader(withBody)).toEqual({ header: h, len: c.encoded.length / 2 });
    }
  });
});

describe("RFC 9605 AES-GCM encryption vectors", () => {
  const gcm = load().sframe.filter((c) => c.cipher_suite === 4 || c.cipher_suite === 5);

  it("has both AES-GCM suites", () => {
    expect(gcm.map((c) => c.cipher_suite)).toEqual([4, 5]);
  });

  for (const c of gcm) {
    const suite = c.cipher_suite === 5 ? CipherSuite.Aes256GcmSha512 : CipherSuite.Aes128GcmSha256;
    it(`suite ${c.cipher_suite}: derives key and salt, seals and opens`, async () => {
      const kid = BigInt(c.kid);
      const ctr = BigInt(c.ctr);
      const baseKey = fromHex(c.base_key);
      const m = await deriveKeyMaterial(suite, kid, baseKey);
      expect(toHex(m.key)).toBe(c.sframe_key);
      expect(toHex(m.salt)).toBe(c.sframe_salt);

      const key = await SframeKey.derive(suite, kid, baseKey);
      expect(toHex(key.nonce(ctr))).toBe(c.nonce);
      expect(toHex(encodeSframeHeader({ kid, ctr })) + c.metadata).toBe(c.aad);

      const metadata = fromHex(c.metadata);
      const sealed = await key.seal(ctr, metadata, fromHex(c.pt));
      expect(toHex(sealed)).toBe(c.ct);

      const ct = fromHex(c.ct);
      const { header, len } = decodeSframeHeader(ct);
      expect(header).toEqual({ kid, ctr });
      expect(toHex(await key.open(header, len, metadata, ct))).toBe(c.pt);
    });
  }
});
