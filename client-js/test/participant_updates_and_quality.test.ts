import { describe, expect, it } from "vitest";

import { TooLargeError } from "../src/errors.js";
import { ConnectionQuality, ParticipantRole } from "../src/participant.js";
import { ConnectionQualityLevel, Role } from "../src/proto/gen/dark_tower/signaling/v1/signaling_pb.js";
import { RoomEvent } from "../src/room_events.js";
import { until } from "./fake_session.js";
import { connect, harness } from "./room_harness.js";

const BOB = { id: "PA_00000000000000b0", identity: "bob", name: "Bob" };
const ALICE = { id: "PA_00000000000000a1", identity: "alice", name: "Alice" };

describe("ParticipantUpdated", () => {
  it("a remote participant reconnecting and back: flag and events, tracks kept", async () => {
    const h = harness();
    const server = await connect(h);
    h.events.length = 0;
    const bob = h.room.remoteParticipants.get("bob");
    await server.send({ seq: 2n, message: { case: "participantUpdated", value: { participant: { ...BOB, reconnecting: true } } } });
    await until(() => h.events.length === 1);
    expect(bob?.isReconnecting).toBe(true);
    await server.send({ seq: 3n, message: { case: "participantUpdated", value: { participant: { ...BOB, reconnecting: false } } } });
    await until(() => h.events.length === 2);
    expect(h.events).toEqual(["participantReconnecting:bob", "participantReconnected:bob"]);
    expect(bob?.isReconnecting).toBe(false);
    expect(bob?.trackPublications.size).toBe(1);
  });

  it("name, metadata and role changes, with the previous values; the local participant too", async () => {
    const h = harness();
    const server = await connect(h);
    const seen: string[] = [];
    h.room
      .on(RoomEvent.ParticipantNameChanged, (name, p) => seen.push(`name ${p.identity}: ${name}`))
      .on(RoomEvent.ParticipantMetadataChanged, (prev, p) => seen.push(`metadata ${p.identity}: ${prev ?? "-"} -> ${p.metadata}`))
      .on(RoomEvent.ParticipantRoleChanged, (prev, p) => seen.push(`role ${p.identity}: ${prev} -> ${p.role}`));
    await server.send({
      seq: 2n,
      message: { case: "participantUpdated", value: { participant: { ...BOB, name: "Robert", metadata: '{"hand":true}' } } },
    });
    await server.send({ seq: 3n, message: { case: "participantUpdated", value: { participant: { ...ALICE, metadata: "m", role: Role.HOST } } } });
    await until(() => seen.length === 4);
    expect(seen).toEqual([
      "name bob: Robert",
      'metadata bob:  -> {"hand":true}',
      "metadata alice:  -> m",
      "role alice: unspecified -> host",
    ]);
    expect(h.room.remoteParticipants.get("bob")?.name).toBe("Robert");
    expect(h.room.localParticipant.metadata).toBe("m");
    expect(h.room.localParticipant.role).toBe(ParticipantRole.Host);
  });
});

describe("ConnectionQuality", () => {
  it("sets each participant's level, RTT and loss and emits ConnectionQualityChanged", async () => {
    const h = harness();
    const server = await connect(h);
    const seen: string[] = [];
    h.room.on(RoomEvent.ConnectionQualityChanged, (q, p) => seen.push(`${p.identity}:${q}`));
    await server.send({
      seq: 2n,
      message: {
        case: "connectionQuality",
        value: {
          updates: [
            { participantId: ALICE.id, quality: ConnectionQualityLevel.EXCELLENT, rttMs: 3, loss: 0 },
            { participantId: BOB.id, quality: ConnectionQualityLevel.LOST, rttMs: 250, loss: 0.5 },
            { participantId: "PA_00000000000000ff", quality: ConnectionQualityLevel.POOR },
          ],
        },
      },
    });
    await until(() => seen.length === 2);
    expect(seen).toEqual(["alice:excellent", "bob:lost"]);
    const bob = h.room.remoteParticipants.get("bob");
    expect([bob?.connectionQuality, bob?.connectionRttMs, bob?.connectionLoss]).toEqual([ConnectionQuality.Lost, 250, 0.5]);
    expect(h.room.localParticipant.connectionQuality).toBe(ConnectionQuality.Excellent);
  });
});

describe("LocalParticipant.setMetadata / setName", () => {
  it("sends SetMetadata with only the field set and resolves on Ack; refuses oversize values", async () => {
    const h = harness();
    const server = await connect(h);
    const done = h.room.localParticipant.setMetadata('{"status":"away"}');
    const msg = await server.next();
    if (msg?.message.case !== "setMetadata") throw new Error("expected SetMetadata");
    expect(msg.message.value.metadata).toBe('{"status":"away"}');
    expect(msg.message.value.name).toBeUndefined();
    await server.send({ requestId: msg.requestId, seq: 2n, message: { case: "ack", value: {} } });
    await done;

    const named = h.room.localParticipant.setName("Alice B.");
    const msg2 = await server.next();
    if (msg2?.message.case !== "setMetadata") throw new Error("expected SetMetadata");
    expect([msg2.message.value.name, msg2.message.value.metadata]).toEqual(["Alice B.", undefined]);
    await server.send({ requestId: msg2.requestId, seq: 3n, message: { case: "ack", value: {} } });
    await named;

    await expect(h.room.localParticipant.setMetadata("x".repeat(16 * 1024 + 1))).rejects.toBeInstanceOf(TooLargeError);
    await expect(h.room.localParticipant.setName("n".repeat(257))).rejects.toThrow(/256 bytes/);
  });
});
