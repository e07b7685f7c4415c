/**
 * Signaling framing (mirrors `dark_tower_core::codec::signal`): each protobuf message is preceded
 * by its length, a 4-byte big-endian unsigned integer. A length above {@link MAX_SIGNAL_MESSAGE}
 * is an error as soon as the prefix arrives, before the body is buffered.
 */

import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import type { MessageInitShape } from "@bufbuild/protobuf";

import { ByteQueue } from "./bytes.js";
import type { ErrorCodeName } from "./error.js";
import { ClientMessageSchema, ServerMessageSchema } from "./gen/dark_tower/signaling/v1/signaling_pb.js";
import type { ClientMessage, ServerMessage } from "./gen/dark_tower/signaling/v1/signaling_pb.js";
import { MAX_SIGNAL_MESSAGE } from "./limits.js";

/** Bytes in the length prefix. */
export const PREFIX_LEN = 4;

/** The variants of `SignalCodecError` in Rust, by name. */
export type SignalCodecErrorKind = "TooLarge" | "Malformed" | "Empty";

/** Why a signaling message could not be framed or decoded. */
export class SignalCodecError extends Error {
  override readonly name = "SignalCodecError";

  private constructor(
    /** Which check failed (the Rust variant name). */
    readonly kind: SignalCodecErrorKind,
    message: string,
  ) {
    super(message);
  }

  /** The wire code of this error. */
  get code(): ErrorCodeName {
    return this.kind === "TooLarge" ? "message_too_large" : "malformed";
  }

  /** The length prefix (or the message to encode) exceeds the limit. */
  static tooLarge(len: number, max: number): SignalCodecError {
    return new SignalCodecError("TooLarge", `signaling message of ${len} bytes exceeds the limit of ${max}`);
  }
  /** The bytes are not a valid protobuf message of the expected type. */
  static malformed(detail: string): SignalCodecError {
    return new SignalCodecError("Malformed", `malformed signaling message: ${detail}`);
  }
  /** A valid envelope without a message. */
  static empty(): SignalCodecError {
    return new SignalCodecError("Empty", "signaling envelope carries no message");
  }
}

/** Prefixes `body` with its length; throws `TooLarge` above {@link MAX_SIGNAL_MESSAGE}. */
export function frameBody(body: Uint8Array): Uint8Array<ArrayBuffer> {
  if (body.length > MAX_SIGNAL_MESSAGE) throw SignalCodecError.tooLarge(body.length, MAX_SIGNAL_MESSAGE);
  const out = new Uint8Array(PREFIX_LEN + body.length);
  new DataView(out.buffer).setUint32(0, body.length);
  out.set(body, PREFIX_LEN);
  return out;
}

/** A client envelope as protobuf bytes, without prefix (the form of a signaling datagram). */
export function encodeClientBody(msg: ClientMessage | MessageInitShape<typeof ClientMessageSchema>): Uint8Array {
  return toBinary(ClientMessageSchema, create(ClientMessageSchema, msg));
}

/** A client envelope with its length prefix, ready to write on the signaling stream. */
export function frameClient(msg: ClientMessage | MessageInitShape<typeof ClientMessageSchema>): Uint8Array<ArrayBuffer> {
  return frameBody(encodeClientBody(msg));
}

/** A server envelope with its length prefix (servers and tests). */
export function frameServer(msg: ServerMessage | MessageInitShape<typeof ServerMessageSchema>): Uint8Array<ArrayBuffer> {
  return frameBody(toBinary(ServerMessageSchema, create(ServerMessageSchema, msg)));
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** Decodes a client envelope body (without prefix); an envelope with no message is `Empty`. */
export function decodeClient(body: Uint8Array): ClientMessage {
  let msg: ClientMessage;
  try {
    msg = fromBinary(ClientMessageSchema, body);
  } catch (e) {
    throw SignalCodecError.malformed(errorText(e));
  }
  if (msg.message.case === undefined) throw SignalCodecError.empty();
  return msg;
}

/** Decodes a server envelope body (without prefix); an envelope with no message is `Empty`. */
export function decodeServer(body: Uint8Array): ServerMessage {
  let msg: ServerMessage;
  try {
    msg = fromBinary(ServerMessageSchema, body);
  } catch (e) {
    throw SignalCodecError.malformed(errorText(e));
  }
  if (msg.message.case === undefined) throw SignalCodecError.empty();
  return msg;
}

/** Accumulates bytes read from a stream and yields whole message bodies. */
export class MessageReader {
  private readonly buf = new ByteQueue();

  /** A reader enforcing `max` bytes per message. */
  constructor(private readonly max: number = MAX_SIGNAL_MESSAGE) {}

  /** Appends bytes read from the stream. */
  push(data: Uint8Array): void {
    this.buf.push(data);
  }

  /**
   * The next complete message body, or `undefined` when more bytes are needed. Throws
   * `TooLarge` as soon as a prefix above the limit is buffered.
   */
  nextMessage(): Uint8Array | undefined {
    if (this.buf.length < PREFIX_LEN) return undefined;
    const len = this.buf.u32At(0);
    if (len > this.max) throw SignalCodecError.tooLarge(len, this.max);
    if (this.buf.length < PREFIX_LEN + len) return undefined;
    this.buf.skip(PREFIX_LEN);
    return this.buf.take(len);
  }

  /** Bytes buffered but not yet returned. */
  get buffered(): number {
    return this.buf.length;
  }
}
