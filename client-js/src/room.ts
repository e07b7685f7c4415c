/**
 * Joining a meeting and following it (mirrors `dark_tower_client::room`), with LiveKit's shape:
 * `new Room(options)`, `await room.connect(serverUrl, token)`, events from {@link RoomEvent},
 * `room.remoteParticipants`, `await room.disconnect()`.
 *
 * Connect flow (proto/README.md section 1): `POST /v1/join` → WebTransport to
 * `signal_url?access_token=…` → `Join` on the first bidirectional stream → `Joined` → WebTransport
 * to `media.url?ticket=…`.
 */

import { create, fromBinary } from "@bufbuild/protobuf";

import type { Engine } from "./engine.js";
import { ConnectionError, DarkTowerError, InvalidUseError, ProtocolError, ServerError, errorMessage } from "./errors.js";
import { TypedEventEmitter } from "./events.js";
import { certificateHashes, joinHttp } from "./join.js";
import { MediaReceiver } from "./media.js";
import { resolveOptions, type ResolvedRoomOptions, type RoomOptions } from "./options.js";
import { LocalParticipant, RemoteParticipant, type Participant } from "./participant.js";
import { errorCodeFromWire, type ErrorCodeName } from "./proto/error.js";
import {
  ClientMessageSchema,
  LeaveSchema,
  ParticipantSchema,
  ServerMessageSchema,
  SubscribeSchema,
  UnsubscribeSchema,
  type Joined,
  type Participant as ProtoParticipant,
  type ServerMessage,
} from "./proto/gen/dark_tower/signaling/v1/signaling_pb.js";
import { MAX_DATAGRAM_FRAME } from "./proto/limits.js";
import type { MediaFrame } from "./proto/media.js";
import { RemoteTrackPublication, trackInfoFromProto, type LocalTrackPublication } from "./publication.js";
import { ConnectionState, RoomEvent, type DisconnectReason, type RoomEventCallbacks } from "./room_events.js";
import { SignalClient, expectCase, type ServerBody } from "./signal.js";
import { DatagramWriter, type Session } from "./transport.js";
import { SDK_NAME, SDK_VERSION } from "./version.js";

/** How long `disconnect()` waits for the server to close the session after `Leave`. */
const LEAVE_WAIT_MS = 2000;
/** Frames kept per unknown track alias until the track is announced. */
const MAX_PENDING_FRAMES = 256;
const MAX_PENDING_ALIASES = 32;

/** Everything that exists only while connected. */
interface Connection extends Engine {
  readonly signalSession: Session;
  readonly receiver: MediaReceiver;
  /** The server's `Disconnect`, if it sent one. */
  disconnect: { code: ErrorCodeName | undefined; message: string } | undefined;
}

function awaitReady(session: Session, what: string): Promise<void> {
  // `closed` rejects too when the session fails; nobody else may be listening yet.
  session.closed.catch(() => undefined);
  return session.ready.then(
    () => undefined,
    (e: unknown) => {
      throw new ConnectionError(`${what} session refused or unreachable: ${errorMessage(e)}`);
    },
  );
}

function closeQuietly(session: Session | undefined, code: number, reason: string): void {
  try {
    session?.close({ closeCode: code, reason });
  } catch {
    // Already closed.
  }
}

/** A meeting this client takes part in. */
export class Room extends TypedEventEmitter<RoomEventCallbacks> {
  /** The options in force, defaults filled in. */
  readonly options: ResolvedRoomOptions;
  /** Other participants, by identity. */
  readonly remoteParticipants = new Map<string, RemoteParticipant>();
  private readonly bySid = new Map<string, RemoteParticipant>();
  private readonly byAlias = new Map<number, { pub: RemoteTrackPublication; participant: RemoteParticipant }>();
  private readonly pendingFrames = new Map<number, MediaFrame[]>();
  private local: LocalParticipant = new LocalParticipant(create(ParticipantSchema, {}));
  private conn: Connection | undefined;
  private connState = ConnectionState.Disconnected;
  private meetingName = "";
  private joined: Joined | undefined;

