/**
 * Simulcast planning (pure): which spatial layers a video track is published with, their sizes
 * and bitrates. Each layer is encoded by its own `VideoEncoder` from the same capture; layer 0
 * is the smallest (MEDIA.md section 5).
 */

import { MAX_SIMULCAST_LAYERS } from "../proto/limits.js";

/** One simulcast layer as asked for: how much smaller than the capture, and its bitrate. */
export interface SimulcastLayerOptions {
  /** Width and height are the capture's divided by this (1 = full size). */
  scaleDownBy: number;
  /** Target bitrate of this layer, bits per second (default: scaled from the track's). */
  maxBitrate?: number;
}

/**
 * Simulcast of a video track: `true` for the default layers (a quarter, a half and the full
 * size), `false` for one layer, or the layers themselves (at most 3, any order).
 */
export type SimulcastOption = boolean | readonly SimulcastLayerOptions[];

/** Quarter, half and full size. */
export const DEFAULT_SIMULCAST_LAYERS: readonly SimulcastLayerOptions[] = [{ scaleDownBy: 4 }, { scaleDownBy: 2 }, { scaleDownBy: 1 }];

/** A layer smaller than this (its shorter side, in pixels) is not published. */
export const MIN_LAYER_SIDE = 48;

/** A layer as published: its spatial id, size for a given capture size, and bitrate. */
export interface LayerPlan {
  spatialId: number;
  scaleDownBy: number;
  width: number;
  height: number;
  /** Target bitrate, bits per second. */
  maxBitrate: number;
}

/** The default bitrate of a layer `scaleDownBy` times smaller than a track of `topBitrate`. */
export function defaultLayerBitrate(topBitrate: number, scaleDownBy: number): number {
  if (scaleDownBy <= 1) return topBitrate;
  // Fewer pixels need fewer bits per pixel less than proportionally: 1.5x the pixel share.
  return Math.round(Math.min(topBitrate, (topBitrate / (scaleDownBy * scaleDownBy)) * 1.5));
}

/** `n` scaled down by `by`, rounded to an even number of at least 2 (H.264 needs even sizes). */
export function scaledSize(n: number, by: number): number {
  return Math.max(2, Math.round(n / by / 2) * 2);
}

/**
 * The layers to publish for a `width` x `height` capture whose full-size layer has
 * `topBitrate`: smallest first, numbered from 0, without layers whose shorter side would be
 * under {@link MIN_LAYER_SIDE} (the largest layer is always kept), and without duplicates.
 */
export function planLayers(width: number, height: number, topBitrate: number, simulcast: SimulcastOption): LayerPlan[] {
  const asked = simulcast === true ? DEFAULT_SIMULCAST_LAYERS : simulcast === false ? [{ scaleDownBy: 1 }] : simulcast;
  const sorted = [...asked]
    .filter((l) => Number.isFinite(l.scaleDownBy) && l.scaleDownBy >= 1)
    .sort((a, b) => b.scaleDownBy - a.scaleDownBy)
    .filter((l, i, all) => all.findIndex((o) => o.scaleDownBy === l.scaleDownBy) === i);
  if (sorted.length === 0) sorted.push({ scaleDownBy: 1 });
  const largest = sorted[sorted.length - 1] as SimulcastLayerOptions;
  const kept = sorted.filter((l) => l === largest || Math.min(width, height) / l.scaleDownBy >= MIN_LAYER_SIDE).slice(-MAX_SIMULCAST_LAYERS);
  return kept.map((l, spatialId) => ({
    spatialId,
    scaleDownBy: l.scaleDownBy,
    width: scaledSize(width, l.scaleDownBy),
    height: scaledSize(height, l.scaleDownBy),
    maxBitrate: l.maxBitrate ?? defaultLayerBitrate(topBitrate, l.scaleDownBy),
  }));
}
