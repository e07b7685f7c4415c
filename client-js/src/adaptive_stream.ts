/**
 * Adaptive stream (LiveKit's `adaptiveStream`): the size and visibility of the elements a remote
 * video track is attached to decide how it is received. This file is the logic, without the
 * DOM: observations in, a debounced {@link AdaptiveState} out. `adaptive_stream_dom.ts` feeds it
 * from `ResizeObserver`, `IntersectionObserver` and `document.hidden`.
 */

import type { AdaptiveState } from "./subscription.js";

/** Options of `RoomOptions.adaptiveStream` when given as an object. */
export interface AdaptiveStreamSettings {
  /**
   * Device pixels per CSS pixel to ask for: a number, or `"screen"` for `devicePixelRatio`
   * (default `"screen"`).
   */
  pixelDensity?: number | "screen";
  /** Pause video while the page is hidden (default true). */
  pauseVideoInBackground?: boolean;
  /** How long observations settle before a change is sent, in ms (default 100). */
  debounceMs?: number;
}

/** {@link AdaptiveStreamSettings} with the defaults filled in. */
export interface ResolvedAdaptiveStream {
  /** Device pixels per CSS pixel, read when the state is computed. */
  pixelDensity: () => number;
  pauseVideoInBackground: boolean;
  debounceMs: number;
}

/** Fills in the defaults; undefined when adaptive stream is off. */
export function resolveAdaptiveStream(
  option: boolean | AdaptiveStreamSettings | undefined,
  screenDensity: () => number,
): ResolvedAdaptiveStream | undefined {
  if (option === undefined || option === false) return undefined;
  const o = option === true ? {} : option;
  const density = o.pixelDensity ?? "screen";
  return {
    pixelDensity: density === "screen" ? screenDensity : () => density,
    pauseVideoInBackground: o.pauseVideoInBackground ?? true,
    debounceMs: o.debounceMs ?? ADAPTIVE_DEBOUNCE_MS,
  };
}

/** One attached element as last observed, in CSS pixels. */
export interface ElementObservation {
  width: number;
  height: number;
  /** In the viewport (IntersectionObserver). */
  inViewport: boolean;
}

/** Timers, injectable for tests. */
export interface Timers {
  setTimeout(f: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

const realTimers: Timers = {
  setTimeout: (f, ms) => setTimeout(f, ms),
  clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
};

/** The default debounce, ms. */
export const ADAPTIVE_DEBOUNCE_MS = 100;

/** Combines element observations into the state to receive a track in, debounced. */
export class AdaptiveStreamController {
  private readonly elements = new Map<object, ElementObservation>();
  private documentHidden = false;
  private pending: unknown;
  private last: AdaptiveState | undefined;
  private disposed = false;

  constructor(
    private readonly onChange: (state: AdaptiveState) => void,
    private readonly pixelDensity: () => number,
    private readonly options: { debounceMs: number; pauseInBackground: boolean } = { debounceMs: ADAPTIVE_DEBOUNCE_MS, pauseInBackground: true },
    private readonly timers: Timers = realTimers,
  ) {}

  /** The state now (not debounced). */
  get state(): AdaptiveState {
    const hidden = this.documentHidden && this.options.pauseInBackground;
    let width = 0;
    let height = 0;
    let visible = false;
    if (!hidden) {
      for (const e of this.elements.values()) {
        if (!e.inViewport || e.width <= 0 || e.height <= 0) continue;
        visible = true;
        width = Math.max(width, e.width);
        height = Math.max(height, e.height);
      }
    }
    const d = this.pixelDensity();
    return visible ? { visible, width: Math.round(width * d), height: Math.round(height * d) } : { visible: false, width: 0, height: 0 };
  }

  /** The last state reported, if any. */
  get reported(): AdaptiveState | undefined {
    return this.last;
  }

  /** An element was attached, resized, scrolled in or out; `undefined` when detached. */
  observe(element: object, observation: ElementObservation | undefined): void {
    if (observation === undefined) this.elements.delete(element);
    else this.elements.set(element, observation);
    this.schedule();
  }

  /** The page was hidden or shown. */
  setDocumentHidden(hidden: boolean): void {
    this.documentHidden = hidden;
    this.schedule();
  }

  /** Reports after the debounce (also when nothing was observed: not visible anywhere). */
  schedule(): void {
    if (this.disposed) return;
    if (this.pending !== undefined) this.timers.clearTimeout(this.pending);
    this.pending = this.timers.setTimeout(() => this.flush(), this.options.debounceMs);
  }

  /** Reports the state now if it changed since the last report. */
  flush(): void {
    if (this.pending !== undefined) this.timers.clearTimeout(this.pending);
    this.pending = undefined;
    if (this.disposed) return;
    const s = this.state;
    const l = this.last;
    if (l !== undefined && l.visible === s.visible && l.width === s.width && l.height === s.height) return;
    this.last = s;
    this.onChange(s);
  }

  /** Stops reporting. */
  dispose(): void {
    this.disposed = true;
    if (this.pending !== undefined) this.timers.clearTimeout(this.pending);
    this.pending = undefined;
    this.elements.clear();
  }
}
