/**
 * The media frame header (proto/MEDIA.md) and media stream framing; mirrors
 * `dark_tower_core::codec::media`.
 *
 * A media frame is a fixed 28-byte header followed by the opaque payload. On a unidirectional
 * stream, the stream starts with one stream-type byte ({@link STREAM_TYPE_GROUP}) and then carries
 * frames, each preceded by its length (4-byte big-endian, header included). A datagram carries
 * exactly one frame, without a length prefix.
 */

import { ByteQueue } from "./bytes.js";
import type { ErrorCodeName } from "./error.js";
import { MAX_MEDIA_FRAME, MAX_SIMULCAST_LAYERS, MAX_TEMPORAL_LAYERS } from "./limits.js";

/** The header version this build writes and reads. */
export const VERSION = 1;
/** Encoded header length. */
export const HEADER_LEN = 28;
/** First byte of a unidirectional media stream: one group of one layer of one track. */
export const STREAM_TYPE_GROUP = 0x01;

/** Flag: the frame is a keyframe (starts a group). */
export const FLAG_KEYFRAME = 0x01;
/** Flag: the frame can be dropped without breaking later frames. */
export const FLAG_DISCARDABLE = 0x02;
/** Flag: the last frame of its group. */
export const FLAG_END_OF_GROUP = 0x04;
/** Flag: the audio-level byte is meaningful. */
export const FLAG_AUDIO_LEVEL = 0x08;
const KNOWN_FLAGS = FLAG_KEYFRAME | FLAG_DISCARDABLE | FLAG_END_OF_GROUP | FLAG_AUDIO_LEVEL;

/** The variants of `MediaCodecError` in Rust, by name. */
export type MediaCodecErrorKind =
  | "Truncated"
  | "UnsupportedVersion"
  | "ReservedFlags"
  | "BadLayer"
  | "BadAudioLevel"
  | "TooLarge"
  | "UnknownStreamType"
  | "UnexpectedEnd";

/** Why a media frame or stream could not be decoded. Errors on a stream are final for it. */
export class MediaCodecError extends Error {
  override readonly name = "MediaCodecError";

  private constructor(
    /** Which check failed (the Rust variant name). */
    readonly kind: MediaCodecErrorKind,
    message: string,
  ) {
    super(message);
  }

  /** The wire code of this error. */
  get code(): ErrorCodeName {
    switch (this.kind) {
      case "TooLarge":
        return "message_too_large";
      case "UnsupportedVersion":
        return "unsupported_version";
      default:
        return "malformed";
    }
  }

  /** Fewer bytes than a header (`len` bytes). */
  static truncated(len: number): MediaCodecError {
    return new MediaCodecError("Truncated", `media frame of ${len} bytes is shorter than the 28-byte header`);
  }
  /** A header version this build does not read. */
  static unsupportedVersion(version: number): MediaCodecError {
    return new MediaCodecError("UnsupportedVersion", `unsupported media header version ${version}`);
  }
  /** Reserved flag bits set. */
  static reservedFlags(flags: number): MediaCodecError {
    return new MediaCodecError("ReservedFlags", `reserved media flags set: 0x${flags.toString(16).padStart(2, "0")}`);
  }
  /** Spatial or temporal layer id out of range. */
  static badLayer(spatial: number, temporal: number): MediaCodecError {
    return new MediaCodecError("BadLayer", `layer out of range: spatial ${spatial}, temporal ${temporal}`);
  }
  /** Audio level above 127. */
  static badAudioLevel(level: number): MediaCodecError {
    return new MediaCodecError("BadAudioLevel", `audio level ${level} above 127`);
  }
  /** A frame or length prefix above the limit. */
  static tooLarge(len: number, max: number): MediaCodecError {
    return new MediaCodecError("TooLarge", `media frame of ${len} bytes exceeds the limit of ${max}`);
  }
  /** A stream that does not start with a known stream type. */
  static unknownStreamType(t: number): MediaCodecError {
    return new MediaCodecError("UnknownStreamType", `unknown media stream type 0x${t.toString(16).padStart(2, "0")}`);
  }
  /** The stream ended in the middle of a frame. */
  static unexpectedEnd(): MediaCodecError {
    return new MediaCodecError("UnexpectedEnd", "media stream ended inside a frame");
  }
}

