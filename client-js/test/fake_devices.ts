/** Fake cameras and microphones for tests: `navigator.mediaDevices` and captured tracks, in memory. */

import type { MediaDevicesLike } from "../src/devices.js";

/** A captured track: `ended` fires when the test unplugs its device. */
export class FakeTrack extends EventTarget {
  readyState: MediaStreamTrackState = "live";
  stopped = false;

  constructor(
    readonly kind: "audio" | "video",
    readonly deviceId: string,
  ) {
    super();
  }

  getSettings(): MediaTrackSettings {
    return { deviceId: this.deviceId };
  }

  stop(): void {
    this.stopped = true;
    this.readyState = "ended";
  }

  /** The device went away: the browser ends the track. */
  unplug(): void {
    this.readyState = "ended";
    this.dispatchEvent(new Event("ended"));
  }
}

function info(kind: MediaDeviceKind, deviceId: string, label: string): MediaDeviceInfo {
  return { kind, deviceId, label, groupId: deviceId, toJSON: () => ({ kind, deviceId, label }) };
}

/** A machine's devices; `getUserMedia` honours `deviceId: { exact }` and otherwise takes the first. */
export class FakeMediaDevices extends EventTarget implements MediaDevicesLike {
  devices: MediaDeviceInfo[] = [];
  /** Labels appear once capture was allowed. */
  permitted = false;
  /** When set, `getUserMedia` rejects with a DOMException of this name. */
  refuse: string | undefined;
  readonly requests: MediaStreamConstraints[] = [];
  readonly tracks: FakeTrack[] = [];

  constructor(devices: [MediaDeviceKind, string][]) {
    super();
    this.devices = devices.map(([k, id]) => info(k, id, `${k} ${id}`));
  }

  enumerateDevices(): Promise<MediaDeviceInfo[]> {
    return Promise.resolve(this.devices.map((d) => (this.permitted ? d : info(d.kind, d.deviceId, ""))));
  }

  getUserMedia(constraints: MediaStreamConstraints): Promise<MediaStream> {
    this.requests.push(constraints);
    if (this.refuse !== undefined) return Promise.reject(new DOMException("refused", this.refuse));
    this.permitted = true;
    const video = constraints.video !== undefined && constraints.video !== false;
    const kind: MediaDeviceKind = video ? "videoinput" : "audioinput";
    const c = (video ? constraints.video : constraints.audio) as MediaTrackConstraints | true;
    const exact = c === true ? undefined : (c.deviceId as { exact?: string } | undefined)?.exact;
    const device = this.devices.find((d) => d.kind === kind && (exact === undefined || d.deviceId === exact));
    if (device === undefined) return Promise.reject(new DOMException("no device", exact === undefined ? "NotFoundError" : "OverconstrainedError"));
    const track = new FakeTrack(video ? "video" : "audio", device.deviceId);
    this.tracks.push(track);
    const list = [track as unknown as MediaStreamTrack];
    const stream = {
      getVideoTracks: () => (video ? list : []),
      getAudioTracks: () => (video ? [] : list),
      getTracks: () => list,
    };
    return Promise.resolve(stream as unknown as MediaStream);
  }

  /** Removes a device and fires `devicechange`. */
  unplug(deviceId: string): void {
    this.devices = this.devices.filter((d) => d.deviceId !== deviceId);
    this.dispatchEvent(new Event("devicechange"));
  }

  override addEventListener(type: string, listener: EventListenerOrEventListenerObject | null): void {
    super.addEventListener(type, listener);
  }
}
