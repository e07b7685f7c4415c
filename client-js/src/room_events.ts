/** The events a {@link Room} emits, LiveKit-style. */

import type { DeviceKind } from "./devices.js";
import type { EncryptionError } from "./e2ee/errors.js";
import type { DeviceError, UnsupportedCodecError } from "./errors.js";
import type { ErrorCodeName } from "./proto/error.js";
import type {
  ConnectionQuality,
  LocalParticipant,
  Participant,
  ParticipantPermissions,
  ParticipantRole,
  RemoteParticipant,
} from "./participant.js";
import type { LocalTrackPublication, RemoteTrackPublication, TrackPublication } from "./publication.js";
import type { RemoteTrack } from "./track.js";

/** Connection state of a room. */
export enum ConnectionState {
  Disconnected = "disconnected",
  Connecting = "connecting",
  Connected = "connected",
  /** The connection dropped; the room is resuming it (events resume with `Reconnected`). */
  Reconnecting = "reconnecting",
}

/** Event names. */
export enum RoomEvent {
  /** The room is connected (signaling joined and the media session open). */
  Connected = "connected",
  /** `()` — the meeting has a lobby: `connect()` resolves once a moderator admits us. */
  LobbyWaiting = "lobbyWaiting",
  /** `(state: ConnectionState)` */
  ConnectionStateChanged = "connectionStateChanged",
  /** `()` — the connection dropped; the room is resuming it within the server's grace period. */
  Reconnecting = "reconnecting",
  /** `()` — resumed: same participant, tracks and subscriptions; missed events follow. */
  Reconnected = "reconnected",
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
  /**
   * `(trackSid, participant, error: UnsupportedCodecError)` — a subscribed track cannot be
   * decoded in this browser (its publisher chose a codec this browser lacks); it stays
   * subscribed but shows nothing.
   */
  TrackSubscriptionFailed = "trackSubscriptionFailed",
  /** `(track, publication, participant)` — a remote track is no longer received. */
  TrackUnsubscribed = "trackUnsubscribed",
  /**
   * `(publication, participant)` — a remote track was muted, or one of ours by a moderator
   * (then `participant` is the local participant and nothing more of it is sent).
   */
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
  /** `(quality: ConnectionQuality, participant: Participant)` — the server measured a new level. */
  ConnectionQualityChanged = "connectionQualityChanged",
  /** `(name: string, participant: Participant)` — a participant's display name changed. */
  ParticipantNameChanged = "participantNameChanged",
  /** `(prevMetadata: string | undefined, participant: Participant)` — a participant's metadata changed. */
  ParticipantMetadataChanged = "participantMetadataChanged",
  /** `(prevPermissions, participant)` — a moderator changed what a participant may do. */
  ParticipantPermissionsChanged = "participantPermissionsChanged",
  /** `(prevRole, participant)` — a moderator changed a participant's role. */
  ParticipantRoleChanged = "participantRoleChanged",
  /** `(participant: RemoteParticipant)` — its connection dropped; it is expected back (its tracks stay). */
  ParticipantReconnecting = "participantReconnecting",
  /** `(participant: RemoteParticipant)` — it resumed after {@link RoomEvent.ParticipantReconnecting}. */
  ParticipantReconnected = "participantReconnected",
  /** `(code, message)` — an error the server sent outside any request. */
  ServerError = "serverError",
  /**
   * `(error: EncryptionError, participant, publication)` — with E2EE on, a frame of this track
   * did not decrypt (wrong or missing key: `error.kind`) and was dropped, or a local frame could
   * not be encrypted. At most twice a second per track.
   */
  EncryptionError = "encryptionError",
  /**
   * `(canPlayback: boolean)` — the browser refused to start remote audio before a user gesture
   * (false), or it plays again after `room.startAudio()` (true).
   */
  AudioPlaybackStatusChanged = "audioPlaybackStatusChanged",
  /** `(kind: DeviceKind, deviceId: string)` — the device used for `kind` changed (switched, or fell back to the default). */
  ActiveDeviceChanged = "activeDeviceChanged",
  /** `()` — devices were plugged in or out (`devicechange`); list them again. */
  MediaDevicesChanged = "mediaDevicesChanged",
  /** `(error: DeviceError)` — a device in use went away and no other could be captured. */
  MediaDevicesError = "mediaDevicesError",
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
  [RoomEvent.Reconnecting]: () => void;
  [RoomEvent.Reconnected]: () => void;
  [RoomEvent.Disconnected]: (reason: DisconnectReason) => void;
  [RoomEvent.ParticipantConnected]: (participant: RemoteParticipant) => void;
  [RoomEvent.ParticipantDisconnected]: (participant: RemoteParticipant) => void;
  [RoomEvent.TrackPublished]: (publication: RemoteTrackPublication, participant: RemoteParticipant) => void;
  [RoomEvent.TrackUnpublished]: (publication: RemoteTrackPublication, participant: RemoteParticipant) => void;
  [RoomEvent.TrackSubscribed]: (track: RemoteTrack, publication: RemoteTrackPublication, participant: RemoteParticipant) => void;
  [RoomEvent.TrackSubscriptionFailed]: (trackSid: string, participant: RemoteParticipant, error: UnsupportedCodecError) => void;
  [RoomEvent.TrackUnsubscribed]: (track: RemoteTrack, publication: RemoteTrackPublication, participant: RemoteParticipant) => void;
  [RoomEvent.TrackMuted]: (publication: TrackPublication, participant: Participant) => void;
  [RoomEvent.TrackUnmuted]: (publication: TrackPublication, participant: Participant) => void;
  [RoomEvent.LocalTrackPublished]: (publication: LocalTrackPublication, participant: LocalParticipant) => void;
  [RoomEvent.LocalTrackUnpublished]: (publication: LocalTrackPublication, participant: LocalParticipant) => void;
  [RoomEvent.DataReceived]: (payload: Uint8Array, participant: RemoteParticipant | undefined, topic: string, reliable: boolean) => void;
  [RoomEvent.ActiveSpeakersChanged]: (speakers: Participant[]) => void;
  [RoomEvent.ConnectionQualityChanged]: (quality: ConnectionQuality, participant: Participant) => void;
  [RoomEvent.ParticipantNameChanged]: (name: string, participant: Participant) => void;
  [RoomEvent.ParticipantMetadataChanged]: (prevMetadata: string | undefined, participant: Participant) => void;
  [RoomEvent.ParticipantPermissionsChanged]: (prevPermissions: ParticipantPermissions | undefined, participant: Participant) => void;
  [RoomEvent.ParticipantRoleChanged]: (prevRole: ParticipantRole, participant: Participant) => void;
  [RoomEvent.ParticipantReconnecting]: (participant: RemoteParticipant) => void;
  [RoomEvent.ParticipantReconnected]: (participant: RemoteParticipant) => void;
  [RoomEvent.ServerError]: (code: ErrorCodeName, message: string) => void;
  [RoomEvent.EncryptionError]: (error: EncryptionError, participant: Participant | undefined, publication: TrackPublication | undefined) => void;
  [RoomEvent.AudioPlaybackStatusChanged]: (canPlayback: boolean) => void;
  [RoomEvent.ActiveDeviceChanged]: (kind: DeviceKind, deviceId: string) => void;
  [RoomEvent.MediaDevicesChanged]: () => void;
  [RoomEvent.MediaDevicesError]: (error: DeviceError) => void;
}
