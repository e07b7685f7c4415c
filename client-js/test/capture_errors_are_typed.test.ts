import { describe, expect, it } from "vitest";

import { audioConstraints, captureTrack, getLocalDevices, videoConstraints } from "../src/devices.js";
import { DarkTowerError, DeviceError, deviceError } from "../src/errors.js";
import { FakeMediaDevices } from "./fake_devices.js";

describe("capture errors", () => {
  it.each([
    ["NotAllowedError", "permission_denied"],
    ["SecurityError", "permission_denied"],
    ["NotFoundError", "not_found"],
    ["OverconstrainedError", "not_found"],
    ["NotReadableError", "in_use"],
    ["AbortError", "in_use"],
    ["NotSupportedError", "unsupported"],
    ["SomethingElse", "other"],
  ])("%s is a DeviceError with reason %s", (name, reason) => {
    const e = deviceError(new DOMException("msg", name), "videoinput");
    expect(e).toBeInstanceOf(DeviceError);
    expect(e).toBeInstanceOf(DarkTowerError);
    expect(e.reason).toBe(reason);
    expect(e.device).toBe("videoinput");
  });

  it("a refused getUserMedia rejects with DeviceError", async () => {
    const md = new FakeMediaDevices([["videoinput", "cam1"]]);
    md.refuse = "NotAllowedError";
    await expect(captureTrack("videoinput", videoConstraints({ width: 320, height: 240, frameRate: 15 }), md)).rejects.toMatchObject({
      name: "DeviceError",
      reason: "permission_denied",
      device: "videoinput",
    });
  });

  it("constraints ask for an exact device only when one is chosen", () => {
    expect(videoConstraints({ width: 320, height: 240, frameRate: 15 }).deviceId).toBeUndefined();
    expect(videoConstraints({ width: 320, height: 240, frameRate: 15, deviceId: "" }).deviceId).toBeUndefined();
    expect(audioConstraints({ deviceId: "mic" }).deviceId).toEqual({ exact: "mic" });
    expect(audioConstraints()).toMatchObject({ echoCancellation: true, noiseSuppression: true, channelCount: 1 });
  });
});

describe("getLocalDevices", () => {
  it("asks for permission once to get labels, and lists only the kind asked for", async () => {
    const md = new FakeMediaDevices([
      ["videoinput", "cam1"],
      ["audioinput", "mic1"],
    ]);
    const cams = await getLocalDevices("videoinput", true, md);
    expect(cams.map((d) => [d.deviceId, d.label])).toEqual([["cam1", "videoinput cam1"]]);
    expect(md.requests).toHaveLength(1);
    expect(md.tracks.every((t) => t.stopped)).toBe(true);
  });

  it("returns unlabelled devices when permission is refused or not asked", async () => {
    const md = new FakeMediaDevices([["audioinput", "mic1"]]);
    expect((await getLocalDevices("audioinput", false, md)).map((d) => d.label)).toEqual([""]);
    md.refuse = "NotAllowedError";
    expect((await getLocalDevices("audioinput", true, md)).map((d) => d.label)).toEqual([""]);
  });
});
