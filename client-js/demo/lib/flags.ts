/**
 * URL flags of the demo (the browser tests use them):
 * - `server`: the Dark Tower server (default: this page's origin, which serves the demo).
 * - `token`: join with this token instead of asking `POST /demo/token` for one.
 * - `name`, `meeting`: prefill the lobby form.
 * - `autojoin=1`: join at once (with `token`, or `name` and `meeting`), skipping the lobby.
 * - `camera=0|1`, `mic=0|1`: publish the camera / microphone on joining (lobby default: on;
 *   with autojoin: off unless set).
 * - `adaptive=1`: adaptive stream.
 * - `e2ee=PASSPHRASE`: end-to-end encryption with that passphrase (key index 0).
 * - `relayPort=N`: every WebTransport session goes to port N of the same host (a UDP relay
 *   the browser tests cut to simulate an outage).
 * - `fakeScreen=1`: "Share screen" publishes an animated canvas instead of asking the browser
 *   for a screen (headless Chromium cannot capture one); same `setScreenShareEnabled` path.
 * - `codec=vp8|vp9|av1|h264`: the video codec to publish with (`RoomOptions.videoCodec`; VP8
 *   if this browser cannot encode it).
 * - `simulcast=0`: publish the camera as one layer (default: simulcast).
 */

import type { VideoCodecName } from "../../src/index.js";

export interface DemoFlags {
  server: string;
  token: string | undefined;
  name: string;
  meeting: string;
  autojoin: boolean;
  camera: boolean | undefined;
  mic: boolean | undefined;
  adaptive: boolean;
  e2ee: string | undefined;
  relayPort: string | undefined;
  fakeScreen: boolean;
  codec: VideoCodecName | undefined;
  simulcast: boolean;
}

const CODECS: readonly VideoCodecName[] = ["vp8", "vp9", "av1", "h264"];

function codecFlag(v: string | null): VideoCodecName | undefined {
  return CODECS.find((c) => c === v);
}

function flag(params: URLSearchParams, name: string): boolean | undefined {
  const v = params.get(name);
  if (v === null) return undefined;
  return v === "1" || v === "true";
}

/** The flags of `search` (a `location.search`). */
export function parseFlags(search: string, origin: string): DemoFlags {
  const p = new URLSearchParams(search);
  return {
    server: p.get("server") ?? origin,
    token: p.get("token") ?? undefined,
    name: p.get("name") ?? "",
    meeting: p.get("meeting") ?? "",
    autojoin: flag(p, "autojoin") ?? false,
    camera: flag(p, "camera"),
    mic: flag(p, "mic"),
    adaptive: flag(p, "adaptive") ?? false,
    e2ee: p.get("e2ee") ?? undefined,
    relayPort: p.get("relayPort") ?? undefined,
    fakeScreen: flag(p, "fakeScreen") ?? false,
    codec: codecFlag(p.get("codec")),
    simulcast: flag(p, "simulcast") ?? true,
  };
}
