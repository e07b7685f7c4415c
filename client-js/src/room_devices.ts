/**
 * The devices a room uses: the camera, microphone and speaker chosen with
 * `room.switchActiveDevice`, switching a published capture without republishing, and falling
 * back to the default device when the one in use goes away.
 */

import {
  DeviceWatcher,
  audioConstraints,
  captureTrack,
  videoConstraints,
  type DeviceKind,
  type MediaDevicesLike,
} from "./devices.js";
import { DeviceError, deviceError } from "./errors.js";
import type { ResolvedRoomOptions } from "./options.js";
import type { LocalParticipant } from "./participant.js";
import type { LocalTrackPublication } from "./publication.js";
import { TrackSource, type RemoteAudioTrack } from "./track.js";

/** What {@link RoomDevices} needs from its room. */
export interface RoomDevicesHost {
  readonly options: ResolvedRoomOptions;
  /** This client's participant now. */
  readonly local: LocalParticipant;
  /** Every subscribed remote audio track. */
  remoteAudioTracks(): RemoteAudioTrack[];
  /** The device in use for `kind` changed (switched, or fell back to the default). */
  activeDeviceChanged(kind: DeviceKind, deviceId: string): void;
  /** Devices were plugged in or out. */
  devicesChanged(): void;
  /** Falling back to another device failed. */
  deviceFailed(error: DeviceError): void;
}

function sourceOf(kind: "videoinput" | "audioinput"): TrackSource {
  return kind === "videoinput" ? TrackSource.Camera : TrackSource.Microphone;
}

function kindOf(source: TrackSource): "videoinput" | "audioinput" | undefined {
  if (source === TrackSource.Camera) return "videoinput";
  if (source === TrackSource.Microphone) return "audioinput";
  return undefined;
}

/** The room's device choices and the watch on the devices in use. */
export class RoomDevices {
  private readonly active = new Map<DeviceKind, string>();
  private watcher: DeviceWatcher | undefined;

  constructor(private readonly host: RoomDevicesHost) {}

  private md(): MediaDevicesLike {
    return this.host.options.mediaDevices();
  }

  private watch(): DeviceWatcher {
    this.watcher ??= new DeviceWatcher(
      this.md(),
      (kind) => void this.fallBack(kind),
      () => this.host.devicesChanged(),
    );
    return this.watcher;
  }

  /** The device chosen for `kind`, if any (else the browser's default). */
  activeDevice(kind: DeviceKind): string | undefined {
    return this.active.get(kind);
  }

  /**
   * Uses `deviceId` for `kind` from now on: a published camera or microphone is captured
   * again from it (same publication; video restarts with a keyframe), the speaker applies to
   * every remote audio element. Before publishing, it only records the choice.
   */
  async switchActiveDevice(kind: DeviceKind, deviceId: string): Promise<void> {
    if (kind === "audiooutput") {
      await Promise.all(this.host.remoteAudioTracks().map((t) => t.setSinkId(deviceId)));
      this.active.set(kind, deviceId);
      this.host.activeDeviceChanged(kind, deviceId);
      return;
    }
    const source = sourceOf(kind);
    if (this.host.local.getTrackPublication(source) === undefined) {
      this.active.set(kind, deviceId);
      this.host.activeDeviceChanged(kind, deviceId);
      return;
    }
    const used = await this.recapture(kind, deviceId);
    this.active.set(kind, deviceId);
    this.host.activeDeviceChanged(kind, used ?? deviceId);
  }

  /** Captures `kind` again (from `deviceId`, or the default) into its publication; the device used. */
  private async recapture(kind: "videoinput" | "audioinput", deviceId: string | undefined): Promise<string | undefined> {
    // An empty id means the default device.
    const constraints =
      kind === "videoinput"
        ? videoConstraints({ ...this.host.options.videoCaptureDefaults, deviceId: deviceId ?? "" })
        : audioConstraints({ deviceId: deviceId ?? "" });
    const track = await captureTrack(kind, constraints, this.md());
    if (!this.host.local.replaceCapture(sourceOf(kind), track)) {
      track.stop();
      return undefined;
    }
    this.watch().watch(kind, track);
    return track.getSettings().deviceId;
  }

  /** The device in use for `kind` went away: capture the default one instead. */
  private async fallBack(kind: "videoinput" | "audioinput"): Promise<void> {
    this.active.delete(kind);
    if (this.host.local.getTrackPublication(sourceOf(kind)) === undefined) return;
    try {
      const used = await this.recapture(kind, undefined);
      this.host.activeDeviceChanged(kind, used ?? "default");
    } catch (e) {
      this.host.deviceFailed(deviceError(e, kind));
    }
  }

  /** A local track was published (internal): watch its device. */
  published(pub: LocalTrackPublication): void {
    const kind = kindOf(pub.source);
    if (kind === undefined) return;
    try {
      this.watch().watch(kind, pub.track.mediaStreamTrack);
    } catch {
      // No mediaDevices here (not a browser): nothing to watch.
    }
  }

  /** A local track was unpublished (internal). */
  unpublished(pub: LocalTrackPublication): void {
    const kind = kindOf(pub.source);
    if (kind !== undefined) this.watcher?.unwatch(kind);
  }

  /** Stops watching (the room disconnected). */
  close(): void {
    this.watcher?.close();
    this.watcher = undefined;
  }
}
