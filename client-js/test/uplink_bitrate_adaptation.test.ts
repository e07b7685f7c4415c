import { describe, expect, it } from "vitest";

import { TrackSender } from "../src/local_track.js";
import { DEFAULT_UPLINK_POLICY, UplinkBitrateController, type UplinkSample } from "../src/uplink.js";
import { UplinkMonitor, readTransportStats } from "../src/uplink_monitor.js";
import type { LayerAllowance } from "../src/codec/video_encode.js";
import { DatagramWriter } from "../src/transport.js";
import { FakeSession, until } from "./fake_session.js";

/** The three default layers of a 320x240 camera at 300 kbit/s. */
const LAYERS = [28_125, 112_500, 300_000];
const TOTAL = LAYERS.reduce((a, b) => a + b);
const STEP = DEFAULT_UPLINK_POLICY.intervalMs;
const clear: UplinkSample = { queueDelayMs: 5, dropped: 0 };
const congested: UplinkSample = { queueDelayMs: 400, dropped: 0 };

/** Feeds `sample` `n` times, one interval apart, from `t`; returns the new time and the last allowances. */
function feed(c: UplinkBitrateController, t: number, sample: UplinkSample, n: number): { t: number; a: LayerAllowance[] } {
  let a = c.allowances();
  for (let i = 0; i < n; i++) {
    t += STEP;
    a = c.update(t, sample);
  }
  return { t, a };
}

const running = (a: LayerAllowance[]) => a.map((x) => x.allowed);

describe("UplinkBitrateController", () => {
  it("starts at every layer's maximum and stays there while the uplink is clear", () => {
    const c = new UplinkBitrateController(LAYERS);
    const { a } = feed(c, 0, clear, 20);
    expect(a).toEqual(LAYERS.map((bitrate) => ({ allowed: true, bitrate })));
    expect(c.state).toBe("clear");
    expect(c.decreases).toBe(0);
  });

  it("lowers the budget on congestion, the top layer's bitrate first, then drops the top layer", () => {
    const c = new UplinkBitrateController(LAYERS);
    let r = feed(c, 0, congested, 1);
    expect(c.targetBps).toBeCloseTo(TOTAL * 0.7);
    expect(running(r.a)).toEqual([true, true, true]);
    expect(r.a[2]?.bitrate).toBeLessThan(300_000);
    expect(r.a.slice(0, 2).map((x) => x.bitrate)).toEqual([28_125, 112_500]);
    r = feed(c, r.t, congested, 1);
    // 440 k * 0.49 = 216 k: 140 k for the lower layers, 75 k left < half of 300 k.
    expect(running(r.a)).toEqual([true, true, false]);
    expect(c.state).toBe("congested");
    r = feed(c, r.t, congested, 10);
    // Never below the floor, and layer 0 always runs.
    expect(c.targetBps).toBe((LAYERS[0] ?? 0) * DEFAULT_UPLINK_POLICY.floorFraction);
    expect(running(r.a)).toEqual([true, false, false]);
  });

  it("dropped frames, a slow group close and a rising RTT count as congestion; a send-rate estimate caps the budget", () => {
    const g = new UplinkBitrateController(LAYERS);
    g.update(STEP, { queueDelayMs: 0, dropped: 0, groupCloseMs: 800 });
    expect(g.decreases).toBe(1);
    const a = new UplinkBitrateController(LAYERS);
    a.update(STEP, { queueDelayMs: 0, dropped: 2 });
    expect(a.decreases).toBe(1);
    const b = new UplinkBitrateController(LAYERS);
    b.update(STEP, { queueDelayMs: 0, dropped: 0, rttMs: 220, minRttMs: 20 });
    expect(b.decreases).toBe(1);
    b.update(2 * STEP, { queueDelayMs: 0, dropped: 0, rttMs: 40, minRttMs: 20 });
    expect(b.decreases).toBe(1);
    const e = new UplinkBitrateController(LAYERS);
    e.update(STEP, { ...congested, estimatedSendRateBps: 100_000 });
    expect(e.targetBps).toBe(90_000);
  });

  it("holds after a decrease, then probes back up gradually and restores the top layer", () => {
    const c = new UplinkBitrateController(LAYERS);
    let r = feed(c, 0, congested, 3);
    const low = c.targetBps;
    expect(running(r.a)).toEqual([true, true, false]);
    // Clear, but within the hold time: no change.
    r = feed(c, r.t, clear, DEFAULT_UPLINK_POLICY.holdMs / STEP - 1);
    expect(c.state).toBe("holding");
    expect(c.targetBps).toBe(low);
    // Then it grows by about 10% per second.
    r = feed(c, r.t, clear, 2);
    expect(c.state).toBe("probing");
    expect(c.targetBps).toBeGreaterThan(low);
    expect(c.targetBps).toBeLessThan(low * 1.15);
    // The top layer comes back only once 70% of it fits (hysteresis), not at 50%.
    let resumedAt: number | undefined;
    let halfFitAt: number | undefined;
    while (c.targetBps < TOTAL) {
      r = feed(c, r.t, clear, 1);
      if (halfFitAt === undefined && c.targetBps - 140_625 >= 150_000) halfFitAt = r.t;
      if (resumedAt === undefined && r.a[2]?.allowed === true) resumedAt = r.t;
      expect(r.t).toBeLessThan(120_000);
    }
    expect(resumedAt).toBeDefined();
    expect(halfFitAt).toBeDefined();
    expect(resumedAt ?? 0).toBeGreaterThan(halfFitAt ?? 0);
    expect(r.a).toEqual(LAYERS.map((bitrate) => ({ allowed: true, bitrate })));
  });

  it("a single layer is never dropped, only lowered", () => {
    const c = new UplinkBitrateController([300_000]);
    const { a } = feed(c, 0, congested, 20);
    expect(a).toEqual([{ allowed: true, bitrate: 75_000 }]);
  });

  it("with dynacast, only wanted layers share the budget: a lone wanted top layer is lowered, never dropped", () => {
    const c = new UplinkBitrateController(LAYERS);
    c.setWanted([false, false, true]);
    let r = feed(c, 0, congested, 1);
    // The decrease starts from what the wanted layer uses (300 k), not from the 440 k total.
    expect(c.targetBps).toBeCloseTo(300_000 * 0.7);
    expect(r.a).toEqual([
      { allowed: true, bitrate: 28_125 },
      { allowed: true, bitrate: 112_500 },
      { allowed: true, bitrate: 210_000 },
    ]);
    r = feed(c, r.t, congested, 20);
    expect(r.a[2]).toEqual({ allowed: true, bitrate: 75_000 });
    // Layers 0 and 2 wanted (two subscribers): layer 0 first, layer 2 dropped while its share is small.
    c.setWanted([true, false, true]);
    expect(running(c.allowances())).toEqual([true, true, false]);
    // Nobody watching counts as everything wanted.
    c.setWanted([false, false, false]);
    expect(running(c.allowances())).toEqual([true, false, false]);
  });

  it("a wait between clear and congested keeps the budget", () => {
    const c = new UplinkBitrateController(LAYERS);
    let r = feed(c, 0, congested, 1);
    const t = c.targetBps;
    r = feed(c, r.t + 10_000, { queueDelayMs: 120, dropped: 0 }, 5);
    expect(c.targetBps).toBe(t);
    expect(c.state).toBe("holding");
  });
});

