/**
 * Publishing frames (mirrors `dark_tower_client::local_track`): group and frame numbering
 * ({@link FrameSequencer}, pure) and the transport mapping of MEDIA.md section 6
 * ({@link TrackSender}): video on one unidirectional stream per group per layer, audio as
 * datagrams with a stream of its own when a frame does not fit.
 */

import { InvalidUseError, errorMessage } from "./errors.js";
import { MAX_DATAGRAM_FRAME, MAX_SIMULCAST_LAYERS, MAX_TEMPORAL_LAYERS } from "./proto/limits.js";
import { STREAM_TYPE_GROUP, encodeFrame, encodeStreamFrame, encodedLen, type MediaHeader } from "./proto/media.js";
import type { DatagramWriter, Session } from "./transport.js";

/** One encoded frame to publish. */
export interface OutgoingFrame {
  /** Simulcast layer. */
  spatialId: number;
  /** Temporal layer. */
  temporalId: number;
  /** A keyframe starts a new group (a new stream). */
  keyframe: boolean;
  /** May be dropped without breaking later frames. */
  discardable: boolean;
  /** Capture time, microseconds since the epoch. */
  captureTsUs: bigint;
  /** Audio level (0 loudest … 127 silence), audio only. */
  audioLevel?: number | undefined;
  /** Encoded payload. */
  payload: Uint8Array;
}

interface LayerState {
  groupSeq: bigint;
  frameSeq: number;
  started: boolean;
}

const U32_MAX = 0xffffffff;

/** Numbers the frames of one track (MEDIA.md section 5); no I/O. */
export class FrameSequencer {
  private readonly layerState: LayerState[] = [];

  constructor(
    /** The track's alias from `PublishTrackAck`. */
    readonly alias: number,
    /** Audio frames stand alone; video frames form groups. */
    readonly kind: "audio" | "video",
    /** Layers published (1 to 3). */
    readonly layers: number,
  ) {
    for (let i = 0; i < MAX_SIMULCAST_LAYERS; i++) this.layerState.push({ groupSeq: 0n, frameSeq: 0, started: false });
  }

  /**
   * The header of the next frame and whether it opens a new group. Throws
   * {@link InvalidUseError} for a delta frame before any keyframe of its layer, an unpublished
   * layer, or out-of-range ids.
   */
  next(frame: OutgoingFrame): { header: MediaHeader; opensGroup: boolean } {
    if (
      frame.temporalId < 0 ||
      frame.temporalId >= MAX_TEMPORAL_LAYERS ||
      (frame.audioLevel !== undefined && (frame.audioLevel < 0 || frame.audioLevel > 127))
    ) {
      throw new InvalidUseError("temporal id above 3 or audio level above 127");
    }
    const state = this.layerState[frame.spatialId];
    if (state === undefined || frame.spatialId >= this.layers || frame.spatialId < 0) {
      throw new InvalidUseError(`layer ${frame.spatialId} was not published`);
    }
    const audio = this.kind === "audio";
    let opensGroup = false;
    if (frame.keyframe || audio) {
      if (state.started && (frame.keyframe || (audio && state.frameSeq === U32_MAX))) {
        state.groupSeq += 1n;
        state.frameSeq = 0;
      } else if (state.started) {
        state.frameSeq += 1;
      }
      state.started = true;
      opensGroup = frame.keyframe && !audio;
    } else if (!state.started) {
      throw new InvalidUseError("the first video frame of a layer must be a keyframe");
    } else {
      state.frameSeq += 1;
    }
    return {
      header: {
        trackAlias: this.alias,
        spatialId: frame.spatialId,
        temporalId: frame.temporalId,
        groupSeq: state.groupSeq,
        frameSeq: state.frameSeq,
        captureTsUs: frame.captureTsUs,
        keyframe: frame.keyframe,
        discardable: frame.discardable,
        endOfGroup: false,
        audioLevel: frame.audioLevel,
      },
      opensGroup,
    };
  }
}

/**
 * Replaces a frame's payload before it is sent (E2EE): gets the frame's final header (only its
 * authenticated fields matter) and the encoded payload.
 */
export type PayloadTransform = (header: MediaHeader, payload: Uint8Array) => Uint8Array | Promise<Uint8Array>;

/** Send priority of a group's stream: `group_seq mod (2^31 - 1)` (MEDIA.md 6.1). */
export function groupSendOrder(groupSeq: bigint): number {
  return Number(groupSeq % 0x7fffffffn);
}

/** Statistics of a published track. */
export interface SenderStats {
  /** Frames handed to the transport. */
  framesSent: number;
  /** Frames dropped before sending (congestion). */
  framesDropped: number;
  /** Groups (streams) opened. */
  groups: number;
  /** Frames sent as datagrams. */
  datagrams: number;
  /** Payload and header bytes sent. */
  bytes: number;
}

