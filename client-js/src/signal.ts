/**
 * The signaling channel (mirrors `dark_tower_client::signal`): framed writes, a read loop, and
 * request/response matching by `request_id`. It outlives one connection: after a resume the
 * room {@link SignalClient.attach}es the new stream; messages written while no stream is open
 * wait in a queue, pending requests keep waiting, and numbered messages already seen
 * (`ServerMessage.seq` ≤ {@link SignalClient.lastSeq}) are dropped. It takes any pair of byte
 * streams, so it runs without a network in tests.
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
/** Messages kept while no stream is attached (reconnecting); older ones are dropped. */
const MAX_QUEUED = 1024;

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

/** One connection's stream. */
interface Attached {
  readonly writer: WritableStreamDefaultWriter<Uint8Array>;
  readonly reader: ReadableStreamDefaultReader<Uint8Array>;
  readonly messages: MessageReader;
}

/** Requests sent before the connection dropped, failed once the resent messages are through. */
interface Stale {
  ids: Set<number>;
  left: number;
}

/** The client side of the signaling channel. */
export class SignalClient {
  private stream: Attached | undefined;
  private readonly queue: Uint8Array[] = [];
  private readonly pending = new Map<number, Pending>();
  private stale: Stale | undefined;
  private nextId = 1;
  private opened = false;
  private closed = false;
  /** Highest `ServerMessage.seq` received (0 before `Joined`). */
  lastSeq = 0n;

  constructor(private readonly requestTimeoutMs: number = REQUEST_TIMEOUT_MS) {}

  /**
   * Reads and writes `stream` from now on. Writes stay queued until {@link open}, so a handshake
   * (`Join`, `Resume`) goes first with {@link writeNow}.
   */
  attach(stream: ByteStreamPair): void {
    this.detach();
    this.stream = { writer: stream.writable.getWriter(), reader: stream.readable.getReader(), messages: new MessageReader(MAX_SIGNAL_MESSAGE) };
  }

  /** The handshake is done: writes what was queued meanwhile and writes directly from now on. */
  open(): void {
    const s = this.stream;
    if (s === undefined || this.closed) return;
    this.opened = true;
    for (const bytes of this.queue.splice(0)) s.writer.write(bytes).catch(() => undefined);
  }

  /** Lets go of the current stream (the connection is gone); later writes are queued. */
  detach(): void {
    const s = this.stream;
    this.stream = undefined;
    this.opened = false;
    s?.writer.close().catch(() => undefined);
    s?.reader.cancel().catch(() => undefined);
  }

  /** True while a stream is attached and open. */
  get isOpen(): boolean {
    return this.opened;
  }

  /** Writes a handshake message on the attached stream, ahead of anything queued. */
  writeNow(msg: ClientMessage): void {
    if (this.closed || this.stream === undefined) throw new ConnectionError("signaling closed");
    this.stream.writer.write(frameClient(msg)).catch(() => undefined);
  }

  /** Writes one envelope, or queues it until a stream is open; never throws unless closed. */
  write(msg: ClientMessage): void {
    if (this.closed) throw new ConnectionError("signaling closed");
    const bytes = frameClient(msg);
    if (this.opened && this.stream !== undefined) {
      this.stream.writer.write(bytes).catch(() => undefined);
      return;
    }
    if (this.queue.length >= MAX_QUEUED) this.queue.shift();
    this.queue.push(bytes);
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

  /** Reads the next message of the attached stream; undefined when it ends first. Used before {@link run}. */
  readMessage(): Promise<ServerMessage | undefined> {
    return this.readFrom(this.stream);
  }

  private async readFrom(s: Attached | undefined): Promise<ServerMessage | undefined> {
    if (s === undefined) return undefined;
    for (;;) {
      const body = s.messages.nextMessage();
      if (body !== undefined) return decodeServer(body);
      const { value, done } = await s.reader.read();
      if (done) return undefined;
      s.messages.push(value);
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

  /**
   * After a resume: the requests pending now were sent on the dead connection. Once `replayed`
   * numbered messages have been read (the server's resent backlog), those still unanswered fail
   * with {@link ConnectionError}; with nothing to replay, at once.
   */
  expectReplay(replayed: number): void {
    const ids = new Set(this.pending.keys());
    this.stale = { ids, left: replayed };
    if (replayed === 0) this.failStale();
  }

  private failStale(): void {
    const s = this.stale;
    this.stale = undefined;
    for (const id of s?.ids ?? []) {
      const p = this.pending.get(id);
      if (p === undefined) continue;
      this.pending.delete(id);
      clearTimeout(p.timer);
      p.reject(new ConnectionError("the connection dropped before the server answered"));
    }
  }

  /**
   * The read loop over the attached stream: numbered messages already seen are dropped, replies
   * go to their requests, everything else to `handlers.onMessage`. Returns when the stream ends
   * (`handlers.onClosed`); pending requests stay pending, for a resume or {@link fail}.
   */
  async run(handlers: SignalHandlers): Promise<void> {
    let reason = "signaling stream ended";
    const stream = this.stream;
    try {
      for (;;) {
        let msg: ServerMessage | undefined;
        try {
          msg = await this.readFrom(stream);
        } catch (e) {
          // A message this version does not know (a newer server): skip it rather than end the
          // session. proto/README.md calls it malformed; a client can afford to be lenient.
          if (e instanceof SignalCodecError && e.kind === "Empty") {
            handlers.onUnknown?.();
            continue;
          }
          throw e;
        }
        if (msg === undefined || this.stream !== stream) break;
        this.deliver(msg, handlers);
      }
    } catch (e) {
      if (e instanceof SignalCodecError) {
        handlers.onCodecError(e);
        reason = e.message;
      } else {
        reason = errorMessage(e);
      }
    }
    handlers.onClosed(reason);
  }

  private deliver(msg: ServerMessage, handlers: SignalHandlers): void {
    if (msg.seq !== 0n) {
      // Already received before the connection dropped.
      if (msg.seq <= this.lastSeq) return;
      this.lastSeq = msg.seq;
    }
    const waiter = msg.requestId === 0 ? undefined : this.pending.get(msg.requestId);
    if (waiter !== undefined) {
      this.pending.delete(msg.requestId);
      clearTimeout(waiter.timer);
      waiter.resolve(msg);
    } else {
      handlers.onMessage(msg);
    }
    if (msg.seq !== 0n && this.stale !== undefined && --this.stale.left <= 0) this.failStale();
  }

  /** Rejects every pending request and stops writing, for good. */
  fail(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    for (const [, p] of this.pending) {
      clearTimeout(p.timer);
      p.reject(new ConnectionError(`signaling closed: ${reason}`));
    }
    this.pending.clear();
    this.queue.length = 0;
    this.detach();
  }

  /** True once {@link fail} was called. */
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