  constructor(options?: RoomOptions) {
    super();
    this.options = resolveOptions(options);
  }

  /** This client's participant (a placeholder until connected). */
  get localParticipant(): LocalParticipant {
    return this.local;
  }

  /** The meeting's name, once connected. */
  get name(): string {
    return this.meetingName;
  }

  /** The connection state. */
  get state(): ConnectionState {
    return this.connState;
  }

  /** The server's `Joined` message, once connected (limits, server time). */
  get joinedInfo(): Joined | undefined {
    return this.joined;
  }

  /** Receive counters of the media session, while connected. */
  get mediaStats(): MediaReceiver["stats"] | undefined {
    return this.conn?.receiver.stats;
  }

  private setState(s: ConnectionState): void {
    if (this.connState === s) return;
    this.connState = s;
    this.emit(RoomEvent.ConnectionStateChanged, s);
  }

  /**
   * Joins the meeting named by `token` on the server at `serverUrl` (e.g. `https://host:8080`).
   * Rejects with {@link JoinRefusedError} when `/v1/join` refuses, {@link ServerError} when the
   * meeting controller does, {@link ConnectionError} when a session cannot be opened.
   */
  async connect(serverUrl: string, token: string): Promise<void> {
    if (this.connState !== ConnectionState.Disconnected) throw new InvalidUseError(`cannot connect while ${this.connState}`);
    this.setState(ConnectionState.Connecting);
    const o = this.options;
    let signalSession: Session | undefined;
    let media: Session | undefined;
    try {
      const join = await joinHttp(serverUrl, token, o.protocolVersion, o.fetch);
      signalSession = o.sessionFactory(
        `${join.signalUrl}?access_token=${encodeURIComponent(token)}`,
        certificateHashes(join.certificateSha256),
      );
      await awaitReady(signalSession, "signaling");
      const stream = await signalSession.createBidirectionalStream();
      const signal = new SignalClient(stream, o.requestTimeoutMs);
      signal.write(
        create(ClientMessageSchema, {
          requestId: 0,
          message: {
            case: "join",
            value: {
              protocolVersion: o.protocolVersion,
              client: { sdk: SDK_NAME, version: SDK_VERSION, detail: o.clientDetail },
              autoSubscribe: o.autoSubscribe,
            },
          },
        }),
      );
      let first = await signal.readMessageWithin(o.requestTimeoutMs);
      // In a meeting with a lobby, LobbyWaiting comes first; Joined follows on admission.
      while (first?.message.case === "lobbyWaiting") {
        this.emit(RoomEvent.LobbyWaiting);
        first = await signal.readMessage();
      }
      const joined = await this.expectJoined(first?.message, signalSession);
      if (joined.participant === undefined || joined.media === undefined) {
        throw new ProtocolError("Joined without a participant or media endpoint");
      }
      media = o.sessionFactory(
        `${joined.media.url}?ticket=${encodeURIComponent(joined.media.ticket)}`,
        certificateHashes(joined.media.certificateSha256),
      );
      await awaitReady(media, "media");
      this.start(joined, joined.participant, signalSession, signal, media);
    } catch (e) {
      closeQuietly(media, 0, "connect failed");
      closeQuietly(signalSession, 0, "connect failed");
      this.setState(ConnectionState.Disconnected);
      throw e instanceof DarkTowerError ? e : new ConnectionError(errorMessage(e));
    }
  }

  private async expectJoined(body: ServerBody | undefined, session: Session): Promise<Joined> {
    switch (body?.case) {
      case "joined":
        return body.value;
      case "disconnect":
        throw new ServerError(errorCodeFromWire(body.value.code) ?? "internal", body.value.message);
      case undefined: {
        const info = await session.closed.catch((e: unknown) => ({ closeCode: undefined, reason: errorMessage(e) }));
        const code = info.closeCode === undefined ? undefined : errorCodeFromWire(info.closeCode);
        if (code !== undefined) throw new ServerError(code, info.reason ?? "");
        throw new ConnectionError(`signaling closed before Joined: ${info.reason ?? ""}`);
      }
      default:
        throw new ProtocolError(`expected Joined, got ${body?.case ?? "nothing"}`);
    }
  }