/**
 * Sends a track's frames on the media session. Frames are written in order; when more than
 * `maxQueued` are waiting (the network is slower than the encoder), the sender drops delta
 * frames until the next keyframe, and {@link TrackSender.send} returns false so the encoder
 * can be asked for one.
 */
export class TrackSender {
  private readonly sequencer: FrameSequencer;
  private readonly streams: (WritableStreamDefaultWriter<Uint8Array> | undefined)[] = [];
  private chain: Promise<void> = Promise.resolve();
  private queued = 0;
  /** Video layers whose deltas are dropped until their next keyframe. */
  private readonly dropUntilKeyframe = new Set<number>();
  private closed = false;
  /** No media session (reconnecting): frames are dropped. */
  private detached = false;
  /** Bumped when the session changes; writes queued for an older one are skipped. */
  private generation = 0;
  private transform: PayloadTransform | undefined;
  private onTransformError: (e: unknown) => void = () => undefined;
  /** Layers whose current group lost a frame to a failed transform: dropped until a keyframe. */
  private readonly brokenLayers = new Set<number>();
  /** Counters since the track was published. */
  readonly stats: SenderStats = { framesSent: 0, framesDropped: 0, groups: 0, datagrams: 0, bytes: 0 };
  /** The clock queue delays are measured with, in ms (tests replace it). */
  now: () => number = () => performance.now();
  private delayWindow = { maxMs: 0, frames: 0, closeMs: 0 };
  /** Per layer, when its newest finished group stream, not closed yet, was finished. */
  private readonly closing = new Map<number, { since: number }>();
  /** When each frame still waiting was queued, oldest first. */
  private readonly pendingSince: number[] = [];

  constructor(
    alias: number,
    kind: "audio" | "video",
    layers: number,
    private session: Session,
    private datagrams: DatagramWriter,
    private readonly maxDatagramFrame: number = MAX_DATAGRAM_FRAME,
    private readonly maxQueued: number = 30,
    private readonly onError: (e: unknown) => void = (e) => console.warn("media send failed:", errorMessage(e)),
  ) {
    this.sequencer = new FrameSequencer(alias, kind, layers);
  }

  /** Queues one frame; false if it was dropped (ask the encoder for a keyframe). */
  send(frame: OutgoingFrame): boolean {
    if (this.closed) return false;
    const video = this.sequencer.kind === "video";
    if (this.detached) {
      // Reconnecting: nothing to send on. Video starts again with a keyframe (MEDIA.md: a new
      // session needs a new group), which the room asks the encoder for on reattaching.
      this.stats.framesDropped++;
      if (video) this.dropUntilKeyframe.add(frame.spatialId);
      return true;
    }
    if (video && !frame.keyframe && (this.dropUntilKeyframe.has(frame.spatialId) || this.queued >= this.maxQueued)) {
      this.dropUntilKeyframe.add(frame.spatialId);
      this.stats.framesDropped++;
      return false;
    }
    const { header, opensGroup } = this.sequencer.next(frame);
    if (frame.keyframe) this.dropUntilKeyframe.delete(frame.spatialId);
    const queuedAt = this.now();
    this.pendingSince.push(queuedAt);
    this.queued++;
    const generation = this.generation;
    // Encryption starts now (in parallel with earlier frames); writes stay in order.
    const payload = this.transform === undefined ? frame.payload : this.transform(header, frame.payload);
    if (payload instanceof Promise) payload.catch(() => undefined);
    this.chain = this.chain
      .then(async () => {
        if (generation !== this.generation) return;
        let bytes: Uint8Array;
        try {
          bytes = await payload;
        } catch (e) {
          this.transformFailed(header.spatialId, e);
          return;
        }
        if (this.brokenLayers.has(header.spatialId) && !opensGroup) {
          this.stats.framesDropped++;
          return;
        }
        this.brokenLayers.delete(header.spatialId);
        await this.write(header, bytes, opensGroup);
        this.noteDelay(this.now() - queuedAt);
      })
      .catch((e: unknown) => {
        if (!this.closed && !this.detached && generation === this.generation) this.onError(e);
      })
      .finally(() => {
        if (generation === this.generation) {
          this.queued--;
          this.pendingSince.shift();
        }
      });
    return true;
  }

  /**
   * Transforms every payload before it is sent (E2EE encryption), or stops doing so. A frame
   * whose transform fails is dropped and reported to `onError`; for video the rest of its
   * group is dropped too and the encoder is asked for a keyframe (receivers see a gap in the
   * group and wait for the next keyframe).
   */
  setTransform(transform: PayloadTransform | undefined, onError: (e: unknown) => void = () => undefined): void {
    this.transform = transform;
    this.onTransformError = onError;
  }

