/**
 * Joining a meeting and following it (mirrors `dark_tower_client::room` and `reconnect`), with
 * LiveKit's shape: `new Room(options)`, `await room.connect(serverUrl, token)`, events from
 * {@link RoomEvent}, `room.remoteParticipants`, `await room.disconnect()`.
 *
 * Connect flow (proto/README.md section 1): `POST /v1/join` → WebTransport to
 * `signal_url?access_token=…` → `Join` on the first bidirectional stream → `Joined` → WebTransport
 * to `media.url?ticket=…`. When the connection drops (not after `disconnect()` or a server
 * `Disconnect`), the room resumes it (`reconnect.ts`): {@link RoomEvent.Reconnecting}, a new
 * signaling session with the resume token, `Resumed`, a new media session, then
 * {@link RoomEvent.Reconnected}; or {@link RoomEvent.Disconnected} once the grace period is over.
 */

import { create, fromBinary } from "@bufbuild/protobuf";

import { AudioPlayback } from "./audio_playback.js";
import { getLocalDevices, type DeviceKind } from "./devices.js";
import { RoomE2EE, type E2EEStats } from "./e2ee/room_e2ee.js";
import type { Engine } from "./engine.js";
import { ConnectionError, DarkTowerError, InvalidUseError, ProtocolError, ServerError, errorMessage } from "./errors.js";
import { TypedEventEmitter } from "./events.js";
import { certificateHashes, joinHttp, type JoinResponse } from "./join.js";
import { MediaReceiver } from "./media.js";
import { resolveOptions, type ResolvedRoomOptions, type RoomOptions } from "./options.js";
import { LocalParticipant, type RemoteParticipant } from "./participant.js";
import { errorCodeFromWire, type ErrorCodeName } from "./proto/error.js";
import {
  ClientInfoSchema,
  ClientMessageSchema,
  LeaveSchema,
  ParticipantSchema,
  ServerMessageSchema,
  SubscribeSchema,
  UnsubscribeSchema,
  type Joined,
  type ServerMessage,
  type UpdateSubscription,
} from "./proto/gen/dark_tower/signaling/v1/signaling_pb.js";
import { MAX_DATAGRAM_FRAME } from "./proto/limits.js";
import type { MediaFrame } from "./proto/media.js";
import type { LocalTrackPublication, RemoteTrackPublication } from "./publication.js";
import { resume, type Resumption } from "./reconnect.js";
import { ConnectionState, RoomEvent, type DisconnectReason, type RoomEventCallbacks } from "./room_events.js";
import { RoomDevices } from "./room_devices.js";
import { Roster } from "./roster.js";
import { SignalClient, expectCase, type ServerBody } from "./signal.js";
import { RemoteAudioTrack, type AudioOutput } from "./track.js";
import { DatagramWriter, type Session } from "./transport.js";
import { SDK_NAME, SDK_VERSION } from "./version.js";
import { browserDecoderSupport, decodableCodecs } from "./codec/codec_choice.js";

/** How long `disconnect()` waits for the server to close the session after `Leave`. */
const LEAVE_WAIT_MS = 2000;
/** After the media session ends, how long to wait for signaling to say why before resuming. */
const MEDIA_END_SETTLE_MS = 300;

/** One generation of the connection: both sessions, replaced as a whole by a resume. */
interface Link {
  readonly signalSession: Session;
  readonly media: Session;
  readonly receiver: MediaReceiver;
  readonly mediaDatagrams: DatagramWriter;
  readonly signalDatagrams: DatagramWriter;
  /** Set once the link is given up (lost or torn down). */
  ended: boolean;
}

/** Everything that exists while connected, across resumes; what participants use. */
class Connection implements Engine {
  /** The server's `Disconnect`, if it sent one. */
  serverDisconnect: { code: ErrorCodeName | undefined; message: string } | undefined;
  /** `disconnect()` was called. */
  disconnecting = false;
  /** Cancels a resume in progress. */
  readonly abort = new AbortController();

  constructor(
    readonly options: ResolvedRoomOptions,
    readonly signal: SignalClient,
    public link: Link,
    readonly maxDatagramFrame: number,
    /** Set when the server allows resuming. */
    readonly resumption: Resumption | undefined,
    private readonly room: Pick<
      Engine,
      | "participantIds"
      | "localTrackPublished"
      | "localTrackUnpublished"
      | "remoteTrackMutedByUs"
      | "e2eeSender"
      | "e2eeConfigured"
      | "activeDevice"
      | "remoteVideoDecoders"
    >,
  ) {}

