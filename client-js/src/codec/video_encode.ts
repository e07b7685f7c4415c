/**
 * Camera (or any video track) → WebCodecs `VideoEncoder`s, one per simulcast layer → frames for
 * a {@link TrackSender}. Frames are read with `MediaStreamTrackProcessor` (Chromium), paced to
 * the target frame rate, and handed to every active layer ({@link LayerEncoder}); each layer
 * forces a keyframe every `keyframeIntervalMs` (each keyframe opens a group), when the sender
 * dropped one of its frames, or when it starts again after a pause.
 */

import { pumpCapture } from "./capture.js";
import { LayerEncoder, type FrameSink, type LayerStats } from "./layer_encoder.js";
import type { LayerPlan } from "./simulcast.js";

export type { FrameSink, LayerStats };

/** How a video track is encoded. */
export interface VideoEncoding {
  /** WebCodecs codec string; the track's `codec` in signaling. Default "vp8". */
  codec: string;
  /** Target bitrate of the full-size layer, bits per second. */
  maxBitrate: number;
  /** Frames per second at most. */
  maxFramerate: number;
  /** A keyframe (a new group) at least this often. */
  keyframeIntervalMs: number;
}

/** Defaults: VP8, 300 kbit/s, 15 fps, a keyframe every 2 s. */
export const DEFAULT_VIDEO_ENCODING: VideoEncoding = {
  codec: "vp8",
  maxBitrate: 300_000,
  maxFramerate: 15,
  keyframeIntervalMs: 2000,
};

/** Counters of an encoder pipeline (all layers together). */
export interface EncodeStats {
  /** Frames read from the track. */
  framesIn: number;
  /** Frames handed to an encoder (each layer counts). */
  framesEncoded: number;
  /** Frames skipped (pacing, muted). */
  framesSkipped: number;
  /** Keyframes produced. */
  keyframes: number;
  /** Encoder errors. */
  errors: number;
}

/** What the uplink allows one layer: whether it runs, and at which bitrate. */
export interface LayerAllowance {
  allowed: boolean;
  bitrate: number;
}

/** Encodes one video track, in one encoder per simulcast layer, until {@link VideoEncodePipeline.stop}. */
export class VideoEncodePipeline {
  private reader: ReadableStreamDefaultReader<VideoFrame> | undefined;
  private readonly layers: LayerEncoder[];
  private nextFrameUs = 0;
  private stopped = false;
  private paused = false;
  private forceKeyframe = false;
  /** The encoder failed on frames of no known pixel format (a depth camera's Y16, say): draw them into RGBA first. */
  private convertOpaque = false;
  private lastOpaque = false;
  private canvas: OffscreenCanvas | undefined;
  private readonly counters = { framesIn: 0, framesSkipped: 0 };

  constructor(
    private readonly track: MediaStreamVideoTrack,
    private readonly encoding: VideoEncoding,
    sink: FrameSink,
    /** The layers, smallest first (default: one full-size layer at `encoding.maxBitrate`). */
    plan: readonly LayerPlan[] = [{ spatialId: 0, scaleDownBy: 1, width: 0, height: 0, maxBitrate: encoding.maxBitrate }],
  ) {
    const codec = { codec: encoding.codec, framerate: encoding.maxFramerate, keyframeIntervalMs: encoding.keyframeIntervalMs };
    this.layers = plan.map((l) => new LayerEncoder(l.spatialId, l.scaleDownBy, l.maxBitrate, codec, sink, (e) => this.encoderFailed(e)));
  }

  /** Counters since start, all layers together. */
  get stats(): EncodeStats {
    let framesEncoded = 0;
    let keyframes = 0;
    let errors = 0;
    for (const l of this.layers) {
      framesEncoded += l.stats.framesEncoded;
      keyframes += l.stats.keyframes;
      errors += l.stats.errors;
    }
    return { ...this.counters, framesEncoded, keyframes, errors };
  }

