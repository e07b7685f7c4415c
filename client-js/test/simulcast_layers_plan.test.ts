import { describe, expect, it } from "vitest";

import { defaultLayerBitrate, planLayers } from "../src/codec/simulcast.js";

const sizes = (plan: ReturnType<typeof planLayers>) => plan.map((l) => `${l.spatialId}:${l.width}x${l.height}@${l.maxBitrate}`);

describe("simulcast layer plan", () => {
  it("a 320x240 camera gets a quarter, a half and the full size, smallest first", () => {
    expect(sizes(planLayers(320, 240, 300_000, true))).toEqual(["0:80x60@28125", "1:160x120@112500", "2:320x240@300000"]);
  });

  it("leaves out layers under 48 pixels, keeping the full size", () => {
    expect(sizes(planLayers(160, 120, 200_000, true))).toEqual(["0:80x60@75000", "1:160x120@200000"]);
    expect(sizes(planLayers(64, 48, 100_000, true))).toEqual(["0:64x48@100000"]);
  });

  it("one layer without simulcast", () => {
    expect(sizes(planLayers(640, 480, 500_000, false))).toEqual(["0:640x480@500000"]);
  });

  it("takes given layers in any order, with their bitrates, without duplicates, at most 3", () => {
    const plan = planLayers(1280, 720, 1_500_000, [
      { scaleDownBy: 1 },
      { scaleDownBy: 2, maxBitrate: 400_000 },
      { scaleDownBy: 2 },
      { scaleDownBy: 3 },
      { scaleDownBy: 6 },
    ]);
    expect(sizes(plan)).toEqual(["0:426x240@250000", "1:640x360@400000", "2:1280x720@1500000"]);
  });

  it("sizes are even, and smaller layers get fewer bits", () => {
    for (const l of planLayers(333, 251, 300_000, true)) {
      expect(l.width % 2).toBe(0);
      expect(l.height % 2).toBe(0);
    }
    expect(defaultLayerBitrate(300_000, 1)).toBe(300_000);
    expect(defaultLayerBitrate(300_000, 2)).toBeLessThan(300_000 / 2);
  });
});
