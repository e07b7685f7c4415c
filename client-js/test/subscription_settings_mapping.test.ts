import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

import { AdaptiveStreamController, resolveAdaptiveStream } from "../src/adaptive_stream.js";
import {
  VideoQuality,
  defaultSubscriptionSettings,
  maxSpatialIdFor,
  subscriptionUpdate,
  type AdaptiveState,
  type SubscriptionSettings,
} from "../src/subscription.js";

function update(settings: Partial<SubscriptionSettings>, layers = 3, adaptive?: AdaptiveState) {
  const u = subscriptionUpdate("TR_1", { ...defaultSubscriptionSettings(), ...settings }, layers, adaptive);
  return { maxSpatialId: u.maxSpatialId, maxWidth: u.maxWidth, maxHeight: u.maxHeight, paused: u.paused };
}

describe("UpdateSubscription from the settings", () => {
  it("quality → highest spatial layer: low 0, medium 1 (or the top of fewer layers), high no limit", () => {
    expect([maxSpatialIdFor("low", 3), maxSpatialIdFor("medium", 3), maxSpatialIdFor("high", 3)]).toEqual([0, 1, undefined]);
    expect([maxSpatialIdFor("low", 1), maxSpatialIdFor("medium", 1), maxSpatialIdFor("medium", 0)]).toEqual([0, 0, 0]);
    expect(maxSpatialIdFor(undefined, 3)).toBeUndefined();
    expect(VideoQuality.Medium).toBe("medium");
  });

  it("defaults ask for nothing; dimensions, quality and enabled map field by field", () => {
    expect(update({})).toEqual({ maxSpatialId: undefined, maxWidth: undefined, maxHeight: undefined, paused: false });
    expect(update({ quality: "low", dimensions: { width: 640.4, height: 359.6 } })).toEqual({
      maxSpatialId: 0,
      maxWidth: 640,
      maxHeight: 360,
      paused: false,
    });
    expect(update({ enabled: false, dimensions: { width: 640, height: 360 } })).toEqual({
      maxSpatialId: undefined,
      maxWidth: undefined,
      maxHeight: undefined,
      paused: true,
    });
  });

  it("adaptive stream: the measured size (capped by the asked one), paused when not visible", () => {
    expect(update({}, 3, { visible: true, width: 320, height: 180 })).toMatchObject({ maxWidth: 320, maxHeight: 180, paused: false });
    expect(update({ dimensions: { width: 200, height: 400 } }, 3, { visible: true, width: 320, height: 180 })).toMatchObject({
      maxWidth: 200,
      maxHeight: 180,
    });
    expect(update({}, 3, { visible: false, width: 0, height: 0 })).toMatchObject({ paused: true, maxWidth: undefined });
    expect(update({ quality: "medium" }, 3, { visible: false, width: 0, height: 0 })).toMatchObject({ paused: true, maxSpatialId: 1 });
  });
});

describe("AdaptiveStreamController", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  function controller(density = 2, pauseInBackground = true) {
    const reports: AdaptiveState[] = [];
    const c = new AdaptiveStreamController((s) => reports.push(s), () => density, { debounceMs: 100, pauseInBackground });
    return { c, reports };
  }

  it("reports the largest visible element in device pixels, once the observations settle", () => {
    const { c, reports } = controller();
    const a = {};
    const b = {};
    c.observe(a, { width: 100, height: 50, inViewport: true });
    vi.advanceTimersByTime(60);
    c.observe(b, { width: 160, height: 90, inViewport: true });
    vi.advanceTimersByTime(60);
    c.observe(a, { width: 120, height: 60, inViewport: true });
    expect(reports).toEqual([]);
    vi.advanceTimersByTime(100);
    expect(reports).toEqual([{ visible: true, width: 320, height: 180 }]);
  });

  it("an element scrolled out, sized 0 or detached does not count; none visible is paused", () => {
    const { c, reports } = controller(1);
    const a = {};
    const b = {};
    c.observe(a, { width: 320, height: 240, inViewport: true });
    c.observe(b, { width: 640, height: 480, inViewport: false });
    vi.advanceTimersByTime(100);
    c.observe(a, { width: 0, height: 0, inViewport: true });
    vi.advanceTimersByTime(100);
    c.observe(a, undefined);
    c.observe(b, undefined);
    vi.advanceTimersByTime(100);
    expect(reports).toEqual([
      { visible: true, width: 320, height: 240 },
      { visible: false, width: 0, height: 0 },
    ]);
  });

  it("a hidden page pauses (unless told not to); unchanged states are not reported again", () => {
    const { c, reports } = controller(1);
    c.observe({}, { width: 320, height: 240, inViewport: true });
    vi.advanceTimersByTime(100);
    c.setDocumentHidden(true);
    vi.advanceTimersByTime(100);
    c.setDocumentHidden(false);
    vi.advanceTimersByTime(50);
    c.setDocumentHidden(true);
    c.setDocumentHidden(false);
    vi.advanceTimersByTime(100);
    expect(reports.map((r) => r.visible)).toEqual([true, false, true]);

    const bg = controller(1, false);
    bg.c.observe({}, { width: 10, height: 10, inViewport: true });
    bg.c.setDocumentHidden(true);
    vi.advanceTimersByTime(100);
    expect(bg.reports).toEqual([{ visible: true, width: 10, height: 10 }]);
  });

  it("nothing attached within the debounce after it starts: paused; nothing after dispose", () => {
    const { c, reports } = controller();
    c.schedule();
    vi.advanceTimersByTime(100);
    expect(reports).toEqual([{ visible: false, width: 0, height: 0 }]);
    c.dispose();
    c.observe({}, { width: 10, height: 10, inViewport: true });
    vi.advanceTimersByTime(100);
    expect(reports.length).toBe(1);
  });

  it("options: off, on with defaults, or a fixed pixel density", () => {
    expect(resolveAdaptiveStream(undefined, () => 3)).toBeUndefined();
    expect(resolveAdaptiveStream(false, () => 3)).toBeUndefined();
    const on = resolveAdaptiveStream(true, () => 3);
    expect([on?.pixelDensity(), on?.pauseVideoInBackground, on?.debounceMs]).toEqual([3, true, 100]);
    const fixed = resolveAdaptiveStream({ pixelDensity: 1.5, pauseVideoInBackground: false, debounceMs: 20 }, () => 3);
    expect([fixed?.pixelDensity(), fixed?.pauseVideoInBackground, fixed?.debounceMs]).toEqual([1.5, false, 20]);
  });
});
