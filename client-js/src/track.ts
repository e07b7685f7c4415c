/**
 * Tracks, shaped like LiveKit's: {@link LocalVideoTrack} / {@link LocalAudioTrack} wrap a captured
 * `MediaStreamTrack`; {@link RemoteVideoTrack} / {@link RemoteAudioTrack} decode what the SFU
 * forwards. `attach(element)` shows or plays a track.
 */

import type { AdaptiveStreamController } from "./adaptive_stream.js";
import { watchDocument, watchElement } from "./adaptive_stream_dom.js";
import { AudioDecodePipeline, rmsLevel } from "./codec/audio_decode.js";
import { VideoDecodePipeline, type DecodeStats } from "./codec/video_decode.js";
import { InvalidUseError, type UnsupportedCodecError } from "./errors.js";
import { AudioElementSink, CanvasSink, VideoElementSink, type AudioSink, type VideoSink } from "./render.js";
import type { MediaFrame } from "./proto/media.js";
import { TrackKind as ProtoKind, TrackSource as ProtoSource } from "./proto/gen/dark_tower/signaling/v1/signaling_pb.js";

/** Audio or video. */
export enum TrackKind {
  Audio = "audio",
  Video = "video",
}

/** Where a track comes from. */
export enum TrackSource {
  Camera = "camera",
  Microphone = "microphone",
  ScreenShare = "screen_share",
  ScreenShareAudio = "screen_share_audio",
  Unknown = "unknown",
}

/** The signaling enum of a source. */
export function sourceToProto(s: TrackSource): ProtoSource {
  switch (s) {
    case TrackSource.Camera:
      return ProtoSource.CAMERA;
    case TrackSource.Microphone:
      return ProtoSource.MICROPHONE;
    case TrackSource.ScreenShare:
      return ProtoSource.SCREEN;
    case TrackSource.ScreenShareAudio:
      return ProtoSource.SCREEN_AUDIO;
    case TrackSource.Unknown:
      return ProtoSource.UNSPECIFIED;
  }
}

/** A source from the signaling enum. */
export function sourceFromProto(s: ProtoSource): TrackSource {
  switch (s) {
    case ProtoSource.CAMERA:
      return TrackSource.Camera;
    case ProtoSource.MICROPHONE:
      return TrackSource.Microphone;
    case ProtoSource.SCREEN:
      return TrackSource.ScreenShare;
    case ProtoSource.SCREEN_AUDIO:
      return TrackSource.ScreenShareAudio;
    default:
      return TrackSource.Unknown;
  }
}

/** A kind from the signaling enum (unknown values as video, which is never decoded as audio). */
export function kindFromProto(k: ProtoKind): TrackKind {
  return k === ProtoKind.AUDIO ? TrackKind.Audio : TrackKind.Video;
}

/** The signaling enum of a kind. */
export function kindToProto(k: TrackKind): ProtoKind {
  return k === TrackKind.Audio ? ProtoKind.AUDIO : ProtoKind.VIDEO;
}

/** What tracks have in common. */
export abstract class Track {
  /** Server-assigned track id ("TR_…"), once published or announced. */
  sid: string | undefined;

  constructor(
    readonly kind: TrackKind,
    readonly source: TrackSource,
  ) {}

  /** Shows or plays the track in `element`, creating a suitable one when omitted. */
  abstract attach(element?: HTMLMediaElement | HTMLCanvasElement): HTMLMediaElement | HTMLCanvasElement;
  /** Stops rendering into `element`, or into every element; returns the elements detached. */
  abstract detach(element?: HTMLElement): HTMLElement[];
}

/** A track captured on this device. */
export abstract class LocalTrack extends Track {
  private captured: MediaStreamTrack;

  constructor(kind: TrackKind, source: TrackSource, mediaStreamTrack: MediaStreamTrack) {
    super(kind, source);
    this.captured = mediaStreamTrack;
  }

  private readonly elements = new Set<HTMLMediaElement>();

  /** The captured track (replaced when the device is switched). */
  get mediaStreamTrack(): MediaStreamTrack {
    return this.captured;
  }

  /** The device captured from, if the browser says. */
  get deviceId(): string | undefined {
    return this.captured.getSettings().deviceId;
  }

  /**
   * Captures from `track` instead (internal: a device switch); stops the old capture and shows
   * the new one in every attached element.
   */
  replaceMediaStreamTrack(track: MediaStreamTrack): void {
    if (track === this.captured) return;
    this.captured.stop();
    this.captured = track;
    for (const el of this.elements) el.srcObject = new MediaStream([track]);
  }

  /** Shows (or plays) the local capture in a media element. */
  override attach(element?: HTMLMediaElement | HTMLCanvasElement): HTMLMediaElement {
    if (element instanceof HTMLCanvasElement) throw new InvalidUseError("attach a local track to a <video> or <audio>");
    const el = element ?? document.createElement(this.kind === TrackKind.Video ? "video" : "audio");
    el.autoplay = true;
    el.muted = true;
    if (el instanceof HTMLVideoElement) el.playsInline = true;
    el.srcObject = new MediaStream([this.mediaStreamTrack]);
    this.elements.add(el);
    return el;
  }

