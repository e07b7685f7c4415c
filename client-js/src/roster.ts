/**
 * The meeting as this client knows it: remote participants, their publications by track alias,
 * and the server messages that change them. It emits the room's events; the room owns the
 * connection and hands it every message that is about the meeting rather than the connection.
 */

import { errorMessage } from "./errors.js";
import type { TypedEventEmitter } from "./events.js";
import { connectionQualityFromProto, RemoteParticipant, type LocalParticipant, type Participant } from "./participant.js";
import type { ParticipantUpdated, Participant as ProtoParticipant, ServerMessage } from "./proto/gen/dark_tower/signaling/v1/signaling_pb.js";
import type { MediaFrame } from "./proto/media.js";
import { RemoteTrackPublication, trackInfoFromProto, type SubscriptionControl } from "./publication.js";
import { RoomEvent, type RoomEventCallbacks } from "./room_events.js";
import { RemoteVideoTrack, type RemoteTrack } from "./track.js";

/** Frames kept per unknown track alias until the track is announced. */
const MAX_PENDING_FRAMES = 256;
const MAX_PENDING_ALIASES = 32;

/** What the roster needs from its room. */
export interface RosterHost {
  readonly events: TypedEventEmitter<RoomEventCallbacks>;
  /** This client's participant. */
  readonly local: LocalParticipant;
  /** Subscribe to every track as it is announced. */
  readonly autoSubscribe: boolean;
  /** Subscription changes (for publications). */
  readonly control: SubscriptionControl;
  /** A remote track was created for a new subscription (before `TrackSubscribed`). */
  trackCreated(track: RemoteTrack): void;
  /** Hands a received frame of a subscribed track to it (decrypting first, with E2EE). */
  deliver(frame: MediaFrame, pub: RemoteTrackPublication, participant: RemoteParticipant): void;
}

/** A publication and its publisher. */
export interface TrackEntry {
  readonly pub: RemoteTrackPublication;
  readonly participant: RemoteParticipant;
}

/** The remote participants of a connected room. */
export class Roster {
  /** Other participants, by identity. */
  readonly remoteParticipants = new Map<string, RemoteParticipant>();
  private readonly bySid = new Map<string, RemoteParticipant>();
  private readonly byAlias = new Map<number, TrackEntry>();
  private readonly pendingFrames = new Map<number, MediaFrame[]>();

  constructor(private readonly host: RosterHost) {}

  /** Everyone else, by participant id. */
  participants(): IterableIterator<RemoteParticipant> {
    return this.bySid.values();
  }

  /** The remote participant with id `sid`. */
  bySidOf(sid: string): RemoteParticipant | undefined {
    return this.bySid.get(sid);
  }

  /** The publication whose frames carry `alias`. */
  entry(alias: number): TrackEntry | undefined {
    return this.byAlias.get(alias);
  }

  /** Participant or local participant with id `sid`. */
  private anyBySid(sid: string): Participant | undefined {
    return sid === this.host.local.sid ? this.host.local : this.bySid.get(sid);
  }

  /** Forgets everything, closing every remote track. */
  clear(): void {
    for (const p of this.bySid.values()) {
      for (const pub of p.trackPublications.values()) pub.dropTrack();
    }
    this.bySid.clear();
    this.remoteParticipants.clear();
    this.byAlias.clear();
    this.pendingFrames.clear();
  }

  /** The connection dropped: frames waiting for their track are stale. */
  connectionLost(): void {
    this.pendingFrames.clear();
    for (const p of this.bySid.values()) {
      for (const pub of p.trackPublications.values()) pub.track?.resync();
    }
  }

  addParticipant(p: ProtoParticipant, announce: boolean): RemoteParticipant {
    const participant = new RemoteParticipant(p);
    this.bySid.set(participant.sid, participant);
    this.remoteParticipants.set(participant.identity, participant);
    if (announce) this.host.events.emit(RoomEvent.ParticipantConnected, participant);
    for (const t of p.tracks) this.addTrack(participant, t, announce);
    return participant;
  }

  private addTrack(participant: RemoteParticipant, t: NonNullable<ProtoParticipant["tracks"][number]>, announce: boolean): void {
    const pub = new RemoteTrackPublication(trackInfoFromProto(t), this.host.control);
    participant.trackPublications.set(pub.trackSid, pub);
    this.byAlias.set(pub.info.alias, { pub, participant });
    if (announce) {
      this.host.events.emit(RoomEvent.TrackPublished, pub, participant);
      if (this.host.autoSubscribe) this.subscribed(pub, participant);
    }
  }

  /** Subscribes to every track known now (after `Joined`, with auto-subscribe). */
  subscribeAll(): void {
    for (const p of this.bySid.values()) {
      for (const pub of p.trackPublications.values()) this.subscribed(pub, p);
    }
  }

  /** Creates the track of a subscribed publication, emits TrackSubscribed, replays early frames. */
  subscribed(pub: RemoteTrackPublication, participant: RemoteParticipant): void {
    if (pub.isSubscribed) return;
    const track = pub.createTrack();
    this.host.trackCreated(track);
    if (track instanceof RemoteVideoTrack) {
      track.setUnsupportedListener((e) => this.host.events.emit(RoomEvent.TrackSubscriptionFailed, pub.trackSid, participant, e));
    }
    pub.subscriptionStarted().catch((e: unknown) => console.warn("subscription update failed:", errorMessage(e)));
    this.host.events.emit(RoomEvent.TrackSubscribed, track, pub, participant);
    const early = this.pendingFrames.get(pub.info.alias);
    this.pendingFrames.delete(pub.info.alias);
    for (const f of early ?? []) this.host.deliver(f, pub, participant);
  }

