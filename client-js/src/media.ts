/**
 * Receiving media (mirrors `dark_tower_client::media`): every unidirectional stream the media
 * handler opens is read with a {@link MediaStreamReader}; every datagram is one frame. Frames go
 * to one callback, with the transport they came on.
 */

import { errorMessage } from "./errors.js";
import { MAX_DATAGRAM_FRAME, MAX_MEDIA_FRAME } from "./proto/limits.js";
import { MediaCodecError, MediaStreamReader, decodeFrame, type MediaFrame } from "./proto/media.js";
import type { Session } from "./transport.js";

/** Called for every received frame. */
export type FrameHandler = (frame: MediaFrame, datagram: boolean) => void;

/** Counters of the receive side. */
export interface ReceiverStats {
  /** Group streams accepted. */
  streams: number;
  /** Frames received on streams. */
  streamFrames: number;
  /** Frames received as datagrams. */
  datagramFrames: number;
  /** Datagrams that did not decode (dropped). */
  badDatagrams: number;
  /** Streams abandoned because they did not decode. */
  badStreams: number;
}

/** Reads every frame the media handler sends on one session. */
export class MediaReceiver {
  private stopped = false;
  /** Counters since start. */
  readonly stats: ReceiverStats = { streams: 0, streamFrames: 0, datagramFrames: 0, badDatagrams: 0, badStreams: 0 };

  constructor(
    private readonly session: Session,
    private readonly onFrame: FrameHandler,
  ) {}

  /** Starts the stream and datagram loops; they end with the session. */
  start(): void {
    void this.acceptStreams();
    void this.readDatagrams();
  }

  /** Stops delivering frames. */
  stop(): void {
    this.stopped = true;
  }

  private async acceptStreams(): Promise<void> {
    const incoming = this.session.incomingUnidirectionalStreams.getReader();
    try {
      for (;;) {
        const { value, done } = await incoming.read();
        if (done || this.stopped) break;
        this.stats.streams++;
        void this.readStream(value);
      }
    } catch {
      // The session closed.
    } finally {
      incoming.releaseLock();
    }
  }

  /** Reads one group stream to its end; a decoding error abandons the stream. */
  async readStream(stream: ReadableStream<Uint8Array>): Promise<void> {
    const reader = stream.getReader();
    const frames = new MediaStreamReader(MAX_MEDIA_FRAME);
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) {
          frames.finish();
          return;
        }
        frames.push(value);
        for (let f = frames.nextFrame(); f !== undefined; f = frames.nextFrame()) {
          if (this.stopped) return;
          this.stats.streamFrames++;
          this.onFrame(f, false);
        }
      }
    } catch (e) {
      if (e instanceof MediaCodecError) {
        this.stats.badStreams++;
        console.warn("bad media stream from server:", e.message);
        reader.cancel(e.message).catch(() => undefined);
      }
      // Otherwise the stream was reset (a dropped group): not an error.
    }
  }

  private async readDatagrams(): Promise<void> {
    const reader = this.session.datagrams.readable.getReader();
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done || this.stopped) break;
        let frame: MediaFrame;
        try {
          frame = decodeFrame(value, Math.max(MAX_DATAGRAM_FRAME, 2048));
        } catch (e) {
          this.stats.badDatagrams++;
          console.debug("bad datagram from server:", errorMessage(e));
          continue;
        }
        this.stats.datagramFrames++;
        this.onFrame(frame, true);
      }
    } catch {
      // The session closed.
    }
  }
}
