/** Participants, shaped like LiveKit's: the local one publishes, remote ones are announced. */

import { create } from "@bufbuild/protobuf";

import { AudioEncodePipeline, type AudioEncoding } from "./codec/audio_encode.js";
import { browserEncoderSupport, chooseVideoCodec, everyoneDecodes, FALLBACK_VIDEO_CODEC, type VideoCodecName } from "./codec/codec_choice.js";
import { planLayers, type SimulcastOption } from "./codec/simulcast.js";
import { VideoEncodePipeline, type VideoEncoding } from "./codec/video_encode.js";
import type { Engine } from "./engine.js";
import { audioConstraints, captureTrack, videoConstraints, type VideoCaptureOptions } from "./devices.js";
import { ConnectionError, DeviceError, InvalidUseError, TooLargeError, deviceError } from "./errors.js";
import { TrackSender } from "./local_track.js";
import { UplinkBitrateController } from "./uplink.js";
import { UplinkMonitor } from "./uplink_monitor.js";
import {
  ConnectionQualityLevel,
  MuteParticipantTrackSchema,
  PublishTrackSchema,
  Role,
  SetMetadataSchema,
  SetTrackMutedSchema,
  SendDataSchema,
  SimulcastLayerSchema,
  UnpublishTrackSchema,
  type Participant as ProtoParticipant,
  type SetMetadata,
} from "./proto/gen/dark_tower/signaling/v1/signaling_pb.js";
import {
  MAX_DATA_TOPIC,
  MAX_PARTICIPANT_METADATA,
  MAX_PARTICIPANT_NAME,
  MAX_RELIABLE_DATA,
  MAX_UNRELIABLE_DATA,
} from "./proto/limits.js";
import { encodeClientBody } from "./proto/signal.js";
import { LocalTrackPublication, trackInfoFromProto, type EncodePipeline, type RemoteTrackPublication, type TrackPublication } from "./publication.js";
import { expectCase } from "./signal.js";
import {
  LocalAudioTrack,
  LocalVideoTrack,
  TrackKind,
  TrackSource,
  kindToProto,
  sourceFromProto,
  sourceToProto,
  type LocalTrack,
} from "./track.js";

/** A participant's role in the meeting. */
export enum ParticipantRole {
  Unspecified = "unspecified",
  Host = "host",
  Participant = "participant",
  Guest = "guest",
  Viewer = "viewer",
}

function roleFromProto(r: Role): ParticipantRole {
  switch (r) {
    case Role.HOST:
      return ParticipantRole.Host;
    case Role.PARTICIPANT:
      return ParticipantRole.Participant;
    case Role.GUEST:
      return ParticipantRole.Guest;
    case Role.VIEWER:
      return ParticipantRole.Viewer;
    default:
      return ParticipantRole.Unspecified;
  }
}

/** How well a participant's connection works (from the server's `ConnectionQuality`). */
export enum ConnectionQuality {
  Excellent = "excellent",
  Good = "good",
  Poor = "poor",
  /** Reconnecting: no connection now. */
  Lost = "lost",
  Unknown = "unknown",
}

/** The quality level of the signaling enum. */
export function connectionQualityFromProto(q: ConnectionQualityLevel): ConnectionQuality {
  switch (q) {
    case ConnectionQualityLevel.EXCELLENT:
      return ConnectionQuality.Excellent;
    case ConnectionQualityLevel.GOOD:
      return ConnectionQuality.Good;
    case ConnectionQualityLevel.POOR:
      return ConnectionQuality.Poor;
    case ConnectionQualityLevel.LOST:
      return ConnectionQuality.Lost;
    default:
      return ConnectionQuality.Unknown;
  }
}

/** What a participant may do now (from its token, changed live by moderators). */
export interface ParticipantPermissions {
  canPublish: boolean;
  /** Empty means every source. */
  canPublishSources: TrackSource[];
  canSubscribe: boolean;
  canPublishData: boolean;
}