  /** Per-layer state and counters, smallest layer first. */
  get layerStats(): LayerStats[] {
    return this.layers.map((l) => ({ ...l.stats }));
  }

  /** The maximum bitrate of each layer, smallest first. */
  get layerMaxBitrates(): number[] {
    return this.layers.map((l) => l.maxBitrate);
  }

  /** Starts reading and encoding. */
  start(): void {
    const processor = new MediaStreamTrackProcessor({ track: this.track });
    this.reader = processor.readable.getReader();
    void this.loop(this.reader);
  }

  /** Asks for a keyframe on the next frame, of layer `spatialId` or of every layer. */
  requestKeyframe(spatialId?: number): void {
    for (const l of this.layers) if (spatialId === undefined || l.spatialId === spatialId) l.requestKeyframe();
  }

  /** While paused (the track is muted), captured frames are dropped; resuming starts with a keyframe. */
  setPaused(paused: boolean): void {
    if (this.paused && !paused) this.forceKeyframe = true;
    this.paused = paused;
  }

  /**
   * Dynacast: the layers some subscriber wants (the server's `SubscribedLayers`). The others
   * are not encoded; a layer wanted again starts with a keyframe.
   */
  setWantedLayers(spatialIds: readonly number[]): void {
    for (const l of this.layers) l.setWanted(spatialIds.includes(l.spatialId));
  }

  /** Uplink adaptation: what each layer may use, smallest first (missing layers are not allowed). */
  setAllowances(allowances: readonly LayerAllowance[]): void {
    this.layers.forEach((l, i) => {
      const a = allowances[i];
      l.setAllowance(a?.allowed ?? false, a?.bitrate ?? l.maxBitrate);
    });
  }

  /** Stops reading and closes the encoders; frames still in them are dropped. */
  stop(): void {
    this.stopped = true;
    this.reader?.cancel().catch(() => undefined);
    for (const l of this.layers) l.close();
  }

  private loop(reader: ReadableStreamDefaultReader<VideoFrame>): Promise<void> {
    return pumpCapture(
      reader,
      () => this.stopped,
      (frame) => this.encode(frame),
      () => this.counters.framesIn++,
      "video",
    );
  }

  private encoderFailed(e: DOMException): void {
    if (this.lastOpaque && !this.convertOpaque) {
      this.convertOpaque = true;
      console.warn("video encoder error on frames of an opaque pixel format; converting them to RGBA:", e.message);
    } else {
      console.warn("video encoder error:", e.message);
    }
  }

  private encode(frame: VideoFrame): void {
    if (this.paused) {
      this.counters.framesSkipped++;
      return;
    }
    const ts = frame.timestamp;
    const interval = 1e6 / this.encoding.maxFramerate;
    if (ts < this.nextFrameUs) {
      this.counters.framesSkipped++;
      return;
    }
    this.nextFrameUs = Math.max(this.nextFrameUs + interval, ts - interval);
    this.lastOpaque = frame.format === null;
    const converted = this.lastOpaque && this.convertOpaque ? this.toRgba(frame) : undefined;
    const keyframe = this.forceKeyframe;
    this.forceKeyframe = false;
    try {
      for (const l of this.layers) l.encode(converted ?? frame, keyframe);
    } finally {
      converted?.close();
    }
  }

  /** `frame` drawn into an RGBA frame (same size and timestamp). */
  private toRgba(frame: VideoFrame): VideoFrame | undefined {
    if (typeof OffscreenCanvas !== "function") return undefined;
    const w = frame.displayWidth;
    const h = frame.displayHeight;
    if (this.canvas === undefined || this.canvas.width !== w || this.canvas.height !== h) this.canvas = new OffscreenCanvas(w, h);
    const ctx = this.canvas.getContext("2d");
    if (ctx === null) return undefined;
    ctx.drawImage(frame, 0, 0, w, h);
    return new VideoFrame(this.canvas, { timestamp: frame.timestamp, alpha: "discard" });
  }
}
