/**
 * Resuming after a dropped connection (mirrors `dark_tower_client::reconnect`): open a new
 * signaling session with the resume token, send `Resume` with the highest message number
 * received, and on `Resumed` open a new media session with the fresh ticket. Retries with
 * backoff until the server's grace period is over; a `Disconnect` (e.g. `resume_failed`) ends it.
 * See docs/SIGNALING.md, "Reconnect and resume".
 */

import { create } from "@bufbuild/protobuf";

import { ConnectionError, DarkTowerError, ProtocolError, ServerError, TimeoutError, errorMessage } from "./errors.js";
import { certificateHashes } from "./join.js";
import { errorCodeFromWire } from "./proto/error.js";
import { ClientMessageSchema, type ClientInfo, type Resumed } from "./proto/gen/dark_tower/signaling/v1/signaling_pb.js";
import type { SignalClient } from "./signal.js";
import type { Session, SessionFactory } from "./transport.js";

/** What a {@link ReconnectPolicy} is told before each attempt. */
export interface ReconnectContext {
  /** Attempts made so far (0 before the first). */
  readonly retryCount: number;
  /** Milliseconds since the connection was lost. */
  readonly elapsedMs: number;
  /** Why the last attempt failed, or why the connection was lost. */
  readonly retryReason: Error | undefined;
}

/** Decides how long to wait before each resume attempt (LiveKit's `ReconnectPolicy`). */
export interface ReconnectPolicy {
  /** Milliseconds to wait before the next attempt, or null to give up. */
  nextRetryDelayInMs(context: ReconnectContext): number | null;
}

/** At once, then 100 ms doubling to 2 s (the Rust client's backoff), until the grace period ends. */
export class DefaultReconnectPolicy implements ReconnectPolicy {
  constructor(
    private readonly initialDelayMs = 100,
    private readonly maxDelayMs = 2000,
  ) {}

  nextRetryDelayInMs(context: ReconnectContext): number | null {
    if (context.retryCount === 0) return 0;
    return Math.min(this.initialDelayMs * 2 ** (context.retryCount - 1), this.maxDelayMs);
  }
}

/** Everything needed to resume, kept from the join. */
export interface Resumption {
  /** Signaling URL without its query. */
  readonly signalUrl: string;
  readonly certificateHashes: WebTransportHash[];
  /** `Joined.resume_token`. */
  readonly token: string;
  /** `Joined.resume_grace_ms`. */
  readonly graceMs: number;
  readonly protocolVersion: number;
  readonly client: ClientInfo;
  readonly sessionFactory: SessionFactory;
  readonly requestTimeoutMs: number;
  readonly policy: ReconnectPolicy;
}

/** A resumed connection: the new sessions, and `Resumed`. The signaling stream is attached to the client. */
export interface ResumedConnection {
  readonly signalSession: Session;
  readonly media: Session;
  readonly resumed: Resumed;
}

/** An attempt that failed: worth retrying (the network is still down), or not (the server said no). */
class AttemptError extends Error {
  constructor(
    readonly error: DarkTowerError,
    readonly fatal: boolean,
  ) {
    super(error.message);
  }
}

function closeQuietly(session: Session | undefined, reason: string): void {
  try {
    session?.close({ closeCode: 0, reason });
  } catch {
    // Already closed.
  }
}

/** Resolves after `ms`, or rejects when `abort` fires. */
function sleep(ms: number, abort: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (abort.aborted) return reject(new ConnectionError("resume cancelled"));
    const timer = setTimeout(() => {
      abort.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(new ConnectionError("resume cancelled"));
    };
    abort.addEventListener("abort", onAbort, { once: true });
  });
}

/** `p`, or a rejection when `abort` fires first. */
function abortable<T>(p: Promise<T>, abort: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    if (abort.aborted) return reject(new ConnectionError("resume cancelled"));
    const onAbort = (): void => reject(new ConnectionError("resume cancelled"));
    abort.addEventListener("abort", onAbort, { once: true });
    p.then(
      (v) => {
        abort.removeEventListener("abort", onAbort);
        resolve(v);
      },
      (e: unknown) => {
        abort.removeEventListener("abort", onAbort);
        reject(e instanceof Error ? e : new Error(String(e)));
      },
    );
  });
}

