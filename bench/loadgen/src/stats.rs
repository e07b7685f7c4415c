//! What subscribers measure: latency from the scheduled send time into HDR histograms, frames
//! and bytes received whose scheduled time falls in the measurement window, and join times.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use hdrhistogram::Histogram;

use crate::payload::{self, Parsed};

/// The measurement window, in scheduled send time (µs since the epoch). Frames due outside it
/// are received but not counted.
#[derive(Debug)]
pub struct Window {
    from_us: AtomicU64,
    to_us: AtomicU64,
}

impl Default for Window {
    fn default() -> Self {
        Self { from_us: AtomicU64::new(u64::MAX), to_us: AtomicU64::new(u64::MAX) }
    }
}

impl Window {
    /// Opens the window over `[from_us, to_us)`.
    pub fn set(&self, from_us: u64, to_us: u64) {
        self.to_us.store(to_us, Ordering::SeqCst);
        self.from_us.store(from_us, Ordering::SeqCst);
    }

    /// The window's bounds.
    pub fn get(&self) -> (u64, u64) {
        (self.from_us.load(Ordering::Relaxed), self.to_us.load(Ordering::Relaxed))
    }

    fn contains(&self, t: u64) -> bool {
        let (a, b) = self.get();
        t >= a && t < b
    }
}

/// One latency histogram in microseconds (1 µs … 100 s, 3 significant digits).
pub fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 100_000_000, 3).expect("static bounds are valid")
}

/// One subscriber's counts.
pub struct SubStats {
    /// Latency of counted frames, µs.
    pub latency: Histogram<u64>,
    /// The same, audio frames only.
    pub audio: Histogram<u64>,
    /// Video keyframes only (the first frame of each group of pictures, 5× larger).
    pub keyframes: Histogram<u64>,
    /// Other video frames.
    pub deltas: Histogram<u64>,
    /// Counted frames.
    pub frames: u64,
    /// Counted payload bytes.
    pub bytes: u64,
    /// When it started connecting.
    pub started: Instant,
    /// When `connect` returned (joined: HTTP join, signaling and media sessions up).
    pub connected: Option<Instant>,
    /// When its first remote frame arrived.
    pub first_frame: Option<Instant>,
    /// When its first remote video frame arrived.
    pub first_video: Option<Instant>,
    /// Connected (else the error).
    pub error: Option<String>,
}

impl SubStats {
    /// Empty counts, started now.
    pub fn new() -> Self {
        Self {
            latency: histogram(),
            audio: histogram(),
            keyframes: histogram(),
            deltas: histogram(),
            frames: 0,
            bytes: 0,
            started: Instant::now(),
            connected: None,
            first_frame: None,
            first_video: None,
            error: None,
        }
    }
}

impl Default for SubStats {
    fn default() -> Self {
        Self::new()
    }
}

/// A subscriber's shared counts.
pub type Shared = Arc<Mutex<SubStats>>;

/// Records one received payload.
pub fn record(stats: &Shared, window: &Window, p: &[u8]) -> Option<Parsed> {
    let parsed = payload::parse(p)?;
    let now = payload::now_us();
    let Ok(mut s) = stats.lock() else { return Some(parsed) };
    if s.first_frame.is_none() {
        s.first_frame = Some(Instant::now());
    }
    if s.first_video.is_none() && parsed.kind == payload::VIDEO {
        s.first_video = Some(Instant::now());
    }
    if window.contains(parsed.sched_us) {
        let lat = now.saturating_sub(parsed.sched_us).max(1);
        let _ = s.latency.record(lat);
        let _ = match parsed.kind {
            payload::AUDIO => s.audio.record(lat),
            _ if parsed.seq.is_multiple_of(payload::GOP) => s.keyframes.record(lat),
            _ => s.deltas.record(lat),
        };
        s.frames += 1;
        s.bytes += p.len() as u64;
    }
    Some(parsed)
}

/// Latency percentiles in milliseconds.
pub fn percentiles_ms(h: &Histogram<u64>) -> (f64, f64, f64) {
    if h.is_empty() {
        return (f64::NAN, f64::NAN, f64::NAN);
    }
    let ms = |v: u64| v as f64 / 1000.0;
    (ms(h.value_at_quantile(0.5)), ms(h.value_at_quantile(0.99)), ms(h.max()))
}

/// Percentile of a list of durations in milliseconds.
pub fn percentile_ms(v: &mut [f64], q: f64) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(|a, b| a.total_cmp(b));
    let i = ((v.len() - 1) as f64 * q).round() as usize;
    v[i]
}
