/// <reference types="dom-mediacapture-transform" preserve="true" />
/**
 * `@dark-tower/client`: the Dark Tower browser client, shaped like LiveKit's.
 *
 * ```ts
 * const room = new Room();
 * room.on(RoomEvent.TrackSubscribed, (track) => track.attach(canvas));
 * await room.connect("https://meet.example.com", token);
 * await room.localParticipant.setCameraEnabled(true);
 * ```
 */

export { Room } from "./room.js";
export { ConnectionState, RoomEvent, type DisconnectReason, type RoomEventCallbacks } from "./room_events.js";
export type { DisplayMediaFn, RoomOptions, VideoCaptureOptions } from "./options.js";
export {
  DeviceWatcher,
  createLocalAudioTrack,
  createLocalVideoTrack,
  getLocalDevices,
  type AudioCaptureOptions,
  type DeviceKind,
  type MediaDevicesLike,
} from "./devices.js";
export { AudioPlayback, type Playable } from "./audio_playback.js";
export type { AdaptiveStreamSettings } from "./adaptive_stream.js";
export { VideoQuality, type VideoDimensions } from "./subscription.js";
export { ConnectionQuality, LocalParticipant, Participant, ParticipantRole, RemoteParticipant } from "./participant.js";
export type { DataPublishOptions, ParticipantPermissions, PublishOptions } from "./participant.js";
export { LocalTrackPublication, RemoteTrackPublication, TrackPublication, type EncodePipeline, type TrackInfo } from "./publication.js";
export {
  LocalAudioTrack,
  LocalTrack,
  LocalVideoTrack,
  RemoteAudioTrack,
  RemoteTrack,
  RemoteVideoTrack,
  Track,
  TrackKind,
  TrackSource,
} from "./track.js";
export type { LayerAllowance, LayerStats, VideoEncoding } from "./codec/video_encode.js";
export { VIDEO_CODEC_STRINGS, type VideoCodecName } from "./codec/codec_choice.js";
export { DEFAULT_SIMULCAST_LAYERS, type SimulcastLayerOptions, type SimulcastOption } from "./codec/simulcast.js";
export type { AudioEncoding } from "./codec/audio_encode.js";
export type { DecodeStats } from "./codec/video_decode.js";
export {
  ConnectionError,
  DarkTowerError,
  DeviceError,
  type DeviceErrorReason,
  InvalidUseError,
  JoinRefusedError,
  ProtocolError,
  ServerError,
  TimeoutError,
  TooLargeError,
  UnsupportedCodecError,
} from "./errors.js";
export { codeSpec, errorCodeFromName, errorCodeFromWire, type ErrorCodeName, type Fault } from "./proto/error.js";
export {
  CipherSuite,
  DEFAULT_PBKDF2_ITERATIONS,
  DEFAULT_PBKDF2_SALT,
  DEFAULT_ROTATION_WINDOW_MS,
  EncryptionError,
  ExternalE2EEKeyProvider,
  FrameDecryptor,
  FrameEncryptor,
  KeyError,
  KeyProvider,
  baseKeyFromPassphrase,
  type E2EEOptions,
  type E2EEStats,
  type EncryptionErrorKind,
  type ExternalE2EEKeyProviderOptions,
  type KeyErrorKind,
  type KeyProviderOptions,
  type PassphraseParams,
} from "./e2ee/index.js";
export { DEFAULT_UPLINK_POLICY, UplinkBitrateController, type UplinkPolicy, type UplinkSample, type UplinkState } from "./uplink.js";
export type { UplinkStats } from "./uplink_monitor.js";
export { TypedEventEmitter } from "./events.js";
export { webTransportFactory, type Session, type SessionFactory } from "./transport.js";
export { DefaultReconnectPolicy, type ReconnectContext, type ReconnectPolicy } from "./reconnect.js";
export { SDK_NAME, SDK_VERSION } from "./version.js";
