/**
 * Uplink bitrate adaptation (pure; time is an argument): how many bits per second a published
 * video track may use, from what the uplink shows — how long frames wait to be written (stream
 * backpressure), frames the sender had to drop, the round-trip time rising above its minimum,
 * and the browser's send-rate estimate when it has one — and how that budget is split across
 * the simulcast layers. The policy is in README.md, "Uplink adaptation"; {@link UplinkMonitor} feeds it.
 *
 * Call order: {@link UplinkBitrateController.update} with each sample (every
 * {@link DEFAULT_UPLINK_POLICY}.intervalMs), then apply {@link UplinkBitrateController.allowances}.
 */

import type { LayerAllowance } from "./codec/video_encode.js";

/** What one sampling interval showed. */
export interface UplinkSample {
  /** The longest a frame of the track waited before the transport took it, ms (0 if none was sent). */
  queueDelayMs: number;
  /**
   * The longest a finished group's stream took to close (or has been closing), ms: data
   * queued in the connection below the streams.
   */
  groupCloseMs?: number | undefined;
  /** Frames the sender dropped in the interval because too many were waiting. */
  dropped: number;
  /** The connection's smoothed round-trip time, ms (WebTransport `getStats().smoothedRtt`). */
  rttMs?: number | undefined;
  /** The lowest round-trip time seen on the connection, ms (`getStats().minRtt`). */
  minRttMs?: number | undefined;
  /** The browser's estimate of what the connection can send, bits/s (`getStats().estimatedSendRate`). */
  estimatedSendRateBps?: number | undefined;
}

/** How long data waited in the sender or below it. */
function waited(s: UplinkSample): number {
  return Math.max(s.queueDelayMs, s.groupCloseMs ?? 0);
}

/** The tunables of the policy. */
export interface UplinkPolicy {
  /** Sampling interval, ms. */
  intervalMs: number;
  /** A frame (or a finished group's stream) waiting this long means congestion, ms. */
  congestedQueueMs: number;
  /** Below this wait (and no other sign) the uplink is clear, ms. */
  clearQueueMs: number;
  /** The RTT this far above its minimum means congestion, ms. */
  rttRiseMs: number;
  /** On congestion the budget is multiplied by this (at most once per interval). */
  decreaseFactor: number;
  /** With a send-rate estimate, a congested budget is at most this share of it. */
  estimateShare: number;
  /** After a decrease, the uplink must stay clear this long before probing up, ms. */
  holdMs: number;
  /** While probing, the budget grows by this fraction per second... */
  increasePerSecond: number;
  /** ...and at least this many bits/s per second. */
  minIncreaseBpsPerSecond: number;
  /** The lowest budget, as a fraction of layer 0's maximum. */
  floorFraction: number;
  /** A layer above 0 stops when its share of the budget falls below this fraction of its maximum... */
  dropFraction: number;
  /** ...and starts again only at this fraction (hysteresis: each start costs a keyframe). */
  resumeFraction: number;
}

/** The defaults (README.md, "Uplink adaptation"). */
export const DEFAULT_UPLINK_POLICY: UplinkPolicy = {
  intervalMs: 500,
  congestedQueueMs: 200,
  clearQueueMs: 60,
  rttRiseMs: 150,
  decreaseFactor: 0.7,
  estimateShare: 0.9,
  holdMs: 2000,
  increasePerSecond: 0.1,
  minIncreaseBpsPerSecond: 20_000,
  floorFraction: 0.25,
  dropFraction: 0.5,
  resumeFraction: 0.7,
};

/** What the uplink looks like now. */
export type UplinkState = "clear" | "congested" | "holding" | "probing";

/** Decides the bitrate budget of one video track and splits it across its layers. */
export class UplinkBitrateController {
  private readonly policy: UplinkPolicy;
  private readonly maxTotal: number;
  private target: number;
  /** Which layers some subscriber wants (dynacast); the budget goes to those only. */
  private wanted: readonly boolean[];
  private lastDecreaseMs = Number.NEGATIVE_INFINITY;
  private lastUpdateMs: number | undefined;
  private readonly running: boolean[];
  private current: UplinkState = "clear";
  /** Congestion episodes (decreases) since creation. */
  decreases = 0;

  constructor(
    /** Each layer's bitrate when the uplink is clear, smallest layer first. */
    private readonly layerMax: readonly number[],
    policy: Partial<UplinkPolicy> = {},
  ) {
    this.policy = { ...DEFAULT_UPLINK_POLICY, ...policy };
    this.maxTotal = layerMax.reduce((a, b) => a + b, 0);
    this.target = this.maxTotal;
    this.running = layerMax.map(() => true);
    this.wanted = layerMax.map(() => true);
  }

