/** Track publications: what is known about a published track, with the track once there is one. */

import { AdaptiveStreamController, type ResolvedAdaptiveStream } from "./adaptive_stream.js";
import type { AudioEncodePipeline } from "./codec/audio_encode.js";
import { VideoEncodePipeline, type LayerAllowance, type LayerStats } from "./codec/video_encode.js";
import type { TrackSender } from "./local_track.js";
import type { UplinkMonitor, UplinkStats } from "./uplink_monitor.js";
import { errorMessage } from "./errors.js";
import type { SimulcastLayer, Track as ProtoTrack, UpdateSubscription } from "./proto/gen/dark_tower/signaling/v1/signaling_pb.js";
import {
  defaultSubscriptionSettings,
  isDefaultUpdate,
  sameUpdate,
  subscriptionUpdate,
  type SubscriptionSettings,
  type VideoDimensions,
  type VideoQuality,
} from "./subscription.js";
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
  /** Its publisher encrypts it end to end (SFrame). */
  encrypted: boolean;
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
    encrypted: t.encrypted,
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

/** What a remote publication needs from its room (implemented by the room). */
export interface SubscriptionControl {
  /** Subscribes or unsubscribes. */
  setSubscribed(pub: RemoteTrackPublication, subscribed: boolean): Promise<void>;
  /** Sends `UpdateSubscription` and waits for its `Ack`. */
  updateSubscription(pub: RemoteTrackPublication, update: UpdateSubscription): Promise<void>;
  /** Adaptive stream settings, when `RoomOptions.adaptiveStream` is on. */
  readonly adaptiveStream: ResolvedAdaptiveStream | undefined;
}

/** A track another participant publishes. */
export class RemoteTrackPublication extends TrackPublication {
  private remoteTrack: RemoteTrack | undefined;
  private readonly settings: SubscriptionSettings = defaultSubscriptionSettings();
  private adaptive: AdaptiveStreamController | undefined;
  /** The last `UpdateSubscription` sent for the current subscription. */
  private sent: UpdateSubscription | undefined;

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
    return this.control.setSubscribed(this, subscribed);
  }

  /** False after `setEnabled(false)`: the subscription is paused. */
  get isEnabled(): boolean {
    return this.settings.enabled;
  }

  /** The quality asked for with {@link setVideoQuality} (undefined: the highest). */
  get videoQuality(): VideoQuality | undefined {
    return this.settings.quality;
  }

  /** The size given with {@link setVideoDimensions}, if any. */
  get dimensions(): VideoDimensions | undefined {
    return this.settings.dimensions;
  }

  /**
   * Pauses (`false`) or resumes receiving the track while staying subscribed: the SFU stops
   * forwarding it and, on resuming, starts again from a keyframe.
   */
  setEnabled(enabled: boolean): Promise<void> {
    this.settings.enabled = enabled;
    return this.sync();
  }

  /** Receives a simulcast video track at most at `quality` (low: layer 0, medium: 1, high: all). */
  setVideoQuality(quality: VideoQuality): Promise<void> {
    this.settings.quality = quality;
    return this.sync();
  }

  /** The size the track is rendered at, in device pixels: the SFU sends the largest layer that fits. */
  setVideoDimensions(dimensions: VideoDimensions): Promise<void> {
    this.settings.dimensions = { width: dimensions.width, height: dimensions.height };
    return this.sync();
  }

  /** The `UpdateSubscription` the current settings make. */
  subscriptionUpdate(): UpdateSubscription {
    return subscriptionUpdate(this.trackSid, this.settings, this.info.layers.length, this.adaptive?.reported);
  }

  /** Sends the settings if the track is received and they changed. */
  private async sync(): Promise<void> {
    if (!this.isSubscribed) return;
    const update = this.subscriptionUpdate();
    if (sameUpdate(this.sent, update)) return;
    this.sent = update;
    try {
      await this.control.updateSubscription(this, update);
    } catch (e) {
      if (this.sent === update) this.sent = undefined;
      throw e;
    }
  }

  /**
   * The subscription started (internal): sends the settings given before, unless they are the
   * defaults a new subscription starts with.
   */
  subscriptionStarted(): Promise<void> {
    this.sent = undefined;
    if (isDefaultUpdate(this.subscriptionUpdate())) {
      this.sent = this.subscriptionUpdate();
      return Promise.resolve();
    }
    return this.sync();
  }

  /** Creates the track (internal: the room calls it when the subscription starts). */
  createTrack(): RemoteTrack {
    if (this.remoteTrack !== undefined) return this.remoteTrack;
    if (this.info.kind === TrackKind.Audio) {
      this.remoteTrack = new RemoteAudioTrack(this.info.source, this.info.sid, this.info.codec);
      return this.remoteTrack;
    }
    const video = new RemoteVideoTrack(this.info.source, this.info.sid, this.info.codec);
    const a = this.control.adaptiveStream;
    if (a !== undefined) {
      const adaptive = new AdaptiveStreamController(
        () => void this.sync().catch((e: unknown) => console.warn("adaptive stream update failed:", errorMessage(e))),
        a.pixelDensity,
        { debounceMs: a.debounceMs, pauseInBackground: a.pauseVideoInBackground },
      );
      this.adaptive = adaptive;
      video.useAdaptiveStream(adaptive);
    }
    this.remoteTrack = video;
    return video;
  }

  /** Closes and forgets the track (internal). */
  dropTrack(): RemoteTrack | undefined {
    const t = this.remoteTrack;
    t?.close();
    this.adaptive?.dispose();
    this.adaptive = undefined;
    this.remoteTrack = undefined;
    this.sent = undefined;
    return t;
  }
}

