import { describe, expect, it } from "vitest";

import { DeviceWatcher } from "../src/devices.js";
import type { LocalParticipant } from "../src/participant.js";
import { resolveOptions } from "../src/options.js";
import { RoomDevices } from "../src/room_devices.js";
import { TrackSource } from "../src/track.js";
import { FakeMediaDevices, FakeTrack } from "./fake_devices.js";
import { until } from "./fake_session.js";

describe("DeviceWatcher", () => {
  it("reports a track that ended by itself, once", () => {
    const md = new FakeMediaDevices([["videoinput", "cam1"]]);
    const lost: string[] = [];
    const w = new DeviceWatcher(md, (kind, id) => lost.push(`${kind}:${id ?? ""}`));
    const t = new FakeTrack("video", "cam1");
    w.watch("videoinput", t);
    t.unplug();
    t.unplug();
    expect(lost).toEqual(["videoinput:cam1"]);
    w.close();
  });

  it("reports a device missing after devicechange, and not one still there", async () => {
    const md = new FakeMediaDevices([
      ["videoinput", "cam1"],
      ["audioinput", "mic1"],
      ["audioinput", "mic2"],
    ]);
    const lost: string[] = [];
    let changes = 0;
    const w = new DeviceWatcher(md, (kind, id) => lost.push(`${kind}:${id ?? ""}`), () => changes++);
    w.watch("videoinput", new FakeTrack("video", "cam1"));
    w.watch("audioinput", new FakeTrack("audio", "mic2"));
    md.unplug("mic1");
    await until(() => changes === 1);
    expect(lost).toEqual([]);
    md.unplug("mic2");
    await until(() => changes === 2);
    expect(lost).toEqual(["audioinput:mic2"]);
    w.close();
  });

  it("ignores tracks it no longer watches", () => {
    const md = new FakeMediaDevices([["videoinput", "cam1"]]);
    const lost: string[] = [];
    const w = new DeviceWatcher(md, (kind) => lost.push(kind));
    const t = new FakeTrack("video", "cam1");
    w.watch("videoinput", t);
    w.unwatch("videoinput");
    t.unplug();
    expect(lost).toEqual([]);
  });
});

/** A local participant with one publication per source whose capture can be replaced. */
function fakeLocal(sources: TrackSource[]) {
  const captures = new Map<TrackSource, MediaStreamTrack>();
  const local = {
    getTrackPublication: (s: TrackSource) => (sources.includes(s) ? { source: s } : undefined),
    replaceCapture: (s: TrackSource, t: MediaStreamTrack) => {
      if (!sources.includes(s)) return false;
      captures.set(s, t);
      return true;
    },
  };
  return { local: local as unknown as LocalParticipant, captures };
}

function roomDevices(md: FakeMediaDevices, local: LocalParticipant) {
  const changes: string[] = [];
  const failures: string[] = [];
  const devices = new RoomDevices({
    options: resolveOptions({ mediaDevices: md }),
    local,
    remoteAudioTracks: () => [],
    activeDeviceChanged: (kind, id) => changes.push(`${kind}:${id}`),
    devicesChanged: () => undefined,
    deviceFailed: (e) => failures.push(`${e.device}:${e.reason}`),
  });
  return { devices, changes, failures };
}

describe("RoomDevices", () => {
  it("only records the choice before anything is published", async () => {
    const md = new FakeMediaDevices([["videoinput", "cam2"]]);
    const { devices, changes } = roomDevices(md, fakeLocal([]).local);
    await devices.switchActiveDevice("videoinput", "cam2");
    expect(devices.activeDevice("videoinput")).toBe("cam2");
    expect(md.requests).toEqual([]);
    expect(changes).toEqual(["videoinput:cam2"]);
  });

  it("captures a published camera again from the chosen device", async () => {
    const md = new FakeMediaDevices([
      ["videoinput", "cam1"],
      ["videoinput", "cam2"],
    ]);
    const { local, captures } = fakeLocal([TrackSource.Camera]);
    const { devices, changes } = roomDevices(md, local);
    await devices.switchActiveDevice("videoinput", "cam2");
    expect((captures.get(TrackSource.Camera) as unknown as FakeTrack).deviceId).toBe("cam2");
    expect(md.requests.at(-1)?.video).toMatchObject({ deviceId: { exact: "cam2" }, width: { ideal: 320 } });
    expect(changes).toEqual(["videoinput:cam2"]);
  });

  it("a missing device is a typed error and changes nothing", async () => {
    const md = new FakeMediaDevices([["audioinput", "mic1"]]);
    const { local, captures } = fakeLocal([TrackSource.Microphone]);
    const { devices } = roomDevices(md, local);
    await expect(devices.switchActiveDevice("audioinput", "gone")).rejects.toMatchObject({ name: "DeviceError", reason: "not_found" });
    expect(captures.size).toBe(0);
    expect(devices.activeDevice("audioinput")).toBeUndefined();
  });

  it("falls back to the default device when the one in use is unplugged", async () => {
    const md = new FakeMediaDevices([
      ["audioinput", "mic1"],
      ["audioinput", "headset"],
    ]);
    const { local, captures } = fakeLocal([TrackSource.Microphone]);
    const { devices, changes } = roomDevices(md, local);
    await devices.switchActiveDevice("audioinput", "headset");
    const headset = captures.get(TrackSource.Microphone) as unknown as FakeTrack;
    md.unplug("headset");
    headset.unplug();
    await until(() => changes.length === 2);
    expect(changes).toEqual(["audioinput:headset", "audioinput:mic1"]);
    const now = captures.get(TrackSource.Microphone) as unknown as FakeTrack;
    expect(now.deviceId).toBe("mic1");
    // The default device: no exact deviceId asked for.
    expect((md.requests.at(-1)?.audio as MediaTrackConstraints).deviceId).toBeUndefined();
    expect(devices.activeDevice("audioinput")).toBeUndefined();
    devices.close();
  });

  it("reports a fallback that finds no device", async () => {
    const md = new FakeMediaDevices([["videoinput", "cam1"]]);
    const { local, captures } = fakeLocal([TrackSource.Camera]);
    const { devices, failures } = roomDevices(md, local);
    await devices.switchActiveDevice("videoinput", "cam1");
    const cam = captures.get(TrackSource.Camera) as unknown as FakeTrack;
    md.devices = [];
    cam.unplug();
    await until(() => failures.length === 1);
    expect(failures).toEqual(["videoinput:not_found"]);
  });
});
