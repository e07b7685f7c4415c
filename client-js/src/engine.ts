/**
 * What participants and publications need from their room once it is connected: the signaling
 * client and the media session. The room implements it; keeping it an interface keeps
 * participant.ts from importing room.ts.
 */

import type { PayloadTransform } from "./local_track.js";
import type { ResolvedRoomOptions } from "./options.js";
import type { LocalTrackPublication, RemoteTrackPublication } from "./publication.js";
import type { SignalClient } from "./signal.js";
import type { DatagramWriter, Session } from "./transport.js";

/** The connected room's machinery. */
export interface Engine {
  readonly options: ResolvedRoomOptions;
  readonly signal: SignalClient;
  /** The media session (MH). */
  readonly media: Session;
  /** Datagrams of the media session. */
  readonly mediaDatagrams: DatagramWriter;
  /** Datagrams of the signaling session (best-effort data messages). */
  readonly signalDatagrams: DatagramWriter;
  /** `Joined.limits.max_datagram_frame_bytes`. */
  readonly maxDatagramFrame: number;
  /** Participant ids of the given identities (for data message destinations). */
  participantIds(identities: readonly string[]): string[];
  /** Called after a local track was published. */
  localTrackPublished(pub: LocalTrackPublication): void;
  /** Called after a local track was unpublished. */
  localTrackUnpublished(pub: LocalTrackPublication): void;
  /**
   * Called after this participant (a host) muted a remote track: the server tells everyone but
   * the one who asked, so the room marks it muted and emits `TrackMuted` itself.
   */
  remoteTrackMutedByUs(pub: RemoteTrackPublication): void;
  /** The video decoders each remote participant announced (empty: unknown, VP8 only). */
  remoteVideoDecoders(): (readonly string[])[];
  /** Whether the room was created with E2EE (its tracks are published as encrypted). */
  e2eeConfigured(): boolean;
  /** The device chosen with `room.switchActiveDevice(kind, …)`, if any. */
  activeDevice(kind: "videoinput" | "audioinput"): string | undefined;
  /** With E2EE configured: how `pub`'s payloads are encrypted and where failures go. */
  e2eeSender(pub: LocalTrackPublication): { transform: PayloadTransform; onError(e: unknown): void } | undefined;
}
