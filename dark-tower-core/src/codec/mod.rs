//! Pure wire codecs over `bytes` buffers. Limits are checked before anything is allocated, and
//! "need more bytes" is a distinct, non-error result.
//!
//! - [`signal`]: length-prefixed protobuf messages on the signaling stream.
//! - [`media`]: the media frame header (`proto/MEDIA.md`) and media stream framing.

pub mod media;
pub mod signal;
