import { create } from "@bufbuild/protobuf";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { VIDEO_CODEC_STRINGS, chooseVideoCodec, codecName, decodableCodecs, everyoneDecodes, type EncoderSupport } from "../src/codec/codec_choice.js";
import { UnsupportedCodecError } from "../src/errors.js";
import { ParticipantSchema, TrackKind as ProtoKind, TrackSource as ProtoSource } from "../src/proto/gen/dark_tower/signaling/v1/signaling_pb.js";
import { RoomEvent } from "../src/room_events.js";
import { LocalVideoTrack, RemoteVideoTrack, TrackSource } from "../src/track.js";
import { FakeTrack } from "./fake_devices.js";
import { FakeProcessor, FakeVideoEncoder, fakeFrame, installFakeCodecs } from "./fake_codecs.js";
import { until } from "./fake_session.js";
import { connect, harness } from "./room_harness.js";
import type { FakeSignalServer } from "./server_side.js";

const size = { width: 320, height: 240, bitrate: 300_000, framerate: 15 };
const only = (codecs: string[]): EncoderSupport => (c) => Promise.resolve(codecs.includes(c.codec));

describe("chooseVideoCodec", () => {
  it("VP8 by default, without asking the browser", async () => {
    let asked = 0;
    const never: EncoderSupport = () => {
      asked++;
      return Promise.resolve(false);
    };
    expect(await chooseVideoCodec(undefined, undefined, size, never)).toEqual({ codec: "vp8", fellBack: false });
    expect(await chooseVideoCodec("vp8", "vp8", size, never)).toEqual({ codec: "vp8", fellBack: false });
    expect(asked).toBe(0);
  });

  it("the preferred codec when this browser can encode it, else VP8", async () => {
    const vp9 = VIDEO_CODEC_STRINGS.vp9;
    expect(await chooseVideoCodec("vp9", "vp8", size, only([vp9]))).toEqual({ codec: vp9, fellBack: false });
    expect(await chooseVideoCodec("av1", "vp8", size, only([vp9]))).toEqual({ codec: "vp8", fellBack: true });
    expect(await chooseVideoCodec(undefined, "av01.0.04M.08", size, only([]))).toEqual({ codec: "vp8", fellBack: true });
  });

  it("asks with the track's size and, for H.264, Annex B", async () => {
    const seen: VideoEncoderConfig[] = [];
    await chooseVideoCodec("h264", "vp8", size, (c) => {
      seen.push(c);
      return Promise.resolve(true);
    });
    expect(seen).toEqual([{ codec: "avc1.42E01F", width: 320, height: 240, bitrate: 300_000, framerate: 15, latencyMode: "realtime", avc: { format: "annexb" } }]);
  });
});

class Camera extends FakeTrack {
  override getSettings(): MediaTrackSettings {
    return { deviceId: this.deviceId, width: 320, height: 240 };
  }
}

/** Bob, as the roster shows him, announcing `videoDecoders`. */
function bobDecoding(videoDecoders: string[]): ReturnType<typeof create<typeof ParticipantSchema>> {
  return create(ParticipantSchema, { id: "PA_00000000000000b0", identity: "bob", name: "Bob", videoDecoders });
}

async function publishedCodec(server: FakeSignalServer, publish: Promise<unknown>): Promise<string> {
  const req = await server.next();
  if (req?.message.case !== "publishTrack") throw new Error(`expected PublishTrack, got ${req?.message.case}`);
  const v = req.message.value;
  const track = { id: "TR_00000000000000a3", alias: 5, kind: ProtoKind.VIDEO, source: ProtoSource.CAMERA, codec: v.codec, layers: v.layers, name: "camera" };
  await server.send({ requestId: req.requestId, message: { case: "publishTrackAck", value: { clientTrackId: v.clientTrackId, track } } });
  await publish;
  return v.codec;
}

