/**
 * Cameras, microphones and speakers: listing them, capturing with typed errors
 * ({@link DeviceError}), previews before joining ({@link createLocalVideoTrack}), and a
 * {@link DeviceWatcher} that notices when a device in use goes away (unplugged, or its track
 * ended) so the room can fall back to the default one.
 */

import { DeviceError, deviceError } from "./errors.js";
import { LocalAudioTrack, LocalVideoTrack, TrackSource } from "./track.js";

/** The kinds of `MediaDeviceInfo`. */
export type DeviceKind = "videoinput" | "audioinput" | "audiooutput";

/** The part of `navigator.mediaDevices` the client uses (tests pass a fake). */
export interface MediaDevicesLike {
  enumerateDevices(): Promise<MediaDeviceInfo[]>;
  getUserMedia(constraints: MediaStreamConstraints): Promise<MediaStream>;
  addEventListener(type: "devicechange", listener: () => void): void;
  removeEventListener(type: "devicechange", listener: () => void): void;
}

/** The size and rate to capture video at. */
export interface VideoCaptureOptions {
  width: number;
  height: number;
  frameRate: number;
  /** A camera `deviceId`, if not the default one. */
  deviceId?: string;
}

/** How to capture a microphone. */
export interface AudioCaptureOptions {
  /** A microphone `deviceId`, if not the default one. */
  deviceId?: string;
  /** Default true. */
  echoCancellation?: boolean;
  /** Default true. */
  noiseSuppression?: boolean;
  /** Default true. */
  autoGainControl?: boolean;
}

/** Default camera capture: 320x240 at 15 fps. */
export const DEFAULT_VIDEO_CAPTURE: VideoCaptureOptions = { width: 320, height: 240, frameRate: 15 };

/** This browser's `navigator.mediaDevices`; a {@link DeviceError} where there is none (insecure page). */
export function browserMediaDevices(): MediaDevicesLike {
  const md = typeof navigator === "undefined" ? undefined : (navigator.mediaDevices as MediaDevices | undefined);
  if (md === undefined) throw new DeviceError("unsupported", "videoinput", "navigator.mediaDevices is missing (not a secure context?)");
  return md;
}

/** `getUserMedia` constraints for a camera. */
export function videoConstraints(c: VideoCaptureOptions): MediaTrackConstraints {
  const v: MediaTrackConstraints = { width: { ideal: c.width }, height: { ideal: c.height }, frameRate: { ideal: c.frameRate } };
  if (c.deviceId !== undefined && c.deviceId !== "") v.deviceId = { exact: c.deviceId };
  return v;
}

/** `getUserMedia` constraints for a microphone. */
export function audioConstraints(o: AudioCaptureOptions = {}): MediaTrackConstraints {
  const a: MediaTrackConstraints = {
    echoCancellation: o.echoCancellation ?? true,
    noiseSuppression: o.noiseSuppression ?? true,
    autoGainControl: o.autoGainControl ?? true,
    channelCount: 1,
  };
  if (o.deviceId !== undefined && o.deviceId !== "") a.deviceId = { exact: o.deviceId };
  return a;
}

/** Captures one camera or microphone track; failures are {@link DeviceError}s. */
export async function captureTrack(
  kind: "videoinput" | "audioinput",
  constraints: MediaTrackConstraints,
  md: MediaDevicesLike = browserMediaDevices(),
): Promise<MediaStreamTrack> {
  let stream: MediaStream;
  try {
    stream = await md.getUserMedia(kind === "videoinput" ? { video: constraints } : { audio: constraints });
  } catch (e) {
    throw deviceError(e, kind);
  }
  const track = kind === "videoinput" ? stream.getVideoTracks()[0] : stream.getAudioTracks()[0];
  if (track === undefined) throw new DeviceError("not_found", kind, "getUserMedia returned no track");
  return track;
}

/**
 * Captures the camera without publishing it: a preview before joining. Attach it to a
 * `<video>`; publish it later with `room.localParticipant.publishTrack(track)`, or stop it.
 */
export async function createLocalVideoTrack(options: Partial<VideoCaptureOptions> = {}): Promise<LocalVideoTrack> {
  const mst = await captureTrack("videoinput", videoConstraints({ ...DEFAULT_VIDEO_CAPTURE, ...options }));
  return new LocalVideoTrack(mst, TrackSource.Camera);
}