function permissionsFromProto(p: ProtoParticipant["permissions"]): ParticipantPermissions | undefined {
  if (p === undefined) return undefined;
  return {
    canPublish: p.canPublish,
    canPublishSources: p.canPublishSources.map(sourceFromProto),
    canSubscribe: p.canSubscribe,
    canPublishData: p.canPublishData,
  };
}

function samePermissions(a: ParticipantPermissions | undefined, b: ParticipantPermissions | undefined): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** What changed in a participant with a `ParticipantUpdated` (previous values). */
export interface ParticipantChanges {
  name?: string;
  metadata?: string;
  role?: ParticipantRole;
  permissions?: ParticipantPermissions | undefined;
  reconnecting?: boolean;
}

/** What local and remote participants have in common. */
export class Participant<P extends TrackPublication = TrackPublication> {
  /** Server-assigned id of this session ("PA_…"). */
  readonly sid: string;
  /** Identity (the token's `sub`). */
  readonly identity: string;
  /** Join time, microseconds since the epoch. */
  readonly joinedAtUs: bigint;
  /** Published tracks by track sid. */
  readonly trackPublications = new Map<string, P>();
  /** Speaking level from the last `ActiveSpeakers`: 0 (silent) to 1 (loudest). */
  audioLevel = 0;
  /** In the last `ActiveSpeakers` list. */
  isSpeaking = false;
  /** The last connection quality the server reported. */
  connectionQuality = ConnectionQuality.Unknown;
  /** Round-trip time of its signaling connection in ms, with the last quality report. */
  connectionRttMs: number | undefined;
  /** Fraction of its packets lost (0 to 1), with the last quality report. */
  connectionLoss: number | undefined;
  private info: { name: string; metadata: string; role: ParticipantRole; permissions: ParticipantPermissions | undefined; reconnecting: boolean };

  /** The video codecs (short names) it can decode, as it announced when joining; empty: unknown (VP8 only). */
  readonly videoDecoders: readonly string[];

  constructor(p: ProtoParticipant) {
    this.sid = p.id;
    this.identity = p.identity;
    this.joinedAtUs = p.joinedAtUs;
    this.videoDecoders = [...p.videoDecoders];
    this.info = {
      name: p.name,
      metadata: p.metadata,
      role: roleFromProto(p.role),
      permissions: permissionsFromProto(p.permissions),
      reconnecting: p.reconnecting,
    };
  }

  /** Display name. */
  get name(): string {
    return this.info.name;
  }
  /** Free-form application data (at most 16 KiB), set by itself or a moderator. */
  get metadata(): string {
    return this.info.metadata;
  }
  get role(): ParticipantRole {
    return this.info.role;
  }
  /** What it may do, when the server said. */
  get permissions(): ParticipantPermissions | undefined {
    return this.info.permissions;
  }
  /** Its connection dropped; the server expects it back within the resume grace period. */
  get isReconnecting(): boolean {
    return this.info.reconnecting;
  }

  /** Takes the fields of a `ParticipantUpdated` (internal); returns the previous values of those that changed. */
  updateInfo(p: ProtoParticipant): ParticipantChanges {
    const next = {
      name: p.name,
      metadata: p.metadata,
      role: roleFromProto(p.role),
      permissions: permissionsFromProto(p.permissions) ?? this.info.permissions,
      reconnecting: p.reconnecting,
    };
    const prev = this.info;
    const changes: ParticipantChanges = {};
    if (next.name !== prev.name) changes.name = prev.name;
    if (next.metadata !== prev.metadata) changes.metadata = prev.metadata;
    if (next.role !== prev.role) changes.role = prev.role;
    if (!samePermissions(next.permissions, prev.permissions)) changes.permissions = prev.permissions;
    if (next.reconnecting !== prev.reconnecting) changes.reconnecting = prev.reconnecting;
    this.info = next;
    return changes;
  }

