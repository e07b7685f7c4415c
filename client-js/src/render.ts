/**
 * Where decoded media goes: a canvas (drawn with the 2D context), or a `<video>` / `<audio>`
 * element fed through a `MediaStreamTrackGenerator` (Chromium).
 */

import { InvalidUseError } from "./errors.js";

/** Receives decoded video frames; does not close them. */
export interface VideoSink {
  /** The element the sink renders into. */
  readonly element: HTMLElement;
  render(frame: VideoFrame): void;
  close(): void;
}

/** Receives decoded audio; does not close it. */
export interface AudioSink {
  readonly element: HTMLElement;
  play(data: AudioData): void;
  close(): void;
}

/** Draws each frame into a canvas, resizing the canvas to the frame. */
export class CanvasSink implements VideoSink {
  private readonly ctx: CanvasRenderingContext2D;

  constructor(readonly element: HTMLCanvasElement) {
    const ctx = element.getContext("2d");
    if (ctx === null) throw new InvalidUseError("the canvas has no 2D context");
    this.ctx = ctx;
  }

  render(frame: VideoFrame): void {
    if (this.element.width !== frame.displayWidth || this.element.height !== frame.displayHeight) {
      this.element.width = frame.displayWidth;
      this.element.height = frame.displayHeight;
    }
    this.ctx.drawImage(frame, 0, 0, frame.displayWidth, frame.displayHeight);
  }

  close(): void {
    // Nothing to release; the canvas keeps the last picture.
  }
}

function generatorAvailable(): boolean {
  return typeof globalThis.MediaStreamTrackGenerator === "function";
}

/** Feeds a `<video>` element through a `MediaStreamTrackGenerator`. */
export class VideoElementSink implements VideoSink {
  private readonly generator: MediaStreamVideoTrackGenerator;
  private readonly writer: WritableStreamDefaultWriter<VideoFrame>;

  constructor(readonly element: HTMLVideoElement) {
    if (!generatorAvailable()) throw new InvalidUseError("this browser cannot render into <video>: attach a <canvas>");
    this.generator = new MediaStreamTrackGenerator({ kind: "video" });
    this.writer = this.generator.writable.getWriter();
    element.autoplay = true;
    element.muted = true;
    element.playsInline = true;
    element.srcObject = new MediaStream([this.generator]);
  }

  render(frame: VideoFrame): void {
    if ((this.writer.desiredSize ?? 1) <= 0) return;
    this.writer.write(frame.clone()).catch(() => undefined);
  }

  close(): void {
    this.writer.close().catch(() => undefined);
    this.element.srcObject = null;
  }
}

/** Plays audio through an `<audio>` element fed by a `MediaStreamTrackGenerator`. */
export class AudioElementSink implements AudioSink {
  private readonly generator: MediaStreamAudioTrackGenerator;
  private readonly writer: WritableStreamDefaultWriter<AudioData>;

  constructor(readonly element: HTMLAudioElement) {
    if (!generatorAvailable()) throw new InvalidUseError("this browser cannot play generated audio");
    this.generator = new MediaStreamTrackGenerator({ kind: "audio" });
    this.writer = this.generator.writable.getWriter();
    element.autoplay = true;
    element.srcObject = new MediaStream([this.generator]);
  }

  play(data: AudioData): void {
    if ((this.writer.desiredSize ?? 1) <= 0) return;
    this.writer.write(data.clone()).catch(() => undefined);
  }

  close(): void {
    this.writer.close().catch(() => undefined);
    this.element.srcObject = null;
  }
}
