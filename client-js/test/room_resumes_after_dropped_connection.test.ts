import { describe, expect, it } from "vitest";

import { ConnectionError } from "../src/errors.js";
import { ErrorCode } from "../src/proto/gen/dark_tower/signaling/v1/signaling_pb.js";
import type { ReconnectPolicy } from "../src/reconnect.js";
import { ConnectionState, RoomEvent, type DisconnectReason } from "../src/room_events.js";
import { until } from "./fake_session.js";
import { HASH, connect, harness, serverOf, type Harness } from "./room_harness.js";
import type { FakeSignalServer } from "./server_side.js";

/** Retries every 5 ms. */
const fast: ReconnectPolicy = { nextRetryDelayInMs: () => 5 };
const RESUMABLE = { resumeToken: "re.su.me", resumeGraceMs: 5000 };
const CAROL = { participant: { id: "PA_00000000000000c0", identity: "carol" } };

function session(h: Harness, n: number): NonNullable<Harness["sessions"][number]> {
  const s = h.sessions[n];
  if (s === undefined) throw new Error(`no session ${n}`);
  return s;
}

/** Answers the `Resume` on session `n` with `Resumed` (replaying `replayed`); returns the server and the Resume. */
async function acceptResume(h: Harness, n: number, replayed: number): Promise<{ server: FakeSignalServer; lastSeq: bigint }> {
  const server = await serverOf(h, n);
  const hello = await server.next();
  if (hello?.message.case !== "resume") throw new Error(`expected Resume, got ${hello?.message.case ?? "nothing"}`);
  await server.send({
    requestId: hello.requestId,
    message: {
      case: "resumed",
      value: {
        participant: { id: "PA_00000000000000a1", identity: "alice" },
        meeting: { name: "standup" },
        media: { url: "https://127.0.0.1:4433/v1/media", ticket: "fresh.tick.et", certificateSha256: [HASH] },
        replayed,
      },
    },
  });
  return { server, lastSeq: hello.message.value.lastSeq };
}

