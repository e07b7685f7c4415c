/**
 * The driver of {@link UplinkBitrateController}: every interval it samples a published video
 * track's sender (how long frames waited, frames dropped) and the media session's WebTransport
 * statistics (RTT, the send-rate estimate, where the browser gives them), and applies the
 * controller's layer allowances to the track's encoders when they change.
 */

import type { LayerAllowance } from "./codec/video_encode.js";
import type { TrackSender } from "./local_track.js";
import type { Session } from "./transport.js";
import { DEFAULT_UPLINK_POLICY, UplinkBitrateController, type UplinkSample, type UplinkState } from "./uplink.js";

/** What the monitor adapts: the track's sender and its encoders. */
export interface UplinkTarget {
  readonly sender: TrackSender;
  /** Its simulcast layers: which ones some subscriber wants (dynacast). */
  readonly layers: readonly { wanted: boolean }[];
  setLayerAllowances(allowances: readonly LayerAllowance[]): void;
}

/** The controller's view, for applications and tests. */
export interface UplinkStats {
  state: UplinkState;
  /** The track's bitrate budget now, bits/s. */
  targetBps: number;
  /** Congestion episodes so far. */
  decreases: number;
  /** The last sample taken. */
  lastSample: UplinkSample | undefined;
}

function num(o: object, key: string): number | undefined {
  const v = (o as Record<string, unknown>)[key];
  return typeof v === "number" && Number.isFinite(v) ? v : undefined;
}

/** RTT and send-rate fields of a WebTransport `getStats()` result (any of them may be missing). */
export function readTransportStats(stats: unknown): Pick<UplinkSample, "rttMs" | "minRttMs" | "estimatedSendRateBps"> {
  if (stats === null || typeof stats !== "object") return {};
  return { rttMs: num(stats, "smoothedRtt"), minRttMs: num(stats, "minRtt"), estimatedSendRateBps: num(stats, "estimatedSendRate") };
}

/** Samples one track's uplink on a timer and adapts its encoders. */
export class UplinkMonitor {
  private timer: ReturnType<typeof setInterval> | undefined;
  private lastDropped = 0;
  private last: LayerAllowance[] | undefined;
  private lastSample: UplinkSample | undefined;
  private busy = false;

  constructor(
    private readonly controller: UplinkBitrateController,
    private readonly target: UplinkTarget,
    /** The media session now (it changes after a resume). */
    private readonly session: () => Session | undefined,
    private readonly intervalMs = DEFAULT_UPLINK_POLICY.intervalMs,
    private readonly now: () => number = () => performance.now(),
  ) {
    // The encoders start at every layer's maximum, as the controller does.
    this.last = controller.allowances();
  }

  /** The controller's state. */
  get stats(): UplinkStats {
    return { state: this.controller.state, targetBps: this.controller.targetBps, decreases: this.controller.decreases, lastSample: this.lastSample };
  }

  /** Starts sampling. */
  start(): void {
    this.lastDropped = this.target.sender.stats.framesDropped;
    this.timer ??= setInterval(() => void this.tick(), this.intervalMs);
  }

  /** Stops sampling. */
  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Takes one sample and applies the result (the timer calls it; tests may too). */
  async tick(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      const sender = this.target.sender;
      const dropped = sender.stats.framesDropped - this.lastDropped;
      this.lastDropped = sender.stats.framesDropped;
      const delay = sender.takeQueueDelay();
      // Reconnecting: frames are dropped for want of a session, not of bandwidth.
      if (sender.isDetached) return;
      let transport: ReturnType<typeof readTransportStats> = {};
      const session = this.session();
      if (session?.getStats !== undefined) {
        try {
          transport = readTransportStats(await session.getStats());
        } catch {
          // No statistics from this session.
        }
      }
      const sample: UplinkSample = { queueDelayMs: delay.maxMs, dropped, groupCloseMs: delay.closeMs, ...transport };
      this.lastSample = sample;
      this.controller.setWanted(this.target.layers.map((l) => l.wanted));
      const allowances = this.controller.update(this.now(), sample);
      if (!sameAllowances(this.last, allowances, this.controller.layerMaxBitrates)) {
        this.last = allowances;
        this.target.setLayerAllowances(allowances);
      }
    } finally {
      this.busy = false;
    }
  }
}

/**
 * Same layers running, bitrates within 5% (each change reconfigures the encoders), except that
 * reaching a layer's full bitrate always counts.
 */
function sameAllowances(a: readonly LayerAllowance[] | undefined, b: readonly LayerAllowance[], max: readonly number[]): boolean {
  return (
    a !== undefined &&
    a.length === b.length &&
    a.every((x, i) => {
      const y = b[i];
      if (y === undefined || x.allowed !== y.allowed) return false;
      if (x.bitrate === y.bitrate) return true;
      return y.bitrate !== max[i] && Math.abs(x.bitrate - y.bitrate) <= x.bitrate * 0.05;
    })
  );
}
