import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { VideoDecodePipeline } from "../src/codec/video_decode.js";
import type { MediaFrame } from "../src/proto/media.js";

/** Records the chunks it is given; WebCodecs does not exist in Node. */
class FakeVideoDecoder {
  static chunks: { type: string; timestamp: number }[] = [];
  state = "unconfigured";
  decodeQueueSize = 0;
  constructor(private readonly init: { output(f: { close(): void }): void }) {}
  configure(config: { optimizeForLatency?: boolean }): void {
    expect(config.optimizeForLatency).toBe(true);
    this.state = "configured";
  }
  decode(chunk: { type: string; timestamp: number }): void {
    FakeVideoDecoder.chunks.push(chunk);
    this.init.output({ close: () => undefined });
  }
  close(): void {
    this.state = "closed";
  }
}

class FakeChunk {
  readonly type: string;
  readonly timestamp: number;
  constructor(init: { type: string; timestamp: number }) {
    this.type = init.type;
    this.timestamp = init.timestamp;
  }
}

const saved = { decoder: Reflect.get(globalThis, "VideoDecoder"), chunk: Reflect.get(globalThis, "EncodedVideoChunk") };
beforeAll(() => {
  Reflect.set(globalThis, "VideoDecoder", FakeVideoDecoder);
  Reflect.set(globalThis, "EncodedVideoChunk", FakeChunk);
});
afterAll(() => {
  Reflect.set(globalThis, "VideoDecoder", saved.decoder);
  Reflect.set(globalThis, "EncodedVideoChunk", saved.chunk);
});

function f(groupSeq: number, frameSeq: number, keyframe = frameSeq === 0, spatialId = 0, captureTsUs = groupSeq * 1000 + frameSeq): MediaFrame {
  return {
    header: {
      trackAlias: 1,
      spatialId,
      temporalId: 0,
      groupSeq: BigInt(groupSeq),
      frameSeq,
      captureTsUs: BigInt(captureTsUs),
      keyframe,
      discardable: false,
      endOfGroup: false,
      audioLevel: undefined,
    },
    payload: Uint8Array.of(0),
  };
}

describe("VideoDecodePipeline", () => {
  it("starts at a keyframe, stops at a gap, ignores older groups", () => {
    FakeVideoDecoder.chunks = [];
    let out = 0;
    const p = new VideoDecodePipeline("vp8", () => out++);
    const frames = [
      f(0, 1), // before any keyframe: dropped
      f(0, 0),
      f(0, 1),
      f(0, 3), // gap: dropped, wait for a keyframe
      f(0, 4), // still waiting
      f(1, 0),
      f(0, 5), // an older group's tail: dropped
      f(1, 1),
    ];
    for (const fr of frames) p.handle(fr);
    expect(FakeVideoDecoder.chunks.map((c) => [c.type, c.timestamp])).toEqual([
      ["key", 0],
      ["delta", 1],
      ["key", 1000],
      ["delta", 1001],
    ]);
    expect(out).toBe(4);
    expect(p.stats).toMatchObject({ framesReceived: 8, framesDecoded: 4, framesDropped: 4, framesStale: 1, keyframes: 2 });
    p.close();
  });

  it("follows the SFU to another simulcast layer at its keyframe, whatever its group numbers", () => {
    FakeVideoDecoder.chunks = [];
    const p = new VideoDecodePipeline("vp8", () => undefined);
    const frames = [
      f(50, 0, true, 2, 100_000), // layer 2, group 50
      f(50, 1, false, 2, 100_066),
      f(3, 1, false, 0, 100_100), // layer 0 delta before its keyframe: dropped
      f(3, 0, true, 0, 100_133), // the switch: layer 0 starts at its own group 3
      f(50, 2, false, 2, 100_090), // a late frame of the old layer: dropped
      f(3, 1, false, 0, 100_200),
      f(51, 0, true, 2, 100_150), // a late keyframe of the old layer, older than what was shown: dropped
      f(4, 0, true, 0, 100_266),
      f(60, 0, true, 2, 100_300), // back up to layer 2, a newer keyframe
    ];
    for (const fr of frames) p.handle(fr);
    expect(FakeVideoDecoder.chunks.map((c) => [c.type, c.timestamp])).toEqual([
      ["key", 100_000],
      ["delta", 100_066],
      ["key", 100_133],
      ["delta", 100_200],
      ["key", 100_266],
      ["key", 100_300],
    ]);
    expect(p.stats.framesStale).toBe(3);
    p.close();
  });
});