/** Captures the microphone without publishing it (see {@link createLocalVideoTrack}). */
export async function createLocalAudioTrack(options: AudioCaptureOptions = {}): Promise<LocalAudioTrack> {
  const mst = await captureTrack("audioinput", audioConstraints(options));
  return new LocalAudioTrack(mst, TrackSource.Microphone);
}

/**
 * The devices of `kind`. Browsers hide device labels until the page may capture: with
 * `requestPermissions` (default true) and no labels yet, captures briefly to get them (a
 * refusal is not an error: the list comes back unlabelled).
 */
export async function getLocalDevices(
  kind: DeviceKind,
  requestPermissions = true,
  md: MediaDevicesLike = browserMediaDevices(),
): Promise<MediaDeviceInfo[]> {
  const list = async (): Promise<MediaDeviceInfo[]> => (await md.enumerateDevices()).filter((d) => d.kind === kind);
  const devices = await list();
  if (!requestPermissions || devices.every((d) => d.label !== "")) return devices;
  try {
    const stream = await md.getUserMedia(kind === "videoinput" ? { video: true } : { audio: true });
    for (const t of stream.getTracks()) t.stop();
  } catch {
    return devices;
  }
  return list();
}

/** The part of a `MediaStreamTrack` the watcher needs. */
export interface WatchedTrack {
  readonly readyState: MediaStreamTrackState;
  getSettings(): MediaTrackSettings;
  addEventListener(type: "ended", listener: () => void): void;
  removeEventListener(type: "ended", listener: () => void): void;
}

interface Watch {
  track: WatchedTrack;
  deviceId: string | undefined;
  onEnded: () => void;
}

/**
 * Watches the tracks in use, one per kind: when a track ends by itself (its device was
 * unplugged or taken away) or a `devicechange` leaves its device out of the list, calls
 * `onLost(kind)` once for it. Tracks stopped by the application do not count (`stop()` fires
 * no `ended`); unwatch them first all the same.
 */
export class DeviceWatcher {
  private readonly watches = new Map<"videoinput" | "audioinput", Watch>();
  private listening = false;
  private readonly onDeviceChange = (): void => void this.check();

  constructor(
    private readonly md: MediaDevicesLike,
    private readonly onLost: (kind: "videoinput" | "audioinput", deviceId: string | undefined) => void,
    /** Called after every `devicechange` (the lists changed). */
    private readonly onChange: () => void = () => undefined,
  ) {}

  /** Watches `track` as the one in use for `kind` (replacing any other). */
  watch(kind: "videoinput" | "audioinput", track: WatchedTrack): void {
    this.unwatch(kind);
    const w: Watch = { track, deviceId: track.getSettings().deviceId, onEnded: () => this.lost(kind, w) };
    track.addEventListener("ended", w.onEnded);
    this.watches.set(kind, w);
    if (!this.listening) {
      this.md.addEventListener("devicechange", this.onDeviceChange);
      this.listening = true;
    }
  }

  /** Stops watching `kind`. */
  unwatch(kind: "videoinput" | "audioinput"): void {
    const w = this.watches.get(kind);
    if (w === undefined) return;
    w.track.removeEventListener("ended", w.onEnded);
    this.watches.delete(kind);
  }

  /** Stops watching everything. */
  close(): void {
    for (const kind of [...this.watches.keys()]) this.unwatch(kind);
    if (this.listening) this.md.removeEventListener("devicechange", this.onDeviceChange);
    this.listening = false;
  }

  /** The devices changed: any watched device missing from the list is lost. */
  async check(): Promise<void> {
    let devices: MediaDeviceInfo[];
    try {
      devices = await this.md.enumerateDevices();
    } catch {
      return;
    }
    for (const [kind, w] of [...this.watches]) {
      if (this.watches.get(kind) !== w) continue;
      const present = w.deviceId === undefined || devices.some((d) => d.kind === kind && d.deviceId === w.deviceId);
      if (!present || w.track.readyState === "ended") this.lost(kind, w);
    }
    this.onChange();
  }

  private lost(kind: "videoinput" | "audioinput", w: Watch): void {
    if (this.watches.get(kind) !== w) return;
    this.unwatch(kind);
    this.onLost(kind, w.deviceId);
  }
}
