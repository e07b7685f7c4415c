/**
 * Camera (or any video track) → WebCodecs `VideoEncoder` → frames for a {@link TrackSender}.
 * Frames are read with `MediaStreamTrackProcessor` (Chromium), paced to the target frame rate,
 * and a keyframe is forced every `keyframeIntervalMs` (each keyframe opens a group) or when the
 * sender dropped frames.
 */

import type { OutgoingFrame } from "../local_track.js";
import { pumpCapture } from "./capture.js";
import { nowUs } from "./clock.js";

/** How a video track is encoded. */
export interface VideoEncoding {
  /** WebCodecs codec string; the track's `codec` in signaling. Default "vp8". */
  codec: string;
  /** Target bitrate, bits per second. */
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

/** Receives each encoded frame; returns false if it was dropped (a keyframe is then forced). */
export type FrameSink = (frame: OutgoingFrame) => boolean;

/** Counters of an encoder pipeline. */
export interface EncodeStats {
  /** Frames read from the track. */
  framesIn: number;
  /** Frames handed to the encoder. */
  framesEncoded: number;
  /** Frames skipped (pacing or a full encoder queue). */
  framesSkipped: number;
  /** Keyframes produced. */
  keyframes: number;
  /** Encoder errors. */
  errors: number;
}

/** Encodes one video track until {@link VideoEncodePipeline.stop}. */
export class VideoEncodePipeline {
  private encoder: VideoEncoder | undefined;
  private reader: ReadableStreamDefaultReader<VideoFrame> | undefined;
  private width = 0;
  private height = 0;
  private forceKeyframe = true;
  private lastKeyframeUs = 0;
  private nextFrameUs = 0;
  private readonly captureTimes = new Map<number, bigint>();
  private stopped = false;
  private paused = false;
  /** The encoder failed on frames of no known pixel format (a depth camera's Y16, say): draw them into RGBA first. */
  private convertOpaque = false;
  private lastOpaque = false;
  private canvas: OffscreenCanvas | undefined;
  /** Counters since start. */
  readonly stats: EncodeStats = { framesIn: 0, framesEncoded: 0, framesSkipped: 0, keyframes: 0, errors: 0 };

  constructor(
    private readonly track: MediaStreamVideoTrack,
    private readonly encoding: VideoEncoding,
    private readonly sink: FrameSink,
  ) {}

  /** Starts reading and encoding. */
  start(): void {
    const processor = new MediaStreamTrackProcessor({ track: this.track });
    this.reader = processor.readable.getReader();
    void this.loop(this.reader);
  }

  /** Asks for a keyframe on the next frame. */
  requestKeyframe(): void {
    this.forceKeyframe = true;
  }

  /** While paused (the track is muted), captured frames are dropped; resuming starts with a keyframe. */
  setPaused(paused: boolean): void {
    if (this.paused && !paused) this.forceKeyframe = true;
    this.paused = paused;
  }

  /** Stops reading and closes the encoder; frames still in the encoder are dropped. */
  stop(): void {
    this.stopped = true;
    this.reader?.cancel().catch(() => undefined);
    if (this.encoder !== undefined && this.encoder.state !== "closed") this.encoder.close();
    this.encoder = undefined;
  }

  private loop(reader: ReadableStreamDefaultReader<VideoFrame>): Promise<void> {
    return pumpCapture(
      reader,
      () => this.stopped,
      (frame) => this.encode(frame),
      () => this.stats.framesIn++,
      "video",
    );
  }

  private configure(width: number, height: number): VideoEncoder {
    const encoder = new VideoEncoder({
      output: (chunk) => this.output(chunk),
      error: (e) => {
        this.stats.errors++;
        if (this.lastOpaque && !this.convertOpaque) {
          this.convertOpaque = true;
          console.warn("video encoder error on frames of an opaque pixel format; converting them to RGBA:", e.message);
        } else {
          console.warn("video encoder error:", e.message);
        }
        this.encoder = undefined;
      },
    });
    encoder.configure({
      codec: this.encoding.codec,
      width,
      height,
      bitrate: this.encoding.maxBitrate,
      framerate: this.encoding.maxFramerate,
      latencyMode: "realtime",
    });
    this.width = width;
    this.height = height;
    this.forceKeyframe = true;
    return encoder;
  }

  private encode(frame: VideoFrame): void {
    if (this.paused) {
      this.stats.framesSkipped++;
      return;
    }
    const ts = frame.timestamp;
    const interval = 1e6 / this.encoding.maxFramerate;
    if (ts < this.nextFrameUs) {
      this.stats.framesSkipped++;
      return;
    }
    this.nextFrameUs = Math.max(this.nextFrameUs + interval, ts - interval);
    let encoder = this.encoder;
    if (encoder === undefined || encoder.state === "closed" || frame.displayWidth !== this.width || frame.displayHeight !== this.height) {
      if (encoder !== undefined && encoder.state !== "closed") encoder.close();
      encoder = this.configure(frame.displayWidth, frame.displayHeight);
      this.encoder = encoder;
    }
    if (encoder.encodeQueueSize > 2) {
      this.stats.framesSkipped++;
      return;
    }
    const keyFrame = this.forceKeyframe || ts - this.lastKeyframeUs >= this.encoding.keyframeIntervalMs * 1000;
    if (keyFrame) {
      this.forceKeyframe = false;
      this.lastKeyframeUs = ts;
    }
    this.captureTimes.set(ts, nowUs());
    this.stats.framesEncoded++;
    this.lastOpaque = frame.format === null;
    const converted = this.lastOpaque && this.convertOpaque ? this.toRgba(frame) : undefined;
    try {
      encoder.encode(converted ?? frame, { keyFrame });
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

  private output(chunk: EncodedVideoChunk): void {
    if (this.stopped) return;
    const payload = new Uint8Array(chunk.byteLength);
    chunk.copyTo(payload);
    const captureTsUs = this.captureTimes.get(chunk.timestamp) ?? nowUs();
    this.captureTimes.delete(chunk.timestamp);
    if (this.captureTimes.size > 64) this.captureTimes.clear();
    const keyframe = chunk.type === "key";
    if (keyframe) this.stats.keyframes++;
    const sent = this.sink({ spatialId: 0, temporalId: 0, keyframe, discardable: false, captureTsUs, payload });
    if (!sent) this.forceKeyframe = true;
  }
}
