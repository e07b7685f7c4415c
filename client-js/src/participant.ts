/** Participants, shaped like LiveKit's: the local one publishes, remote ones are announced. */

import { create } from "@bufbuild/protobuf";

import { AudioEncodePipeline, type AudioEncoding } from "./codec/audio_encode.js";
import { VideoEncodePipeline, type VideoEncoding } from "./codec/video_encode.js";
import type { Engine } from "./engine.js";
import { ConnectionError, InvalidUseError, TooLargeError } from "./errors.js";
import { TrackSender } from "./local_track.js";
import type { VideoCaptureOptions } from "./options.js";
import {
  PublishTrackSchema,
  Role,
  SendDataSchema,
  SimulcastLayerSchema,
  UnpublishTrackSchema,
  type Participant as ProtoParticipant,
} from "./proto/gen/dark_tower/signaling/v1/signaling_pb.js";
import { MAX_DATA_TOPIC, MAX_RELIABLE_DATA, MAX_UNRELIABLE_DATA } from "./proto/limits.js";
import { encodeClientBody } from "./proto/signal.js";
import { LocalTrackPublication, trackInfoFromProto, type RemoteTrackPublication, type TrackPublication } from "./publication.js";
import { expectCase } from "./signal.js";
import {
  LocalAudioTrack,
  LocalVideoTrack,
  TrackKind,
  TrackSource,
  kindToProto,
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

/** What local and remote participants have in common. */
export class Participant<P extends TrackPublication = TrackPublication> {
  /** Server-assigned id of this session ("PA_…"). */
  readonly sid: string;
  /** Identity (the token's `sub`). */
  readonly identity: string;
  /** Display name. */
  readonly name: string;
  readonly role: ParticipantRole;
  /** Join time, microseconds since the epoch. */
  readonly joinedAtUs: bigint;
  /** Published tracks by track sid. */
  readonly trackPublications = new Map<string, P>();
  /** Speaking level from the last `ActiveSpeakers`: 0 (silent) to 1 (loudest). */
  audioLevel = 0;
  /** In the last `ActiveSpeakers` list. */
  isSpeaking = false;

  constructor(p: ProtoParticipant) {
    this.sid = p.id;
    this.identity = p.identity;
    this.name = p.name;
    this.role = roleFromProto(p.role);
    this.joinedAtUs = p.joinedAtUs;
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

  /** Binds the participant to a connected room (internal). */
  bind(engine: Engine | undefined): void {
    this.engine = engine;
  }

  private connected(): Engine {
    if (this.engine === undefined) throw new ConnectionError("the room is not connected");
    return this.engine;
  }

  /** Starts (captures with getUserMedia and publishes) or stops the camera. */
  async setCameraEnabled(enabled: boolean, capture?: Partial<VideoCaptureOptions>): Promise<LocalTrackPublication | undefined> {
    const existing = this.getTrackPublication(TrackSource.Camera);
    if (!enabled) {
      if (existing !== undefined) await this.unpublishTrack(existing.track);
      return undefined;
    }
    if (existing !== undefined) return existing;
    const c = { ...this.connected().options.videoCaptureDefaults, ...capture };
    const video: MediaTrackConstraints = { width: { ideal: c.width }, height: { ideal: c.height }, frameRate: { ideal: c.frameRate } };
    if (c.deviceId !== undefined) video.deviceId = { exact: c.deviceId };
    const stream = await navigator.mediaDevices.getUserMedia({ video });
    const track = stream.getVideoTracks()[0];
    if (track === undefined) throw new InvalidUseError("getUserMedia returned no video track");
    try {
      return await this.publishTrack(new LocalVideoTrack(track, TrackSource.Camera), { name: "camera" });
    } catch (e) {
      track.stop();
      throw e;
    }
  }

  /** Starts (captures and publishes) or stops the microphone. */
  async setMicrophoneEnabled(enabled: boolean, deviceId?: string): Promise<LocalTrackPublication | undefined> {
    const existing = this.getTrackPublication(TrackSource.Microphone);
    if (!enabled) {
      if (existing !== undefined) await this.unpublishTrack(existing.track);
      return undefined;
    }
    if (existing !== undefined) return existing;
    this.connected();
    const audio: MediaTrackConstraints = { echoCancellation: true, noiseSuppression: true, channelCount: 1 };
    if (deviceId !== undefined) audio.deviceId = { exact: deviceId };
    const stream = await navigator.mediaDevices.getUserMedia({ audio });
    const track = stream.getAudioTracks()[0];
    if (track === undefined) throw new InvalidUseError("getUserMedia returned no audio track");
    try {
      return await this.publishTrack(new LocalAudioTrack(track, TrackSource.Microphone), { name: "microphone" });
    } catch (e) {
      track.stop();
      throw e;
    }
  }

  /** Publishes a captured track: `PublishTrack`, then encodes and sends its frames. */
  async publishTrack(track: LocalTrack, options: PublishOptions = {}): Promise<LocalTrackPublication> {
    const engine = this.connected();
    const video = track.kind === TrackKind.Video;
    const videoEncoding: VideoEncoding = { ...engine.options.videoEncoding, ...options.videoEncoding };
    const audioEncoding: AudioEncoding = { ...engine.options.audioEncoding, ...options.audioEncoding };
    const settings = track.mediaStreamTrack.getSettings();
    const capture = engine.options.videoCaptureDefaults;
    const layers = video
      ? [
          create(SimulcastLayerSchema, {
            spatialId: 0,
            width: settings.width ?? capture.width,
            height: settings.height ?? capture.height,
            maxBitrateBps: videoEncoding.maxBitrate,
            maxFramerate: videoEncoding.maxFramerate,
          }),
        ]
      : [];
    const request = create(PublishTrackSchema, {
      clientTrackId: `${track.source}-${randomHex(4)}`,
      kind: kindToProto(track.kind),
      source: sourceToProto(track.source),
      codec: video ? videoEncoding.codec : audioEncoding.codec,
      layers,
      name: options.name ?? track.source,
    });
    const reply = await engine.signal.request({ case: "publishTrack", value: request });
    const ack = expectCase(reply, "publishTrackAck");
    if (ack.track === undefined) throw new ConnectionError("PublishTrackAck without a track");
    const info = trackInfoFromProto(ack.track);
    track.sid = info.sid;
    const sender = new TrackSender(info.alias, video ? "video" : "audio", 1, engine.media, engine.mediaDatagrams, engine.maxDatagramFrame);
    const sink = (f: Parameters<TrackSender["send"]>[0]): boolean => sender.send(f);
    const pipeline = video
      ? new VideoEncodePipeline(track.mediaStreamTrack as MediaStreamVideoTrack, videoEncoding, sink)
      : new AudioEncodePipeline(track.mediaStreamTrack as MediaStreamAudioTrack, audioEncoding, sink);
    const pub = new LocalTrackPublication(info, track, sender, pipeline);
    this.trackPublications.set(info.sid, pub);
    pipeline.start();
    engine.localTrackPublished(pub);
    return pub;
  }

  /** Stops publishing `track` (`UnpublishTrack`); stops the capture unless `stopOnUnpublish` is false. */
  async unpublishTrack(track: LocalTrack, stopOnUnpublish = true): Promise<void> {
    const pub = [...this.trackPublications.values()].find((p) => p.track === track);
    if (pub === undefined) return;
    pub.stop();
    this.trackPublications.delete(pub.trackSid);
    if (stopOnUnpublish) track.stop();
    const engine = this.engine;
    if (engine !== undefined && !engine.signal.isClosed) {
      engine.signal.send({ case: "unpublishTrack", value: create(UnpublishTrackSchema, { trackId: pub.trackSid }) });
      engine.localTrackUnpublished(pub);
    }
    await pub.sender.flushed();
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
