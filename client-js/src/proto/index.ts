/**
 * The wire protocol: generated signaling messages, signaling framing, the media frame codec,
 * error codes and limits. Importable alone as `@dark-tower/client/proto`.
 */

export * from "./gen/dark_tower/signaling/v1/signaling_pb.js";
export * as media from "./media.js";
export * as signal from "./signal.js";
export * from "./error.js";
export * from "./limits.js";
export { toHex, fromHex } from "./bytes.js";