  unsubscribed(pub: RemoteTrackPublication, participant: RemoteParticipant): void {
    const track = pub.dropTrack();
    if (track !== undefined) this.host.events.emit(RoomEvent.TrackUnsubscribed, track, pub, participant);
  }

  private removeTrack(participant: RemoteParticipant, pub: RemoteTrackPublication): void {
    this.unsubscribed(pub, participant);
    participant.trackPublications.delete(pub.trackSid);
    this.byAlias.delete(pub.info.alias);
    this.pendingFrames.delete(pub.info.alias);
  }

  /** A received media frame: to its track, or kept briefly until its track is announced. */
  onFrame(frame: MediaFrame): void {
    const alias = frame.header.trackAlias;
    const entry = this.byAlias.get(alias);
    if (entry !== undefined) {
      if (entry.pub.isSubscribed) this.host.deliver(frame, entry.pub, entry.participant);
      return;
    }
    let queue = this.pendingFrames.get(alias);
    if (queue === undefined) {
      if (this.pendingFrames.size >= MAX_PENDING_ALIASES) return;
      queue = [];
      this.pendingFrames.set(alias, queue);
    }
    if (frame.header.keyframe) queue.length = 0;
    if (queue.length < MAX_PENDING_FRAMES) queue.push(frame);
  }

  /** Handles a message about the meeting; false if it is not one. */
  handle(msg: ServerMessage): boolean {
    const body = msg.message;
    const events = this.host.events;
    switch (body.case) {
      case "participantJoined":
        if (body.value.participant !== undefined && !this.bySid.has(body.value.participant.id)) {
          this.addParticipant(body.value.participant, true);
        }
        return true;
      case "participantLeft": {
        const p = this.bySid.get(body.value.participantId);
        if (p === undefined) return true;
        for (const pub of [...p.trackPublications.values()]) this.removeTrack(p, pub);
        this.bySid.delete(p.sid);
        if (this.remoteParticipants.get(p.identity) === p) this.remoteParticipants.delete(p.identity);
        events.emit(RoomEvent.ParticipantDisconnected, p);
        return true;
      }
      case "participantUpdated":
        this.updated(body.value);
        return true;
      case "trackPublished": {
        const p = this.bySid.get(body.value.participantId);
        if (p !== undefined && body.value.track !== undefined) this.addTrack(p, body.value.track, true);
        return true;
      }
      case "trackUnpublished": {
        const p = this.bySid.get(body.value.participantId);
        const pub = p?.trackPublications.get(body.value.trackId);
        if (p === undefined || pub === undefined) return true;
        this.removeTrack(p, pub);
        events.emit(RoomEvent.TrackUnpublished, pub, p);
        return true;
      }
      case "trackMuted": {
        if (body.value.participantId === this.host.local.sid) {
          // A moderator muted one of our tracks: stop sending it, as a self mute would.
          const local = this.host.local;
          const pub = local.trackPublications.get(body.value.trackId);
          if (pub !== undefined && pub.applyRemoteMute(body.value.muted)) {
            events.emit(body.value.muted ? RoomEvent.TrackMuted : RoomEvent.TrackUnmuted, pub, local);
          }
          return true;
        }
        const p = this.bySid.get(body.value.participantId);
        const pub = p?.trackPublications.get(body.value.trackId);
        if (p === undefined || pub === undefined) return true;
        pub.info.muted = body.value.muted;
        events.emit(body.value.muted ? RoomEvent.TrackMuted : RoomEvent.TrackUnmuted, pub, p);
        return true;
      }
      case "dataReceived":
        events.emit(
          RoomEvent.DataReceived,
          body.value.payload,
          this.bySid.get(body.value.fromParticipantId),
          body.value.topic,
          body.value.reliable,
        );
        return true;
      case "activeSpeakers": {
        const speakers: Participant[] = [];
        const levels = new Map(body.value.speakers.map((s) => [s.participantId, s.level]));
        for (const p of [this.host.local, ...this.bySid.values()]) {
          const level = levels.get(p.sid);
          p.isSpeaking = level !== undefined;
          p.audioLevel = level ?? 0;
        }
        for (const s of body.value.speakers) {
          const p = this.anyBySid(s.participantId);
          if (p !== undefined) speakers.push(p);
        }
        events.emit(RoomEvent.ActiveSpeakersChanged, speakers);
        return true;
      }
      case "connectionQuality":
        for (const u of body.value.updates) {
          const p = this.anyBySid(u.participantId);
          if (p === undefined) continue;
          p.connectionQuality = connectionQualityFromProto(u.quality);
          p.connectionRttMs = u.rttMs;
          p.connectionLoss = u.loss;
          events.emit(RoomEvent.ConnectionQualityChanged, p.connectionQuality, p);
        }
        return true;
      default:
        return false;
    }
  }

  /** `ParticipantUpdated`: name, metadata, role, permissions, reconnecting. */
  private updated(u: ParticipantUpdated): void {
    const info = u.participant;
    if (info === undefined) return;
    const p = this.anyBySid(info.id);
    if (p === undefined) return;
    const events = this.host.events;
    const prev = p.updateInfo(info);
    if (prev.name !== undefined) events.emit(RoomEvent.ParticipantNameChanged, p.name, p);
    if ("metadata" in prev) events.emit(RoomEvent.ParticipantMetadataChanged, prev.metadata, p);
    if ("permissions" in prev) events.emit(RoomEvent.ParticipantPermissionsChanged, prev.permissions, p);
    if (prev.role !== undefined) events.emit(RoomEvent.ParticipantRoleChanged, prev.role, p);
    if (prev.reconnecting !== undefined && p instanceof RemoteParticipant) {
      events.emit(p.isReconnecting ? RoomEvent.ParticipantReconnecting : RoomEvent.ParticipantReconnected, p);
    }
  }
}
