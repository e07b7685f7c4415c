/**
 * Microphone (or any audio track) → WebCodecs `AudioEncoder` (Opus) → frames for a
 * {@link TrackSender}, each with the RFC 6464 audio level of the captured audio.
 */

import { pumpCapture } from "./capture.js";
import { nowUs } from "./clock.js";
import type { EncodeStats, FrameSink } from "./video_encode.js";

/** How an audio track is encoded. */
export interface AudioEncoding {
  /** WebCodecs codec string; "opus". */
  codec: string;
  /** Target bitrate, bits per second. */
  maxBitrate: number;
}

/** Defaults: Opus at 32 kbit/s (20 ms frames fit a datagram). */
export const DEFAULT_AUDIO_ENCODING: AudioEncoding = { codec: "opus", maxBitrate: 32_000 };

/** The RFC 6464 level (-dBov, 0 loudest … 127 silence) of float samples. */
export function audioLevel(samples: Float32Array): number {
  if (samples.length === 0) return 127;
  let sum = 0;
  for (const s of samples) sum += s * s;
  const rms = Math.sqrt(sum / samples.length);
  if (rms <= 0) return 127;
  const dbov = 20 * Math.log10(rms);
  return Math.min(127, Math.max(0, Math.round(-dbov)));
}

/** Encodes one audio track until {@link AudioEncodePipeline.stop}. */
export class AudioEncodePipeline {
  private encoder: AudioEncoder | undefined;
  private reader: ReadableStreamDefaultReader<AudioData> | undefined;
  private level = 127;
  private samples = new Float32Array(0);
  private stopped = false;
  private paused = false;
  /** Counters since start. */
  readonly stats: EncodeStats = { framesIn: 0, framesEncoded: 0, framesSkipped: 0, keyframes: 0, errors: 0 };

  constructor(
    private readonly track: MediaStreamAudioTrack,
    private readonly encoding: AudioEncoding,
    private readonly sink: FrameSink,
  ) {}

  /** Starts reading and encoding. */
  start(): void {
    const processor = new MediaStreamTrackProcessor({ track: this.track });
    this.reader = processor.readable.getReader();
    void this.loop(this.reader);
  }

  /** While paused (the track is muted), captured audio is dropped. */
  setPaused(paused: boolean): void {
    this.paused = paused;
  }

  /** Stops reading and closes the encoder. */
  stop(): void {
    this.stopped = true;
    this.reader?.cancel().catch(() => undefined);
    if (this.encoder !== undefined && this.encoder.state !== "closed") this.encoder.close();
    this.encoder = undefined;
  }

  private loop(reader: ReadableStreamDefaultReader<AudioData>): Promise<void> {
    return pumpCapture(
      reader,
      () => this.stopped,
      (frame) => this.encode(frame),
      () => this.stats.framesIn++,
      "audio",
    );
  }

  private encode(data: AudioData): void {
    if (this.paused) {
      this.stats.framesSkipped++;
      return;
    }
    let encoder = this.encoder;
    if (encoder === undefined || encoder.state === "closed") {
      encoder = new AudioEncoder({
        output: (chunk) => this.output(chunk),
        error: (e) => {
          this.stats.errors++;
          console.warn("audio encoder error:", e.message);
          this.encoder = undefined;
        },
      });
      encoder.configure({
        codec: this.encoding.codec,
        sampleRate: data.sampleRate,
        numberOfChannels: data.numberOfChannels,
        bitrate: this.encoding.maxBitrate,
      });
      this.encoder = encoder;
    }
    if (this.samples.length < data.numberOfFrames) this.samples = new Float32Array(data.numberOfFrames);
    const view = this.samples.subarray(0, data.numberOfFrames);
    try {
      data.copyTo(view, { planeIndex: 0, format: "f32-planar" });
      this.level = audioLevel(view);
    } catch {
      // Level unavailable for this format; keep the last one.
    }
    this.stats.framesEncoded++;
    encoder.encode(data);
  }

  private output(chunk: EncodedAudioChunk): void {
    if (this.stopped) return;
    const payload = new Uint8Array(chunk.byteLength);
    chunk.copyTo(payload);
    this.sink({
      spatialId: 0,
      temporalId: 0,
      keyframe: false,
      discardable: false,
      captureTsUs: nowUs(),
      audioLevel: this.level,
      payload,
    });
  }
}
