import { describe, expect, it } from "vitest";

import { EncryptionError } from "../src/e2ee/errors.js";
import { ExternalE2EEKeyProvider, type KeyOp } from "../src/e2ee/external_key_provider.js";
import { FrameDecryptor, FrameEncryptor } from "../src/e2ee/frame.js";
import { KeyProvider, baseKeyFromPassphrase } from "../src/e2ee/keys.js";
import { InvalidUseError } from "../src/errors.js";
import { TrackSender, type OutgoingFrame } from "../src/local_track.js";
import { MediaStreamReader, STREAM_TYPE_GROUP, encodeStreamFrame, type MediaFrame, type MediaHeader } from "../src/proto/media.js";
import type { RemoteTrack } from "../src/track.js";
import { DatagramWriter } from "../src/transport.js";
import { RoomE2EE } from "../src/e2ee/room_e2ee.js";
import { RoomEvent } from "../src/room_events.js";
import { FakeSession, pushable, until } from "./fake_session.js";
import { bobCamera, connect, harness } from "./room_harness.js";

const KEY = new TextEncoder().encode("sixteen byte key and then some");
const WRONG = new TextEncoder().encode("another key of sixteen+ bytes");
const BOB = "PA_00000000000000b0";
const ALICE = "PA_00000000000000a1";

function header(frameSeq: number, keyframe: boolean): MediaHeader {
  return {
    trackAlias: bobCamera.alias,
    spatialId: 0,
    temporalId: 0,
    groupSeq: 0n,
    frameSeq,
    captureTsUs: 1_700_000_000_000_000n + BigInt(frameSeq),
    keyframe,
    discardable: false,
    endOfGroup: false,
    audioLevel: undefined,
  };
}

/** Frames bob publishes, encrypted with `key` at index 0. */
async function bobFrames(key: Uint8Array, n: number): Promise<MediaFrame[]> {
  const keys = new KeyProvider();
  await keys.setSharedKey(0, key);
  const enc = FrameEncryptor.create(BOB);
  const out: MediaFrame[] = [];
  for (let i = 0; i < n; i++) {
    const h = header(i, i === 0);
    out.push({ header: h, payload: await enc.encryptFrame(keys, h, Uint8Array.of(0xb0, i)) });
  }
  return out;
}

/** A connected room with E2EE on and `KEY` set; bob's camera records what reaches its decoder. */
async function e2eeRoom() {
  const keyProvider = new ExternalE2EEKeyProvider();
  await keyProvider.setKey(KEY);
  const h = harness(200, undefined, { e2ee: { keyProvider } });
  const errors: string[] = [];
  h.room.on(RoomEvent.EncryptionError, (e, p, pub) => errors.push(`${e.kind}:${p?.identity ?? "?"}:${pub?.trackSid ?? "?"}`));
  await connect(h);
  await h.room.setE2EEEnabled(true);
  const track = h.room.remoteParticipants.get("bob")?.trackPublications.get(bobCamera.id)?.track;
  if (track === undefined) throw new Error("bob's camera not subscribed");
  const got: number[][] = [];
  let resyncs = 0;
  (track as RemoteTrack).handleFrame = (f) => got.push([f.header.frameSeq, ...f.payload]);
  (track as RemoteTrack).resync = () => void resyncs++;
  const media = h.sessions[1];
  if (media === undefined) throw new Error("no media session");
  const stream = pushable<Uint8Array>();
  media.incomingStreams.push(stream.stream);
  stream.push(Uint8Array.of(STREAM_TYPE_GROUP));
  const push = (frames: MediaFrame[]): void => {
    for (const f of frames) stream.push(encodeStreamFrame(f));
  };
  return { h, keyProvider, errors, got, resyncs: () => resyncs, push };
}

describe("E2EE in a room", () => {
  it("decrypts every received frame with the sender's key before it reaches the decoder, in order", async () => {
    const r = await e2eeRoom();
    r.push(await bobFrames(KEY, 5));
    await until(() => r.got.length === 5);
    expect(r.got).toEqual([0, 1, 2, 3, 4].map((i) => [i, 0xb0, i]));
    expect(r.h.room.e2eeStats).toMatchObject({ framesDecrypted: 5, decryptFailures: 0 });
    expect(r.errors).toEqual([]);
  });

  it("a frame under the wrong key is dropped, the track waits for a keyframe, EncryptionError at most twice a second", async () => {
    const r = await e2eeRoom();
    r.push(await bobFrames(WRONG, 8));
    await until(() => r.h.room.e2eeStats?.decryptFailures === 8);
    expect(r.got).toEqual([]);
    expect(r.resyncs()).toBe(8);
    expect(r.errors).toEqual([`AuthenticationFailed:bob:${bobCamera.id}`]);
    // The right key again: frames flow.
    r.push(await bobFrames(KEY, 2));
    await until(() => r.got.length === 2);
  });

  it("with E2EE off (or not configured) frames pass through as they are", async () => {
    const r = await e2eeRoom();
    await r.h.room.setE2EEEnabled(false);
    expect(r.h.room.isE2EEEnabled).toBe(false);
    r.push([{ header: header(0, true), payload: Uint8Array.of(1, 2) }]);
    await until(() => r.got.length === 1);
    expect(r.got).toEqual([[0, 1, 2]]);

    const plain = harness();
    await connect(plain);
    await expect(plain.room.setE2EEEnabled(true)).rejects.toBeInstanceOf(InvalidUseError);
  });
});