describe("Room resumes a dropped connection", () => {
  it("Reconnecting, Resume with the last seq on ?resume_token=, a new media session, Reconnected; replayed messages once", async () => {
    const h = harness(200, undefined, { reconnectPolicy: fast });
    const server = await connect(h, RESUMABLE);
    await server.send({ seq: 2n, message: { case: "participantJoined", value: CAROL } });
    await until(() => h.events.includes("participantConnected:carol"));
    h.events.length = 0;

    session(h, 0).lose();
    await until(() => h.events.includes("reconnecting"));
    expect(h.room.state).toBe(ConnectionState.Reconnecting);
    expect(session(h, 1).closeInfo).toBeDefined();
    // A request made while reconnecting waits for the new connection.
    const sent = h.room.localParticipant.publishData(new TextEncoder().encode("hi"));

    const { server: resumed, lastSeq } = await acceptResume(h, 2, 2);
    expect(lastSeq).toBe(2n);
    expect(session(h, 2).url).toBe("https://127.0.0.1:4433/v1/signal/standup?resume_token=re.su.me");
    await resumed.send({ seq: 2n, message: { case: "participantJoined", value: CAROL } });
    await resumed.send({ seq: 3n, message: { case: "trackMuted", value: { participantId: "PA_00000000000000b0", trackId: "TR_00000000000000b1", muted: true } } });
    await until(() => h.events.includes("trackMuted:TR_00000000000000b1"));
    expect(session(h, 3).url).toBe("https://127.0.0.1:4433/v1/media?ticket=fresh.tick.et");
    expect(h.room.state).toBe(ConnectionState.Connected);
    expect(h.events).toEqual([
      "connectionStateChanged:reconnecting",
      "reconnecting",
      "connectionStateChanged:connected",
      "reconnected",
      "trackMuted:TR_00000000000000b1",
    ]);

    const queued = await resumed.next();
    if (queued?.message.case !== "sendData") throw new Error("expected the queued SendData");
    await resumed.send({ requestId: queued.requestId, seq: 4n, message: { case: "ack", value: {} } });
    await sent;
    expect(h.room.remoteParticipants.get("bob")?.trackPublications.get("TR_00000000000000b1")?.isMuted).toBe(true);
  });

  it("fails requests the dead connection never answered, once the replayed messages are through", async () => {
    const h = harness(200, undefined, { reconnectPolicy: fast });
    await connect(h, RESUMABLE);
    const inFlight = h.room.localParticipant.publishData(new TextEncoder().encode("lost"));
    const outcome = inFlight.then(
      () => "resolved",
      (e: unknown) => e,
    );
    session(h, 0).lose();
    const { server } = await acceptResume(h, 2, 1);
    await server.send({ seq: 2n, message: { case: "participantJoined", value: CAROL } });
    expect(await outcome).toBeInstanceOf(ConnectionError);
    expect(h.room.state).toBe(ConnectionState.Connected);
  });

  it("a lost media session resumes too (closing signaling without Leave)", async () => {
    const h = harness(200, undefined, { reconnectPolicy: fast });
    const server = await connect(h, RESUMABLE);
    session(h, 1).lose();
    await until(() => h.events.includes("reconnecting"));
    expect(session(h, 0).closeInfo).toBeDefined();
    expect(await server.next()).toBeUndefined();
    await acceptResume(h, 2, 0);
    await until(() => h.events.includes("reconnected"));
  });

  it("Disconnect{resume_failed} ends the room", async () => {
    const h = harness(200, undefined, { reconnectPolicy: fast });
    await connect(h, RESUMABLE);
    let reason: DisconnectReason | undefined;
    h.room.on(RoomEvent.Disconnected, (r) => (reason = r));
    session(h, 0).lose();
    const server = await serverOf(h, 2);
    await server.next();
    await server.send({ message: { case: "disconnect", value: { code: ErrorCode.RESUME_FAILED, message: "left" } } });
    await until(() => reason !== undefined);
    expect(reason).toEqual({ code: "resume_failed", message: "server error resume_failed: left", clientInitiated: false });
    expect(h.room.state).toBe(ConnectionState.Disconnected);
    expect(h.events).not.toContain("reconnected");
  });

  it("retries with backoff until the grace period is over, then Disconnected", async () => {
    const h = harness(200, undefined, { reconnectPolicy: fast });
    await connect(h, { resumeToken: "re.su.me", resumeGraceMs: 150 });
    let reason: DisconnectReason | undefined;
    h.room.on(RoomEvent.Disconnected, (r) => (reason = r));
    h.refuse = new Error("unreachable");
    session(h, 0).lose();
    await until(() => reason !== undefined);
    expect(reason?.code).toBeUndefined();
    expect(reason?.message).toMatch(/grace period/);
    expect(h.sessions.length).toBeGreaterThan(4);
    expect(h.events.filter((e) => e === "reconnecting").length).toBe(1);
    expect(h.events).not.toContain("reconnected");
  });

  it("without a resume token a lost connection ends the room at once", async () => {
    const h = harness(200, undefined, { reconnectPolicy: fast });
    await connect(h);
    session(h, 0).lose();
    await until(() => h.room.state === ConnectionState.Disconnected);
    expect(h.events).not.toContain("reconnecting");
    expect(h.sessions.length).toBe(2);
  });

  it("disconnect() while reconnecting stops resuming", async () => {
    const h = harness(200, undefined, { reconnectPolicy: { nextRetryDelayInMs: () => 20 } });
    await connect(h, RESUMABLE);
    h.refuse = new Error("unreachable");
    session(h, 0).lose();
    await until(() => h.events.includes("reconnecting"));
    await h.room.disconnect();
    expect(h.events.at(-1)).toBe("disconnected:client disconnected");
    const opened = h.sessions.length;
    await new Promise((r) => setTimeout(r, 60));
    expect(h.sessions.length).toBe(opened);
  });
});
