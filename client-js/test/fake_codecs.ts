/**
 * WebCodecs and `MediaStreamTrackProcessor` stand-ins for Node (which has neither): captured
 * frames are pushed by the test, encoders record what they are asked and output a chunk at once.
 */

import { pushable } from "./fake_session.js";

/** A captured frame (video or audio) as the pipelines use it. */
export interface FakeFrame {
  displayWidth: number;
  displayHeight: number;
  timestamp: number;
  format: string | null;
  sampleRate: number;
  numberOfChannels: number;
  numberOfFrames: number;
  closed: boolean;
  copyTo(dest: Float32Array): void;
  close(): void;
}

/** A frame of `width` x `height` (video) at `timestampUs`. */
export function fakeFrame(timestampUs: number, width = 320, height = 240): FakeFrame {
  return {
    displayWidth: width,
    displayHeight: height,
    timestamp: timestampUs,
    format: "I420",
    sampleRate: 48_000,
    numberOfChannels: 1,
    numberOfFrames: 960,
    closed: false,
    copyTo: (dest) => dest.fill(0.1),
    close() {
      this.closed = true;
    },
  };
}

/** `new MediaStreamTrackProcessor({ track })`: frames pushed with {@link FakeProcessor.push}. */
export class FakeProcessor {
  static readonly byTrack = new Map<unknown, ReturnType<typeof pushable<FakeFrame>>>();
  readonly readable: ReadableStream<FakeFrame>;
  constructor(init: { track: unknown }) {
    const p = pushable<FakeFrame>();
    FakeProcessor.byTrack.set(init.track, p);
    this.readable = p.stream;
  }
  /** Pushes `frame` into the capture of `track`. */
  static push(track: unknown, frame: FakeFrame): void {
    const p = FakeProcessor.byTrack.get(track);
    if (p === undefined) throw new Error("no processor for that track");
    p.push(frame);
  }
}

interface EncoderInit {
  output(chunk: { type: string; timestamp: number; byteLength: number; copyTo(d: Uint8Array): void }): void;
  error(e: Error): void;
}

/** One `encode` call a fake encoder saw. */
export interface EncodeCall {
  timestamp: number;
  keyFrame: boolean;
  width: number;
  height: number;
  bitrate: number | undefined;
}

/** Records configurations and encodes; every encode outputs one chunk synchronously. */
export class FakeVideoEncoder {
  static readonly all: FakeVideoEncoder[] = [];
  static supported: (config: VideoEncoderConfig) => boolean = () => true;
  state: "unconfigured" | "configured" | "closed" = "unconfigured";
  encodeQueueSize = 0;
  config: VideoEncoderConfig | undefined;
  readonly configs: VideoEncoderConfig[] = [];
  readonly calls: EncodeCall[] = [];
  constructor(private readonly init: EncoderInit) {
    FakeVideoEncoder.all.push(this);
  }
  static isConfigSupported(config: VideoEncoderConfig): Promise<{ supported: boolean; config: VideoEncoderConfig }> {
    return Promise.resolve({ supported: FakeVideoEncoder.supported(config), config });
  }
  configure(config: VideoEncoderConfig): void {
    this.config = config;
    this.configs.push(config);
    this.state = "configured";
  }
  encode(frame: FakeFrame, options?: { keyFrame?: boolean }): void {
    const keyFrame = options?.keyFrame ?? false;
    this.calls.push({ timestamp: frame.timestamp, keyFrame, width: this.config?.width ?? 0, height: this.config?.height ?? 0, bitrate: this.config?.bitrate });
    const payload = Uint8Array.of(keyFrame ? 1 : 0, this.config?.width ?? 0);
    this.init.output({ type: keyFrame ? "key" : "delta", timestamp: frame.timestamp, byteLength: payload.length, copyTo: (d) => d.set(payload) });
  }
  close(): void {
    this.state = "closed";
  }
}

/** An Opus encoder that outputs one small packet per input. */
export class FakeAudioEncoder {
  static encoded = 0;
  state: "unconfigured" | "configured" | "closed" = "unconfigured";
  constructor(private readonly init: EncoderInit) {}
  configure(): void {
    this.state = "configured";
  }
  encode(data: FakeFrame): void {
    FakeAudioEncoder.encoded++;
    this.init.output({ type: "key", timestamp: data.timestamp, byteLength: 3, copyTo: (d) => d.set([1, 2, 3]) });
  }
  close(): void {
    this.state = "closed";
  }
}

const NAMES = ["MediaStreamTrackProcessor", "VideoEncoder", "AudioEncoder"] as const;

/** Installs the fakes as globals; returns a function that restores the previous ones. */
export function installFakeCodecs(): () => void {
  const saved = NAMES.map((n) => Reflect.get(globalThis, n) as unknown);
  Reflect.set(globalThis, "MediaStreamTrackProcessor", FakeProcessor);
  Reflect.set(globalThis, "VideoEncoder", FakeVideoEncoder);
  Reflect.set(globalThis, "AudioEncoder", FakeAudioEncoder);
  FakeVideoEncoder.all.length = 0;
  FakeVideoEncoder.supported = () => true;
  FakeProcessor.byTrack.clear();
  return () => NAMES.forEach((n, i) => Reflect.set(globalThis, n, saved[i]));
}
