/** A Room over fake sessions, with the test playing the server (shared by the Room tests). */

import { create } from "@bufbuild/protobuf";
import { expect } from "vitest";

import {
  JoinedSchema,
  ParticipantSchema,
  TrackKind as ProtoKind,
  TrackSource as ProtoSource,
  TrackSchema,
  type Joined,
} from "../src/proto/gen/dark_tower/signaling/v1/signaling_pb.js";
import type { RoomOptions } from "../src/options.js";
import { Room } from "../src/room.js";
import { RoomEvent } from "../src/room_events.js";
import { FakeSession, until } from "./fake_session.js";
import { FakeSignalServer } from "./server_side.js";

export const HASH = "6b86b273ff34fce19d6b804eff5a3f5747ada4eaa22f1d49c01e52ddb7875b4b";

/** A room, the sessions it opened, its HTTP requests and its events as "event:detail". */
export interface Harness {
  room: Room;
  sessions: FakeSession[];
  requests: { url: string; init: RequestInit }[];
  events: string[];
  /** When set, new sessions fail to open with this error. */
  refuse: Error | undefined;
}

/** The detail logged for an event argument: identity, track sid, sid or string. */
function detailOf(first: unknown): string {
  if (first !== null && typeof first === "object") {
    if ("identity" in first) return String(first.identity);
    if ("trackSid" in first) return String(first.trackSid);
    if ("sid" in first) return String(first.sid);
    if ("message" in first) return String(first.message);
  }
  return typeof first === "string" ? first : "";
}

export function harness(joinStatus = 200, joinBody: unknown = undefined, options: RoomOptions = {}): Harness {
  const h: Harness = { room: undefined as unknown as Room, sessions: [], requests: [], events: [], refuse: undefined };
  h.room = new Room({
    clientDetail: "unit test",
    fetch: (url, init) => {
      h.requests.push({ url, init });
      const body = joinBody ?? {
        protocol_version: 1,
        meeting: "standup",
        identity: "alice",
        signal_url: "https://127.0.0.1:4433/v1/signal/standup",
        certificate_sha256: [HASH],
      };
      return Promise.resolve(new Response(JSON.stringify(body), { status: joinStatus }));
    },
    sessionFactory: (url, hashes) => {
      const s = new FakeSession(url, hashes, 1200, h.refuse);
      h.sessions.push(s);
      return s;
    },
    ...options,
  });
  for (const e of Object.values(RoomEvent)) {
    h.room.on(e, (...args: unknown[]) => {
      const detail = detailOf(args[0]);
      h.events.push(detail === "" ? e : `${e}:${detail}`);
    });
  }
  return h;
}

export const bobCamera = create(TrackSchema, {
  id: "TR_00000000000000b1",
  alias: 9,
  kind: ProtoKind.VIDEO,
  source: ProtoSource.CAMERA,
  codec: "vp8",
  name: "camera",
});

/** What a test may change in `Joined`. */
export type JoinedOverrides = Partial<Pick<Joined, "resumeToken" | "resumeGraceMs" | "others">>;

/** The `Joined` the fake server sends: alice joins, bob is there with a camera. */
export function joined(overrides: JoinedOverrides = {}): Joined {
  return create(JoinedSchema, {
    participant: { id: "PA_00000000000000a1", identity: "alice", name: "Alice" },
    others: [create(ParticipantSchema, { id: "PA_00000000000000b0", identity: "bob", name: "Bob", tracks: [bobCamera] })],
    meeting: { name: "standup" },
    media: { url: "https://127.0.0.1:4433/v1/media", ticket: "ti.ck.et", certificateSha256: [HASH] },
    limits: { maxDatagramFrameBytes: 1100 },
    protocolVersion: 1,
    ...overrides,
  });
}

/** The fake server side of the `n`th session's first bidirectional stream, once opened. */
export async function serverOf(h: Harness, n: number): Promise<FakeSignalServer> {
  await until(() => (h.sessions[n]?.bidi.length ?? 0) >= 1);
  const stream = h.sessions[n]?.bidi[0];
  if (stream === undefined) throw new Error(`no signaling stream on session ${n}`);
  return new FakeSignalServer(stream);
}

/** Connects `h.room`, playing the server; returns the fake signaling server. */
export async function connect(h: Harness, overrides: JoinedOverrides = {}): Promise<FakeSignalServer> {
  const done = h.room.connect("http://127.0.0.1:8080", "tok.en");
  const server = await serverOf(h, 0);
  const join = await server.next();
  expect(join?.message.case).toBe("join");
  await server.send({ requestId: join?.requestId ?? 0, seq: 1n, message: { case: "joined", value: joined(overrides) } });
  await done;
  return server;
}
