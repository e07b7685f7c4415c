import { afterAll, beforeAll, describe, expect, it } from "vitest";

import type { LocalTrackPublication } from "../src/publication.js";
import { TrackKind as ProtoKind, TrackSource as ProtoSource, type PublishTrack } from "../src/proto/gen/dark_tower/signaling/v1/signaling_pb.js";
import { MediaStreamReader, type MediaFrame } from "../src/proto/media.js";
import { LocalVideoTrack, TrackSource } from "../src/track.js";
import { FakeTrack } from "./fake_devices.js";
import { FakeProcessor, FakeVideoEncoder, fakeFrame, installFakeCodecs } from "./fake_codecs.js";
import { type FakeSession, until } from "./fake_session.js";
import { connect, harness } from "./room_harness.js";
import type { FakeSignalServer } from "./server_side.js";

let restore: () => void;
beforeAll(() => {
  restore = installFakeCodecs();
});
afterAll(() => restore());

/** A 320x240 camera. */
class Camera extends FakeTrack {
  override getSettings(): MediaTrackSettings {
    return { deviceId: this.deviceId, width: 320, height: 240 };
  }
}

const CAMERA_ID = "TR_00000000000000a3";

/** Publishes a camera on a connected room, playing the server; returns what the server saw. */
async function publishCamera(server: FakeSignalServer, publish: Promise<LocalTrackPublication>) {
  const req = await server.next();
  if (req?.message.case !== "publishTrack") throw new Error(`expected PublishTrack, got ${req?.message.case}`);
  const asked: PublishTrack = req.message.value;
  const track = { id: CAMERA_ID, alias: 5, kind: ProtoKind.VIDEO, source: ProtoSource.CAMERA, codec: asked.codec, layers: asked.layers, name: "camera" };
  await server.send({ requestId: req.requestId, message: { case: "publishTrackAck", value: { clientTrackId: asked.clientTrackId, track } } });
  return { asked, pub: await publish };
}

/** Every frame the client sent on the media session's streams. */
function sentFrames(media: FakeSession): MediaFrame[] {
  const out: MediaFrame[] = [];
  for (const o of media.opened) {
    const r = new MediaStreamReader();
    r.push(o.sink.bytes());
    for (let f = r.nextFrame(); f !== undefined; f = r.nextFrame()) out.push(f);
  }
  return out;
}

let ts = 0;
/** Captures one frame (spaced for 15 fps) and waits until the pipeline read it. */
async function capture(pub: LocalTrackPublication, cam: Camera): Promise<void> {
  const before = pub.pipeline.stats.framesIn;
  ts += 70_000;
  FakeProcessor.push(cam, fakeFrame(ts));
  await until(() => pub.pipeline.stats.framesIn === before + 1);
}

const encoded = () => FakeVideoEncoder.all.map((e) => e.calls.length);

describe("simulcast: one encoder per layer", () => {
  it("publishes the camera with 3 layers, each encoded at its own size and sent with its spatial id", async () => {
    const h = harness();
    const server = await connect(h);
    const cam = new Camera("video", "cam1");
    const { asked, pub } = await publishCamera(server, h.room.localParticipant.publishTrack(new LocalVideoTrack(cam as unknown as MediaStreamTrack, TrackSource.Camera)));
    expect(asked.codec).toBe("vp8");
    expect(asked.layers.map((l) => [l.spatialId, l.width, l.height, l.maxBitrateBps])).toEqual([
      [0, 80, 60, 28_125],
      [1, 160, 120, 112_500],
      [2, 320, 240, 300_000],
    ]);
    await capture(pub, cam);
    await capture(pub, cam);
    expect(FakeVideoEncoder.all.map((e) => [e.config?.width, e.config?.height, e.config?.bitrate])).toEqual([
      [80, 60, 28_125],
      [160, 120, 112_500],
      [320, 240, 300_000],
    ]);
    const media = h.sessions[1] as FakeSession;
    await pub.sender.flushed();
    const frames = sentFrames(media).map((f) => [f.header.spatialId, f.header.groupSeq, f.header.frameSeq, f.header.keyframe]);
    // One stream per layer, each opened by a keyframe of that layer.
    expect(media.opened.length).toBe(3);
    expect(frames.sort()).toEqual([
      [0, 0n, 0, true],
      [0, 0n, 1, false],
      [1, 0n, 0, true],
      [1, 0n, 1, false],
      [2, 0n, 0, true],
      [2, 0n, 1, false],
    ]);
    // A keyframe request names the layer: only that layer's encoder is asked.
    await server.send({ seq: 2n, message: { case: "keyframeRequest", value: { trackId: CAMERA_ID, spatialId: 1 } } });
    // A later message with an event: the request has been handled once it is seen.
    await server.send({ seq: 3n, message: { case: "participantLeft", value: { participantId: "PA_00000000000000b0" } } });
    await until(() => h.events.includes("participantDisconnected:bob"));
    await capture(pub, cam);
    expect(FakeVideoEncoder.all.map((e) => e.calls.at(-1)?.keyFrame)).toEqual([false, true, false]);
  });

  it("one layer without simulcast, and for a screen share by default", async () => {
    FakeVideoEncoder.all.length = 0;
    const h = harness(200, undefined, { simulcast: false });
    const server = await connect(h);
    const cam = new Camera("video", "cam1");
    const { asked } = await publishCamera(server, h.room.localParticipant.publishTrack(new LocalVideoTrack(cam as unknown as MediaStreamTrack, TrackSource.Camera)));
    expect(asked.layers.map((l) => [l.width, l.height])).toEqual([[320, 240]]);
    const h2 = harness();
    const server2 = await connect(h2);
    const screen = new Camera("video", "screen");
    const r = await publishCamera(server2, h2.room.localParticipant.publishTrack(new LocalVideoTrack(screen as unknown as MediaStreamTrack, TrackSource.ScreenShare)));
    expect(r.asked.layers.length).toBe(1);
  });
});

