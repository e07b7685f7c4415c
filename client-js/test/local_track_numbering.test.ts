import { describe, expect, it } from "vitest";

import { DatagramWriter } from "../src/transport.js";
import { FrameSequencer, TrackSender, groupSendOrder, type OutgoingFrame } from "../src/local_track.js";
import { MediaStreamReader, decodeFrame, STREAM_TYPE_GROUP } from "../src/proto/media.js";
import { FakeSession } from "./fake_session.js";

function frame(keyframe: boolean, payload = [1, 2, 3], extra: Partial<OutgoingFrame> = {}): OutgoingFrame {
  return { spatialId: 0, temporalId: 0, keyframe, discardable: false, captureTsUs: 1000n, payload: Uint8Array.from(payload), ...extra };
}

describe("FrameSequencer (MEDIA.md section 5)", () => {
  it("numbers video groups from 0, frames within a group from the keyframe", () => {
    const s = new FrameSequencer(7, "video", 1);
    const got = [true, false, false, true, false].map((k) => s.next(frame(k)));
    expect(got.map((g) => [g.header.groupSeq, g.header.frameSeq, g.opensGroup])).toEqual([
      [0n, 0, true],
      [0n, 1, false],
      [0n, 2, false],
      [1n, 0, true],
      [1n, 1, false],
    ]);
    expect(got.every((g) => g.header.trackAlias === 7)).toBe(true);
  });
  it("refuses a delta frame before the first keyframe, unpublished layers and bad ids", () => {
    const s = new FrameSequencer(1, "video", 1);
    expect(() => s.next(frame(false))).toThrow(/must be a keyframe/);
    expect(() => s.next(frame(true, [], { spatialId: 1 }))).toThrow(/not published/);
    expect(() => s.next(frame(true, [], { temporalId: 4 }))).toThrow(/temporal id/);
  });
  it("counts audio frames in group 0, keeping the level", () => {
    const s = new FrameSequencer(3, "audio", 1);
    const got = [0, 1, 2].map(() => s.next(frame(false, [9], { audioLevel: 42 })));
    expect(got.map((g) => [g.header.groupSeq, g.header.frameSeq, g.opensGroup, g.header.audioLevel])).toEqual([
      [0n, 0, false, 42],
      [0n, 1, false, 42],
      [0n, 2, false, 42],
    ]);
  });
  it("send order is group_seq mod 2^31-1", () => {
    expect(groupSendOrder(5n)).toBe(5);
    expect(groupSendOrder(0x7fffffffn)).toBe(0);
  });
});

describe("TrackSender (MEDIA.md section 6)", () => {
  it("sends each video group on its own stream: type byte, length-prefixed frames", async () => {
    const session = new FakeSession("x", []);
    const sender = new TrackSender(7, "video", 1, session, new DatagramWriter(session));
    for (const k of [true, false, true, false, false]) expect(sender.send(frame(k))).toBe(true);
    await sender.flushed();
    sender.close();
    expect(session.opened.map((o) => o.options?.sendOrder)).toEqual([0, 1]);
    const groups = await Promise.all(
      session.opened.map(async (o) => {
        await o.sink.closed;
        const bytes = o.sink.bytes();
        expect(bytes[0]).toBe(STREAM_TYPE_GROUP);
        const r = new MediaStreamReader();
        r.push(bytes);
        const frames = [];
        for (let f = r.nextFrame(); f !== undefined; f = r.nextFrame()) frames.push(f);
        r.finish();
        return frames.map((f) => [f.header.groupSeq, f.header.frameSeq, f.header.keyframe]);
      }),
    );
    expect(groups).toEqual([
      [
        [0n, 0, true],
        [0n, 1, false],
      ],
      [
        [1n, 0, true],
        [1n, 1, false],
        [1n, 2, false],
      ],
    ]);
  });
  it("sends audio as datagrams, and a frame too big for one on a stream of its own", async () => {
    const session = new FakeSession("x", [], 1200);
    const sender = new TrackSender(3, "audio", 1, session, new DatagramWriter(session), 1100);
    sender.send(frame(false, [1, 2], { audioLevel: 10 }));
    sender.send(frame(false, new Array<number>(1100).fill(7), { audioLevel: 10 }));
    await sender.flushed();
    await new Promise((r) => setTimeout(r, 0));
    expect(session.sentDatagrams.chunks.length).toBe(1);
    const d = decodeFrame(session.sentDatagrams.chunks[0] ?? new Uint8Array(), 1100);
    expect([d.header.trackAlias, d.header.frameSeq, d.header.audioLevel, [...d.payload]]).toEqual([3, 0, 10, [1, 2]]);
    expect(session.opened.length).toBe(1);
    const opened = session.opened[0];
    if (opened === undefined) throw new Error("no stream");
    await opened.sink.closed;
    const r = new MediaStreamReader();
    r.push(opened.sink.bytes());
    const f = r.nextFrame();
    expect(f?.header.frameSeq).toBe(1);
    expect(f?.payload.length).toBe(1100);
    expect(r.nextFrame()).toBeUndefined();
    r.finish();
  });
  it("drops delta frames until the next keyframe when too many are queued", async () => {
    const session = new FakeSession("x", []);
    const sender = new TrackSender(7, "video", 1, session, new DatagramWriter(session), 1100, 2);
    expect(sender.send(frame(true))).toBe(true);
    expect(sender.send(frame(false))).toBe(true);
    expect(sender.send(frame(false))).toBe(false);
    expect(sender.send(frame(false))).toBe(false);
    expect(sender.send(frame(true))).toBe(true);
    await sender.flushed();
    expect(sender.stats.framesDropped).toBe(2);
    expect(sender.stats.groups).toBe(2);
  });
});
