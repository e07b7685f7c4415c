/**
 * An in-memory WebTransport session for tests: the client side is the {@link Session} interface,
 * the test drives the server side through the other ends of the streams.
 */

import type { DatagramDuplex, SendStreamOptions, Session } from "../src/transport.js";

/** A readable stream with its controller, for the test to push into. */
export function pushable<T>(): { stream: ReadableStream<T>; push(v: T): void; end(): void; error(e: Error): void } {
  let controller!: ReadableStreamDefaultController<T>;
  const stream = new ReadableStream<T>({
    start(c) {
      controller = c;
    },
  });
  const quietly = (f: () => void): void => {
    try {
      f();
    } catch {
      // Already closed.
    }
  };
  return {
    stream,
    push: (v) => controller.enqueue(v),
    end: () => quietly(() => controller.close()),
    error: (e) => quietly(() => controller.error(e)),
  };
}

/** Collects everything written to a stream; `done` resolves at close. */
export function collector(): { writable: WritableStream<Uint8Array>; chunks: Uint8Array[]; closed: Promise<void>; bytes(): Uint8Array } {
  const chunks: Uint8Array[] = [];
  let resolveClosed!: () => void;
  const closed = new Promise<void>((r) => (resolveClosed = r));
  const writable = new WritableStream<Uint8Array>({
    write(c) {
      chunks.push(c.slice());
    },
    close() {
      resolveClosed();
    },
  });
  return {
    writable,
    chunks,
    closed,
    bytes() {
      const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
      let o = 0;
      for (const c of chunks) {
        out.set(c, o);
        o += c.length;
      }
      return out;
    },
  };
}

/** A stream the client opened, as the test sees it. */
export interface OpenedStream {
  options: SendStreamOptions | undefined;
  sink: ReturnType<typeof collector>;
}

/** The fake session. */
export class FakeSession implements Session {
  readonly ready: Promise<unknown>;
  readonly closed: Promise<WebTransportCloseInfo>;
  readonly datagrams: DatagramDuplex;
  readonly incomingUnidirectionalStreams: ReadableStream<ReadableStream<Uint8Array>>;
  /** Uni streams the client opened. */
  readonly opened: OpenedStream[] = [];
  /** Datagrams the client sent. */
  readonly sentDatagrams: ReturnType<typeof collector>;
  /** Push datagrams to the client. */
  readonly incomingDatagrams = pushable<Uint8Array>();
  /** Push uni streams to the client. */
  readonly incomingStreams = pushable<ReadableStream<Uint8Array>>();
  /** The server ends of the bidirectional streams: what the client wrote, and where to answer. */
  readonly bidi: { fromClient: ReadableStream<Uint8Array>; toClient: WritableStream<Uint8Array> }[] = [];
  /** How the client closed the session, if it did. */
  closeInfo: WebTransportCloseInfo | undefined;
  private resolveClosed!: (i: WebTransportCloseInfo) => void;
  private rejectClosed!: (e: Error) => void;
  private readonly downs: TransformStreamDefaultController<Uint8Array>[] = [];

  constructor(
    readonly url: string,
    readonly hashes: WebTransportHash[],
    maxDatagramSize = 1200,
    fail?: Error,
  ) {
    this.ready = fail === undefined ? Promise.resolve() : Promise.reject(fail);
    this.closed = new Promise((resolve, reject) => {
      this.resolveClosed = resolve;
      this.rejectClosed = reject;
    });
    this.sentDatagrams = collector();
    this.datagrams = { maxDatagramSize, readable: this.incomingDatagrams.stream, writable: this.sentDatagrams.writable };
    this.incomingUnidirectionalStreams = this.incomingStreams.stream;
  }

  createBidirectionalStream(): Promise<{ readable: ReadableStream<Uint8Array>; writable: WritableStream<Uint8Array> }> {
    const up = new TransformStream<Uint8Array, Uint8Array>();
    const down = new TransformStream<Uint8Array, Uint8Array>({ start: (c) => void this.downs.push(c) });
    this.bidi.push({ fromClient: up.readable, toClient: down.writable });
    return Promise.resolve({ readable: down.readable, writable: up.writable });
  }

  createUnidirectionalStream(options?: SendStreamOptions): Promise<WritableStream<Uint8Array>> {
    const sink = collector();
    this.opened.push({ options, sink });
    return Promise.resolve(sink.writable);
  }

  close(info?: WebTransportCloseInfo): void {
    this.closeInfo ??= info ?? {};
    this.resolveClosed(info ?? {});
  }

  /** The connection is lost (as after a network outage): `closed` rejects, streams fail. */
  lose(reason = "connection lost"): void {
    const e = new Error(reason);
    this.rejectClosed(e);
    for (const c of this.downs) c.error(e);
    this.incomingStreams.error(e);
    this.incomingDatagrams.error(e);
  }

  /** The server closes the session. */
  serverClose(closeCode: number, reason: string): void {
    this.resolveClosed({ closeCode, reason });
  }
}

/** Resolves when `cond` holds, checking after every macrotask; fails after `ms`. */
export async function until(cond: () => boolean, ms = 2000): Promise<void> {
  const start = Date.now();
  while (!cond()) {
    if (Date.now() - start > ms) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 1));
  }
}
