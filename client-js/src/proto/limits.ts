/**
 * Size limits of the wire formats (mirrors `dark_tower_core::limits`). They are part of the
 * protocol: the server sends the ones that matter to clients in `Joined.limits`.
 */

/** Largest signaling message, without its 4-byte length prefix. */
export const MAX_SIGNAL_MESSAGE = 256 * 1024;

/** Largest media frame (header + payload) on a stream, without its 4-byte length prefix. */
export const MAX_MEDIA_FRAME = 2 * 1024 * 1024;

/** Largest media frame (header + payload) in one datagram. */
export const MAX_DATAGRAM_FRAME = 1100;

/** Most tracks one participant may publish. */
export const MAX_TRACKS_PER_PARTICIPANT = 16;

/** Most simulcast layers per video track (spatial ids 0..2). */
export const MAX_SIMULCAST_LAYERS = 3;

/** Most temporal layers per spatial layer (temporal ids 0..3). */
export const MAX_TEMPORAL_LAYERS = 4;

/** Largest payload of a reliable data message. */
export const MAX_RELIABLE_DATA = 64 * 1024;

/** Largest payload of a best-effort data message (one datagram). */
export const MAX_UNRELIABLE_DATA = 1024;

/** Longest data message topic. */
export const MAX_DATA_TOPIC = 256;

/** The signaling protocol version this client speaks (`PROTOCOL_VERSION` in Rust). */
export const PROTOCOL_VERSION = 1;

/** Longest display name set with `SetMetadata` (`dark_tower_signaling::meeting::metadata::MAX_NAME`). */
export const MAX_PARTICIPANT_NAME = 256;

/** Longest participant metadata (`dark_tower_signaling::meeting::metadata::MAX_METADATA`). */
export const MAX_PARTICIPANT_METADATA = 16 * 1024;