describe("E2EE on the sending side", () => {
  function frame(keyframe: boolean, byte: number): OutgoingFrame {
    return { spatialId: 0, temporalId: 0, keyframe, discardable: false, captureTsUs: 5n, payload: Uint8Array.of(byte, byte) };
  }

  async function sentFrames(session: FakeSession): Promise<MediaFrame[]> {
    const out: MediaFrame[] = [];
    for (const o of session.opened) {
      await o.sink.closed;
      const r = new MediaStreamReader();
      r.push(o.sink.bytes());
      for (let f = r.nextFrame(); f !== undefined; f = r.nextFrame()) out.push(f);
    }
    return out;
  }

  it("encrypts each payload after the header is set; receivers with the key get the encoded bytes back", async () => {
    const keyProvider = new ExternalE2EEKeyProvider();
    await keyProvider.setKey(KEY);
    const e2ee = new RoomE2EE({ keyProvider }, () => undefined);
    e2ee.start(ALICE);
    e2ee.enabled = true;
    const session = new FakeSession("x", []);
    const sender = new TrackSender(7, "video", 1, session, new DatagramWriter(session));
    sender.setTransform(e2ee.senderTransform());
    for (const [k, b] of [[true, 1], [false, 2], [false, 3]] as const) sender.send(frame(k, b));
    await sender.flushed();
    sender.close();
    const frames = await sentFrames(session);
    expect(frames.map((f) => f.header.frameSeq)).toEqual([0, 1, 2]);
    expect(frames.every((f) => f.payload.length > 2 + 16)).toBe(true);
    const keys = new KeyProvider();
    await keys.setSharedKey(0, KEY);
    const dec = new FrameDecryptor();
    const plain = await Promise.all(frames.map((f) => dec.decryptFrame(keys, ALICE, f.header, f.payload)));
    expect(plain.map((p) => [...p])).toEqual([[1, 1], [2, 2], [3, 3]]);
    expect(e2ee.stats.framesEncrypted).toBe(3);
  });

  it("without a key: frames are dropped and reported (NoSendingKey), video resumes at a keyframe once a key is set", async () => {
    const keyProvider = new ExternalE2EEKeyProvider();
    const reported: string[] = [];
    const e2ee = new RoomE2EE({ keyProvider }, (e) => reported.push(e.kind));
    e2ee.start(ALICE);
    e2ee.enabled = true;
    const session = new FakeSession("x", []);
    const sender = new TrackSender(7, "video", 1, session, new DatagramWriter(session));
    sender.setTransform(e2ee.senderTransform(), (e) => e2ee.encryptFailed(e, { sid: ALICE } as never, undefined));
    sender.send(frame(true, 1));
    sender.send(frame(false, 2));
    await sender.flushed();
    expect(session.opened.length).toBe(0);
    expect(reported).toEqual(["NoSendingKey"]);
    // The group is broken: the encoder is asked for a keyframe (send returns false for deltas).
    expect(sender.send(frame(false, 3))).toBe(false);
    await keyProvider.setKey(KEY);
    sender.send(frame(true, 4));
    sender.send(frame(false, 5));
    await sender.flushed();
    sender.close();
    const frames = await sentFrames(session);
    expect(frames.map((f) => [f.header.groupSeq, f.header.frameSeq, f.header.keyframe])).toEqual([
      [1n, 0, true],
      [1n, 1, false],
    ]);
    expect(e2ee.stats.encryptFailures).toBe(2);
  });
});

describe("ExternalE2EEKeyProvider", () => {
  it("passphrases become PBKDF2 keys; raw keys are checked; changes apply in call order and replay to late listeners", async () => {
    const kp = new ExternalE2EEKeyProvider({ passphrase: { iterations: 1000 } });
    const early: KeyOp[] = [];
    kp.onKeyOp((op) => early.push(op));
    const slow = kp.setKey("correct horse", 0);
    const fast = kp.setKey(KEY, 1);
    await Promise.all([slow, fast]);
    await expect(kp.setKey(new Uint8Array(8), 2)).rejects.toMatchObject({ kind: "KeyTooShort" });
    await expect(kp.setKey(KEY, 256)).rejects.toBeInstanceOf(RangeError);
    await kp.setParticipantKey(BOB, WRONG, 3);
    await kp.removeParticipantKey(BOB);
    const expected = await baseKeyFromPassphrase("correct horse", { iterations: 1000 });
    expect(early.map((o) => o.kind)).toEqual(["shared", "shared", "participant", "removeParticipant"]);
    expect(early[0]?.kind === "shared" && [...early[0].key]).toEqual([...expected]);
    expect(early[1]?.kind === "shared" && early[1].index).toBe(1);
    expect(kp.currentKeyIndex).toBe(1);
    const late: KeyOp[] = [];
    kp.onKeyOp((op) => late.push(op));
    expect(late).toEqual(early);
  });

  it("EncryptionError is a typed error with its kind", () => {
    const e = new EncryptionError("UnknownKeyId", "no key", 5n);
    expect([e.name, e.kind, e.kid]).toEqual(["EncryptionError", "UnknownKeyId", 5n]);
  });
});