/** The routing header of a media frame. The SFU reads only this. */
export interface MediaHeader {
  /** Track alias from the publish acknowledgement (u32). */
  trackAlias: number;
  /** Simulcast layer, 0 (lowest) to 2. */
  spatialId: number;
  /** Temporal layer, 0 (base) to 3. */
  temporalId: number;
  /** Group (group of pictures) sequence number, per track and layer (u64). */
  groupSeq: bigint;
  /** Frame index within its group; the keyframe is 0 (u32). */
  frameSeq: number;
  /** Capture time, microseconds since the Unix epoch on the publisher's clock (u64). */
  captureTsUs: bigint;
  /** The frame is a keyframe. */
  keyframe: boolean;
  /** The frame may be dropped without breaking decodability. */
  discardable: boolean;
  /** The last frame of its group. */
  endOfGroup: boolean;
  /** Audio level, 0 (loudest) to 127 (silence), -dBov as in RFC 6464; undefined when absent. */
  audioLevel: number | undefined;
}

/** A decoded frame: header plus payload. */
export interface MediaFrame {
  /** Routing header. */
  header: MediaHeader;
  /** Opaque payload (encoder output or SFrame ciphertext). */
  payload: Uint8Array;
}

/**
 * Checks the fields fit the wire format (what {@link decodeHeader} would accept). Senders call it
 * before {@link encodeHeader}, which does not check.
 */
export function validateHeader(h: MediaHeader): void {
  if (h.spatialId >= MAX_SIMULCAST_LAYERS || h.temporalId >= MAX_TEMPORAL_LAYERS || h.spatialId < 0 || h.temporalId < 0) {
    throw MediaCodecError.badLayer(h.spatialId, h.temporalId);
  }
  if (h.audioLevel !== undefined && (h.audioLevel > 127 || h.audioLevel < 0)) {
    throw MediaCodecError.badAudioLevel(h.audioLevel);
  }
}

/**
 * Writes the 28-byte header at `offset` of `out`. Out-of-range fields are truncated as the Rust
 * encoder truncates them: call {@link validateHeader} first.
 */
export function encodeHeader(h: MediaHeader, out: Uint8Array, offset = 0): void {
  let flags = 0;
  if (h.keyframe) flags |= FLAG_KEYFRAME;
  if (h.discardable) flags |= FLAG_DISCARDABLE;
  if (h.endOfGroup) flags |= FLAG_END_OF_GROUP;
  if (h.audioLevel !== undefined) flags |= FLAG_AUDIO_LEVEL;
  const v = new DataView(out.buffer, out.byteOffset + offset, HEADER_LEN);
  v.setUint8(0, VERSION);
  v.setUint8(1, flags);
  v.setUint32(2, h.trackAlias >>> 0);
  v.setUint8(6, ((h.spatialId << 4) | (h.temporalId & 0x0f)) & 0xff);
  v.setUint8(7, (h.audioLevel ?? 0) & 0xff);
  v.setBigUint64(8, BigInt.asUintN(64, h.groupSeq));
  v.setUint32(16, h.frameSeq >>> 0);
  v.setBigUint64(20, BigInt.asUintN(64, h.captureTsUs));
}

/** Reads a header from the front of `buf`, checking in the order of MEDIA.md section 4. */
export function decodeHeader(buf: Uint8Array): MediaHeader {
  if (buf.length < HEADER_LEN) throw MediaCodecError.truncated(buf.length);
  const v = new DataView(buf.buffer, buf.byteOffset, HEADER_LEN);
  const version = v.getUint8(0);
  if (version !== VERSION) throw MediaCodecError.unsupportedVersion(version);
  const flags = v.getUint8(1);
  if ((flags & ~KNOWN_FLAGS & 0xff) !== 0) throw MediaCodecError.reservedFlags(flags & ~KNOWN_FLAGS & 0xff);
  const layer = v.getUint8(6);
  const spatialId = layer >> 4;
  const temporalId = layer & 0x0f;
  if (spatialId >= MAX_SIMULCAST_LAYERS || temporalId >= MAX_TEMPORAL_LAYERS) {
    throw MediaCodecError.badLayer(spatialId, temporalId);
  }
  const level = v.getUint8(7);
  let audioLevel: number | undefined;
  if ((flags & FLAG_AUDIO_LEVEL) !== 0) {
    if (level > 127) throw MediaCodecError.badAudioLevel(level);
    audioLevel = level;
  }
  return {
    trackAlias: v.getUint32(2),
    spatialId,
    temporalId,
    groupSeq: v.getBigUint64(8),
    frameSeq: v.getUint32(16),
    captureTsUs: v.getBigUint64(20),
    keyframe: (flags & FLAG_KEYFRAME) !== 0,
    discardable: (flags & FLAG_DISCARDABLE) !== 0,
    endOfGroup: (flags & FLAG_END_OF_GROUP) !== 0,
    audioLevel,
  };
}

