//! Synthetic frames of deterministic sizes that carry their scheduled send time, so latency is
//! measured from when a frame was due, not from when a busy sender got round to it (no
//! coordinated omission). The same bytes go through Dark Tower and moq-relay.
//!
//! Layout (big-endian): `"DTB1"` | kind u8 (0 video, 1 audio) | layer u8 | 2 zero bytes |
//! seq u64 | scheduled send time u64 (µs since the epoch) | filler.

use std::time::{SystemTime, UNIX_EPOCH};

use bytes::{BufMut, Bytes, BytesMut};

/// Bytes before the filler.
pub const HEADER: usize = 24;
const MAGIC: &[u8; 4] = b"DTB1";
static FILLER: [u8; 64 * 1024] = [0x5a; 64 * 1024];

/// Video frame sizes per layer at 30 fps: about 150 kbit/s, 500 kbit/s and 1.5 Mbit/s.
pub const LAYER_BYTES: [usize; 3] = [625, 2083, 6250];
/// Keyframes are this many times larger.
pub const KEYFRAME_FACTOR: usize = 5;
/// Video frames per second.
pub const FPS: u64 = 30;
/// Frames per group of pictures (a keyframe every 2 s).
pub const GOP: u64 = 60;
/// Audio: 50 frames per second of this many bytes.
pub const AUDIO_FPS: u64 = 50;
/// Audio frame size.
pub const AUDIO_BYTES: usize = 80;

/// Frame kinds.
pub const VIDEO: u8 = 0;
/// Audio frames.
pub const AUDIO: u8 = 1;

/// Microseconds since the epoch.
pub fn now_us() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_micros() as u64).unwrap_or(0)
}

/// Scheduled send time of video frame `i` (µs offset from the schedule's start).
pub fn video_offset_us(i: u64) -> u64 {
    i * 1_000_000 / FPS
}

/// Scheduled send time of audio frame `i` (µs offset from the schedule's start).
pub fn audio_offset_us(i: u64) -> u64 {
    i * 1_000_000 / AUDIO_FPS
}

/// Size of video frame `i` of `layer`.
pub fn video_len(layer: usize, i: u64) -> usize {
    if i.is_multiple_of(GOP) { LAYER_BYTES[layer] * KEYFRAME_FACTOR } else { LAYER_BYTES[layer] }
}

/// Builds a frame.
pub fn make(kind: u8, layer: u8, seq: u64, sched_us: u64, len: usize) -> Bytes {
    let len = len.max(HEADER);
    let mut b = BytesMut::with_capacity(len);
    b.put_slice(MAGIC);
    b.put_u8(kind);
    b.put_u8(layer);
    b.put_u16(0);
    b.put_u64(seq);
    b.put_u64(sched_us);
    let mut left = len - HEADER;
    while left > 0 {
        let n = left.min(FILLER.len());
        b.put_slice(&FILLER[..n]);
        left -= n;
    }
    b.freeze()
}

/// What a frame says about itself.
#[derive(Debug, Clone, Copy)]
#[allow(dead_code)] // layer is for ad-hoc debugging of runs
pub struct Parsed {
    /// Video or audio.
    pub kind: u8,
    /// Simulcast layer.
    pub layer: u8,
    /// Sequence number within (kind, layer).
    pub seq: u64,
    /// Scheduled send time, µs since the epoch.
    pub sched_us: u64,
}

/// Reads a frame's header.
pub fn parse(p: &[u8]) -> Option<Parsed> {
    if p.len() < HEADER || &p[..4] != MAGIC {
        return None;
    }
    let u64_at = |i: usize| u64::from_be_bytes(p[i..i + 8].try_into().unwrap_or([0; 8]));
    Some(Parsed { kind: p[4], layer: p[5], seq: u64_at(8), sched_us: u64_at(16) })
}

/// Frames of a schedule that starts at `t0_us` with frame `i` at `t0_us + offset(i)` whose
/// scheduled time falls in `[from_us, to_us)`.
pub fn scheduled_in(t0_us: u64, from_us: u64, to_us: u64, offset: fn(u64) -> u64) -> u64 {
    let mut n = 0;
    let mut i = 0;
    loop {
        let t = t0_us + offset(i);
        if t >= to_us {
            return n;
        }
        if t >= from_us {
            n += 1;
        }
        i += 1;
    }
}