  private start(joined: Joined, me: ProtoParticipant, signalSession: Session, signal: SignalClient, media: Session): void {
    const receiver = new MediaReceiver(media, (f) => this.onFrame(f));
    const conn: Connection = {
      options: this.options,
      signal,
      media,
      signalSession,
      receiver,
      mediaDatagrams: new DatagramWriter(media),
      signalDatagrams: new DatagramWriter(signalSession),
      maxDatagramFrame: joined.limits?.maxDatagramFrameBytes || MAX_DATAGRAM_FRAME,
      disconnect: undefined,
      participantIds: (identities) =>
        identities.flatMap((id) => {
          const p = this.remoteParticipants.get(id);
          return p === undefined ? [] : [p.sid];
        }),
      localTrackPublished: (pub) => this.emit(RoomEvent.LocalTrackPublished, pub, this.local),
      localTrackUnpublished: (pub) => this.emit(RoomEvent.LocalTrackUnpublished, pub, this.local),
    };
    this.conn = conn;
    this.joined = joined;
    this.meetingName = joined.meeting?.name ?? "";
    this.local = new LocalParticipant(me);
    this.local.bind(conn);
    for (const p of joined.others) this.addParticipant(p, false);
    receiver.start();
    void signal.run({
      onMessage: (m) => this.handle(m),
      onCodecError: (e) => {
        console.warn("bad signaling message from server:", e.message);
        closeQuietly(signalSession, e.code === "message_too_large" ? 2 : 1, e.message);
      },
      onClosed: (reason) => void this.sessionEnded(conn, reason),
    });
    void this.readSignalDatagrams(signalSession);
    media.closed.then(
      (info) => this.finish(conn, { code: errorCodeFromWire(info.closeCode ?? 0), message: `media session closed: ${info.reason ?? ""}`, clientInitiated: false }),
      (e: unknown) => this.finish(conn, { code: undefined, message: `media session failed: ${errorMessage(e)}`, clientInitiated: false }),
    );
    this.setState(ConnectionState.Connected);
    this.emit(RoomEvent.Connected);
    if (this.options.autoSubscribe) {
      for (const p of this.bySid.values()) {
        for (const pub of p.trackPublications.values()) this.subscribed(pub, p);
      }
    }
  }

  /** The signaling stream ended: report the server's reason, or the session's close code. */
  private async sessionEnded(conn: Connection, reason: string): Promise<void> {
    if (this.conn !== conn) return;
    let code = conn.disconnect?.code;
    let message = conn.disconnect?.message ?? reason;
    if (conn.disconnect === undefined) {
      const info = await Promise.race([
        conn.signalSession.closed.catch(() => undefined),
        new Promise<undefined>((r) => setTimeout(r, 500)),
      ]);
      if (info !== undefined) {
        code = errorCodeFromWire(info.closeCode ?? 0);
        if (info.reason) message = info.reason;
      }
    }
    this.finish(conn, { code, message, clientInitiated: false });
  }