  activeDevice(kind: "videoinput" | "audioinput"): string | undefined {
    return this.room.activeDevice(kind);
  }

  get media(): Session {
    return this.link.media;
  }
  get mediaDatagrams(): DatagramWriter {
    return this.link.mediaDatagrams;
  }
  get signalDatagrams(): DatagramWriter {
    return this.link.signalDatagrams;
  }
  participantIds(identities: readonly string[]): string[] {
    return this.room.participantIds(identities);
  }
  localTrackPublished(pub: LocalTrackPublication): void {
    this.room.localTrackPublished(pub);
  }
  localTrackUnpublished(pub: LocalTrackPublication): void {
    this.room.localTrackUnpublished(pub);
  }
  remoteTrackMutedByUs(pub: RemoteTrackPublication): void {
    this.room.remoteTrackMutedByUs(pub);
  }
  e2eeSender(pub: LocalTrackPublication): ReturnType<Engine["e2eeSender"]> {
    return this.room.e2eeSender(pub);
  }
  e2eeConfigured(): boolean {
    return this.room.e2eeConfigured();
  }
  remoteVideoDecoders(): (readonly string[])[] {
    return this.room.remoteVideoDecoders();
  }
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

/** How a session ended: closed with this info, lost (`closed` rejected), or not yet (after `ms`). */
async function sessionOutcome(session: Session, ms: number): Promise<WebTransportCloseInfo | "lost" | "open"> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const r = await Promise.race([
    session.closed.then(
      (info) => info,
      () => "lost" as const,
    ),
    new Promise<"open">((res) => {
      timer = setTimeout(() => res("open"), ms);
    }),
  ]);
  clearTimeout(timer);
  return r;
}

/** A meeting this client takes part in. */
export class Room extends TypedEventEmitter<RoomEventCallbacks> {
  /** The options in force, defaults filled in. */
  readonly options: ResolvedRoomOptions;
  private readonly roster: Roster;
  private local: LocalParticipant = new LocalParticipant(create(ParticipantSchema, {}));
  private conn: Connection | undefined;
  private connState = ConnectionState.Disconnected;
  private meetingName = "";
  private joined: Joined | undefined;
  private readonly e2ee: RoomE2EE | undefined;
  private readonly playback: AudioPlayback;
  private readonly devices: RoomDevices;
  /** Where remote audio tracks play and report their elements. */
  private readonly audioOutput: AudioOutput;

  constructor(options?: RoomOptions) {
    super();
    this.options = resolveOptions(options);
    const room = this;
    this.roster = new Roster({
      events: this,
      get local() {
        return room.local;
      },
      autoSubscribe: this.options.autoSubscribe,
      control: {
        setSubscribed: (pub, on) => this.setSubscribed(pub, on),
        updateSubscription: (pub, update) => this.updateSubscription(update),
        adaptiveStream: this.options.adaptiveStream,
      },
      deliver: (frame, pub, participant) => this.deliver(frame, pub, participant),
      trackCreated: (track) => {
        if (track instanceof RemoteAudioTrack) track.setOutput(this.audioOutput);
      },
    });
    this.playback = new AudioPlayback((can) => this.emit(RoomEvent.AudioPlaybackStatusChanged, can));
    this.devices = new RoomDevices({
      options: this.options,
      get local() {
        return room.local;
      },
      remoteAudioTracks: () => this.remoteAudioTracks(),
      activeDeviceChanged: (kind, id) => this.emit(RoomEvent.ActiveDeviceChanged, kind, id),
      devicesChanged: () => this.emit(RoomEvent.MediaDevicesChanged),
      deviceFailed: (e) => this.emit(RoomEvent.MediaDevicesError, e),
    });
    const { devices, playback } = this;
    this.audioOutput = {
      get sinkId() {
        return devices.activeDevice("audiooutput");
      },
      added: (el) => playback.add(el),
      removed: (el) => playback.remove(el),
    };
    if (this.options.e2ee !== undefined) {
      this.e2ee = new RoomE2EE(this.options.e2ee, (e, p, pub) => this.emit(RoomEvent.EncryptionError, e, p, pub));
    }
    // Someone who cannot decode the codec of one of our video tracks joined: publish it in VP8.
    this.on(RoomEvent.ParticipantConnected, (p) => {
      this.local?.republishForDecoders(p.videoDecoders).catch((e: unknown) => {
        console.warn(`republishing for ${p.identity}'s decoders failed: ${errorMessage(e)}`);
      });
    });
  }