  override detach(element?: HTMLElement): HTMLElement[] {
    const out: HTMLElement[] = [];
    for (const el of [...this.elements]) {
      if (element !== undefined && el !== element) continue;
      el.srcObject = null;
      this.elements.delete(el);
      out.push(el);
    }
    return out;
  }

  /** Stops the capture (the camera light goes off). */
  stop(): void {
    this.mediaStreamTrack.stop();
    this.detach();
  }
}

/** A captured video track (camera or screen). */
export class LocalVideoTrack extends LocalTrack {
  constructor(track: MediaStreamTrack, source: TrackSource = TrackSource.Camera) {
    super(TrackKind.Video, source, track);
  }
}

/** A captured audio track (microphone or screen audio). */
export class LocalAudioTrack extends LocalTrack {
  constructor(track: MediaStreamTrack, source: TrackSource = TrackSource.Microphone) {
    super(TrackKind.Audio, source, track);
  }
}

/** A track received from another participant. */
export abstract class RemoteTrack extends Track {
  /** Feeds a frame received from the SFU. */
  abstract handleFrame(frame: MediaFrame): void;
  /** Receive and decode counters. */
  abstract get stats(): DecodeStats;
  /** Frames were lost (a dropped connection, an undecryptable frame): decode again from the next keyframe. */
  abstract resync(): void;
  /** Releases the decoder and every attached element. */
  abstract close(): void;
}

/** A remote video track, decoded with WebCodecs. Attach it to a `<canvas>` or a `<video>`. */
export class RemoteVideoTrack extends RemoteTrack {
  private readonly sinks = new Map<HTMLElement, VideoSink>();
  private readonly pipeline: VideoDecodePipeline;
  private frameListeners = new Set<(frame: VideoFrame) => void>();
  private adaptive: AdaptiveStreamController | undefined;
  private readonly watches = new Map<HTMLElement, () => void>();
  private unwatchDocument: (() => void) | undefined;

  constructor(source: TrackSource, sid: string, codec: string) {
    super(TrackKind.Video, source);
    this.sid = sid;
    this.pipeline = new VideoDecodePipeline(codec, (f) => this.render(f));
  }

  override handleFrame(frame: MediaFrame): void {
    this.pipeline.handle(frame);
  }

  override get stats(): DecodeStats {
    return this.pipeline.stats;
  }

  override resync(): void {
    this.pipeline.resync();
  }

  /** Set when this browser cannot decode the track's codec (nothing is shown then). */
  get decodeError(): UnsupportedCodecError | undefined {
    return this.pipeline.error;
  }

  /** Calls `listener` once if the codec cannot be decoded here (internal: the room emits `TrackSubscriptionFailed`). */
  setUnsupportedListener(listener: (e: UnsupportedCodecError) => void): void {
    this.pipeline.setUnsupportedListener(listener);
  }

  /**
   * Lets the size and visibility of the attached elements decide how the track is received
   * (internal: the publication calls it with `RoomOptions.adaptiveStream`).
   */
  useAdaptiveStream(controller: AdaptiveStreamController): void {
    this.adaptive = controller;
    this.unwatchDocument = watchDocument((hidden) => controller.setDocumentHidden(hidden));
    for (const el of this.sinks.keys()) this.watch(el);
    // Not attached anywhere within the debounce: paused.
    controller.schedule();
  }

  private watch(el: HTMLElement): void {
    const a = this.adaptive;
    if (a === undefined || this.watches.has(el)) return;
    this.watches.set(el, watchElement(el, (o) => a.observe(el, o)));
  }

  /** Calls `listener` with each decoded frame (valid only during the call). Returns an unsubscribe. */
  onFrame(listener: (frame: VideoFrame) => void): () => void {
    this.frameListeners.add(listener);
    return () => this.frameListeners.delete(listener);
  }

  private render(frame: VideoFrame): void {
    try {
      for (const sink of this.sinks.values()) sink.render(frame);
      for (const l of this.frameListeners) l(frame);
    } finally {
      frame.close();
    }
  }

  override attach(element?: HTMLMediaElement | HTMLCanvasElement): HTMLMediaElement | HTMLCanvasElement {
    const el = element ?? document.createElement("video");
    if (this.sinks.has(el)) return el;
    if (el instanceof HTMLCanvasElement) this.sinks.set(el, new CanvasSink(el));
    else if (el instanceof HTMLVideoElement) this.sinks.set(el, new VideoElementSink(el));
    else throw new InvalidUseError("attach a video track to a <canvas> or a <video>");
    this.watch(el);
    return el;
  }