describe("dynacast", () => {
  it("stops encoding the layers nobody wants and resumes them with a keyframe", async () => {
    FakeVideoEncoder.all.length = 0;
    const h = harness();
    const server = await connect(h);
    const cam = new Camera("video", "cam1");
    const { pub } = await publishCamera(server, h.room.localParticipant.publishTrack(new LocalVideoTrack(cam as unknown as MediaStreamTrack, TrackSource.Camera)));
    await capture(pub, cam);
    expect(encoded()).toEqual([1, 1, 1]);

    // The only subscriber asked for "low": the SFU wants layer 0 only.
    await server.send({ seq: 2n, message: { case: "subscribedLayers", value: { trackId: CAMERA_ID, spatialIds: [0] } } });
    await until(() => pub.layers[2]?.wanted === false);
    expect(pub.layers.map((l) => l.wanted)).toEqual([true, false, false]);
    await capture(pub, cam);
    await capture(pub, cam);
    expect(encoded()).toEqual([3, 1, 1]);
    expect(pub.layers.map((l) => l.framesPaused)).toEqual([0, 2, 2]);

    // Someone wants the full size again: its encoder starts with a keyframe.
    await server.send({ seq: 3n, message: { case: "subscribedLayers", value: { trackId: CAMERA_ID, spatialIds: [0, 2] } } });
    await until(() => pub.layers[2]?.wanted === true);
    await capture(pub, cam);
    await capture(pub, cam);
    expect(encoded()).toEqual([5, 1, 3]);
    expect(FakeVideoEncoder.all[2]?.calls.slice(1).map((c) => c.keyFrame)).toEqual([true, false]);

    // Nobody watches: nothing is encoded at all.
    await server.send({ seq: 4n, message: { case: "subscribedLayers", value: { trackId: CAMERA_ID, spatialIds: [] } } });
    await until(() => pub.layers.every((l) => !l.wanted));
    await capture(pub, cam);
    expect(encoded()).toEqual([5, 1, 3]);
    await pub.sender.flushed();
    const media = h.sessions[1] as FakeSession;
    // Layer 2 resumed in a new group (a new stream), from a keyframe.
    const top = sentFrames(media).filter((f) => f.header.spatialId === 2).map((f) => [f.header.groupSeq, f.header.frameSeq]);
    expect(top).toEqual([
      [0n, 0],
      [1n, 0],
      [1n, 1],
    ]);
  });

  it("a device switch keeps the dynacast state", async () => {
    FakeVideoEncoder.all.length = 0;
    const h = harness();
    const server = await connect(h);
    const cam = new Camera("video", "cam1");
    const { pub } = await publishCamera(server, h.room.localParticipant.publishTrack(new LocalVideoTrack(cam as unknown as MediaStreamTrack, TrackSource.Camera)));
    await server.send({ seq: 2n, message: { case: "subscribedLayers", value: { trackId: CAMERA_ID, spatialIds: [1] } } });
    await until(() => pub.layers[0]?.wanted === false);
    const cam2 = new Camera("video", "cam2");
    pub.replaceTrack(cam2 as unknown as MediaStreamTrack);
    expect(pub.layers.map((l) => l.wanted)).toEqual([false, true, false]);
    await capture(pub, cam2);
    // Encoders start with their first frame: only layer 1's exists.
    expect(FakeVideoEncoder.all.map((e) => [e.config?.width, e.calls.length])).toEqual([[160, 1]]);
  });
});