  /** The publication of `source`, if any. */
  getTrackPublication(source: TrackSource): P | undefined {
    for (const p of this.trackPublications.values()) if (p.source === source) return p;
    return undefined;
  }

  /** Video publications. */
  get videoTrackPublications(): P[] {
    return [...this.trackPublications.values()].filter((p) => p.kind === TrackKind.Video);
  }

  /** Audio publications. */
  get audioTrackPublications(): P[] {
    return [...this.trackPublications.values()].filter((p) => p.kind === TrackKind.Audio);
  }
}

/** Another participant in the meeting. */
export class RemoteParticipant extends Participant<RemoteTrackPublication> {}

/** Options of {@link LocalParticipant.publishTrack}. */
export interface PublishOptions {
  /** The track's label (default: its source). */
  name?: string;
  /** Overrides the room's video encoding. */
  videoEncoding?: Partial<VideoEncoding>;
  /** Overrides the room's video codec preference (used if this browser can encode it, else VP8). */
  videoCodec?: VideoCodecName;
  /** Simulcast layers (default: the room's `simulcast` for the camera, one layer otherwise). */
  simulcast?: SimulcastOption;
  /** Overrides the room's audio encoding. */
  audioEncoding?: Partial<AudioEncoding>;
}

/** Options of {@link LocalParticipant.publishData}. */
export interface DataPublishOptions {
  /** Topic (at most 256 bytes). */
  topic?: string;
  /** Ordered and acknowledged (default true, up to 64 KiB); otherwise one datagram (up to 1 KiB). */
  reliable?: boolean;
  /** Identities to send to; empty or absent means everyone else. */
  destinationIdentities?: string[];
}