describe("TrackSender under congestion", () => {
  it("reports how long the newest finished group of each layer takes to close", async () => {
    // Streams that take every write; closing the first ones never completes (data stuck below).
    const session = new FakeSession("media", []);
    const closes: (() => void)[] = [];
    session.createUnidirectionalStream = () =>
      Promise.resolve(new WritableStream<Uint8Array>({ close: () => new Promise<void>((r) => void closes.push(r)) }));
    const sender = new TrackSender(1, "video", 1, session, new DatagramWriter(session));
    let now = 0;
    sender.now = () => now;
    const frame = (keyframe: boolean) => ({ spatialId: 0, temporalId: 0, keyframe, discardable: false, captureTsUs: 0n, payload: Uint8Array.of(1) });
    sender.send(frame(true));
    sender.send(frame(false));
    sender.send(frame(true));
    await sender.flushed();
    await until(() => closes.length === 1);
    now = 700;
    expect(sender.takeQueueDelay()).toMatchObject({ closeMs: 700, maxMs: 0 });
    // A newer group finishes: it is the one that counts now; the first closes late, unnoticed.
    now = 2000;
    sender.send(frame(true));
    await sender.flushed();
    await until(() => closes.length === 2);
    now = 2050;
    closes[0]?.();
    expect(sender.takeQueueDelay().closeMs).toBe(50);
    now = 2080;
    closes[1]?.();
    await until(() => sender.takeQueueDelay().closeMs === 0);
    sender.close();
  });
});

describe("UplinkMonitor", () => {
  it("reads RTT and send rate from WebTransport stats, ignoring what is missing", () => {
    expect(readTransportStats({ smoothedRtt: 12.5, minRtt: 3, estimatedSendRate: 5e6 })).toEqual({ rttMs: 12.5, minRttMs: 3, estimatedSendRateBps: 5e6 });
    expect(readTransportStats({ smoothedRtt: null })).toEqual({ rttMs: undefined, minRttMs: undefined, estimatedSendRateBps: undefined });
    expect(readTransportStats(undefined)).toEqual({});
  });

  it("samples how long frames wait in the sender and applies the controller's allowances", async () => {
    // A session whose streams never take a write: frames pile up behind the first.
    const session = new FakeSession("media", []);
    session.createUnidirectionalStream = () => Promise.resolve(new WritableStream<Uint8Array>({ write: () => new Promise(() => undefined) }, { highWaterMark: 1 }));
    const sender = new TrackSender(1, "video", 3, session, new DatagramWriter(session));
    let now = 0;
    sender.now = () => now;
    const applied: LayerAllowance[][] = [];
    const monitor = new UplinkMonitor(new UplinkBitrateController(LAYERS), { sender, layers: [{ wanted: true }, { wanted: true }, { wanted: true }], setLayerAllowances: (a) => applied.push([...a]) }, () => session, STEP, () => now);
    const frame = (keyframe: boolean) => ({ spatialId: 2, temporalId: 0, keyframe, discardable: false, captureTsUs: 0n, payload: Uint8Array.of(1) });
    // Clear at first: nothing changes, nothing is applied.
    now += STEP;
    await monitor.tick();
    expect(applied).toEqual([]);
    sender.send(frame(true));
    sender.send(frame(false));
    now += 300;
    await monitor.tick();
    expect(monitor.stats.lastSample?.queueDelayMs).toBe(300);
    expect(monitor.stats.state).toBe("congested");
    expect(applied.length).toBe(1);
    expect(applied[0]?.[2]?.bitrate).toBeLessThan(300_000);
    sender.close();
  });
});
