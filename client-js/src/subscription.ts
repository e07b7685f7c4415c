/**
 * How a subscribed track is received (`UpdateSubscription`, docs/SIGNALING.md): which simulcast
 * layer at most, the size it is rendered at, paused or not. What the application asks for
 * (`setVideoQuality`, `setVideoDimensions`, `setEnabled`) and what adaptive stream measures
 * (element size and visibility) combine into one message.
 */

import { create } from "@bufbuild/protobuf";

import { UpdateSubscriptionSchema, type UpdateSubscription } from "./proto/gen/dark_tower/signaling/v1/signaling_pb.js";

/** The quality to receive a simulcast video track at (LiveKit's `VideoQuality`). */
export const VideoQuality = {
  Low: "low",
  Medium: "medium",
  High: "high",
} as const;
/** `"low"`: the lowest layer; `"medium"`: the second; `"high"`: the highest published. */
export type VideoQuality = (typeof VideoQuality)[keyof typeof VideoQuality];

/** A size in pixels. */
export interface VideoDimensions {
  width: number;
  height: number;
}

/** What the application asked for a subscription. */
export interface SubscriptionSettings {
  /** The quality asked for with `setVideoQuality` (default: the highest). */
  quality: VideoQuality | undefined;
  /** The render size given with `setVideoDimensions` (default: no limit). */
  dimensions: VideoDimensions | undefined;
  /** False after `setEnabled(false)`: paused. */
  enabled: boolean;
}

/** What adaptive stream measured: the size the track is shown at, or not shown at all. */
export interface AdaptiveState {
  /** Some attached element is visible. */
  visible: boolean;
  /** The largest visible element's size in device pixels (0 x 0 when none is visible). */
  width: number;
  height: number;
}

/** Defaults: highest quality, any size, enabled. */
export function defaultSubscriptionSettings(): SubscriptionSettings {
  return { quality: undefined, dimensions: undefined, enabled: true };
}

/**
 * The highest spatial layer for `quality` on a track with `layerCount` layers (0 or 1 means a
 * single layer): low is layer 0, medium layer 1, high no limit (the highest published).
 */
export function maxSpatialIdFor(quality: VideoQuality | undefined, layerCount: number): number | undefined {
  const top = Math.max(0, layerCount - 1);
  switch (quality) {
    case VideoQuality.Low:
      return 0;
    case VideoQuality.Medium:
      return Math.min(1, top);
    default:
      return undefined;
  }
}

function positive(n: number): number {
  return Math.max(1, Math.round(n));
}

/**
 * The `UpdateSubscription` for `trackId`: the layer limit from the quality, the smaller of the
 * asked and the measured render size, paused if disabled or not visible anywhere.
 */
export function subscriptionUpdate(
  trackId: string,
  settings: SubscriptionSettings,
  layerCount: number,
  adaptive: AdaptiveState | undefined,
): UpdateSubscription {
  let size: VideoDimensions | undefined = settings.dimensions;
  if (adaptive !== undefined && adaptive.visible) {
    size =
      size === undefined
        ? { width: adaptive.width, height: adaptive.height }
        : { width: Math.min(size.width, adaptive.width), height: Math.min(size.height, adaptive.height) };
  }
  const paused = !settings.enabled || (adaptive !== undefined && !adaptive.visible);
  const msg = create(UpdateSubscriptionSchema, { trackId, paused });
  const maxSpatialId = maxSpatialIdFor(settings.quality, layerCount);
  if (maxSpatialId !== undefined) msg.maxSpatialId = maxSpatialId;
  if (size !== undefined && !paused) {
    msg.maxWidth = positive(size.width);
    msg.maxHeight = positive(size.height);
  }
  return msg;
}

/** Whether two updates ask for the same thing. */
export function sameUpdate(a: UpdateSubscription | undefined, b: UpdateSubscription): boolean {
  return (
    a !== undefined &&
    a.trackId === b.trackId &&
    a.paused === b.paused &&
    a.maxSpatialId === b.maxSpatialId &&
    a.maxWidth === b.maxWidth &&
    a.maxHeight === b.maxHeight
  );
}

/** Whether `u` asks for anything beyond the defaults of a fresh subscription. */
export function isDefaultUpdate(u: UpdateSubscription): boolean {
  return !u.paused && u.maxSpatialId === undefined && u.maxWidth === undefined && u.maxHeight === undefined;
}
