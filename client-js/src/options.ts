/** Options of a {@link Room} and their defaults. */

import { resolveAdaptiveStream, type AdaptiveStreamSettings, type ResolvedAdaptiveStream } from "./adaptive_stream.js";
import { screenPixelDensity } from "./adaptive_stream_dom.js";
import { DEFAULT_AUDIO_ENCODING, type AudioEncoding } from "./codec/audio_encode.js";
import type { VideoCodecName } from "./codec/codec_choice.js";
import type { SimulcastOption } from "./codec/simulcast.js";
import { DEFAULT_VIDEO_ENCODING, type VideoEncoding } from "./codec/video_encode.js";
import { browserMediaDevices, type MediaDevicesLike, type VideoCaptureOptions } from "./devices.js";
import type { E2EEOptions } from "./e2ee/options.js";
import type { FetchFn } from "./join.js";
import { PROTOCOL_VERSION } from "./proto/limits.js";
import { DefaultReconnectPolicy, type ReconnectPolicy } from "./reconnect.js";
import { REQUEST_TIMEOUT_MS } from "./signal.js";
import { webTransportFactory, type SessionFactory } from "./transport.js";

export type { VideoCaptureOptions };

/** Captures a screen (`navigator.mediaDevices.getDisplayMedia`). */
export type DisplayMediaFn = (options: DisplayMediaStreamOptions) => Promise<MediaStream>;

/** Options of `new Room(options)`. Every field is optional. */
export interface RoomOptions {
  /** Receive every track in the meeting without asking (default true); else `publication.setSubscribed(true)`. */
  autoSubscribe?: boolean;
  /**
   * Let the size and visibility of the elements a remote video track is attached to decide how
   * it is received (default false): the SFU sends the layer that fits the largest visible
   * element, and pauses the track while no attached element is visible or the page is hidden.
   */
  adaptiveStream?: boolean | AdaptiveStreamSettings;
  /** Camera capture defaults (default 320x240 at 15 fps). */
  videoCaptureDefaults?: Partial<VideoCaptureOptions>;
  /** Video encoding defaults (default VP8, 300 kbit/s, 15 fps, keyframe every 2 s). */
  videoEncoding?: Partial<VideoEncoding>;
  /** Audio encoding defaults (default Opus, 32 kbit/s). */
  audioEncoding?: Partial<AudioEncoding>;
  /**
   * The video codec to publish with when this browser can encode it (checked with
   * `VideoEncoder.isConfigSupported`), else VP8 (default VP8). Receivers that cannot decode it
   * get `RoomEvent.TrackSubscriptionFailed`.
   */
  videoCodec?: VideoCodecName;
  /**
   * Simulcast of the camera (default true: a quarter, a half and the full size, each its own
   * encoder; layers under 48 pixels are left out). `false` publishes one layer. Screen shares
   * have one layer unless `PublishOptions.simulcast` says otherwise.
   */
  simulcast?: SimulcastOption;
  /**
   * Adapt the encoders' bitrates to what the uplink carries (default true): lower them and
   * drop the largest layer under congestion, probe back up when it clears (README.md, "Uplink adaptation").
   */
  uplinkAdaptation?: boolean;
  /** Free text sent to the server in `Join.client.detail` (default: the user agent). */
  clientDetail?: string;
  /** Signaling protocol version to speak (tests use this to check negotiation). */
  protocolVersion?: number;
  /** How long a request or the join waits for the server, in ms (default 10 000). */
  requestTimeoutMs?: number;
  /** HTTP client for `POST /v1/join` (default `fetch`). */
  fetch?: FetchFn;
  /** Opens WebTransport sessions (default `new WebTransport(…)`); tests inject a fake. */
  sessionFactory?: SessionFactory;
  /**
   * When to retry resuming a dropped connection (default: at once, then 100 ms doubling to
   * 2 s, until the server's grace period is over). Return null to give up.
   */
  reconnectPolicy?: ReconnectPolicy;
  /**
   * End-to-end encryption (docs/E2EE.md): the key provider and, optionally, the encryption
   * worker. Turn it on with `room.setE2EEEnabled(true)`.
   */
  e2ee?: E2EEOptions;
  /**
   * Captures the screen for `setScreenShareEnabled(true)` (default
   * `navigator.mediaDevices.getDisplayMedia`). Pass another source (a canvas's
   * `captureStream()`, say) to share something else, or to test where no screen can be captured.
   */
  getDisplayMedia?: DisplayMediaFn;
  /** Cameras and microphones (default `navigator.mediaDevices`); tests pass a fake. */
  mediaDevices?: MediaDevicesLike;
}

/** {@link RoomOptions} with every default filled in. */
export interface ResolvedRoomOptions {
  autoSubscribe: boolean;
  adaptiveStream: ResolvedAdaptiveStream | undefined;
  videoCaptureDefaults: VideoCaptureOptions;
  videoEncoding: VideoEncoding;
  audioEncoding: AudioEncoding;
  videoCodec: VideoCodecName | undefined;
  simulcast: SimulcastOption;
  uplinkAdaptation: boolean;
  clientDetail: string;
  protocolVersion: number;
  requestTimeoutMs: number;
  fetch: FetchFn;
  sessionFactory: SessionFactory;
  reconnectPolicy: ReconnectPolicy;
  e2ee: E2EEOptions | undefined;
  getDisplayMedia: DisplayMediaFn;
  /** Looked up when first used (there is none outside browsers). */
  mediaDevices: () => MediaDevicesLike;
}

/** Fills in the defaults. */
export function resolveOptions(o: RoomOptions = {}): ResolvedRoomOptions {
  return {
    autoSubscribe: o.autoSubscribe ?? true,
    adaptiveStream: resolveAdaptiveStream(o.adaptiveStream, screenPixelDensity),
    videoCaptureDefaults: { width: 320, height: 240, frameRate: 15, ...o.videoCaptureDefaults },
    videoEncoding: { ...DEFAULT_VIDEO_ENCODING, ...o.videoEncoding },
    audioEncoding: { ...DEFAULT_AUDIO_ENCODING, ...o.audioEncoding },
    videoCodec: o.videoCodec,
    simulcast: o.simulcast ?? true,
    uplinkAdaptation: o.uplinkAdaptation ?? true,
    clientDetail: o.clientDetail ?? (typeof navigator === "undefined" ? "" : navigator.userAgent),
    protocolVersion: o.protocolVersion ?? PROTOCOL_VERSION,
    requestTimeoutMs: o.requestTimeoutMs ?? REQUEST_TIMEOUT_MS,
    fetch: o.fetch ?? ((input, init) => fetch(input, init)),
    sessionFactory: o.sessionFactory ?? webTransportFactory,
    reconnectPolicy: o.reconnectPolicy ?? new DefaultReconnectPolicy(),
    e2ee: o.e2ee,
    getDisplayMedia: o.getDisplayMedia ?? ((d) => navigator.mediaDevices.getDisplayMedia(d)),
    mediaDevices: () => o.mediaDevices ?? browserMediaDevices(),
  };
}