/**
 * Decodes a whole frame (header and payload) from `bytes`, checking `max` first. The payload is a
 * view into `bytes`, not a copy.
 */
export function decodeFrame(bytes: Uint8Array, max: number): MediaFrame {
  if (bytes.length > max) throw MediaCodecError.tooLarge(bytes.length, max);
  const header = decodeHeader(bytes);
  return { header, payload: bytes.subarray(HEADER_LEN) };
}

/** Encoded length of a frame (header and payload, without a stream length prefix). */
export function encodedLen(frame: MediaFrame): number {
  return HEADER_LEN + frame.payload.length;
}

/** The frame as one buffer: the datagram form. */
export function encodeFrame(frame: MediaFrame): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(encodedLen(frame));
  encodeHeader(frame.header, out, 0);
  out.set(frame.payload, HEADER_LEN);
  return out;
}

/** The stream form of a frame: its 4-byte length prefix, header and payload, in one buffer. */
export function encodeStreamFrame(frame: MediaFrame): Uint8Array<ArrayBuffer> {
  const len = encodedLen(frame);
  const out = new Uint8Array(4 + len);
  new DataView(out.buffer).setUint32(0, len);
  encodeHeader(frame.header, out, 4);
  out.set(frame.payload, 4 + HEADER_LEN);
  return out;
}

/**
 * The stream form without the payload: length prefix and header (32 bytes), to be followed by the
 * payload. Keeping them apart lets a sender write a large payload without copying it.
 */
export function streamPrefix(frame: MediaFrame): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(4 + HEADER_LEN);
  new DataView(out.buffer).setUint32(0, encodedLen(frame));
  encodeHeader(frame.header, out, 4);
  return out;
}

/** Reassembles frames from the bytes of one unidirectional media stream. */
export class MediaStreamReader {
  private readonly buf = new ByteQueue();
  private readonly max: number;
  private typed = false;

  /** A reader enforcing `max` bytes per frame (at most {@link MAX_MEDIA_FRAME}). */
  constructor(max: number = MAX_MEDIA_FRAME) {
    this.max = Math.min(max, MAX_MEDIA_FRAME);
  }

  /** Appends bytes read from the stream. */
  push(data: Uint8Array): void {
    this.buf.push(data);
  }

  /**
   * The next complete frame, or `undefined` when more bytes are needed. Throws
   * {@link MediaCodecError}; an error is final for the stream.
   */
  nextFrame(): MediaFrame | undefined {
    if (!this.typed) {
      if (this.buf.length === 0) return undefined;
      const t = this.buf.byteAt(0);
      this.buf.skip(1);
      if (t !== STREAM_TYPE_GROUP) throw MediaCodecError.unknownStreamType(t);
      this.typed = true;
    }
    if (this.buf.length < 4) return undefined;
    const len = this.buf.u32At(0);
    if (len > this.max) throw MediaCodecError.tooLarge(len, this.max);
    if (len < HEADER_LEN) throw MediaCodecError.truncated(len);
    if (this.buf.length < 4 + len) return undefined;
    this.buf.skip(4);
    return decodeFrame(this.buf.take(len), this.max);
  }

  /** Call when the stream finished: throws `UnexpectedEnd` if it ended inside a frame. */
  finish(): void {
    if (this.buf.length !== 0) throw MediaCodecError.unexpectedEnd();
  }
}