describe("publishing with a videoCodec preference", () => {
  let restore: () => void;
  beforeAll(() => {
    restore = installFakeCodecs();
  });
  afterAll(() => restore());

  it("uses VP9 when the encoder supports it and configures every layer with it", async () => {
    FakeVideoEncoder.supported = (c) => c.codec === "vp8" || c.codec === VIDEO_CODEC_STRINGS.vp9;
    const h = harness(200, undefined, { videoCodec: "vp9" });
    const server = await connect(h, { others: [bobDecoding(["vp8", "vp9"])] });
    const cam = new Camera("video", "cam1");
    const publish = h.room.localParticipant.publishTrack(new LocalVideoTrack(cam as unknown as MediaStreamTrack, TrackSource.Camera));
    expect(await publishedCodec(server, publish)).toBe(VIDEO_CODEC_STRINGS.vp9);
    FakeProcessor.push(cam, fakeFrame(1));
    await until(() => FakeVideoEncoder.all.length === 3);
    expect(FakeVideoEncoder.all.map((e) => e.config?.codec)).toEqual([VIDEO_CODEC_STRINGS.vp9, VIDEO_CODEC_STRINGS.vp9, VIDEO_CODEC_STRINGS.vp9]);
  });

  it("publishes VP8 while someone cannot decode the preferred codec, and again in VP8 when such a participant joins", async () => {
    FakeVideoEncoder.supported = (c) => c.codec === "vp8" || c.codec === VIDEO_CODEC_STRINGS.vp9;
    // Bob announced nothing (an older client, or the Rust SDK): VP8 only.
    const h = harness(200, undefined, { videoCodec: "vp9" });
    const server = await connect(h, { others: [bobDecoding([])] });
    const cam = new Camera("video", "cam1");
    const first = h.room.localParticipant.publishTrack(new LocalVideoTrack(cam as unknown as MediaStreamTrack, TrackSource.Camera));
    expect(await publishedCodec(server, first)).toBe("vp8");

    // Alone with someone who decodes VP9, it is used; a newcomer without it makes us publish again in VP8.
    const h2 = harness(200, undefined, { videoCodec: "vp9" });
    const s2 = await connect(h2, { others: [bobDecoding(["vp8", "vp9"])] });
    const cam2 = new Camera("video", "cam2");
    const pub = h2.room.localParticipant.publishTrack(new LocalVideoTrack(cam2 as unknown as MediaStreamTrack, TrackSource.Camera));
    expect(await publishedCodec(s2, pub)).toBe(VIDEO_CODEC_STRINGS.vp9);
    await s2.send({ seq: 2n, message: { case: "participantJoined", value: { participant: { id: "PA_00000000000000c0", identity: "carol", videoDecoders: ["vp8"] } } } });
    const unpublish = await s2.next();
    expect(unpublish?.message.case).toBe("unpublishTrack");
    expect(await publishedCodec(s2, Promise.resolve())).toBe("vp8");
    expect(cam2.readyState).not.toBe("ended");
  });

  it("falls back to VP8 when this browser cannot encode the preferred codec (publish options override the room's)", async () => {
    FakeVideoEncoder.supported = (c) => c.codec === "vp8";
    const h = harness(200, undefined, { videoCodec: "vp9" });
    const server = await connect(h);
    const cam = new Camera("video", "cam1");
    const publish = h.room.localParticipant.publishTrack(new LocalVideoTrack(cam as unknown as MediaStreamTrack, TrackSource.Camera), { videoCodec: "av1" });
    expect(await publishedCodec(server, publish)).toBe("vp8");
  });
});

