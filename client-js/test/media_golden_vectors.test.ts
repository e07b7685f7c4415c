import { describe, expect, it } from "vitest";

import { fromHex, toHex } from "../src/proto/bytes.js";
import {
  MediaCodecError,
  MediaStreamReader,
  STREAM_TYPE_GROUP,
  decodeFrame,
  encodeFrame,
  encodeStreamFrame,
  streamPrefix,
  type MediaFrame,
  type MediaHeader,
} from "../src/proto/media.js";
import { MAX_DATAGRAM_FRAME, MAX_MEDIA_FRAME } from "../src/proto/limits.js";
import { loadVectors, type FrameCase, type InvalidFrameCase, type StreamCase } from "./vectors.js";

function headerFromCase(c: FrameCase): MediaHeader {
  const h = c.header;
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

function expectError(f: () => unknown, kind: string, code: string): void {
  let caught: unknown;
  try {
    f();
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(MediaCodecError);
  if (caught instanceof MediaCodecError) {
    expect(caught.kind).toBe(kind);
    expect(caught.code).toBe(code);
  }
}

/** Feeds `bytes` to a reader in chunks of `step` bytes; returns the frames and the error, if any. */
function readStream(bytes: Uint8Array, step: number): { frames: string[]; error?: MediaCodecError } {
  const r = new MediaStreamReader(MAX_MEDIA_FRAME);
  const frames: string[] = [];
  try {
    for (let i = 0; i < bytes.length; i += step) {
      r.push(bytes.subarray(i, Math.min(bytes.length, i + step)));
      for (let f = r.nextFrame(); f !== undefined; f = r.nextFrame()) frames.push(toHex(encodeFrame(f)));
    }
    r.finish();
  } catch (e) {
    if (e instanceof MediaCodecError) return { frames, error: e };
    throw e;
  }
  return { frames };
}

describe("media_frames.json", () => {
  const cases = loadVectors<FrameCase>("media_frames.json");
  for (const c of cases) {
    it(`${c.name}: decodes to the described header and payload`, () => {
      const frame = decodeFrame(fromHex(c.hex), MAX_MEDIA_FRAME);
      expect(frame.header).toEqual(headerFromCase(c));
      expect(toHex(frame.payload)).toBe(c.payload_hex);
    });
    it(`${c.name}: encodes byte for byte`, () => {
      const frame: MediaFrame = { header: headerFromCase(c), payload: fromHex(c.payload_hex) };
      expect(toHex(encodeFrame(frame))).toBe(c.hex);
      const len = (c.hex.length / 2).toString(16).padStart(8, "0");
      expect(toHex(encodeStreamFrame(frame))).toBe(len + c.hex);
      expect(toHex(streamPrefix(frame))).toBe(len + c.hex.slice(0, 56));
    });
    it(`${c.name}: decodes as a datagram when it fits`, () => {
      const bytes = fromHex(c.hex);
      if (bytes.length <= MAX_DATAGRAM_FRAME) {
        expect(toHex(encodeFrame(decodeFrame(bytes, MAX_DATAGRAM_FRAME)))).toBe(c.hex);
      } else {
        expectError(() => decodeFrame(bytes, MAX_DATAGRAM_FRAME), "TooLarge", "message_too_large");
      }
    });
  }
});

describe("media_frames_invalid.json", () => {
  for (const c of loadVectors<InvalidFrameCase>("media_frames_invalid.json")) {
    it(`${c.name}: fails with ${c.error}`, () => {
      expectError(() => decodeFrame(fromHex(c.hex), MAX_MEDIA_FRAME), c.error, c.code);
    });
  }
  it("a frame above the limit is TooLarge before any other check", () => {
    expectError(() => decodeFrame(new Uint8Array(MAX_DATAGRAM_FRAME + 1), MAX_DATAGRAM_FRAME), "TooLarge", "message_too_large");
  });
});

describe("media_streams.json", () => {
  for (const c of loadVectors<StreamCase>("media_streams.json")) {
    const bytes = fromHex(c.hex);
    for (const step of [bytes.length || 1, 1, 3, 7, 32]) {
      it(`${c.name}: read in chunks of ${step}`, () => {
        const got = readStream(bytes, step);
        expect(got.frames).toEqual(c.frames);
        if (c.error === null) {
          expect(got.error).toBeUndefined();
        } else {
          expect(got.error?.kind).toBe(c.error);
          expect(got.error?.code).toBe(c.code);
        }
      });
    }
    if (c.error === null) {
      it(`${c.name}: re-encodes byte for byte`, () => {
        const parts = [Uint8Array.of(STREAM_TYPE_GROUP)];
        for (const f of c.frames) parts.push(encodeStreamFrame(decodeFrame(fromHex(f), MAX_MEDIA_FRAME)));
        expect(parts.map(toHex).join("")).toBe(c.hex);
      });
    }
  }
});
