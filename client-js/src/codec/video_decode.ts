/**
 * Received video frames → WebCodecs `VideoDecoder` (`optimizeForLatency`) → `VideoFrame`s.
 * Decoding starts at a keyframe; a gap inside a group (frames lost or a group cut short by the
 * SFU) stops decoding until the next keyframe, and frames of groups older than the current one
 * are ignored.
 */

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
  private lastFrameSeq = 0;
  private closed = false;
  /** Counters since creation. */
  readonly stats: DecodeStats = newDecodeStats();

  constructor(
    /** WebCodecs codec string (the track's `codec`). */
    readonly codec: string,
    private readonly onFrame: (frame: VideoFrame) => void,
  ) {}

  /** Feeds one received frame. */
  handle(frame: MediaFrame): void {
    if (this.closed) return;
    const h = frame.header;
    this.stats.framesReceived++;
    this.stats.bytes += frame.payload.length;
    if (h.keyframe) this.stats.keyframes++;
    if (!this.accept(frame)) {
      this.stats.framesDropped++;
      return;
    }
    const decoder = this.ensureDecoder();
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

  /** Whether `frame` continues a decodable sequence; updates the group position. */
  private accept(frame: MediaFrame): boolean {
    const h = frame.header;
    if (h.groupSeq < this.group) {
      this.stats.framesStale++;
      return false;
    }
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

  private ensureDecoder(): VideoDecoder {
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
        console.warn("video decoder error:", e.message);
        this.decoder = undefined;
        this.waitingForKeyframe = true;
      },
    });
    decoder.configure({ codec: this.codec, optimizeForLatency: true });
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
