import { describe, expect, it } from "vitest";

import { TrackSender, type OutgoingFrame } from "../src/local_track.js";
import { MediaStreamReader } from "../src/proto/media.js";
import { DatagramWriter } from "../src/transport.js";
import { FakeSession } from "./fake_session.js";

function frame(keyframe: boolean): OutgoingFrame {
  return { spatialId: 0, temporalId: 0, keyframe, discardable: false, captureTsUs: 1000n, payload: Uint8Array.of(1, 2, 3) };
}

async function framesOf(session: FakeSession): Promise<[bigint, number, boolean][][]> {
  return Promise.all(
    session.opened.map(async (o) => {
      await o.sink.closed;
      const r = new MediaStreamReader();
      r.push(o.sink.bytes());
      const out: [bigint, number, boolean][] = [];
      for (let f = r.nextFrame(); f !== undefined; f = r.nextFrame()) out.push([f.header.groupSeq, f.header.frameSeq, f.header.keyframe]);
      return out;
    }),
  );
}

describe("a publisher after a resume", () => {
  it("drops frames while detached, then sends on the new session from a keyframe in a new group", async () => {
    const old = new FakeSession("old", []);
    const sender = new TrackSender(7, "video", 1, old, new DatagramWriter(old));
    sender.send(frame(true));
    sender.send(frame(false));
    await sender.flushed();
    sender.detach();
    // Reconnecting: frames are dropped quietly (no keyframe storm from the encoder).
    expect(sender.send(frame(false))).toBe(true);
    expect(sender.send(frame(true))).toBe(true);
    const fresh = new FakeSession("new", []);
    sender.attach(fresh, new DatagramWriter(fresh));
    // The first delta after attaching is refused: the encoder is asked for a keyframe.
    expect(sender.send(frame(false))).toBe(false);
    expect(sender.send(frame(true))).toBe(true);
    expect(sender.send(frame(false))).toBe(true);
    await sender.flushed();
    sender.close();
    expect(sender.stats.framesDropped).toBe(3);
    expect(await framesOf(fresh)).toEqual([
      [
        [1n, 0, true],
        [1n, 1, false],
      ],
    ]);
    expect(old.opened.length).toBe(1);
  });
});