  private transformFailed(layer: number, e: unknown): void {
    this.stats.framesDropped++;
    if (this.sequencer.kind === "video") {
      this.brokenLayers.add(layer);
      this.dropUntilKeyframe.add(layer);
    }
    this.onTransformError(e);
  }

  /** The media session is gone (reconnecting): drops frames until {@link attach}. */
  detach(): void {
    this.detached = true;
    this.generation++;
    this.queued = 0;
    this.pendingSince.length = 0;
    this.chain = Promise.resolve();
    for (const w of this.streams) w?.abort().catch(() => undefined);
    this.streams.length = 0;
  }

  /** No media session now (reconnecting). */
  get isDetached(): boolean {
    return this.detached;
  }

  /** Sends on a new media session (after a resume); video waits for its next keyframe. */
  attach(session: Session, datagrams: DatagramWriter): void {
    if (!this.detached) this.detach();
    this.session = session;
    this.datagrams = datagrams;
    this.detached = false;
    if (this.sequencer.kind === "video") for (let l = 0; l < this.sequencer.layers; l++) this.dropUntilKeyframe.add(l);
  }

  /**
   * How long frames waited, from {@link send} until the transport took them (stream
   * backpressure included), since the last call: the longest wait in ms and how many frames
   * were written. Also the frames still waiting now. Resets the window.
   */
  takeQueueDelay(): { maxMs: number; frames: number; queued: number; closeMs: number } {
    const oldest = this.pendingSince[0];
    const waiting = oldest === undefined ? 0 : this.now() - oldest;
    let closeMs = this.delayWindow.closeMs;
    const now = this.now();
    for (const { since } of this.closing.values()) closeMs = Math.max(closeMs, now - since);
    const w = { maxMs: Math.max(this.delayWindow.maxMs, waiting), frames: this.delayWindow.frames, queued: this.queued, closeMs };
    this.delayWindow = { maxMs: 0, frames: 0, closeMs: 0 };
    return w;
  }

  /**
   * Finishes a group's stream. Its `close()` resolves once the transport sent everything
   * written to it, so how long that takes shows data queued in the browser's QUIC connection
   * (write backpressure alone does not: every group has a stream, and a buffer, of its own).
   * Only the newest finished group of each layer counts: older ones have a lower send order
   * and wait behind newer data by design.
   */
  private finishGroup(layer: number, w: WritableStreamDefaultWriter<Uint8Array>): void {
    const token = { since: this.now() };
    this.closing.set(layer, token);
    const generation = this.generation;
    w.close()
      .catch(() => undefined)
      .finally(() => {
        if (this.closing.get(layer) !== token) return;
        this.closing.delete(layer);
        if (generation === this.generation) this.delayWindow.closeMs = Math.max(this.delayWindow.closeMs, this.now() - token.since);
      });
  }

  private noteDelay(ms: number): void {
    this.delayWindow.frames++;
    if (ms > this.delayWindow.maxMs) this.delayWindow.maxMs = ms;
  }

  /** Resolves when every queued frame has been handed to the transport. */
  flushed(): Promise<void> {
    return this.chain;
  }

  private async write(header: MediaHeader, payload: Uint8Array, opensGroup: boolean): Promise<void> {
    if (this.closed) return;
    const frame = { header, payload };
    const len = encodedLen(frame);
    this.stats.framesSent++;
    this.stats.bytes += len;
    if (this.sequencer.kind === "audio") {
      if (len <= this.maxDatagramFrame && len <= this.datagrams.maxDatagramSize) {
        this.stats.datagrams++;
        this.datagrams.send(encodeFrame(frame));
        return;
      }
      // Too big for a datagram: a stream of its own (type byte, one frame, FIN).
      const w = (await this.session.createUnidirectionalStream()).getWriter();
      w.write(Uint8Array.of(STREAM_TYPE_GROUP)).catch(() => undefined);
      w.write(encodeStreamFrame(frame)).catch(() => undefined);
      await w.close();
      return;
    }
    const layer = header.spatialId;
    if (opensGroup) {
      const previous = this.streams[layer];
      if (previous !== undefined) this.finishGroup(layer, previous);
      this.streams[layer] = undefined;
      const ws = await this.session.createUnidirectionalStream({ sendOrder: groupSendOrder(header.groupSeq) });
      const w = ws.getWriter();
      this.streams[layer] = w;
      this.stats.groups++;
      w.write(Uint8Array.of(STREAM_TYPE_GROUP)).catch(() => undefined);
    }
    const w = this.streams[layer];
    if (w === undefined) throw new InvalidUseError("no open group");
    w.write(encodeStreamFrame(frame)).catch(() => undefined);
    // Backpressure: wait until the stream takes more, so queued frames pile up here.
    await w.ready;
  }

  /** Finishes the open group streams; later frames are ignored. */
  close(): void {
    this.closed = true;
    for (const w of this.streams) w?.close().catch(() => undefined);
    this.streams.length = 0;
  }
}
