import { describe, expect, it } from "vitest";

import type { ClientMessage } from "../src/proto/gen/dark_tower/signaling/v1/signaling_pb.js";
import { until } from "./fake_session.js";
import { bobCamera, connect, harness, joined, serverOf } from "./room_harness.js";
import type { FakeSignalServer } from "./server_side.js";

/** Reads the next client message, which must be an UpdateSubscription, and Acks it; returns its fields. */
async function ackUpdate(server: FakeSignalServer, seq: bigint) {
  const m: ClientMessage | undefined = await server.next();
  if (m?.message.case !== "updateSubscription") throw new Error(`expected UpdateSubscription, got ${m?.message.case ?? "nothing"}`);
  await server.send({ requestId: m.requestId, seq, message: { case: "ack", value: {} } });
  const v = m.message.value;
  return { trackId: v.trackId, maxSpatialId: v.maxSpatialId, maxWidth: v.maxWidth, maxHeight: v.maxHeight, paused: v.paused };
}

describe("subscription control", () => {
  it("autoSubscribe false: Join says so, nothing is received until setSubscribed(true); settings given before are sent after SubscribeAck", async () => {
    const h = harness(200, undefined, { autoSubscribe: false });
    const done = h.room.connect("http://127.0.0.1:8080", "t");
    const server = await serverOf(h, 0);
    const join = await server.next();
    if (join?.message.case !== "join") throw new Error("expected Join");
    expect(join.message.value.autoSubscribe).toBe(false);
    await server.send({ requestId: join.requestId, seq: 1n, message: { case: "joined", value: joined() } });
    await done;
    const pub = h.room.remoteParticipants.get("bob")?.trackPublications.get(bobCamera.id);
    if (pub === undefined) throw new Error("bob's camera unknown");
    expect(pub.isSubscribed).toBe(false);
    expect(h.events.some((e) => e.startsWith("trackSubscribed"))).toBe(false);

    // Not subscribed: remembered, nothing sent.
    await pub.setVideoQuality("low");
    const subscribing = pub.setSubscribed(true);
    const sub = await server.next();
    if (sub?.message.case !== "subscribe") throw new Error("expected Subscribe");
    expect(sub.message.value.trackId).toBe(bobCamera.id);
    await server.send({ requestId: sub.requestId, seq: 2n, message: { case: "subscribeAck", value: { trackId: bobCamera.id } } });
    await subscribing;
    expect(h.events).toContain(`trackSubscribed:${bobCamera.id}`);
    expect(await ackUpdate(server, 3n)).toEqual({ trackId: bobCamera.id, maxSpatialId: 0, maxWidth: undefined, maxHeight: undefined, paused: false });

    const unsubscribing = pub.setSubscribed(false);
    const unsub = await server.next();
    expect(unsub?.message.case).toBe("unsubscribe");
    await unsubscribing;
    expect(pub.isSubscribed).toBe(false);
    expect(h.events).toContain(`trackUnsubscribed:${bobCamera.id}`);
  });

  it("setVideoQuality, setVideoDimensions and setEnabled send UpdateSubscription with every setting; unchanged ones are not resent", async () => {
    const h = harness();
    const server = await connect(h);
    const pub = h.room.remoteParticipants.get("bob")?.trackPublications.get(bobCamera.id);
    if (pub === undefined || !pub.isSubscribed) throw new Error("bob's camera not subscribed");

    const q = pub.setVideoQuality("medium");
    expect(await ackUpdate(server, 2n)).toMatchObject({ maxSpatialId: 0, paused: false, maxWidth: undefined });
    await q;
    const d = pub.setVideoDimensions({ width: 160, height: 120 });
    expect(await ackUpdate(server, 3n)).toMatchObject({ maxSpatialId: 0, maxWidth: 160, maxHeight: 120, paused: false });
    await d;
    await pub.setVideoDimensions({ width: 160, height: 120 });
    const e = pub.setEnabled(false);
    expect(await ackUpdate(server, 4n)).toMatchObject({ maxSpatialId: 0, paused: true, maxWidth: undefined });
    await e;
    expect(pub.isEnabled).toBe(false);
    const back = pub.setEnabled(true);
    expect(await ackUpdate(server, 5n)).toMatchObject({ paused: false, maxWidth: 160 });
    await back;
  });

  it("an Error answer rejects, and the same settings are tried again next time", async () => {
    const h = harness();
    const server = await connect(h);
    const pub = h.room.remoteParticipants.get("bob")?.trackPublications.get(bobCamera.id);
    if (pub === undefined) throw new Error("no publication");
    const failed = pub.setEnabled(false);
    const m = await server.next();
    await server.send({ requestId: m?.requestId ?? 0, seq: 2n, message: { case: "error", value: { code: 21, message: "not subscribed" } } });
    await expect(failed).rejects.toMatchObject({ code: "invalid_request" });
    const again = pub.setEnabled(false);
    expect(await ackUpdate(server, 3n)).toMatchObject({ paused: true });
    await again;
  });

  it("adaptive stream: a video track attached nowhere is paused once the debounce settles", async () => {
    const h = harness(200, undefined, { adaptiveStream: { debounceMs: 10, pixelDensity: 1 } });
    const server = await connect(h);
    expect(await ackUpdate(server, 2n)).toMatchObject({ trackId: bobCamera.id, paused: true });
    const pub = h.room.remoteParticipants.get("bob")?.trackPublications.get(bobCamera.id);
    await until(() => pub?.subscriptionUpdate().paused === true);
  });
});
