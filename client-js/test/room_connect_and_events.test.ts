import { describe, expect, it } from "vitest";

import { JoinRefusedError, ServerError } from "../src/errors.js";
import { ErrorCode, LeaveReason } from "../src/proto/gen/dark_tower/signaling/v1/signaling_pb.js";
import { encodeStreamFrame, STREAM_TYPE_GROUP } from "../src/proto/media.js";
import { ConnectionState, RoomEvent } from "../src/room_events.js";
import type { RemoteTrack } from "../src/track.js";
import { pushable, until } from "./fake_session.js";
import { HASH, bobCamera, connect, harness } from "./room_harness.js";
import { FakeSignalServer } from "./server_side.js";

describe("Room.connect", () => {
  it("POSTs /v1/join, opens signaling with the token, sends Join, opens media with the ticket", async () => {
    const h = harness();
    const server = await connect(h);
    expect(h.requests.length).toBe(1);
    const req = h.requests[0];
    expect(req?.url).toBe("http://127.0.0.1:8080/v1/join");
    expect(req?.init.method).toBe("POST");
    expect(new Headers(req?.init.headers).get("authorization")).toBe("Bearer tok.en");
    expect(JSON.parse(String(req?.init.body))).toEqual({ protocol_version: 1 });
    expect(h.sessions.map((s) => s.url)).toEqual([
      "https://127.0.0.1:4433/v1/signal/standup?access_token=tok.en",
      "https://127.0.0.1:4433/v1/media?ticket=ti.ck.et",
    ]);
    for (const s of h.sessions) {
      expect(s.hashes.length).toBe(1);
      expect(s.hashes[0]?.algorithm).toBe("sha-256");
      expect(Buffer.from(s.hashes[0]?.value as Uint8Array).toString("hex")).toBe(HASH);
    }
    expect(h.room.state).toBe(ConnectionState.Connected);
    expect(h.room.name).toBe("standup");
    expect(h.room.localParticipant.identity).toBe("alice");
    expect([...h.room.remoteParticipants.keys()]).toEqual(["bob"]);
    // Tracks already there at join time are subscribed (auto_subscribe).
    expect(h.events).toEqual(["connectionStateChanged:connecting", "connectionStateChanged:connected", "connected", "trackSubscribed:TR_00000000000000b1"]);
    void server;
  });

  it("sends Join with the protocol version, client info and auto_subscribe", async () => {
    const h = harness();
    const done = h.room.connect("http://127.0.0.1:8080", "t");
    await until(() => h.sessions[0]?.bidi.length === 1);
    const stream = h.sessions[0]?.bidi[0];
    if (stream === undefined) throw new Error("no stream");
    const server = new FakeSignalServer(stream);
    const join = await server.next();
    if (join?.message.case !== "join") throw new Error("expected Join");
    expect(join.message.value.protocolVersion).toBe(1);
    expect(join.message.value.autoSubscribe).toBe(true);
    expect(join.message.value.client?.sdk).toBe("@dark-tower/client");
    expect(join.message.value.client?.detail).toBe("unit test");
    await server.send({ message: { case: "disconnect", value: { code: ErrorCode.MEETING_FULL, message: "full" } } });
    await expect(done).rejects.toBeInstanceOf(ServerError);
    await expect(done).rejects.toMatchObject({ code: "meeting_full" });
    expect(h.room.state).toBe(ConnectionState.Disconnected);
  });

  it("a refused join is a JoinRefusedError with the server's code", async () => {
    const h = harness(401, { error: { code: "token_expired", message: "token expired" } });
    const p = h.room.connect("http://127.0.0.1:8080", "t");
    await expect(p).rejects.toBeInstanceOf(JoinRefusedError);
    await expect(p).rejects.toMatchObject({ status: 401, code: "token_expired", serverMessage: "token expired", fault: "unauthorized" });
    expect(h.sessions.length).toBe(0);
  });
});