  private async readSignalDatagrams(session: Session): Promise<void> {
    const reader = session.datagrams.readable.getReader();
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        try {
          const m = fromBinary(ServerMessageSchema, value);
          if (m.message.case !== undefined) this.handle(m);
        } catch {
          // A bad best-effort datagram is dropped.
        }
      }
    } catch {
      // The session closed.
    }
  }

  /** Leaves the meeting (`Leave`) and closes both sessions. */
  async disconnect(): Promise<void> {
    const conn = this.conn;
    if (conn === undefined) return;
    try {
      conn.signal.send({ case: "leave", value: create(LeaveSchema, { reason: "leave" }) });
    } catch {
      // Signaling already closed.
    }
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      conn.signalSession.closed.catch(() => undefined),
      new Promise((r) => {
        timer = setTimeout(r, LEAVE_WAIT_MS);
      }),
    ]);
    clearTimeout(timer);
    this.finish(conn, { code: undefined, message: "client disconnected", clientInitiated: true });
  }

  /** Tears down `conn` once and emits {@link RoomEvent.Disconnected}. */
  private finish(conn: Connection, reason: DisconnectReason): void {
    if (this.conn !== conn) return;
    this.conn = undefined;
    conn.receiver.stop();
    conn.signal.fail(reason.message);
    this.local.stopAll();
    this.local.bind(undefined);
    conn.mediaDatagrams.close();
    conn.signalDatagrams.close();
    closeQuietly(conn.media, 0, "leave");
    closeQuietly(conn.signalSession, 0, "leave");
    for (const p of this.bySid.values()) {
      for (const pub of p.trackPublications.values()) pub.dropTrack();
    }
    this.bySid.clear();
    this.remoteParticipants.clear();
    this.byAlias.clear();
    this.pendingFrames.clear();
    this.setState(ConnectionState.Disconnected);
    this.emit(RoomEvent.Disconnected, reason);
  }

  // ---- roster -------------------------------------------------------------------------------

  private addParticipant(p: ProtoParticipant, announce: boolean): RemoteParticipant {
    const participant = new RemoteParticipant(p);
    this.bySid.set(participant.sid, participant);
    this.remoteParticipants.set(participant.identity, participant);
    if (announce) this.emit(RoomEvent.ParticipantConnected, participant);
    for (const t of p.tracks) this.addTrack(participant, t, announce);
    return participant;
  }

  private addTrack(participant: RemoteParticipant, t: NonNullable<ProtoParticipant["tracks"][number]>, announce: boolean): void {
    const pub = new RemoteTrackPublication(trackInfoFromProto(t), (x, on) => this.setSubscribed(x, on));
    participant.trackPublications.set(pub.trackSid, pub);
    this.byAlias.set(pub.info.alias, { pub, participant });
    if (announce) {
      this.emit(RoomEvent.TrackPublished, pub, participant);
      if (this.options.autoSubscribe) this.subscribed(pub, participant);
    }
  }

  /** Creates the track of a subscribed publication, emits TrackSubscribed, replays early frames. */
  private subscribed(pub: RemoteTrackPublication, participant: RemoteParticipant): void {
    if (pub.isSubscribed) return;
    const track = pub.createTrack();
    this.emit(RoomEvent.TrackSubscribed, track, pub, participant);
    const early = this.pendingFrames.get(pub.info.alias);
    this.pendingFrames.delete(pub.info.alias);
    for (const f of early ?? []) track.handleFrame(f);
  }

  private unsubscribed(pub: RemoteTrackPublication, participant: RemoteParticipant): void {
    const track = pub.dropTrack();
    if (track !== undefined) this.emit(RoomEvent.TrackUnsubscribed, track, pub, participant);
  }

  private removeTrack(participant: RemoteParticipant, pub: RemoteTrackPublication): void {
    this.unsubscribed(pub, participant);
    participant.trackPublications.delete(pub.trackSid);
    this.byAlias.delete(pub.info.alias);
    this.pendingFrames.delete(pub.info.alias);
  }

  private async setSubscribed(pub: RemoteTrackPublication, on: boolean): Promise<void> {
    const conn = this.conn;
    if (conn === undefined) throw new ConnectionError("the room is not connected");
    const entry = this.byAlias.get(pub.info.alias);
    if (entry === undefined) throw new InvalidUseError("the track is no longer published");
    if (on) {
      if (pub.isSubscribed) return;
      const reply = await conn.signal.request({ case: "subscribe", value: create(SubscribeSchema, { trackId: pub.trackSid }) });
      expectCase(reply, "subscribeAck");
      this.subscribed(pub, entry.participant);
    } else {
      if (!pub.isSubscribed) return;
      conn.signal.send({ case: "unsubscribe", value: create(UnsubscribeSchema, { trackId: pub.trackSid }) });
      this.unsubscribed(pub, entry.participant);
    }
  }

  // ---- events from the server ---------------------------------------------------------------

  private handle(msg: ServerMessage): void {
    const body = msg.message;
    switch (body.case) {
      case "participantJoined":
        if (body.value.participant !== undefined && !this.bySid.has(body.value.participant.id)) {
          this.addParticipant(body.value.participant, true);
        }
        return;
      case "participantLeft": {
        const p = this.bySid.get(body.value.participantId);
        if (p === undefined) return;
        for (const pub of [...p.trackPublications.values()]) this.removeTrack(p, pub);
        this.bySid.delete(p.sid);
        if (this.remoteParticipants.get(p.identity) === p) this.remoteParticipants.delete(p.identity);
        this.emit(RoomEvent.ParticipantDisconnected, p);
        return;
      }
      case "trackPublished": {
        const p = this.bySid.get(body.value.participantId);
        if (p !== undefined && body.value.track !== undefined) this.addTrack(p, body.value.track, true);
        return;
      }
      case "trackUnpublished": {
        const p = this.bySid.get(body.value.participantId);
        const pub = p?.trackPublications.get(body.value.trackId);
        if (p === undefined || pub === undefined) return;
        this.removeTrack(p, pub);
        this.emit(RoomEvent.TrackUnpublished, pub, p);
        return;
      }
      case "trackMuted": {
        const p = this.bySid.get(body.value.participantId);
        const pub = p?.trackPublications.get(body.value.trackId);
        if (p === undefined || pub === undefined) return;
        pub.info.muted = body.value.muted;
        this.emit(body.value.muted ? RoomEvent.TrackMuted : RoomEvent.TrackUnmuted, pub, p);
        return;
      }
      case "dataReceived":
        this.emit(
          RoomEvent.DataReceived,
          body.value.payload,
          this.bySid.get(body.value.fromParticipantId),
          body.value.topic,
          body.value.reliable,
        );
        return;
      case "activeSpeakers": {
        const speakers: Participant[] = [];
        const levels = new Map(body.value.speakers.map((s) => [s.participantId, s.level]));
        for (const p of [this.local, ...this.bySid.values()]) {
          const level = levels.get(p.sid);
          p.isSpeaking = level !== undefined;
          p.audioLevel = level ?? 0;
        }
        for (const s of body.value.speakers) {
          const p = s.participantId === this.local.sid ? this.local : this.bySid.get(s.participantId);
          if (p !== undefined) speakers.push(p);
        }
        this.emit(RoomEvent.ActiveSpeakersChanged, speakers);
        return;
      }
      case "keyframeRequest": {
        const pub = this.local.trackPublications.get(body.value.trackId);
        if (pub !== undefined && "requestKeyframe" in pub.pipeline) pub.pipeline.requestKeyframe();
        return;
      }
      case "error":
        this.emit(RoomEvent.ServerError, errorCodeFromWire(body.value.code) ?? "internal", body.value.message);
        return;
      case "disconnect":
        if (this.conn !== undefined) {
          this.conn.disconnect = { code: errorCodeFromWire(body.value.code), message: body.value.message };
        }
        return;
      default:
        // Replies whose request was abandoned, and messages only valid at join time.
        return;
    }
  }

  // ---- media --------------------------------------------------------------------------------

  private onFrame(frame: MediaFrame): void {
    const alias = frame.header.trackAlias;
    const entry = this.byAlias.get(alias);
    if (entry !== undefined) {
      entry.pub.track?.handleFrame(frame);
      return;
    }
    // Media may arrive before the TrackPublished that announces it: keep it briefly.
    let queue = this.pendingFrames.get(alias);
    if (queue === undefined) {
      if (this.pendingFrames.size >= MAX_PENDING_ALIASES) return;
      queue = [];
      this.pendingFrames.set(alias, queue);
    }
    if (frame.header.keyframe) queue.length = 0;
    if (queue.length < MAX_PENDING_FRAMES) queue.push(frame);
  }
}