  /**
   * The cameras, microphones or speakers of this device (`kind`). With `requestPermissions`
   * (default true) and no labels yet, asks for capture permission once so the list has labels.
   */
  static getLocalDevices(kind: DeviceKind, requestPermissions = true): Promise<MediaDeviceInfo[]> {
    return getLocalDevices(kind, requestPermissions);
  }

  /**
   * Uses the device `deviceId` for `kind` (camera, microphone or speaker). A published camera
   * or microphone switches without being republished; before publishing, the choice is
   * remembered for `setCameraEnabled` / `setMicrophoneEnabled`. Emits
   * {@link RoomEvent.ActiveDeviceChanged}; a capture failure is a {@link DeviceError}. If the
   * device goes away later (unplugged), the room falls back to the default one.
   */
  switchActiveDevice(kind: DeviceKind, deviceId: string): Promise<void> {
    return this.devices.switchActiveDevice(kind, deviceId);
  }

  /** The device chosen for `kind` with {@link switchActiveDevice}, if any. */
  getActiveDevice(kind: DeviceKind): string | undefined {
    return this.devices.activeDevice(kind);
  }

  /** False when the browser refused to play remote audio until the user interacts (autoplay policy). */
  get canPlaybackAudio(): boolean {
    return this.playback.canPlayback;
  }

  /**
   * Starts remote audio that the browser's autoplay policy held back: call it from a user
   * gesture (a click) after {@link RoomEvent.AudioPlaybackStatusChanged} with false.
   */
  async startAudio(): Promise<void> {
    await this.playback.start();
  }

  private remoteAudioTracks(): RemoteAudioTrack[] {
    const out: RemoteAudioTrack[] = [];
    for (const p of this.roster.participants()) {
      for (const pub of p.trackPublications.values()) if (pub.track instanceof RemoteAudioTrack) out.push(pub.track);
    }
    return out;
  }

  /** This client's participant (a placeholder until connected). */
  get localParticipant(): LocalParticipant {
    return this.local;
  }

  /** Other participants, by identity. */
  get remoteParticipants(): Map<string, RemoteParticipant> {
    return this.roster.remoteParticipants;
  }

  /** The meeting's name, once connected. */
  get name(): string {
    return this.meetingName;
  }

  /** The connection state. */
  get state(): ConnectionState {
    return this.connState;
  }

  /** The server's `Joined` message, once connected (limits, server time, resume grace). */
  get joinedInfo(): Joined | undefined {
    return this.joined;
  }

