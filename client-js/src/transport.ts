/**
 * The parts of a WebTransport session the client uses, as interfaces, so the media and
 * signaling code can run over a fake session in tests. A browser `WebTransport` satisfies them.
 */

/** Outgoing and incoming datagrams of a session. */
export interface DatagramDuplex {
  /** Largest datagram the connection can carry now. */
  readonly maxDatagramSize: number;
  readonly readable: ReadableStream<Uint8Array>;
  readonly writable: WritableStream<Uint8Array>;
}

/** Options of a new outgoing unidirectional stream. */
export interface SendStreamOptions {
  /** Higher is sent first (WebTransport `sendOrder`). */
  sendOrder?: number;
}

/** A WebTransport session as the client uses it. */
export interface Session {
  readonly ready: Promise<unknown>;
  readonly closed: Promise<WebTransportCloseInfo>;
  readonly datagrams: DatagramDuplex;
  readonly incomingUnidirectionalStreams: ReadableStream<ReadableStream<Uint8Array>>;
  createBidirectionalStream(): Promise<{ readable: ReadableStream<Uint8Array>; writable: WritableStream<Uint8Array> }>;
  createUnidirectionalStream(options?: SendStreamOptions): Promise<WritableStream<Uint8Array>>;
  close(info?: WebTransportCloseInfo): void;
  /** Connection statistics (WebTransport `getStats()`), where the browser has them. */
  getStats?(): Promise<unknown>;
}

/** Opens a session: `(url, serverCertificateHashes) => Session`. The default uses `WebTransport`. */
export type SessionFactory = (url: string, serverCertificateHashes: WebTransportHash[]) => Session;

/** Opens a browser WebTransport session, pinning the given certificate hashes if any. */
export const webTransportFactory: SessionFactory = (url, hashes) => {
  const options: WebTransportOptions = {};
  if (hashes.length > 0) options.serverCertificateHashes = hashes;
  return new WebTransport(url, options) as unknown as Session;
};

/** A single writer shared by everything that sends datagrams on one session. */
export class DatagramWriter {
  private writer: WritableStreamDefaultWriter<Uint8Array> | undefined;

  constructor(private readonly session: Session) {}

  /** Largest datagram the connection can carry now. */
  get maxDatagramSize(): number {
    return this.session.datagrams.maxDatagramSize;
  }

  /** Sends one datagram; losses and errors are silent (datagrams are unreliable). */
  send(bytes: Uint8Array): void {
    this.writer ??= this.session.datagrams.writable.getWriter();
    this.writer.write(bytes).catch(() => undefined);
  }

  /** Releases the writer. */
  close(): void {
    this.writer?.close().catch(() => undefined);
    this.writer = undefined;
  }
}