/**
 * Tries to resume until the grace period (measured from `lostAt`, a `Date.now()` value) is over
 * or `abort` fires. On success `signal` reads and writes the new stream (not yet
 * {@link SignalClient.open}ed). Rejects with the server's {@link ServerError} (e.g.
 * `resume_failed`), or a {@link ConnectionError} when time ran out.
 */
export async function resume(
  r: Resumption,
  signal: SignalClient,
  lostAt: number,
  abort: AbortSignal,
  why?: Error,
): Promise<ResumedConnection> {
  const deadline = lostAt + r.graceMs;
  let retryReason = why;
  for (let retryCount = 0; ; retryCount++) {
    const delay = r.policy.nextRetryDelayInMs({ retryCount, elapsedMs: Date.now() - lostAt, retryReason });
    if (delay === null) throw new ConnectionError(`gave up resuming: ${retryReason?.message ?? "reconnect policy"}`);
    if (Date.now() + delay >= deadline) {
      throw new ConnectionError(`could not resume within the grace period (${r.graceMs} ms): ${retryReason?.message ?? ""}`);
    }
    if (delay > 0) await sleep(delay, abort);
    const attemptAbort = new AbortController();
    const timer = setTimeout(() => attemptAbort.abort(), Math.max(0, deadline - Date.now()));
    const stop = (): void => attemptAbort.abort();
    abort.addEventListener("abort", stop, { once: true });
    try {
      return await attempt(r, signal, attemptAbort.signal);
    } catch (e) {
      if (abort.aborted) throw new ConnectionError("resume cancelled");
      if (e instanceof AttemptError && e.fatal) throw e.error;
      retryReason = e instanceof AttemptError ? e.error : e instanceof Error ? e : new Error(String(e));
    } finally {
      clearTimeout(timer);
      abort.removeEventListener("abort", stop);
    }
  }
}

/** One attempt: signaling session, `Resume`, `Resumed`, media session. */
async function attempt(r: Resumption, signal: SignalClient, abort: AbortSignal): Promise<ResumedConnection> {
  const retry = (e: unknown): AttemptError =>
    e instanceof AttemptError ? e : new AttemptError(e instanceof DarkTowerError ? e : new ConnectionError(errorMessage(e)), false);
  let session: Session | undefined;
  let media: Session | undefined;
  try {
    session = r.sessionFactory(`${r.signalUrl}?resume_token=${encodeURIComponent(r.token)}`, r.certificateHashes);
    const s = session;
    s.closed.catch(() => undefined);
    await abortable(s.ready, abort);
    signal.attach(await abortable(s.createBidirectionalStream(), abort));
    signal.writeNow(
      create(ClientMessageSchema, {
        requestId: 0,
        message: { case: "resume", value: { protocolVersion: r.protocolVersion, lastSeq: signal.lastSeq, client: r.client } },
      }),
    );
    const first = await abortable(signal.readMessageWithin(r.requestTimeoutMs), abort);
    const body = first?.message;
    let resumed: Resumed;
    switch (body?.case) {
      case "resumed":
        resumed = body.value;
        break;
      case "disconnect":
        throw new AttemptError(new ServerError(errorCodeFromWire(body.value.code) ?? "resume_failed", body.value.message), true);
      case undefined: {
        // The server closed the session: with a code, it refused; without, try again.
        const info = await abortable(
          Promise.race([s.closed.catch(() => undefined), new Promise<undefined>((res) => setTimeout(res, 500))]),
          abort,
        );
        const code = info?.closeCode === undefined ? undefined : errorCodeFromWire(info.closeCode);
        if (code !== undefined) throw new AttemptError(new ServerError(code, info?.reason ?? ""), true);
        throw new AttemptError(new ConnectionError("signaling closed before Resumed"), false);
      }
      default:
        throw new AttemptError(new ProtocolError(`expected Resumed, got ${body?.case ?? "nothing"}`), true);
    }
    if (resumed.media === undefined) throw new AttemptError(new ProtocolError("Resumed without a media endpoint"), true);
    media = r.sessionFactory(
      `${resumed.media.url}?ticket=${encodeURIComponent(resumed.media.ticket)}`,
      certificateHashes(resumed.media.certificateSha256),
    );
    media.closed.catch(() => undefined);
    await abortable(media.ready, abort);
    return { signalSession: s, media, resumed };
  } catch (e) {
    signal.detach();
    closeQuietly(media, "resume failed");
    closeQuietly(session, "resume failed");
    if (e instanceof TimeoutError) throw new AttemptError(e, false);
    throw retry(e);
  }
}
