/** Received audio frames → WebCodecs `AudioDecoder` (Opus) → `AudioData`. */

import type { MediaFrame } from "../proto/media.js";
import { type DecodeStats, newDecodeStats } from "./video_decode.js";

/** Decodes one remote audio track. The caller owns (and must close) every output. */
export class AudioDecodePipeline {
  private decoder: AudioDecoder | undefined;
  private closed = false;
  /** The last received audio level (0 loudest … 127 silence), if the publisher sent one. */
  lastLevel: number | undefined;
  /** Counters since creation. */
  readonly stats: DecodeStats = newDecodeStats();

  constructor(
    /** WebCodecs codec string ("opus"). */
    readonly codec: string,
    private readonly onData: (data: AudioData) => void,
  ) {}

  /** Feeds one received frame. */
  handle(frame: MediaFrame): void {
    if (this.closed) return;
    this.stats.framesReceived++;
    this.stats.bytes += frame.payload.length;
    this.lastLevel = frame.header.audioLevel;
    const decoder = this.ensureDecoder();
    if (decoder.decodeQueueSize > 20) {
      this.stats.framesDropped++;
      return;
    }
    this.stats.framesDecoded++;
    decoder.decode(new EncodedAudioChunk({ type: "key", timestamp: Number(frame.header.captureTsUs), data: frame.payload }));
  }

  private ensureDecoder(): AudioDecoder {
    if (this.decoder !== undefined && this.decoder.state !== "closed") return this.decoder;
    const decoder = new AudioDecoder({
      output: (d) => {
        if (this.closed) {
          d.close();
          return;
        }
        this.stats.framesOutput++;
        this.onData(d);
      },
      error: (e) => {
        this.stats.errors++;
        console.warn("audio decoder error:", e.message);
        this.decoder = undefined;
      },
    });
    decoder.configure({ codec: this.codec, sampleRate: 48_000, numberOfChannels: 1 });
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

/** Root mean square of `samples` (-1 … 1), clamped to 0 … 1. */
export function rmsLevel(samples: Float32Array): number {
  if (samples.length === 0) return 0;
  let sum = 0;
  for (const v of samples) sum += v * v;
  return Math.min(1, Math.sqrt(sum / samples.length));
}