  override detach(element?: HTMLElement): HTMLElement[] {
    const out = detachSinks(this.sinks, element);
    for (const el of out) {
      this.watches.get(el)?.();
      this.watches.delete(el);
    }
    return out;
  }

  override close(): void {
    this.pipeline.close();
    this.detach();
    this.frameListeners.clear();
    this.unwatchDocument?.();
    this.unwatchDocument = undefined;
    this.adaptive = undefined;
  }
}

/** Where a remote audio track reports the elements it plays through (internal: the room). */
export interface AudioOutput {
  /** The speaker to play on (`setSinkId`), if not the default one. */
  readonly sinkId: string | undefined;
  /** An element started playing the track. */
  added(el: HTMLMediaElement): void;
  /** An element stopped playing the track. */
  removed(el: HTMLMediaElement): void;
}

/** A remote audio track, decoded with WebCodecs. Attach it to an `<audio>`. */
export class RemoteAudioTrack extends RemoteTrack {
  private readonly sinks = new Map<HTMLElement, AudioSink>();
  private readonly pipeline: AudioDecodePipeline;
  private output: AudioOutput | undefined;
  private samples = new Float32Array(0);
  private rms = 0;

  constructor(source: TrackSource, sid: string, codec: string) {
    super(TrackKind.Audio, source);
    this.sid = sid;
    this.pipeline = new AudioDecodePipeline(codec, (d) => this.play(d));
  }

  override handleFrame(frame: MediaFrame): void {
    this.pipeline.handle(frame);
  }

  override get stats(): DecodeStats {
    return this.pipeline.stats;
  }

  override resync(): void {
    // Every audio frame decodes on its own.
  }

  /** The publisher's last audio level (0 loudest … 127 silence), if sent. */
  get audioLevel(): number | undefined {
    return this.pipeline.lastLevel;
  }

  /**
   * The loudness of the last decoded frame: its RMS, 0 (silence) to 1 (full scale). Measured on
   * what this client decoded, so it says the audio really arrives.
   */
  get level(): number {
    return this.rms;
  }

  private play(data: AudioData): void {
    try {
      this.measure(data);
      for (const sink of this.sinks.values()) sink.play(data);
    } finally {
      data.close();
    }
  }

  private measure(data: AudioData): void {
    try {
      if (this.samples.length < data.numberOfFrames) this.samples = new Float32Array(data.numberOfFrames);
      const view = this.samples.subarray(0, data.numberOfFrames);
      data.copyTo(view, { planeIndex: 0, format: "f32-planar" });
      this.rms = rmsLevel(view);
    } catch {
      // No level for this format.
    }
  }

  /** Reports the elements this track plays through to `output` (internal: the room). */
  setOutput(output: AudioOutput | undefined): void {
    this.output = output;
    for (const el of this.sinks.keys()) if (el instanceof HTMLMediaElement) this.applyOutput(el);
  }

  /** Plays through the speaker `sinkId` (internal: `room.switchActiveDevice("audiooutput", …)`). */
  async setSinkId(sinkId: string): Promise<void> {
    await Promise.all([...this.sinks.keys()].map((el) => (el instanceof HTMLMediaElement ? setSink(el, sinkId) : undefined)));
  }

  private applyOutput(el: HTMLMediaElement): void {
    const o = this.output;
    if (o === undefined) return;
    if (o.sinkId !== undefined) setSink(el, o.sinkId).catch(() => undefined);
    o.added(el);
  }

  override attach(element?: HTMLMediaElement | HTMLCanvasElement): HTMLMediaElement {
    const el = element ?? document.createElement("audio");
    if (!(el instanceof HTMLAudioElement)) throw new InvalidUseError("attach an audio track to an <audio>");
    if (!this.sinks.has(el)) {
      this.sinks.set(el, new AudioElementSink(el));
      this.applyOutput(el);
    }
    return el;
  }

  override detach(element?: HTMLElement): HTMLElement[] {
    const out = detachSinks(this.sinks, element);
    for (const el of out) if (el instanceof HTMLMediaElement) this.output?.removed(el);
    return out;
  }

  override close(): void {
    this.pipeline.close();
    this.detach();
  }
}

/** `element.setSinkId(sinkId)` where the browser has it. */
async function setSink(el: HTMLMediaElement, sinkId: string): Promise<void> {
  const e = el as HTMLMediaElement & { setSinkId?: (id: string) => Promise<void> };
  if (typeof e.setSinkId === "function") await e.setSinkId(sinkId);
}

/** Closes and forgets the sink of `element` (or every sink); returns the elements detached. */
function detachSinks(sinks: Map<HTMLElement, { close(): void }>, element?: HTMLElement): HTMLElement[] {
  const out: HTMLElement[] = [];
  for (const [el, sink] of [...sinks]) {
    if (element !== undefined && el !== element) continue;
    sink.close();
    sinks.delete(el);
    out.push(el);
  }
  return out;
}