describe("Room events", () => {
  it("follows the roster: joined, published, unpublished, left", async () => {
    const h = harness();
    const server = await connect(h);
    h.events.length = 0;
    await server.send({
      message: { case: "participantJoined", value: { participant: { id: "PA_00000000000000c0", identity: "carol" } } },
    });
    await server.send({
      message: {
        case: "trackPublished",
        value: { participantId: "PA_00000000000000c0", track: { ...bobCamera, id: "TR_00000000000000c1", alias: 11 } },
      },
    });
    await server.send({ message: { case: "trackMuted", value: { participantId: "PA_00000000000000c0", trackId: "TR_00000000000000c1", muted: true } } });
    await server.send({ message: { case: "trackUnpublished", value: { participantId: "PA_00000000000000c0", trackId: "TR_00000000000000c1" } } });
    await server.send({ message: { case: "participantLeft", value: { participantId: "PA_00000000000000b0", reason: LeaveReason.LEFT } } });
    await until(() => h.events.includes("participantDisconnected:bob"));
    expect(h.events).toEqual([
      "participantConnected:carol",
      "trackPublished:TR_00000000000000c1",
      "trackSubscribed:TR_00000000000000c1",
      "trackMuted:TR_00000000000000c1",
      "trackUnsubscribed:TR_00000000000000c1",
      "trackUnpublished:TR_00000000000000c1",
      "trackUnsubscribed:TR_00000000000000b1",
      "participantDisconnected:bob",
    ]);
    expect([...h.room.remoteParticipants.keys()]).toEqual(["carol"]);
  });

  it("hands received frames to the track of their alias", async () => {
    const h = harness();
    await connect(h);
    const bob = h.room.remoteParticipants.get("bob");
    const track = bob?.trackPublications.get(bobCamera.id)?.track;
    if (track === undefined) throw new Error("bob's camera not subscribed");
    const got: number[] = [];
    (track as RemoteTrack).handleFrame = (f) => got.push(f.header.frameSeq);
    const media = h.sessions[1];
    if (media === undefined) throw new Error("no media session");
    const stream = pushable<Uint8Array>();
    media.incomingStreams.push(stream.stream);
    stream.push(Uint8Array.of(STREAM_TYPE_GROUP));
    for (const [seq, keyframe] of [[0, true], [1, false]] as const) {
      stream.push(
        encodeStreamFrame({
          header: { trackAlias: 9, spatialId: 0, temporalId: 0, groupSeq: 0n, frameSeq: seq, captureTsUs: 1n, keyframe, discardable: false, endOfGroup: false, audioLevel: undefined },
          payload: Uint8Array.of(1),
        }),
      );
    }
    stream.end();
    await until(() => got.length === 2);
    expect(got).toEqual([0, 1]);
    expect(h.room.mediaStats?.streamFrames).toBe(2);
  });

  it("disconnect() sends Leave and closes both sessions", async () => {
    const h = harness();
    const server = await connect(h);
    const left = h.room.disconnect();
    const leave = await server.next();
    expect(leave?.message.case).toBe("leave");
    h.sessions[0]?.serverClose(0, "left");
    await left;
    expect(h.room.state).toBe(ConnectionState.Disconnected);
    expect(h.events.at(-1)).toBe("disconnected:client disconnected");
    expect(h.sessions.every((s) => s.closeInfo !== undefined || s.url.includes("signal"))).toBe(true);
    expect(h.room.remoteParticipants.size).toBe(0);
  });

  it("a server Disconnect ends the room with its code", async () => {
    const h = harness();
    const server = await connect(h);
    let reason: unknown;
    h.room.on(RoomEvent.Disconnected, (r) => (reason = r));
    await server.send({ message: { case: "disconnect", value: { code: ErrorCode.REMOVED, message: "bye" } } });
    await server.end();
    await until(() => reason !== undefined);
    expect(reason).toEqual({ code: "removed", message: "bye", clientInitiated: false });
  });

  it("requests are matched to replies; an Error reply rejects with its code", async () => {
    const h = harness();
    const server = await connect(h);
    const published = h.room.localParticipant.publishData(new TextEncoder().encode("hi"), { topic: "chat" });
    const msg = await server.next();
    if (msg?.message.case !== "sendData") throw new Error("expected SendData");
    expect(msg.message.value.topic).toBe("chat");
    expect(msg.message.value.reliable).toBe(true);
    await server.send({ requestId: msg.requestId, message: { case: "error", value: { code: ErrorCode.PERMISSION_DENIED, message: "no" } } });
    await expect(published).rejects.toMatchObject({ code: "permission_denied" });
  });
});