function randomHex(bytes: number): string {
  const b = new Uint8Array(bytes);
  crypto.getRandomValues(b);
  return [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
}

/** This client's participant: publishes camera, microphone and data. */
export class LocalParticipant extends Participant<LocalTrackPublication> {
  private engine: Engine | undefined;
  /** The options each publication was published with (to publish it again). */
  private readonly publishedWith = new Map<string, PublishOptions>();

  /** Binds the participant to a connected room (internal). */
  bind(engine: Engine | undefined): void {
    this.engine = engine;
  }

  private connected(): Engine {
    if (this.engine === undefined) throw new ConnectionError("the room is not connected");
    return this.engine;
  }

  /**
   * Starts (captures with getUserMedia and publishes) or stops the camera. The device is
   * `capture.deviceId`, else the one chosen with `room.switchActiveDevice("videoinput", …)`,
   * else the default. A capture failure is a {@link DeviceError}.
   */
  async setCameraEnabled(enabled: boolean, capture?: Partial<VideoCaptureOptions>): Promise<LocalTrackPublication | undefined> {
    const existing = this.getTrackPublication(TrackSource.Camera);
    if (!enabled) {
      if (existing !== undefined) await this.unpublishTrack(existing.track);
      return undefined;
    }
    if (existing !== undefined) return existing;
    const engine = this.connected();
    const deviceId = capture?.deviceId ?? engine.activeDevice("videoinput");
    const c = { ...engine.options.videoCaptureDefaults, ...capture, ...(deviceId === undefined ? {} : { deviceId }) };
    const track = await captureTrack("videoinput", videoConstraints(c), engine.options.mediaDevices());
    return this.publishCaptured(new LocalVideoTrack(track, TrackSource.Camera), "camera");
  }

  /** Starts (captures and publishes) or stops the microphone; see {@link setCameraEnabled}. */
  async setMicrophoneEnabled(enabled: boolean, deviceId?: string): Promise<LocalTrackPublication | undefined> {
    const existing = this.getTrackPublication(TrackSource.Microphone);
    if (!enabled) {
      if (existing !== undefined) await this.unpublishTrack(existing.track);
      return undefined;
    }
    if (existing !== undefined) return existing;
    const engine = this.connected();
    const id = deviceId ?? engine.activeDevice("audioinput");
    const track = await captureTrack("audioinput", audioConstraints(id === undefined ? {} : { deviceId: id }), engine.options.mediaDevices());
    return this.publishCaptured(new LocalAudioTrack(track, TrackSource.Microphone), "microphone");
  }

  /**
   * Starts (captures with `RoomOptions.getDisplayMedia`, by default the browser's screen
   * picker) or stops sharing the screen. When the user ends the share from the browser, the
   * track is unpublished. A refused or failed capture is a {@link DeviceError}.
   */
  async setScreenShareEnabled(enabled: boolean, capture: Partial<VideoCaptureOptions> = {}): Promise<LocalTrackPublication | undefined> {
    const existing = this.getTrackPublication(TrackSource.ScreenShare);
    if (!enabled) {
      if (existing !== undefined) await this.unpublishTrack(existing.track);
      return undefined;
    }
    if (existing !== undefined) return existing;
    const engine = this.connected();
    const video: MediaTrackConstraints = {
      width: { max: capture.width ?? 1920 },
      height: { max: capture.height ?? 1080 },
      frameRate: { max: capture.frameRate ?? 15 },
    };
    let stream: MediaStream;
    try {
      stream = await engine.options.getDisplayMedia({ video, audio: false });
    } catch (e) {
      throw deviceError(e, "screen");
    }
    const track = stream.getVideoTracks()[0];
    for (const t of stream.getAudioTracks()) t.stop();
    if (track === undefined) throw new DeviceError("not_found", "screen", "the screen capture has no video track");
    const local = new LocalVideoTrack(track, TrackSource.ScreenShare);
    const pub = await this.publishCaptured(local, "screen");
    // "Stop sharing" in the browser ends the track.
    track.addEventListener("ended", () => {
      if (local.mediaStreamTrack === track) this.unpublishTrack(local).catch(() => undefined);
    });
    return pub;
  }

  private async publishCaptured(track: LocalTrack, name: string): Promise<LocalTrackPublication> {
    try {
      return await this.publishTrack(track, { name });
    } catch (e) {
      track.stop();
      throw e;
    }
  }

  /**
   * Captures `source` from `track` from now on (internal: `room.switchActiveDevice`); the
   * publication and its receivers stay. False if `source` is not published.
   */
  replaceCapture(source: TrackSource, track: MediaStreamTrack): boolean {
    const pub = this.getTrackPublication(source);
    if (pub === undefined) return false;
    pub.replaceTrack(track);
    return true;
  }

  /** Publishes a captured track: `PublishTrack`, then encodes and sends its frames. */
  async publishTrack(track: LocalTrack, options: PublishOptions = {}): Promise<LocalTrackPublication> {
    const engine = this.connected();
    const video = track.kind === TrackKind.Video;
    const videoEncoding: VideoEncoding = { ...engine.options.videoEncoding, ...options.videoEncoding };
    const audioEncoding: AudioEncoding = { ...engine.options.audioEncoding, ...options.audioEncoding };
    const settings = track.mediaStreamTrack.getSettings();
    const capture = engine.options.videoCaptureDefaults;
    const width = settings.width ?? capture.width;
    const height = settings.height ?? capture.height;
    const simulcast = options.simulcast ?? (track.source === TrackSource.Camera ? engine.options.simulcast : false);
    const plan = video ? planLayers(width, height, videoEncoding.maxBitrate, simulcast) : [];
    if (video) {
      const choice = await chooseVideoCodec(
        options.videoCodec ?? engine.options.videoCodec,
        videoEncoding.codec,
        { width, height, bitrate: videoEncoding.maxBitrate, framerate: videoEncoding.maxFramerate },
        browserEncoderSupport,
      );
      if (choice.fellBack) console.warn(`this browser cannot encode ${options.videoCodec ?? engine.options.videoCodec ?? videoEncoding.codec}: publishing VP8`);
      // A codec other than VP8 only if every participant here can decode it.
      videoEncoding.codec = everyoneDecodes(choice.codec, engine.remoteVideoDecoders()) ? choice.codec : FALLBACK_VIDEO_CODEC;
    }
    const layers = plan.map((l) =>
      create(SimulcastLayerSchema, {
        spatialId: l.spatialId,
        width: l.width,
        height: l.height,
        maxBitrateBps: l.maxBitrate,
        maxFramerate: videoEncoding.maxFramerate,
      }),
    );
    const request = create(PublishTrackSchema, {
      clientTrackId: `${track.source}-${randomHex(4)}`,
      kind: kindToProto(track.kind),
      source: sourceToProto(track.source),
      codec: video ? videoEncoding.codec : audioEncoding.codec,
      layers,
      name: options.name ?? track.source,
      encrypted: engine.e2eeConfigured(),
    });
    const reply = await engine.signal.request({ case: "publishTrack", value: request });
    const ack = expectCase(reply, "publishTrackAck");
    if (ack.track === undefined) throw new ConnectionError("PublishTrackAck without a track");
    const info = trackInfoFromProto(ack.track);
    track.sid = info.sid;
    const sender = new TrackSender(info.alias, video ? "video" : "audio", Math.max(1, plan.length), engine.media, engine.mediaDatagrams, engine.maxDatagramFrame);
    const sink = (f: Parameters<TrackSender["send"]>[0]): boolean => sender.send(f);
    const makePipeline = (mst: MediaStreamTrack): EncodePipeline =>
      video
        ? new VideoEncodePipeline(mst as MediaStreamVideoTrack, videoEncoding, sink, plan)
        : new AudioEncodePipeline(mst as MediaStreamAudioTrack, audioEncoding, sink);
    const pub = new LocalTrackPublication(info, track, sender, makePipeline, { setMuted: (p, muted) => this.sendMuted(p, muted) });
    const e2ee = engine.e2eeSender(pub);
    if (e2ee !== undefined) sender.setTransform(e2ee.transform, e2ee.onError);
    this.trackPublications.set(info.sid, pub);
    this.publishedWith.set(info.sid, options);
    pub.start();
    if (video && engine.options.uplinkAdaptation) {
      const controller = new UplinkBitrateController(plan.map((l) => l.maxBitrate));
      pub.startUplinkAdaptation(new UplinkMonitor(controller, pub, () => (this.engine === engine ? engine.media : undefined)));
    }
    engine.localTrackPublished(pub);
    return pub;
  }

  /**
   * Moderation (host role): mutes another participant's track. Its publisher stops sending it
   * and everyone gets `TrackMuted`; only the publisher can unmute it. Rejects with
   * {@link ServerError} (`permission_denied`) without the right, `unknown_track` for a track it
   * does not publish.
   */
  async muteParticipantTrack(participant: RemoteParticipant, trackSid: string): Promise<void> {
    const engine = this.connected();
    const value = create(MuteParticipantTrackSchema, { participantId: participant.sid, trackId: trackSid });
    expectCase(await engine.signal.request({ case: "muteParticipantTrack", value }), "ack");
    const pub = participant.trackPublications.get(trackSid);
    if (pub !== undefined) engine.remoteTrackMutedByUs(pub);
  }

  private async sendMuted(pub: LocalTrackPublication, muted: boolean): Promise<void> {
    const value = create(SetTrackMutedSchema, { trackId: pub.trackSid, muted });
    expectCase(await this.connected().signal.request({ case: "setTrackMuted", value }), "ack");
  }

  /**
   * A participant who cannot decode the codec of one of our video tracks joined (internal): the
   * track is published again, in VP8, from the same capture. Its subscribers see it unpublished
   * and published again.
   */
  async republishForDecoders(decoders: readonly string[]): Promise<void> {
    for (const pub of [...this.trackPublications.values()]) {
      if (pub.kind !== TrackKind.Video || everyoneDecodes(pub.info.codec, [decoders])) continue;
      const options = this.publishedWith.get(pub.trackSid) ?? {};
      const track = pub.track;
      await this.unpublishTrack(track, false);
      await this.publishTrack(track, options);
    }
  }

  /** Stops publishing `track` (`UnpublishTrack`); stops the capture unless `stopOnUnpublish` is false. */
  async unpublishTrack(track: LocalTrack, stopOnUnpublish = true): Promise<void> {
    const pub = [...this.trackPublications.values()].find((p) => p.track === track);
    if (pub === undefined) return;
    pub.stop();
    this.trackPublications.delete(pub.trackSid);
    this.publishedWith.delete(pub.trackSid);
    if (stopOnUnpublish) track.stop();
    const engine = this.engine;
    if (engine !== undefined && !engine.signal.isClosed) {
      engine.signal.send({ case: "unpublishTrack", value: create(UnpublishTrackSchema, { trackId: pub.trackSid }) });
      engine.localTrackUnpublished(pub);
    }
    await pub.sender.flushed();
  }

  /**
   * The media session changed (internal: after a resume): every publication sends on the new
   * one, video starting again with a keyframe.
   */
  mediaReattached(engine: Engine): void {
    for (const pub of this.trackPublications.values()) {
      pub.sender.attach(engine.media, engine.mediaDatagrams);
      pub.requestKeyframe();
    }
  }

  /** Asks every video encoder for a keyframe (internal: E2EE switched on or off). */
  requestKeyframes(): void {
    for (const pub of this.trackPublications.values()) pub.requestKeyframe();
  }

  /** The media session is gone (internal: reconnecting); frames are dropped until {@link mediaReattached}. */
  mediaDetached(): void {
    for (const pub of this.trackPublications.values()) pub.sender.detach();
  }

  /** Changes this participant's metadata (at most 16 KiB); everyone gets `ParticipantMetadataChanged`. */
  async setMetadata(metadata: string): Promise<void> {
    const size = new TextEncoder().encode(metadata).length;
    if (size > MAX_PARTICIPANT_METADATA) throw new TooLargeError(size, MAX_PARTICIPANT_METADATA);
    await this.sendMetadata(create(SetMetadataSchema, { metadata }));
  }

  /** Changes this participant's display name (at most 256 bytes); everyone gets `ParticipantNameChanged`. */
  async setName(name: string): Promise<void> {
    if (new TextEncoder().encode(name).length > MAX_PARTICIPANT_NAME) throw new InvalidUseError("name longer than 256 bytes");
    await this.sendMetadata(create(SetMetadataSchema, { name }));
  }

  private async sendMetadata(value: SetMetadata): Promise<void> {
    expectCase(await this.connected().signal.request({ case: "setMetadata", value }), "ack");
  }

  /** Stops every publication (internal: on disconnect). */
  stopAll(): void {
    for (const pub of this.trackPublications.values()) {
      pub.stop();
      pub.track.stop();
    }
    this.trackPublications.clear();
  }

  /**
   * Sends a data message. Reliable messages arrive in order and are acknowledged by the server;
   * best-effort ones travel as one datagram and may be lost.
   */
  async publishData(data: Uint8Array, options: DataPublishOptions = {}): Promise<void> {
    const engine = this.connected();
    const reliable = options.reliable ?? true;
    const topic = options.topic ?? "";
    const max = reliable ? MAX_RELIABLE_DATA : MAX_UNRELIABLE_DATA;
    if (data.length > max) throw new TooLargeError(data.length, max);
    if (new TextEncoder().encode(topic).length > MAX_DATA_TOPIC) throw new InvalidUseError("topic longer than 256 bytes");
    const value = create(SendDataSchema, {
      topic,
      payload: data,
      reliable,
      destinationParticipantIds: engine.participantIds(options.destinationIdentities ?? []),
    });
    if (reliable) {
      expectCase(await engine.signal.request({ case: "sendData", value }), "ack");
      return;
    }
    engine.signalDatagrams.send(encodeClientBody({ requestId: 0, message: { case: "sendData", value } }));
  }
}