/** A decoder that supports nothing but VP8, like a browser without HEVC. */
class Vp8OnlyDecoder {
  static configured = 0;
  state = "unconfigured";
  decodeQueueSize = 0;
  static isConfigSupported(c: VideoDecoderConfig): Promise<{ supported: boolean }> {
    return Promise.resolve({ supported: c.codec === "vp8" });
  }
  constructor(private readonly init: VideoDecoderInit) {}
  configure(c: VideoDecoderConfig): void {
    Vp8OnlyDecoder.configured++;
    if (c.codec !== "vp8") queueMicrotask(() => this.init.error(new DOMException("unsupported", "NotSupportedError")));
    this.state = "configured";
  }
  decode(): void {
    // Nothing comes out in this test.
  }
  close(): void {
    this.state = "closed";
  }
}

describe("a track in a codec this browser cannot decode", () => {
  const saved = Reflect.get(globalThis, "VideoDecoder") as unknown;
  beforeAll(() => Reflect.set(globalThis, "VideoDecoder", Vp8OnlyDecoder));
  afterAll(() => Reflect.set(globalThis, "VideoDecoder", saved));

  it("emits TrackSubscriptionFailed with an UnsupportedCodecError and drops its frames without decoding", async () => {
    const h = harness();
    const failures: [string, string, unknown][] = [];
    h.room.on(RoomEvent.TrackSubscriptionFailed, (sid, p, e) => failures.push([sid, p.identity, e]));
    const hevc = { id: "TR_00000000000000b1", alias: 9, kind: ProtoKind.VIDEO, source: ProtoSource.CAMERA, codec: "hvc1.1.6.L93.B0", name: "camera" };
    await connect(h, { others: [create(ParticipantSchema, { id: "PA_00000000000000b0", identity: "bob", name: "Bob", tracks: [hevc] })] });
    await until(() => failures.length === 1);
    const [sid, identity, error] = failures[0] ?? [];
    expect([sid, identity]).toEqual([hevc.id, "bob"]);
    expect(error).toBeInstanceOf(UnsupportedCodecError);
    expect((error as UnsupportedCodecError).codec).toBe("hvc1.1.6.L93.B0");
    const track = h.room.remoteParticipants.get("bob")?.trackPublications.get(hevc.id)?.track;
    if (!(track instanceof RemoteVideoTrack)) throw new Error("no remote video track");
    expect(track.decodeError).toBe(error);
    const header = { trackAlias: 9, spatialId: 0, temporalId: 0, groupSeq: 0n, frameSeq: 0, captureTsUs: 0n, keyframe: true, discardable: false, endOfGroup: false, audioLevel: undefined };
    track.handleFrame({ header, payload: Uint8Array.of(1) });
    expect(track.stats.framesDropped).toBe(1);
    expect(Vp8OnlyDecoder.configured).toBe(0);
  });
});

describe("codecs every participant can decode", () => {
  it("VP8 is assumed everywhere; another codec only if every receiver announced it", () => {
    expect(everyoneDecodes("vp8", [[], ["vp9"]])).toBe(true);
    expect(everyoneDecodes(VIDEO_CODEC_STRINGS.vp9, [["vp8", "vp9"], ["vp9"]])).toBe(true);
    expect(everyoneDecodes(VIDEO_CODEC_STRINGS.vp9, [["vp8", "vp9"], []])).toBe(false);
    expect(everyoneDecodes(VIDEO_CODEC_STRINGS.av1, [["vp8", "vp9"]])).toBe(false);
    expect(everyoneDecodes(VIDEO_CODEC_STRINGS.h264, [])).toBe(true);
    expect(everyoneDecodes("hevc.1.6.L93.B0", [["vp8"]])).toBe(false);
  });

  it("the decoders announced are those the browser's check accepts", async () => {
    const accepted = new Set([VIDEO_CODEC_STRINGS.vp8, VIDEO_CODEC_STRINGS.av1]);
    expect(await decodableCodecs(async (c) => accepted.has(c))).toEqual(["vp8", "av1"]);
    expect(codecName(VIDEO_CODEC_STRINGS.h264)).toBe("h264");
    expect(codecName("vp8")).toBe("vp8");
    expect(codecName("unknown")).toBeUndefined();
  });
});
