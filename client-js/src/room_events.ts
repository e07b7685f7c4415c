/** The events a {@link Room} emits, LiveKit-style. */

import type { ErrorCodeName } from "./proto/error.js";
import type { LocalParticipant, Participant, RemoteParticipant } from "./participant.js";
import type { LocalTrackPublication, RemoteTrackPublication } from "./publication.js";
import type { RemoteTrack } from "./track.js";

/** Connection state of a room. */
export enum ConnectionState {
  Disconnected = "disconnected",
  Connecting = "connecting",
  Connected = "connected",
}

/** Event names. */
export enum RoomEvent {
  /** The room is connected (signaling joined and the media session open). */
  Connected = "connected",
  /** `()` — the meeting has a lobby: `connect()` resolves once a moderator admits us. */
  LobbyWaiting = "lobbyWaiting",
  /** `(state: ConnectionState)` */
  ConnectionStateChanged = "connectionStateChanged",
  /** `(reason: DisconnectReason)` — the room is closed; no more events follow. */
  Disconnected = "disconnected",
  /** `(participant: RemoteParticipant)` — someone joined after us. */
  ParticipantConnected = "participantConnected",
  /** `(participant: RemoteParticipant)` — someone left; their tracks are gone with them. */
  ParticipantDisconnected = "participantDisconnected",
  /** `(publication, participant)` — a remote participant published a track. */
  TrackPublished = "trackPublished",
  /** `(publication, participant)` — a remote participant unpublished a track. */
  TrackUnpublished = "trackUnpublished",
  /** `(track, publication, participant)` — a remote track is received; attach it. */
  TrackSubscribed = "trackSubscribed",
  /** `(track, publication, participant)` — a remote track is no longer received. */
  TrackUnsubscribed = "trackUnsubscribed",
  /** `(publication, participant)` — a track was muted. */
  TrackMuted = "trackMuted",
  /** `(publication, participant)` — a track was unmuted. */
  TrackUnmuted = "trackUnmuted",
  /** `(publication, participant)` — this participant published a track. */
  LocalTrackPublished = "localTrackPublished",
  /** `(publication, participant)` — this participant unpublished a track. */
  LocalTrackUnpublished = "localTrackUnpublished",
  /** `(payload, participant | undefined, topic, reliable)` */
  DataReceived = "dataReceived",
  /** `(speakers: Participant[])` — who speaks now, loudest first. */
  ActiveSpeakersChanged = "activeSpeakersChanged",
  /** `(code, message)` — an error the server sent outside any request. */
  ServerError = "serverError",
}

/** Why the room disconnected. */
export interface DisconnectReason {
  /** The server's code, if it gave one (e.g. `removed`, `meeting_ended`). */
  code: ErrorCodeName | undefined;
  /** Human-readable detail. */
  message: string;
  /** True when this client called `disconnect()`. */
  clientInitiated: boolean;
}

/** Listener signatures, by event. */
export interface RoomEventCallbacks {
  [RoomEvent.Connected]: () => void;
  [RoomEvent.LobbyWaiting]: () => void;
  [RoomEvent.ConnectionStateChanged]: (state: ConnectionState) => void;
  [RoomEvent.Disconnected]: (reason: DisconnectReason) => void;
  [RoomEvent.ParticipantConnected]: (participant: RemoteParticipant) => void;
  [RoomEvent.ParticipantDisconnected]: (participant: RemoteParticipant) => void;
  [RoomEvent.TrackPublished]: (publication: RemoteTrackPublication, participant: RemoteParticipant) => void;
  [RoomEvent.TrackUnpublished]: (publication: RemoteTrackPublication, participant: RemoteParticipant) => void;
  [RoomEvent.TrackSubscribed]: (track: RemoteTrack, publication: RemoteTrackPublication, participant: RemoteParticipant) => void;
  [RoomEvent.TrackUnsubscribed]: (track: RemoteTrack, publication: RemoteTrackPublication, participant: RemoteParticipant) => void;
  [RoomEvent.TrackMuted]: (publication: RemoteTrackPublication, participant: RemoteParticipant) => void;
  [RoomEvent.TrackUnmuted]: (publication: RemoteTrackPublication, participant: RemoteParticipant) => void;
  [RoomEvent.LocalTrackPublished]: (publication: LocalTrackPublication, participant: LocalParticipant) => void;
  [RoomEvent.LocalTrackUnpublished]: (publication: LocalTrackPublication, participant: LocalParticipant) => void;
  [RoomEvent.DataReceived]: (payload: Uint8Array, participant: RemoteParticipant | undefined, topic: string, reliable: boolean) => void;
  [RoomEvent.ActiveSpeakersChanged]: (speakers: Participant[]) => void;
  [RoomEvent.ServerError]: (code: ErrorCodeName, message: string) => void;
}
