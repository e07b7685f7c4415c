/**
 * E2EE inside a room (mirrors `dark_tower_client::e2ee::room`): while enabled, every frame the
 * local tracks send is encrypted after encoding and every frame received is decrypted before
 * decoding, in the encryption worker. A frame that does not decrypt is dropped, its track waits
 * for the next keyframe that does (nothing undecryptable reaches a decoder), and the room emits
 * `RoomEvent.EncryptionError` — at most twice a second per track.
 */

import type { PayloadTransform } from "../local_track.js";
import type { Participant, RemoteParticipant } from "../participant.js";
import type { MediaFrame } from "../proto/media.js";
import type { RemoteTrackPublication, TrackPublication } from "../publication.js";
import { EncryptionError } from "./errors.js";
import type { E2EEOptions } from "./options.js";
import { InlineCryptor, WorkerCryptor, type Cryptor } from "./worker_client.js";

/** Counters of a room's E2EE. */
export interface E2EEStats {
  framesEncrypted: number;
  framesDecrypted: number;
  /** Local frames dropped because they could not be encrypted (no key). */
  encryptFailures: number;
  /** Received frames dropped because they did not decrypt. */
  decryptFailures: number;
}

/** Reports an undecryptable or unencryptable frame. */
export type EncryptionErrorReporter = (error: EncryptionError, participant: Participant | undefined, publication: TrackPublication | undefined) => void;

/** The least time between two `EncryptionError` events for one track, ms. */
export const ENCRYPTION_ERROR_INTERVAL_MS = 500;
/** Frames of one track waiting in the worker; beyond this the track drops and waits for a keyframe. */
const MAX_IN_FLIGHT = 64;

interface TrackQueue {
  tail: Promise<void>;
  inFlight: number;
}

function defaultWorker(): Worker {
  return new Worker(new URL("./worker.js", import.meta.url), { type: "module", name: "dark-tower-e2ee" });
}

function asEncryptionError(e: unknown): EncryptionError {
  if (e instanceof EncryptionError) return e;
  return new EncryptionError("AuthenticationFailed", e instanceof Error ? e.message : String(e));
}

/** One room's E2EE: its worker, whether it is on, the per-track ordering of decrypted frames. */
export class RoomE2EE {
  /** Encrypt and decrypt (`room.setE2EEEnabled`). */
  enabled = false;
  readonly stats: E2EEStats = { framesEncrypted: 0, framesDecrypted: 0, encryptFailures: 0, decryptFailures: 0 };
  private cryptor: Cryptor | undefined;
  private stopKeys: (() => void) | undefined;
  private queues = new WeakMap<RemoteTrackPublication, TrackQueue>();
  private readonly lastReport = new Map<string, number>();

  constructor(
    readonly options: E2EEOptions,
    private readonly report: EncryptionErrorReporter,
  ) {}

  /** Starts for a connection as participant `local` (a fresh encryptor; keys replayed). */
  start(local: string): void {
    this.stop();
    const cryptor =
      this.options.worker !== undefined
        ? new WorkerCryptor(this.options.worker, false)
        : typeof Worker === "function"
          ? new WorkerCryptor(defaultWorker(), true)
          : new InlineCryptor();
    const k = this.options.keyProvider;
    cryptor.init({ local, cipherSuite: k.cipherSuite, rotationWindowMs: k.rotationWindowMs });
    this.stopKeys = k.onKeyOp((op) => cryptor.applyKeyOp(op));
    this.cryptor = cryptor;
  }

  /** Stops (on disconnect): pending frames are dropped. */
  stop(): void {
    this.stopKeys?.();
    this.stopKeys = undefined;
    this.cryptor?.close();
    this.cryptor = undefined;
    this.queues = new WeakMap();
    this.lastReport.clear();
  }

  /** The transform for a local publication's sender: encrypts while enabled. */
  senderTransform(): PayloadTransform {
    return (header, payload) => {
      const c = this.cryptor;
      if (!this.enabled || c === undefined) return payload;
      return c.encrypt(header, payload).then((out) => {
        this.stats.framesEncrypted++;
        return out;
      });
    };
  }

  /** A local frame could not be encrypted (reported like a received one, rate-limited). */
  encryptFailed(e: unknown, local: Participant, publication: TrackPublication | undefined): void {
    this.stats.encryptFailures++;
    this.reportLimited(asEncryptionError(e), local, publication);
  }

  /**
   * Hands `frame` of `pub` (published by `participant`) to its track: decrypted first while
   * enabled, in the order received.
   */
  deliver(frame: MediaFrame, pub: RemoteTrackPublication, participant: RemoteParticipant): void {
    const c = this.cryptor;
    if (!this.enabled || c === undefined) {
      pub.track?.handleFrame(frame);
      return;
    }
    let q = this.queues.get(pub);
    if (q === undefined) {
      q = { tail: Promise.resolve(), inFlight: 0 };
      this.queues.set(pub, q);
    }
    if (q.inFlight >= MAX_IN_FLIGHT) {
      pub.track?.resync();
      return;
    }
    const queue = q;
    const header = frame.header;
    const work = c.decrypt(participant.sid, header, frame.payload);
    work.catch(() => undefined);
    queue.inFlight++;
    queue.tail = queue.tail
      .then(() =>
        work.then(
          (payload) => {
            this.stats.framesDecrypted++;
            pub.track?.handleFrame({ header, payload });
          },
          (e: unknown) => {
            this.stats.decryptFailures++;
            pub.track?.resync();
            if (this.cryptor === c) this.reportLimited(asEncryptionError(e), participant, pub);
          },
        ),
      )
      .finally(() => {
        queue.inFlight--;
      });
  }

  private reportLimited(e: EncryptionError, participant: Participant, publication: TrackPublication | undefined): void {
    const key = `${participant.sid}/${publication?.trackSid ?? ""}`;
    const now = Date.now();
    const last = this.lastReport.get(key);
    if (last !== undefined && now - last < ENCRYPTION_ERROR_INTERVAL_MS) return;
    this.lastReport.set(key, now);
    this.report(e, participant, publication);
  }
}
