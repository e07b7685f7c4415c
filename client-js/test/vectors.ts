/** Loads the golden vectors shared with the Rust tests (../proto/vectors, proto/README.md §8). */

import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const DIR = fileURLToPath(new URL("../../proto/vectors/", import.meta.url));

/** Parses `../proto/vectors/<name>`; the caller states the shape (checked by the tests' use). */
export function loadVectors<T>(name: string): T[] {
  const parsed: unknown = JSON.parse(readFileSync(DIR + name, "utf8"));
  if (!Array.isArray(parsed) || parsed.length === 0) throw new Error(`${name}: expected a non-empty array`);
  return parsed as T[];
}

/** A valid media frame case. */
export interface FrameCase {
  name: string;
  hex: string;
  header: {
    track_alias: number;
    spatial_id: number;
    temporal_id: number;
    group_seq: string;
    frame_seq: number;
    capture_ts_us: string;
    keyframe: boolean;
    discardable: boolean;
    end_of_group: boolean;
    audio_level: number | null;
  };
  payload_hex: string;
}

/** A frame that must not decode. */
export interface InvalidFrameCase {
  name: string;
  hex: string;
  error: string;
  code: string;
}

/** A whole unidirectional media stream. */
export interface StreamCase {
  name: string;
  hex: string;
  frames: string[];
  error: string | null;
  code: string | null;
}

/** A valid signaling message. */
export interface SignalCase {
  name: string;
  direction: "client" | "server";
  hex: string;
  framed_hex: string;
  json: unknown;
}

/** A signaling message that must not decode. */
export interface InvalidSignalCase {
  name: string;
  direction: "client" | "server";
  framed_hex: string;
  error: string;
  code: string;
}
