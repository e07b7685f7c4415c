/**
 * One simulcast layer of a video track: its own WebCodecs `VideoEncoder`, configured at the
 * layer's size (the encoder scales each captured frame down to it), its keyframe schedule, and
 * whether it runs at all: a layer nobody watches (dynacast) or that the uplink cannot carry is
 * not encoded, and starts again with a keyframe.
 */

import type { OutgoingFrame } from "../local_track.js";
import { nowUs } from "./clock.js";
import { encoderConfig } from "./codec_choice.js";
import { scaledSize } from "./simulcast.js";

/** Receives each encoded frame; returns false if it was dropped (a keyframe is then forced). */
export type FrameSink = (frame: OutgoingFrame) => boolean;

/** What every layer of a track shares. */
export interface LayerCodec {
  /** WebCodecs codec string. */
  codec: string;
  /** Frames per second at most. */
  framerate: number;
  /** A keyframe at least this often. */
  keyframeIntervalMs: number;
}

/** Counters and state of one layer. */
export interface LayerStats {
  spatialId: number;
  /** Size it encodes at now (0 before the first frame). */
  width: number;
  height: number;
  /** Target bitrate now, bits per second. */
  bitrate: number;
  /** Some subscriber wants it (the server's `SubscribedLayers`; true until the server says). */
  wanted: boolean;
  /** The uplink allows it. */
  allowed: boolean;
  /** Frames handed to its encoder. */
  framesEncoded: number;
  /** Frames not encoded because the layer was not wanted or not allowed. */
  framesPaused: number;
  /** Keyframes it produced. */
  keyframes: number;
  /** Encoder errors. */
  errors: number;
  /** Bytes it produced. */
  bytes: number;
}

/** The encoder of one spatial layer. */
export class LayerEncoder {
  private encoder: VideoEncoder | undefined;
  private forceKeyframe = true;
  private lastKeyframeUs = 0;
  private configured = { width: 0, height: 0, bitrate: 0 };
  private readonly captureTimes = new Map<number, bigint>();
  private closed = false;
  readonly stats: LayerStats;

  constructor(
    readonly spatialId: number,
    private readonly scaleDownBy: number,
    /** Its bitrate when the uplink is clear. */
    readonly maxBitrate: number,
    private readonly codec: LayerCodec,
    private readonly sink: FrameSink,
    /** Called with each encoder error (the pipeline may convert frames and retry). */
    private readonly onError: (e: DOMException) => void,
  ) {
    this.stats = {
      spatialId,
      width: 0,
      height: 0,
      bitrate: maxBitrate,
      wanted: true,
      allowed: true,
      framesEncoded: 0,
      framesPaused: 0,
      keyframes: 0,
      errors: 0,
      bytes: 0,
    };
  }

  /** Whether it encodes frames now. */
  get active(): boolean {
    return this.stats.wanted && this.stats.allowed;
  }

  /** Asks for a keyframe on the next frame. */
  requestKeyframe(): void {
    this.forceKeyframe = true;
  }

  /** Dynacast: whether some subscriber wants this layer. Resuming starts with a keyframe. */
  setWanted(wanted: boolean): void {
    this.setState(wanted, this.stats.allowed);
  }

  /** Uplink adaptation: whether the layer runs, and at which bitrate. */
  setAllowance(allowed: boolean, bitrate: number): void {
    this.stats.bitrate = Math.max(1, Math.round(bitrate));
    this.setState(this.stats.wanted, allowed);
  }

  private setState(wanted: boolean, allowed: boolean): void {
    const wasActive = this.active;
    this.stats.wanted = wanted;
    this.stats.allowed = allowed;
    if (!wasActive && this.active) this.forceKeyframe = true;
  }

  /**
   * Encodes `frame` (captured at `tsUs`) if the layer is active. `keyframe` forces a keyframe
   * (the track was muted, say).
   */
  encode(frame: VideoFrame, keyframe: boolean): void {
    if (this.closed) return;
    if (!this.active) {
      this.stats.framesPaused++;
      return;
    }
    const width = this.scaleDownBy === 1 ? frame.displayWidth : scaledSize(frame.displayWidth, this.scaleDownBy);
    const height = this.scaleDownBy === 1 ? frame.displayHeight : scaledSize(frame.displayHeight, this.scaleDownBy);
    let encoder = this.encoder;
    if (encoder === undefined || encoder.state === "closed" || width !== this.configured.width || height !== this.configured.height) {
      if (encoder !== undefined && encoder.state !== "closed") encoder.close();
      encoder = this.create();
      this.configure(encoder, width, height);
      this.forceKeyframe = true;
    } else if (this.stats.bitrate !== this.configured.bitrate) {
      // A new bitrate only: the encoder keeps its state (no keyframe needed).
      this.configure(encoder, width, height);
    }
    if (encoder.encodeQueueSize > 2) return;
    const ts = frame.timestamp;
    const keyFrame = keyframe || this.forceKeyframe || ts - this.lastKeyframeUs >= this.codec.keyframeIntervalMs * 1000;
    if (keyFrame) {
      this.forceKeyframe = false;
      this.lastKeyframeUs = ts;
    }
    this.captureTimes.set(ts, nowUs());
    this.stats.framesEncoded++;
    encoder.encode(frame, { keyFrame });
  }

  private create(): VideoEncoder {
    const encoder = new VideoEncoder({
      output: (chunk) => this.output(chunk),
      error: (e) => {
        this.stats.errors++;
        this.encoder = undefined;
        this.onError(e);
      },
    });
    this.encoder = encoder;
    return encoder;
  }

  private configure(encoder: VideoEncoder, width: number, height: number): void {
    encoder.configure(encoderConfig(this.codec.codec, width, height, this.stats.bitrate, this.codec.framerate));
    this.configured = { width, height, bitrate: this.stats.bitrate };
    this.stats.width = width;
    this.stats.height = height;
  }

  private output(chunk: EncodedVideoChunk): void {
    if (this.closed) return;
    const payload = new Uint8Array(chunk.byteLength);
    chunk.copyTo(payload);
    const captureTsUs = this.captureTimes.get(chunk.timestamp) ?? nowUs();
    this.captureTimes.delete(chunk.timestamp);
    if (this.captureTimes.size > 64) this.captureTimes.clear();
    const keyframe = chunk.type === "key";
    if (keyframe) this.stats.keyframes++;
    this.stats.bytes += payload.length;
    const sent = this.sink({ spatialId: this.spatialId, temporalId: 0, keyframe, discardable: false, captureTsUs, payload });
    if (!sent) this.forceKeyframe = true;
  }

  /** Closes the encoder; frames still in it are dropped. */
  close(): void {
    this.closed = true;
    if (this.encoder !== undefined && this.encoder.state !== "closed") this.encoder.close();
    this.encoder = undefined;
  }
}
