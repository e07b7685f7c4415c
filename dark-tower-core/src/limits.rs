//! Size limits of the wire formats. They are part of the protocol (sent to clients in `Joined`).

/// Largest signaling message, without its 4-byte length prefix.
pub const MAX_SIGNAL_MESSAGE: usize = 256 * 1024;

/// Largest media frame (header + payload) on a stream, without its 4-byte length prefix.
pub const MAX_MEDIA_FRAME: usize = 2 * 1024 * 1024;

/// Largest media frame (header + payload) in one datagram. Browsers cap datagrams near 1200 bytes;
/// larger audio frames fall back to a stream.
pub const MAX_DATAGRAM_FRAME: usize = 1100;

/// Most tracks one participant may publish.
pub const MAX_TRACKS_PER_PARTICIPANT: usize = 16;

/// Most simulcast layers per video track.
pub const MAX_SIMULCAST_LAYERS: usize = 3;

/// Most temporal layers per spatial layer.
pub const MAX_TEMPORAL_LAYERS: u8 = 4;

/// Largest payload of a reliable data message.
pub const MAX_RELIABLE_DATA: usize = 64 * 1024;

/// Largest payload of a best-effort data message (one datagram).
pub const MAX_UNRELIABLE_DATA: usize = 1024;

/// Longest data message topic.
pub const MAX_DATA_TOPIC: usize = 256;
