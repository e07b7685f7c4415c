/**
 * Which video codec a publisher uses (pure, with the browser's support check injected): VP8
 * unless the application prefers another that this browser can encode at the track's size.
 */

/** The video codecs the client can publish. */
export type VideoCodecName = "vp8" | "vp9" | "av1" | "h264";

/** The WebCodecs codec string each codec is published with (the track's `codec` in signaling). */
export const VIDEO_CODEC_STRINGS: Readonly<Record<VideoCodecName, string>> = {
  vp8: "vp8",
  // Profile 0, level 1.0, 8 bits.
  vp9: "vp09.00.10.08",
  // Main profile, level 3.0, main tier, 8 bits.
  av1: "av01.0.04M.08",
  // Constrained baseline, level 3.1 (up to 1280x720), Annex B.
  h264: "avc1.42E01F",
};

/** The codec everyone can decode. */
export const FALLBACK_VIDEO_CODEC = VIDEO_CODEC_STRINGS.vp8;

/** The encoder configuration a codec string is checked with. */
export function encoderConfig(codec: string, width: number, height: number, bitrate: number, framerate: number): VideoEncoderConfig {
  const config: VideoEncoderConfig = { codec, width, height, bitrate, framerate, latencyMode: "realtime" };
  if (codec.startsWith("avc1")) config.avc = { format: "annexb" };
  return config;
}

/** Says whether this browser can encode with `config` (`VideoEncoder.isConfigSupported`). */
export type EncoderSupport = (config: VideoEncoderConfig) => Promise<boolean>;

/** The browser's own check; false where WebCodecs is missing or the check throws. */
export const browserEncoderSupport: EncoderSupport = async (config) => {
  if (typeof VideoEncoder === "undefined") return false;
  try {
    return (await VideoEncoder.isConfigSupported(config)).supported === true;
  } catch {
    return false;
  }
};

/** The codec chosen for a track, and why. */
export interface CodecChoice {
  /** WebCodecs codec string to publish with. */
  codec: string;
  /** The preferred codec could not be used (this browser cannot encode it): VP8 instead. */
  fellBack: boolean;
}

/**
 * The codec string to publish a `width` x `height` track with: `explicit` (a codec string the
 * application gave in `videoEncoding.codec`) or the `preferred` codec's string, if `supported`
 * says this browser can encode it; otherwise VP8. VP8 itself is not checked.
 */
export async function chooseVideoCodec(
  preferred: VideoCodecName | undefined,
  explicit: string | undefined,
  size: { width: number; height: number; bitrate: number; framerate: number },
  supported: EncoderSupport,
): Promise<CodecChoice> {
  const wanted = preferred !== undefined ? VIDEO_CODEC_STRINGS[preferred] : (explicit ?? FALLBACK_VIDEO_CODEC);
  if (wanted === FALLBACK_VIDEO_CODEC) return { codec: wanted, fellBack: false };
  const ok = await supported(encoderConfig(wanted, size.width, size.height, size.bitrate, size.framerate));
  return ok ? { codec: wanted, fellBack: false } : { codec: FALLBACK_VIDEO_CODEC, fellBack: true };
}

/** The short name of a published codec string, if it is one of ours. */
export function codecName(codec: string): VideoCodecName | undefined {
  for (const [name, str] of Object.entries(VIDEO_CODEC_STRINGS) as [VideoCodecName, string][]) {
    if (codec === str || codec === name) return name;
  }
  return undefined;
}

/** Says whether this browser can decode a codec string (`VideoDecoder.isConfigSupported`). */
export type DecoderSupport = (codec: string) => Promise<boolean>;

/** The browser's own check; false where WebCodecs is missing or the check throws. */
export const browserDecoderSupport: DecoderSupport = async (codec) => {
  if (typeof VideoDecoder === "undefined") return false;
  try {
    return (await VideoDecoder.isConfigSupported({ codec })).supported === true;
  } catch {
    return false;
  }
};

/** The codecs (short names) this browser can decode, announced in `Join` (`video_decoders`). */
export async function decodableCodecs(supported: DecoderSupport): Promise<VideoCodecName[]> {
  const out: VideoCodecName[] = [];
  for (const [name, str] of Object.entries(VIDEO_CODEC_STRINGS) as [VideoCodecName, string][]) {
    if (await supported(str)) out.push(name);
  }
  return out;
}

/**
 * Whether every one of `receivers` (each a participant's announced decoders; empty means
 * unknown, taken as VP8 only) can decode `codec`. VP8 is assumed everywhere.
 */
export function everyoneDecodes(codec: string, receivers: readonly (readonly string[])[]): boolean {
  const name = codecName(codec);
  if (name === "vp8") return true;
  if (name === undefined) return false;
  return receivers.every((r) => r.includes(name));
}