  /** Receive counters of the current media session, while connected. */
  get mediaStats(): MediaReceiver["stats"] | undefined {
    return this.conn?.link.receiver.stats;
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
      const signal = new SignalClient(o.requestTimeoutMs);
      signal.attach(await signalSession.createBidirectionalStream());
      this.videoDecoders ??= await decodableCodecs(browserDecoderSupport);
      signal.writeNow(
        create(ClientMessageSchema, {
          requestId: 0,
          message: { case: "join", value: { protocolVersion: o.protocolVersion, client: this.clientInfo(), autoSubscribe: o.autoSubscribe } },
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
      signal.lastSeq = first?.seq ?? 0n;
      media = o.sessionFactory(
        `${joined.media.url}?ticket=${encodeURIComponent(joined.media.ticket)}`,
        certificateHashes(joined.media.certificateSha256),
      );
      await awaitReady(media, "media");
      this.start(join, joined, signalSession, signal, media);
    } catch (e) {
      closeQuietly(media, 0, "connect failed");
      closeQuietly(signalSession, 0, "connect failed");
      this.setState(ConnectionState.Disconnected);
      throw e instanceof DarkTowerError ? e : new ConnectionError(errorMessage(e));
    }
  }

  /** The video codecs this browser decodes (announced in `Join`), found at the first connect. */
  private videoDecoders: string[] | undefined;

  private clientInfo(): { sdk: string; version: string; detail: string; videoDecoders: string[] } {
    return { sdk: SDK_NAME, version: SDK_VERSION, detail: this.options.clientDetail, videoDecoders: this.videoDecoders ?? [] };
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

  private makeLink(signalSession: Session, media: Session): Link {
    return {
      signalSession,
      media,
      receiver: new MediaReceiver(media, (f) => this.roster.onFrame(f)),
      mediaDatagrams: new DatagramWriter(media),
      signalDatagrams: new DatagramWriter(signalSession),
      ended: false,
    };
  }

  private start(join: JoinResponse, joined: Joined, signalSession: Session, signal: SignalClient, media: Session): void {
    const o = this.options;
    const resumption: Resumption | undefined =
      joined.resumeGraceMs > 0 && joined.resumeToken !== ""
        ? {
            signalUrl: join.signalUrl,
            certificateHashes: certificateHashes(join.certificateSha256),
            token: joined.resumeToken,
            graceMs: joined.resumeGraceMs,
            protocolVersion: o.protocolVersion,
            client: create(ClientInfoSchema, this.clientInfo()),
            sessionFactory: o.sessionFactory,
            requestTimeoutMs: o.requestTimeoutMs,
            policy: o.reconnectPolicy,
          }
        : undefined;
    const conn = new Connection(o, signal, this.makeLink(signalSession, media), joined.limits?.maxDatagramFrameBytes || MAX_DATAGRAM_FRAME, resumption, {
      participantIds: (identities) =>
        identities.flatMap((id) => {
          const p = this.remoteParticipants.get(id);
          return p === undefined ? [] : [p.sid];
        }),
      e2eeConfigured: () => this.e2ee !== undefined,
      remoteVideoDecoders: () => [...this.remoteParticipants.values()].map((p) => p.videoDecoders),
      localTrackPublished: (pub) => {
        this.devices.published(pub);
        this.emit(RoomEvent.LocalTrackPublished, pub, this.local);
      },
      localTrackUnpublished: (pub) => {
        this.devices.unpublished(pub);
        this.emit(RoomEvent.LocalTrackUnpublished, pub, this.local);
      },
      activeDevice: (kind) => this.devices.activeDevice(kind),
      remoteTrackMutedByUs: (pub) => {
        const entry = this.roster.entry(pub.info.alias);
        if (pub.info.muted || entry === undefined) return;
        pub.info.muted = true;
        this.emit(RoomEvent.TrackMuted, pub, entry.participant);
      },
      e2eeSender: (pub) => {
        const e2ee = this.e2ee;
        if (e2ee === undefined) return undefined;
        return { transform: e2ee.senderTransform(), onError: (e) => e2ee.encryptFailed(e, this.local, pub) };
      },
    });
    this.conn = conn;
    this.joined = joined;
    this.meetingName = joined.meeting?.name ?? "";
    if (joined.participant !== undefined) this.local = new LocalParticipant(joined.participant);
    this.local.bind(conn);
    this.e2ee?.start(this.local.sid);
    for (const p of joined.others) this.roster.addParticipant(p, false);
    this.runLink(conn, conn.link);
    signal.open();
    this.setState(ConnectionState.Connected);
    this.emit(RoomEvent.Connected);
    if (o.autoSubscribe) this.roster.subscribeAll();
  }

  /** Starts reading a link: media, signaling and its datagrams; watches both sessions end. */
  private runLink(conn: Connection, link: Link): void {
    link.receiver.start();
    void conn.signal.run({
      onMessage: (m) => this.handle(conn, m),
      onCodecError: (e) => {
        console.warn("bad signaling message from server:", e.message);
        conn.serverDisconnect ??= { code: e.code, message: e.message };
        closeQuietly(link.signalSession, e.code === "message_too_large" ? 2 : 1, e.message);
      },
      onClosed: (reason) => void this.signalEnded(conn, link, reason),
    });
    void this.readSignalDatagrams(conn, link.signalSession);
    link.media.closed.then(
      (info) => void this.mediaEnded(conn, link, info),
      () => void this.mediaEnded(conn, link, "lost"),
    );
  }

  private isCurrent(conn: Connection, link: Link): boolean {
    return this.conn === conn && conn.link === link && !link.ended && !conn.disconnecting;
  }

  /**
   * The signaling stream ended. After the server's `Disconnect`, or a close with an error code,
   * the room is over; otherwise the connection was lost and the room resumes.
   */
  private async signalEnded(conn: Connection, link: Link, reason: string): Promise<void> {
    if (!this.isCurrent(conn, link)) return;
    const outcome = conn.serverDisconnect === undefined ? await sessionOutcome(link.signalSession, 500) : "open";
    if (!this.isCurrent(conn, link)) return;
    if (conn.serverDisconnect !== undefined) {
      this.finish(conn, { ...conn.serverDisconnect, clientInitiated: false });
      return;
    }
    const code = typeof outcome === "object" ? errorCodeFromWire(outcome.closeCode ?? 0) : undefined;
    if (code !== undefined) {
      this.finish(conn, { code, message: (typeof outcome === "object" && outcome.reason) || reason, clientInitiated: false });
      return;
    }
    void this.connectionLost(conn, link, new ConnectionError(`signaling ${outcome === "lost" ? "connection lost" : "closed"}: ${reason}`));
  }

  /** The media session ended: the room is over if the server closed it with an error, else it resumes. */
  private async mediaEnded(conn: Connection, link: Link, outcome: WebTransportCloseInfo | "lost"): Promise<void> {
    if (!this.isCurrent(conn, link)) return;
    // The server may be ending the whole session: let signaling report its Disconnect first.
    await new Promise((r) => setTimeout(r, MEDIA_END_SETTLE_MS));
    if (!this.isCurrent(conn, link) || conn.serverDisconnect !== undefined) return;
    const code = outcome === "lost" ? undefined : errorCodeFromWire(outcome.closeCode ?? 0);
    if (code !== undefined) {
      this.finish(conn, { code, message: `media session closed: ${outcome === "lost" ? "" : (outcome.reason ?? "")}`, clientInitiated: false });
      return;
    }
    void this.connectionLost(conn, link, new ConnectionError("media session lost"));
  }

  /** Gives up `link`; resumes within the grace period if the server allows it. */
  private async connectionLost(conn: Connection, link: Link, why: ConnectionError): Promise<void> {
    if (!this.isCurrent(conn, link)) return;
    const lostAt = Date.now();
    this.endLink(conn, link, "reconnecting");
    if (conn.resumption === undefined) {
      this.finish(conn, { code: undefined, message: why.message, clientInitiated: false });
      return;
    }
    this.local.mediaDetached();
    this.roster.connectionLost();
    this.setState(ConnectionState.Reconnecting);
    this.emit(RoomEvent.Reconnecting);
    let r: Awaited<ReturnType<typeof resume>>;
    try {
      r = await resume(conn.resumption, conn.signal, lostAt, conn.abort.signal, why);
    } catch (e) {
      if (this.conn === conn) {
        const code = e instanceof DarkTowerError ? e.code : undefined;
        this.finish(conn, { code, message: errorMessage(e), clientInitiated: conn.disconnecting });
      }
      return;
    }
    if (this.conn !== conn || conn.disconnecting) {
      conn.signal.detach();
      closeQuietly(r.media, 0, "disconnected");
      closeQuietly(r.signalSession, 0, "disconnected");
      return;
    }
    const next = this.makeLink(r.signalSession, r.media);
    conn.link = next;
    if (r.resumed.meeting !== undefined) this.meetingName = r.resumed.meeting.name || this.meetingName;
    conn.signal.expectReplay(r.resumed.replayed);
    this.runLink(conn, next);
    conn.signal.open();
    this.local.mediaReattached(conn);
    this.setState(ConnectionState.Connected);
    this.emit(RoomEvent.Reconnected);
  }

  /** Stops using `link` and closes its sessions (code 0: no error; `Leave`, if any, went before). */
  private endLink(conn: Connection, link: Link, reason: string): void {
    if (link.ended) return;
    link.ended = true;
    if (conn.link === link) conn.signal.detach();
    link.receiver.stop();
    link.mediaDatagrams.close();
    link.signalDatagrams.close();
    closeQuietly(link.media, 0, reason);
    closeQuietly(link.signalSession, 0, reason);
  }

  private async readSignalDatagrams(conn: Connection, session: Session): Promise<void> {
    const reader = session.datagrams.readable.getReader();
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        try {
          const m = fromBinary(ServerMessageSchema, value);
          if (m.message.case !== undefined && this.conn === conn) this.handle(conn, m);
        } catch {
          // A bad best-effort datagram is dropped.
        }
      }
    } catch {
      // The session closed.
    }
  }

  /**
   * Leaves the meeting (`Leave`) and closes both sessions. While reconnecting, stops resuming
   * (the server lets the participant go when its grace period ends).
   */
  async disconnect(): Promise<void> {
    const conn = this.conn;
    if (conn === undefined || conn.disconnecting) return;
    conn.disconnecting = true;
    if (conn.signal.isOpen) {
      try {
        conn.signal.send({ case: "leave", value: create(LeaveSchema, { reason: "leave" }) });
      } catch {
        // Signaling already closed.
      }
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([
        conn.link.signalSession.closed.catch(() => undefined),
        new Promise((r) => {
          timer = setTimeout(r, LEAVE_WAIT_MS);
        }),
      ]);
      clearTimeout(timer);
    }
    this.finish(conn, { code: undefined, message: "client disconnected", clientInitiated: true });
  }

  /** Tears down `conn` once and emits {@link RoomEvent.Disconnected}. */
  private finish(conn: Connection, reason: DisconnectReason): void {
    if (this.conn !== conn) return;
    this.conn = undefined;
    conn.abort.abort();
    this.endLink(conn, conn.link, reason.clientInitiated ? "leave" : "disconnected");
    conn.signal.fail(reason.message);
    this.local.stopAll();
    this.local.bind(undefined);
    this.devices.close();
    this.playback.clear();
    this.e2ee?.stop();
    this.roster.clear();
    this.setState(ConnectionState.Disconnected);
    this.emit(RoomEvent.Disconnected, reason);
  }

  private async setSubscribed(pub: RemoteTrackPublication, on: boolean): Promise<void> {
    const conn = this.conn;
    if (conn === undefined) throw new ConnectionError("the room is not connected");
    const entry = this.roster.entry(pub.info.alias);
    if (entry === undefined) throw new InvalidUseError("the track is no longer published");
    if (on) {
      if (pub.isSubscribed) return;
      const reply = await conn.signal.request({ case: "subscribe", value: create(SubscribeSchema, { trackId: pub.trackSid }) });
      expectCase(reply, "subscribeAck");
      if (this.conn === conn) this.roster.subscribed(pub, entry.participant);
    } else {
      if (!pub.isSubscribed) return;
      conn.signal.send({ case: "unsubscribe", value: create(UnsubscribeSchema, { trackId: pub.trackSid }) });
      this.roster.unsubscribed(pub, entry.participant);
    }
  }

  private async updateSubscription(update: UpdateSubscription): Promise<void> {
    const conn = this.conn;
    if (conn === undefined) throw new ConnectionError("the room is not connected");
    expectCase(await conn.signal.request({ case: "updateSubscription", value: update }), "ack");
  }

  // ---- events from the server ---------------------------------------------------------------

  private handle(conn: Connection, msg: ServerMessage): void {
    if (this.roster.handle(msg)) return;
    const body = msg.message;
    switch (body.case) {
      case "keyframeRequest":
        this.local.trackPublications.get(body.value.trackId)?.requestKeyframe(body.value.spatialId);
        return;
      case "subscribedLayers":
        // Dynacast: encode only the layers someone watches.
        this.local.trackPublications.get(body.value.trackId)?.setWantedLayers(body.value.spatialIds);
        return;
      case "error":
        this.emit(RoomEvent.ServerError, errorCodeFromWire(body.value.code) ?? "internal", body.value.message);
        return;
      case "disconnect":
        conn.serverDisconnect = { code: errorCodeFromWire(body.value.code), message: body.value.message };
        return;
      default:
        // Replies whose request was abandoned, and messages only valid at join time.
        return;
    }
  }

  // ---- media --------------------------------------------------------------------------------

  /** A frame of a subscribed track: decrypted first with E2EE on. */
  private deliver(frame: MediaFrame, pub: RemoteTrackPublication, participant: RemoteParticipant): void {
    if (this.e2ee !== undefined) this.e2ee.deliver(frame, pub, participant);
    else pub.track?.handleFrame(frame);
  }

  // ---- end-to-end encryption ----------------------------------------------------------------

  /**
   * Turns E2EE on or off for this client (needs `RoomOptions.e2ee`): while on, every frame sent
   * is encrypted and every frame received must decrypt. Video encoders restart with a keyframe.
   */
  setE2EEEnabled(enabled: boolean): Promise<void> {
    if (this.e2ee === undefined) return Promise.reject(new InvalidUseError("E2EE needs RoomOptions.e2ee with a key provider"));
    if (this.e2ee.enabled !== enabled) {
      this.e2ee.enabled = enabled;
      for (const p of this.roster.participants()) for (const pub of p.trackPublications.values()) pub.track?.resync();
      this.local.requestKeyframes();
    }
    return Promise.resolve();
  }

  /** Whether the meeting requires end-to-end encryption (`MeetingInfo.e2ee_required`): only
   *  a room created with `e2ee` can publish in it. */
  get isE2EERequired(): boolean {
    return this.joined?.meeting?.e2eeRequired ?? false;
  }

  /** Whether E2EE is on. */
  get isE2EEEnabled(): boolean {
    return this.e2ee?.enabled ?? false;
  }

  /** E2EE counters (undefined without `RoomOptions.e2ee`). */
  get e2eeStats(): E2EEStats | undefined {
    return this.e2ee?.stats;
  }
}
