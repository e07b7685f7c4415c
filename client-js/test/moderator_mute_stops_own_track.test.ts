import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { ServerError } from "../src/errors.js";
import { ErrorCode, TrackKind as ProtoKind, TrackSource as ProtoSource } from "../src/proto/gen/dark_tower/signaling/v1/signaling_pb.js";
import { LocalAudioTrack } from "../src/track.js";
import { FakeTrack } from "./fake_devices.js";
import { FakeAudioEncoder, FakeProcessor, fakeFrame, installFakeCodecs } from "./fake_codecs.js";
import { until } from "./fake_session.js";
import { bobCamera, connect, harness } from "./room_harness.js";

let restore: () => void;
beforeAll(() => {
  restore = installFakeCodecs();
});
afterAll(() => restore());

describe("a moderator mutes this participant's microphone", () => {
  it("stops encoding and sending, marks the publication muted, emits TrackMuted with the local participant", async () => {
    const h = harness();
    const server = await connect(h);
    const capture = new FakeTrack("audio", "mic1");
    const track = new LocalAudioTrack(capture as unknown as MediaStreamTrack);
    const publishing = h.room.localParticipant.publishTrack(track);
    const req = await server.next();
    if (req?.message.case !== "publishTrack") throw new Error(`expected PublishTrack, got ${req?.message.case}`);
    const mic = { id: "TR_00000000000000a2", alias: 4, kind: ProtoKind.AUDIO, source: ProtoSource.MICROPHONE, codec: "opus", name: "microphone" };
    await server.send({ requestId: req.requestId, message: { case: "publishTrackAck", value: { clientTrackId: req.message.value.clientTrackId, track: mic } } });
    const pub = await publishing;
    const media = h.sessions[1];
    if (media === undefined) throw new Error("no media session");

    FakeProcessor.push(capture, fakeFrame(0));
    await until(() => media.sentDatagrams.chunks.length === 1);
    const encodedBefore = FakeAudioEncoder.encoded;

    await server.send({
      seq: 2n,
      message: { case: "trackMuted", value: { participantId: "PA_00000000000000a1", trackId: mic.id, muted: true, byParticipantId: "PA_00000000000000b0" } },
    });
    await until(() => pub.isMuted);
    expect(h.events).toContain(`trackMuted:${mic.id}`);
    // Captured audio keeps coming but is neither encoded nor sent.
    for (let i = 1; i <= 3; i++) FakeProcessor.push(capture, fakeFrame(i * 20_000));
    await until(() => pub.pipeline.stats.framesIn === 4);
    expect(FakeAudioEncoder.encoded).toBe(encodedBefore);
    expect(pub.pipeline.stats.framesSkipped).toBe(3);
    expect(media.sentDatagrams.chunks.length).toBe(1);

    // The participant may unmute itself: SetTrackMuted(false), and audio flows again.
    const unmuting = pub.unmute();
    const set = await server.next();
    if (set?.message.case !== "setTrackMuted") throw new Error(`expected SetTrackMuted, got ${set?.message.case}`);
    expect(set.message.value).toMatchObject({ trackId: mic.id, muted: false });
    await server.send({ requestId: set.requestId, seq: 3n, message: { case: "ack", value: {} } });
    await unmuting;
    FakeProcessor.push(capture, fakeFrame(100_000));
    await until(() => media.sentDatagrams.chunks.length === 2);
    expect(pub.isMuted).toBe(false);
  });

  it("ignores a TrackMuted about a track it does not publish", async () => {
    const h = harness();
    const server = await connect(h);
    await server.send({ seq: 2n, message: { case: "trackMuted", value: { participantId: "PA_00000000000000a1", trackId: "TR_00000000000000ff", muted: true } } });
    await server.send({ seq: 3n, message: { case: "participantLeft", value: { participantId: "PA_00000000000000b0" } } });
    await until(() => h.events.includes("participantDisconnected:bob"));
    expect(h.events.filter((e) => e.startsWith("trackMuted"))).toEqual([]);
  });
});

describe("a host mutes someone else's track", () => {
  it("sends MuteParticipantTrack with the participant's and track's ids, then shows the track muted; a refusal is a ServerError", async () => {
    const h = harness();
    const server = await connect(h);
    const bob = h.room.remoteParticipants.get("bob");
    if (bob === undefined) throw new Error("no bob");
    const muting = h.room.localParticipant.muteParticipantTrack(bob, bobCamera.id);
    const req = await server.next();
    if (req?.message.case !== "muteParticipantTrack") throw new Error(`expected MuteParticipantTrack, got ${req?.message.case}`);
    expect(req.message.value).toMatchObject({ participantId: "PA_00000000000000b0", trackId: bobCamera.id });
    await server.send({ requestId: req.requestId, seq: 2n, message: { case: "ack", value: {} } });
    await muting;
    // The server tells everyone but the host who asked: the room marks the track itself.
    expect(bob.trackPublications.get(bobCamera.id)?.isMuted).toBe(true);
    expect(h.events).toContain(`trackMuted:${bobCamera.id}`);

    const refused = h.room.localParticipant.muteParticipantTrack(bob, bobCamera.id);
    const again = await server.next();
    await server.send({ requestId: again?.requestId ?? 0, seq: 3n, message: { case: "error", value: { code: ErrorCode.PERMISSION_DENIED, message: "only hosts may moderate" } } });
    await expect(refused).rejects.toBeInstanceOf(ServerError);
    await expect(refused).rejects.toMatchObject({ code: "permission_denied" });
  });
});
