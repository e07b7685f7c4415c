/**
 * The signaling stream (mirrors `dark_tower_client::signal`): framed writes, a read loop, and
 * request/response matching by `request_id`. It takes any pair of byte streams, so it runs
 * without a network in tests.
 */

import { create } from "@bufbuild/protobuf";

import { ConnectionError, ProtocolError, ServerError, TimeoutError, errorMessage } from "./errors.js";
import { errorCodeFromWire } from "./proto/error.js";
import { ClientMessageSchema } from "./proto/gen/dark_tower/signaling/v1/signaling_pb.js";
import type { ClientMessage, ServerMessage } from "./proto/gen/dark_tower/signaling/v1/signaling_pb.js";
import { MAX_SIGNAL_MESSAGE } from "./proto/limits.js";
import { MessageReader, SignalCodecError, decodeServer, frameClient } from "./proto/signal.js";

/** How long a request waits for its answer by default. */
export const REQUEST_TIMEOUT_MS = 10_000;

/** The body of a client envelope (the `oneof`). */
export type ClientBody = ClientMessage["message"];
/** The body of a server envelope (the `oneof`). */
export type ServerBody = ServerMessage["message"];

/** The two directions of the signaling stream. */
export interface ByteStreamPair {
  readonly readable: ReadableStream<Uint8Array>;
  readonly writable: WritableStream<Uint8Array>;
}

interface Pending {
  resolve(m: ServerMessage): void;
  reject(e: Error): void;
  timer: ReturnType<typeof setTimeout>;
}

/** Callbacks of the read loop. */
export interface SignalHandlers {
  /** A message that is not the reply to a pending request (request_id 0 or unknown). */
  onMessage(msg: ServerMessage): void;
  /** The server sent bytes that do not decode; the caller closes the session with `e.code`. */
  onCodecError(e: SignalCodecError): void;
  /** The stream ended or failed. */
  onClosed(reason: string): void;
  /** A message with no body this version knows was skipped. */
  onUnknown?(): void;
}

/** The client side of the signaling stream. */
export class SignalClient {
  private readonly writer: WritableStreamDefaultWriter<Uint8Array>;
  private readonly reader: ReadableStreamDefaultReader<Uint8Array>;
  private readonly messages = new MessageReader(MAX_SIGNAL_MESSAGE);
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private closed = false;

  constructor(
    stream: ByteStreamPair,
    private readonly requestTimeoutMs: number = REQUEST_TIMEOUT_MS,
  ) {
    this.writer = stream.writable.getWriter();
    this.reader = stream.readable.getReader();
  }

  /** Writes one envelope; never throws (a write failure shows up as the stream closing). */
  write(msg: ClientMessage): void {
    if (this.closed) throw new ConnectionError("signaling closed");
    const bytes = frameClient(msg);
    this.writer.write(bytes).catch(() => undefined);
  }

  /** Sends `body` without waiting for an answer. */
  send(body: ClientBody): void {
    this.write(create(ClientMessageSchema, { requestId: 0, message: body }));
  }

  /**
   * Sends `body` and waits for the answer with the same request id. An `Error` answer rejects
   * with {@link ServerError}; no answer in time with {@link TimeoutError}.
   */
  request(body: ClientBody): Promise<ServerBody> {
    const id = this.nextId;
    this.nextId = this.nextId >= 0xffffffff ? 1 : this.nextId + 1;
    return new Promise<ServerMessage>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new TimeoutError(`no answer to ${body.case ?? "request"} in ${this.requestTimeoutMs} ms`));
      }, this.requestTimeoutMs);
      this.pending.set(id, { resolve, reject, timer });
      try {
        this.write(create(ClientMessageSchema, { requestId: id, message: body }));
      } catch (e) {
        clearTimeout(timer);
        this.pending.delete(id);
        reject(e instanceof Error ? e : new ConnectionError(errorMessage(e)));
      }
    }).then((reply) => {
      if (reply.message.case === "error") {
        const err = reply.message.value;
        throw new ServerError(errorCodeFromWire(err.code) ?? "internal", err.message);
      }
      return reply.message;
    });
  }

  /** Reads the next message; undefined when the stream ends first. Used before {@link run}. */
  async readMessage(): Promise<ServerMessage | undefined> {
    for (;;) {
      const body = this.messages.nextMessage();
      if (body !== undefined) return decodeServer(body);
      const { value, done } = await this.reader.read();
      if (done) return undefined;
      this.messages.push(value);
    }
  }

  /** Reads the next message, failing with {@link TimeoutError} after `ms`. */
  async readMessageWithin(ms: number): Promise<ServerMessage | undefined> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new TimeoutError(`no answer from the server in ${ms} ms`)), ms);
    });
    try {
      return await Promise.race([this.readMessage(), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** The read loop: replies go to their requests, everything else to `handlers.onMessage`. */
  async run(handlers: SignalHandlers): Promise<void> {
    let reason = "signaling stream ended";
    try {
      for (;;) {
        let msg: ServerMessage | undefined;
        try {
          msg = await this.readMessage();
        } catch (e) {
          // A message this version does not know (a newer server): skip it rather than end the
          // session. proto/README.md calls it malformed; a client can afford to be lenient.
          if (e instanceof SignalCodecError && e.kind === "Empty") {
            handlers.onUnknown?.();
            continue;
          }
          throw e;
        }
        if (msg === undefined) break;
        const waiter = msg.requestId === 0 ? undefined : this.pending.get(msg.requestId);
        if (waiter !== undefined) {
          this.pending.delete(msg.requestId);
          clearTimeout(waiter.timer);
          waiter.resolve(msg);
        } else {
          handlers.onMessage(msg);
        }
      }
    } catch (e) {
      if (e instanceof SignalCodecError) {
        handlers.onCodecError(e);
        reason = e.message;
      } else {
        reason = errorMessage(e);
      }
    }
    this.fail(reason);
    handlers.onClosed(reason);
  }

  /** Rejects every pending request and stops writing. */
  fail(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    for (const [, p] of this.pending) {
      clearTimeout(p.timer);
      p.reject(new ConnectionError(`signaling closed: ${reason}`));
    }
    this.pending.clear();
    this.writer.close().catch(() => undefined);
    this.reader.cancel().catch(() => undefined);
  }

  /** True once the stream has ended or {@link fail} was called. */
  get isClosed(): boolean {
    return this.closed;
  }
}

/** The server bodies that carry a value. */
type ServerCase = Exclude<ServerBody, { case: undefined }>;
/** The value type of the server body of case `C`. */
export type ServerValue<C> = ServerCase extends infer U ? (U extends { case: C; value: infer V } ? V : never) : never;

/** Throws {@link ProtocolError} unless `body` is of case `c`; returns its value. */
export function expectCase<C extends ServerCase["case"]>(body: ServerBody, c: C): ServerValue<C> {
  if (body.case !== c) throw new ProtocolError(`expected ${c}, got ${body.case ?? "nothing"}`);
  return body.value as ServerValue<C>;
}