  /**
   * Dynacast: the layers some subscriber wants (the others are not encoded, whatever the
   * budget). The budget is shared by the wanted layers, and the lowest of them always runs.
   * Nobody watching counts as every layer wanted.
   */
  setWanted(wanted: readonly boolean[]): void {
    this.wanted = wanted.some((w) => w) ? this.layerMax.map((_, i) => wanted[i] === true) : this.layerMax.map(() => true);
  }

  /** The lowest budget: a share of the lowest wanted layer's bitrate. */
  private get floor(): number {
    const lowest = this.layerMax.find((_, i) => this.wanted[i] === true) ?? this.layerMax[0] ?? 0;
    return lowest * this.policy.floorFraction;
  }

  /** What the wanted layers use when the uplink is clear. */
  private get wantedTotal(): number {
    return this.layerMax.reduce((sum, max, i) => sum + (this.wanted[i] === true ? max : 0), 0);
  }

  /** Each layer's bitrate when the uplink is clear, smallest first. */
  get layerMaxBitrates(): readonly number[] {
    return this.layerMax;
  }

  /** The budget now, bits/s. */
  get targetBps(): number {
    return this.target;
  }

  /** What the last sample said. */
  get state(): UplinkState {
    return this.current;
  }

  /** Whether `s` shows congestion. */
  private congested(s: UplinkSample): boolean {
    const p = this.policy;
    if (s.dropped > 0 || waited(s) >= p.congestedQueueMs) return true;
    return s.rttMs !== undefined && s.minRttMs !== undefined && s.rttMs - s.minRttMs >= p.rttRiseMs;
  }

  private clear(s: UplinkSample): boolean {
    const p = this.policy;
    const rttOk = s.rttMs === undefined || s.minRttMs === undefined || s.rttMs - s.minRttMs < p.rttRiseMs / 2;
    return s.dropped === 0 && waited(s) < p.clearQueueMs && rttOk;
  }

  /** Takes the sample of the interval ending at `nowMs`; returns the layer allowances. */
  update(nowMs: number, s: UplinkSample): LayerAllowance[] {
    const p = this.policy;
    const dt = this.lastUpdateMs === undefined ? 0 : Math.max(0, nowMs - this.lastUpdateMs);
    this.lastUpdateMs = nowMs;
    if (this.congested(s)) {
      this.current = "congested";
      // Once per interval: the last decrease needs time to show.
      if (nowMs - this.lastDecreaseMs >= p.intervalMs * 0.9) {
        // From what the wanted layers use: a budget above it was never really sent.
        let next = Math.min(this.target, this.wantedTotal) * p.decreaseFactor;
        if (s.estimatedSendRateBps !== undefined && s.estimatedSendRateBps > 0) next = Math.min(next, s.estimatedSendRateBps * p.estimateShare);
        this.target = Math.max(this.floor, next);
        this.lastDecreaseMs = nowMs;
        this.decreases++;
      }
    } else if (this.clear(s)) {
      if (nowMs - this.lastDecreaseMs < p.holdMs) {
        this.current = "holding";
      } else if (this.target < this.maxTotal) {
        this.current = "probing";
        const grow = Math.max(this.target * p.increasePerSecond, p.minIncreaseBpsPerSecond) * (dt / 1000);
        this.target = Math.min(this.maxTotal, this.target + grow);
      } else {
        this.current = "clear";
      }
    } else {
      // Neither: keep the budget.
      this.current = "holding";
    }
    return this.allowances();
  }

  /**
   * The budget split across the wanted layers, smallest first: each gets up to its maximum
   * while the budget lasts; a layer above the lowest wanted one whose share would fall below
   * `dropFraction` of its maximum stops (and every layer above it), and starts again only at
   * `resumeFraction`. The lowest wanted layer always runs, at least at the floor. Layers nobody
   * wants are left allowed at their maximum (they are not encoded anyway).
   */
  allowances(): LayerAllowance[] {
    const p = this.policy;
    let left = this.target;
    let stopped = false;
    let first = true;
    return this.layerMax.map((max, i) => {
      if (this.wanted[i] !== true) return { allowed: true, bitrate: max };
      if (first) {
        first = false;
        const bitrate = Math.max(this.floor, Math.min(max, left));
        left -= bitrate;
        return { allowed: true, bitrate: Math.round(bitrate) };
      }
      const need = max * (this.running[i] === true ? p.dropFraction : p.resumeFraction);
      if (stopped || left < need) {
        stopped = true;
        this.running[i] = false;
        return { allowed: false, bitrate: max };
      }
      this.running[i] = true;
      const bitrate = Math.min(max, left);
      left -= bitrate;
      return { allowed: true, bitrate: Math.round(bitrate) };
    });
  }
}
