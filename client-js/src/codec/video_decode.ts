/**
 * Received video frames → WebCodecs `VideoDecoder` (`optimizeForLatency`) → `VideoFrame`s.
 * Decoding starts at a keyframe; a gap inside a group (frames lost or a group cut short by the
 * SFU) stops decoding until the next keyframe, and frames of groups older than the current one
 * are ignored.
 */

import { UnsupportedCodecError, errorMessage } from "../errors.js";
import type { MediaFrame } from "../proto/media.js";

/** Counters of a decoder pipeline. */
export interface DecodeStats {
  /** Frames received for the track. */
  framesReceived: number;
  /** Frames handed to the decoder. */
  framesDecoded: number;
  /** Frames that came out of the decoder. */
  framesOutput: number;
  /** Frames dropped (waiting for a keyframe, stale group, full queue). */
  framesDropped: number;
  /** Of the dropped frames: those of a group older than the one being decoded. */
  framesStale: number;
  /** Keyframes received. */
  keyframes: number;
  /** Decoder errors. */
  errors: number;
  /** Payload bytes received. */
  bytes: number;
}

/** Counters all at zero. */
export function newDecodeStats(): DecodeStats {
  return {
    framesReceived: 0,
    framesDecoded: 0,
    framesOutput: 0,
    framesDropped: 0,
    framesStale: 0,
    keyframes: 0,
    errors: 0,
    bytes: 0,
  };
}

/** Decodes one remote video track. The caller owns (and must close) every output frame. */
export class VideoDecodePipeline {
  private decoder: VideoDecoder | undefined;
  private waitingForKeyframe = true;
  private group = -1n;
  /** The simulcast layer being decoded (-1: none yet). */
  private layer = -1;
  private lastCaptureTsUs = 0n;
  private lastFrameSeq = 0;
  private closed = false;
  /** Set once the codec turned out not to be decodable here: every frame is dropped. */
  private unsupported: UnsupportedCodecError | undefined;
  private onUnsupported: ((e: UnsupportedCodecError) => void) | undefined;
  /** Counters since creation. */
  readonly stats: DecodeStats = newDecodeStats();

  constructor(
    /** WebCodecs codec string (the track's `codec`). */
    readonly codec: string,
    private readonly onFrame: (frame: VideoFrame) => void,
  ) {
    // Ask at once, so an undecodable track is reported when it is subscribed, not at its first frame.
    if (typeof VideoDecoder !== "undefined" && typeof VideoDecoder.isConfigSupported === "function") {
      VideoDecoder.isConfigSupported({ codec, optimizeForLatency: true }).then(
        (s) => {
          if (s.supported !== true) this.fail("this browser has no decoder for it");
        },
        (e: unknown) => this.fail(errorMessage(e)),
      );
    }
  }

  /** The error that stopped decoding, if the codec cannot be decoded here. */
  get error(): UnsupportedCodecError | undefined {
    return this.unsupported;
  }

  /** Calls `listener` once if the codec turns out not to be decodable (at once if it already did). */
  setUnsupportedListener(listener: (e: UnsupportedCodecError) => void): void {
    this.onUnsupported = listener;
    if (this.unsupported !== undefined) listener(this.unsupported);
  }

  private fail(detail: string): void {
    if (this.unsupported !== undefined || this.closed) return;
    this.unsupported = new UnsupportedCodecError(this.codec, detail);
    if (this.decoder !== undefined && this.decoder.state !== "closed") this.decoder.close();
    this.decoder = undefined;
    this.onUnsupported?.(this.unsupported);
  }

  /** Feeds one received frame. */
  handle(frame: MediaFrame): void {
    if (this.closed) return;
    if (this.unsupported !== undefined) {
      this.stats.framesReceived++;
      this.stats.framesDropped++;
      return;
    }
    const h = frame.header;
    this.stats.framesReceived++;
    this.stats.bytes += frame.payload.length;
    if (h.keyframe) this.stats.keyframes++;
    if (!this.accept(frame)) {
      this.stats.framesDropped++;
      return;
    }
    const decoder = this.ensureDecoder();
    if (decoder === undefined) {
      this.stats.framesDropped++;
      return;
    }
    if (decoder.decodeQueueSize > 8 && !h.keyframe) {
      this.waitingForKeyframe = true;
      this.stats.framesDropped++;
      return;
    }
    this.stats.framesDecoded++;
    decoder.decode(
      new EncodedVideoChunk({ type: h.keyframe ? "key" : "delta", timestamp: Number(h.captureTsUs), data: frame.payload }),
    );
  }

  /** Decodes nothing until the next keyframe (frames were lost before they got here). */
  resync(): void {
    this.waitingForKeyframe = true;
  }

  /**
   * Whether `frame` continues a decodable sequence; updates the group position. Groups are
   * numbered per simulcast layer, so a keyframe of another layer (the SFU switched layers)
   * starts afresh, unless it was captured before what was decoded last (a late one).
   */
  private accept(frame: MediaFrame): boolean {
    const h = frame.header;
    if (h.spatialId !== this.layer) {
      if (!h.keyframe || h.captureTsUs < this.lastCaptureTsUs) {
        // Before any keyframe this is only waiting; after one, a frame of the old layer.
        if (this.layer !== -1) this.stats.framesStale++;
        return false;
      }
      this.layer = h.spatialId;
      this.group = h.groupSeq;
    }
    if (h.groupSeq < this.group) {
      this.stats.framesStale++;
      return false;
    }
    this.lastCaptureTsUs = h.captureTsUs;
    if (h.keyframe) {
      this.group = h.groupSeq;
      this.lastFrameSeq = h.frameSeq;
      this.waitingForKeyframe = false;
      return true;
    }
    if (this.waitingForKeyframe) return false;
    if (h.groupSeq !== this.group || h.frameSeq !== this.lastFrameSeq + 1) {
      this.waitingForKeyframe = true;
      return false;
    }
    this.lastFrameSeq = h.frameSeq;
    return true;
  }

  private ensureDecoder(): VideoDecoder | undefined {
    if (this.decoder !== undefined && this.decoder.state !== "closed") return this.decoder;
    const decoder = new VideoDecoder({
      output: (f) => {
        if (this.closed) {
          f.close();
          return;
        }
        this.stats.framesOutput++;
        this.onFrame(f);
      },
      error: (e) => {
        this.stats.errors++;
        this.decoder = undefined;
        this.waitingForKeyframe = true;
        if (e.name === "NotSupportedError") this.fail(e.message);
        else console.warn("video decoder error:", e.message);
      },
    });
    try {
      decoder.configure({ codec: this.codec, optimizeForLatency: true });
    } catch (e) {
      // An invalid codec string throws at once.
      this.stats.errors++;
      if (decoder.state !== "closed") decoder.close();
      this.fail(errorMessage(e));
      return undefined;
    }
    this.decoder = decoder;
    return decoder;
  }

  /** Closes the decoder. */
  close(): void {
    this.closed = true;
    if (this.decoder !== undefined && this.decoder.state !== "closed") this.decoder.close();
    this.decoder = undefined;
  }
}