/** Encodes a captured track into its sender (internal: made by `LocalParticipant.publishTrack`). */
export type EncodePipeline = VideoEncodePipeline | AudioEncodePipeline;

/** What a local publication needs from its participant. */
export interface LocalPublicationHost {
  /** Sends `SetTrackMuted` and waits for the server's `Ack`. */
  setMuted(pub: LocalTrackPublication, muted: boolean): Promise<void>;
}

/** A track this participant publishes: the capture, its encoder and its sender. */
export class LocalTrackPublication extends TrackPublication {
  private encoder: EncodePipeline;
  /** Dynacast: the layers the server last said someone wants (undefined: it has not said). */
  private wantedLayers: readonly number[] | undefined;
  /** Uplink adaptation: what each layer may use now (undefined: everything). */
  private allowances: readonly LayerAllowance[] | undefined;
  private uplink: UplinkMonitor | undefined;

  constructor(
    info: TrackInfo,
    private readonly localTrack: LocalTrack,
    /** Sends the encoded frames. */
    readonly sender: TrackSender,
    /** Makes the encoder of a captured track (again after a device switch). */
    private readonly makePipeline: (track: MediaStreamTrack) => EncodePipeline,
    private readonly host: LocalPublicationHost,
  ) {
    super(info);
    this.encoder = makePipeline(localTrack.mediaStreamTrack);
  }

  override get track(): LocalTrack {
    return this.localTrack;
  }

  /** Encodes the capture. */
  get pipeline(): EncodePipeline {
    return this.encoder;
  }

  /** Starts encoding (internal). */
  start(): void {
    this.encoder.start();
  }

  /**
   * Mutes the track: nothing is encoded or sent, the capture keeps running, and everyone gets
   * `TrackMuted`. Resolves once the server acknowledged.
   */
  async mute(): Promise<void> {
    await this.setMuted(true);
  }

  /** Unmutes the track (video restarts with a keyframe); everyone gets `TrackUnmuted`. */
  async unmute(): Promise<void> {
    await this.setMuted(false);
  }

  /**
   * The server says the track is muted (a moderator muted it) or unmuted (internal: the
   * roster calls it with a `TrackMuted` about this participant): encoding stops or resumes
   * without asking the server again. False if nothing changed.
   */
  applyRemoteMute(muted: boolean): boolean {
    if (this.info.muted === muted) return false;
    this.info.muted = muted;
    this.encoder.setPaused(muted);
    return true;
  }

  private async setMuted(muted: boolean): Promise<void> {
    if (this.info.muted === muted) return;
    this.info.muted = muted;
    this.encoder.setPaused(muted);
    try {
      await this.host.setMuted(this, muted);
    } catch (e) {
      this.info.muted = !muted;
      this.encoder.setPaused(!muted);
      throw e;
    }
  }

  /**
   * Captures from `track` from now on (internal: a device switch): the old capture stops, a new
   * encoder starts with a keyframe on the same sender, so receivers see no new track.
   */
  replaceTrack(track: MediaStreamTrack): void {
    this.encoder.stop();
    this.localTrack.replaceMediaStreamTrack(track);
    this.encoder = this.makePipeline(track);
    this.encoder.setPaused(this.info.muted);
    if (this.wantedLayers !== undefined) this.setWantedLayers(this.wantedLayers);
    if (this.allowances !== undefined) this.setLayerAllowances(this.allowances);
    this.encoder.start();
  }

  /**
   * Dynacast (internal: the server's `SubscribedLayers`): the spatial layers some subscriber
   * wants. The encoders of the others stop; a layer wanted again starts with a keyframe.
   */
  setWantedLayers(spatialIds: readonly number[]): void {
    this.wantedLayers = [...spatialIds];
    if (this.encoder instanceof VideoEncodePipeline) this.encoder.setWantedLayers(spatialIds);
  }

  /** Uplink adaptation (internal): whether each layer runs and at which bitrate, smallest first. */
  setLayerAllowances(allowances: readonly LayerAllowance[]): void {
    this.allowances = allowances.map((a) => ({ ...a }));
    if (this.encoder instanceof VideoEncodePipeline) this.encoder.setAllowances(allowances);
  }

  /** Keyframe on request (internal: the server's `KeyframeRequest`), of one layer or every layer. */
  requestKeyframe(spatialId?: number): void {
    if (this.encoder instanceof VideoEncodePipeline) this.encoder.requestKeyframe(spatialId);
  }

  /**
   * The simulcast layers of a video track, smallest first: size, bitrate, whether they are
   * wanted (dynacast) and allowed (uplink), and their counters. Empty for audio.
   */
  get layers(): LayerStats[] {
    return this.encoder instanceof VideoEncodePipeline ? this.encoder.layerStats : [];
  }

  /** Adapts the encoders to the uplink with `monitor` until stopped (internal). */
  startUplinkAdaptation(monitor: UplinkMonitor): void {
    this.uplink?.stop();
    this.uplink = monitor;
    monitor.start();
  }

  /** Uplink adaptation of a video track: the budget, and whether the uplink is congested. */
  get uplinkStats(): UplinkStats | undefined {
    return this.uplink?.stats;
  }

  /** Stops encoding and sending (internal: use `LocalParticipant.unpublishTrack`). */
  stop(): void {
    this.uplink?.stop();
    this.uplink = undefined;
    this.encoder.stop();
    this.sender.close();
  }
}
