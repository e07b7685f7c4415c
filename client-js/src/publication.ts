/** Track publications: what is known about a published track, with the track once there is one. */

import type { AudioEncodePipeline } from "./codec/audio_encode.js";
import type { VideoEncodePipeline } from "./codec/video_encode.js";
import type { TrackSender } from "./local_track.js";
import type { SimulcastLayer, Track as ProtoTrack } from "./proto/gen/dark_tower/signaling/v1/signaling_pb.js";
import {
  RemoteAudioTrack,
  RemoteVideoTrack,
  TrackKind,
  kindFromProto,
  sourceFromProto,
  type LocalTrack,
  type RemoteTrack,
  type Track,
  type TrackSource,
} from "./track.js";

/** A published track as announced by the server. */
export interface TrackInfo {
  /** Server-assigned id ("TR_…"). */
  sid: string;
  /** Alias its media frames carry. */
  alias: number;
  kind: TrackKind;
  source: TrackSource;
  /** WebCodecs codec string. */
  codec: string;
  /** Simulcast layers (empty: one layer). */
  layers: SimulcastLayer[];
  /** The publisher's label. */
  name: string;
  /** Muted by its publisher or a moderator. */
  muted: boolean;
}

/** Converts the signaling `Track`. */
export function trackInfoFromProto(t: ProtoTrack): TrackInfo {
  return {
    sid: t.id,
    alias: t.alias,
    kind: kindFromProto(t.kind),
    source: sourceFromProto(t.source),
    codec: t.codec,
    layers: t.layers,
    name: t.name,
    muted: t.muted,
  };
}

/** A published track. */
export class TrackPublication {
  constructor(
    /** What the server announced. */
    readonly info: TrackInfo,
  ) {}

  /** Server-assigned track id. */
  get trackSid(): string {
    return this.info.sid;
  }
  /** The publisher's label. */
  get trackName(): string {
    return this.info.name;
  }
  get kind(): TrackKind {
    return this.info.kind;
  }
  get source(): TrackSource {
    return this.info.source;
  }
  /** Muted by its publisher or a moderator. */
  get isMuted(): boolean {
    return this.info.muted;
  }
  /** The track, when there is one (subscribed remote track, or a local track). */
  get track(): Track | undefined {
    return undefined;
  }
}

/** Subscribes or unsubscribes a remote track (implemented by the room). */
export type SubscriptionControl = (pub: RemoteTrackPublication, subscribed: boolean) => Promise<void>;

/** A track another participant publishes. */
export class RemoteTrackPublication extends TrackPublication {
  private remoteTrack: RemoteTrack | undefined;

  constructor(
    info: TrackInfo,
    private readonly control: SubscriptionControl,
  ) {
    super(info);
  }

  override get track(): RemoteTrack | undefined {
    return this.remoteTrack;
  }

  /** Whether this client receives the track. */
  get isSubscribed(): boolean {
    return this.remoteTrack !== undefined;
  }

  /** Starts or stops receiving the track (not needed with `autoSubscribe`). */
  setSubscribed(subscribed: boolean): Promise<void> {
    return this.control(this, subscribed);
  }

  /** Creates the track (internal: the room calls it when the subscription starts). */
  createTrack(): RemoteTrack {
    this.remoteTrack ??=
      this.info.kind === TrackKind.Audio
        ? new RemoteAudioTrack(this.info.source, this.info.sid, this.info.codec)
        : new RemoteVideoTrack(this.info.source, this.info.sid, this.info.codec);
    return this.remoteTrack;
  }

  /** Closes and forgets the track (internal). */
  dropTrack(): RemoteTrack | undefined {
    const t = this.remoteTrack;
    t?.close();
    this.remoteTrack = undefined;
    return t;
  }
}

/** A track this participant publishes: the capture, its encoder and its sender. */
export class LocalTrackPublication extends TrackPublication {
  constructor(
    info: TrackInfo,
    private readonly localTrack: LocalTrack,
    /** Sends the encoded frames. */
    readonly sender: TrackSender,
    /** Encodes the capture. */
    readonly pipeline: VideoEncodePipeline | AudioEncodePipeline,
  ) {
    super(info);
  }

  override get track(): LocalTrack {
    return this.localTrack;
  }

  /** Stops encoding and sending (internal: use `LocalParticipant.unpublishTrack`). */
  stop(): void {
    this.pipeline.stop();
    this.sender.close();
  }
}
