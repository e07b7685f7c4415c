//! Per-subscriber bandwidth estimation from what the driver measures of its egress, and the
//! allocation of spatial layers that fits the estimate.
//!
//! The driver reports, every few hundred milliseconds, how many bytes of a session's egress the
//! transport accepted, how much is still queued and how many frames were dropped
//! ([`LinkReport`]). QUIC's congestion controller paces what the transport accepts, so a queue
//! that grows, or drops, mean the subscriber receives less than it is sent:
//! - **congested** (frames dropped, or more than [`BACKLOG`] of data queued at two reports in a
//!   row): the estimate falls
//!   to [`DECREASE`] × the measured throughput, at most once per RTT + 500 ms;
//! - **clear** for a hold time (2 s, doubled up to 16 s each time a raise is followed by
//!   congestion within 4 s): the estimate rises by [`INCREASE`]. An estimate that covers every
//!   wanted layer one and a half times over is dropped: the subscriber is unconstrained again.
//!
//! Allocation, per subscriber: every video track gets its lowest layer; then, layer by layer,
//! tracks are raised towards their wanted layer (in track order) while the estimate, minus the
//! audio, covers the extra bitrate. A layer's bitrate is measured from what its publisher sends.

use std::time::{Duration, Instant};

/// What the driver measured of one session's egress. Counters are cumulative since the session
/// attached.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LinkReport {
    /// Bytes the transport accepted.
    pub sent_bytes: u64,
    /// Frames the egress dropped.
    pub dropped_frames: u64,
    /// Frames waiting in the egress queue now.
    pub queued_frames: u32,
    /// Bytes waiting in the egress queue now.
    pub queued_bytes: u64,
    /// Smoothed round-trip time of the session.
    pub rtt: Duration,
}

/// Queued data above this much sending time means congestion.
pub const BACKLOG: Duration = Duration::from_millis(200);
/// ... but never less than this many bytes (a keyframe burst is not congestion).
pub const MIN_BACKLOG_BYTES: u64 = 16 * 1024;
/// The estimate after congestion, relative to the measured throughput.
pub const DECREASE: f64 = 0.85;
/// Growth of the estimate after a clear hold time.
pub const INCREASE: f64 = 1.3;
const HOLD_MIN: Duration = Duration::from_secs(2);
const HOLD_MAX: Duration = Duration::from_secs(16);
const PROBE_FAILED_WITHIN: Duration = Duration::from_secs(4);
const DECREASE_GAP: Duration = Duration::from_millis(500);

/// The estimator of one subscriber session.
#[derive(Debug, Clone)]
pub(super) struct Link {
    last: Option<(Instant, LinkReport)>,
    /// Average of the measured send rate, bits per second.
    pub(super) throughput_bps: f64,
    /// What the link is believed to sustain; `None`: no limit known.
    pub(super) estimate_bps: Option<f64>,
    pub(super) rtt: Duration,
    pub(super) congested: bool,
    /// The previous report found a backlog.
    backed_up: bool,
    pub(super) report: LinkReport,
    last_decrease: Option<Instant>,
    last_increase: Option<Instant>,
    clear_since: Option<Instant>,
    hold: Duration,
    /// When stats were last reported to the MC, and the counters then.
    pub(super) stats_at: Option<(Instant, u64, u64)>,
}

impl Default for Link {
    fn default() -> Self {
        Self {
            last: None,
            throughput_bps: 0.0,
            estimate_bps: None,
            rtt: Duration::ZERO,
            congested: false,
            backed_up: false,
            report: LinkReport::default(),
            last_decrease: None,
            last_increase: None,
            clear_since: None,
            hold: HOLD_MIN,
            stats_at: None,
        }
    }
}

impl Link {
    /// Takes a report; true if the estimate changed.
    pub(super) fn update(&mut self, now: Instant, r: LinkReport) -> bool {
        self.rtt = r.rtt;
        self.report = r;
        let Some((t0, prev)) = self.last.replace((now, r)) else {
            return false;
        };
        let dt = now.saturating_duration_since(t0);
        if dt < Duration::from_millis(10) {
            self.last = Some((t0, prev));
            return false;
        }
        let sent = r.sent_bytes.saturating_sub(prev.sent_bytes);
        let rate = sent as f64 * 8.0 / dt.as_secs_f64();
        self.throughput_bps = if prev.sent_bytes == 0 && self.throughput_bps == 0.0 {
            rate
        } else {
            0.5 * self.throughput_bps + 0.5 * rate
        };
        let backlog = (self.throughput_bps / 8.0 * BACKLOG.as_secs_f64()).max(MIN_BACKLOG_BYTES as f64);
        // A backlog counts only if it was there at the previous report too: a keyframe burst, or
        // a writer that waited for a busy core, drains by the next one (found by B1 at N = 200:
        // every subscriber of a CPU-saturated SFU was moved down a layer).
        let backed_up = r.queued_bytes as f64 > backlog;
        self.congested = r.dropped_frames > prev.dropped_frames || (backed_up && self.backed_up);
        self.backed_up = backed_up;
        if self.congested {
            self.clear_since = None;
            if self.last_decrease.is_some_and(|t| now.saturating_duration_since(t) < self.rtt + DECREASE_GAP)
            {
                return false;
            }
            if self.last_increase.is_some_and(|t| now.saturating_duration_since(t) < PROBE_FAILED_WITHIN) {
                self.hold = (self.hold * 2).min(HOLD_MAX);
            }
            let base = self.estimate_bps.map_or(self.throughput_bps, |e| e.min(self.throughput_bps));
            self.estimate_bps = Some(DECREASE * base);
            self.last_decrease = Some(now);
            return true;
        }
        let since = *self.clear_since.get_or_insert(now);
        let Some(e) = self.estimate_bps else { return false };
        let held = now.saturating_duration_since(since) >= self.hold
            && self.last_increase.is_none_or(|t| now.saturating_duration_since(t) >= self.hold);
        if !held {
            return false;
        }
        self.estimate_bps = Some(e * INCREASE);
        self.last_increase = Some(now);
        if self.last_decrease.is_none_or(|t| now.saturating_duration_since(t) > HOLD_MAX * 2) {
            self.hold = HOLD_MIN;
        }
        true
    }

    /// Forgets a limit the subscriber no longer needs.
    pub(super) fn release(&mut self) {
        self.estimate_bps = None;
    }
}

/// One video subscription as the allocation sees it.
#[derive(Debug, Clone, Copy)]
pub(super) struct Want {
    /// Highest layer wanted.
    pub(super) layer: u8,
    /// Bitrate of each layer (bits per second).
    pub(super) rates: [f64; 3],
}

/// Bitrates of the layers of a track, from measurements where there are some: a layer never
/// measured is taken as three times the one below (the usual simulcast ratio).
pub(super) fn layer_rates(measured: [Option<f64>; 3]) -> [f64; 3] {
    let mut rates = [0.0; 3];
    for l in 0..3 {
        rates[l] = match (measured[l], l) {
            (Some(r), _) => r,
            (None, 0) => 0.0,
            (None, _) => rates[l - 1] * 3.0,
        };
    }
    rates
}

/// The layer each subscription may receive within `budget` bits per second, and whether the
/// budget covers everything wanted with room to spare (the limit can be released).
pub(super) fn allocate(budget: f64, wants: &[Want]) -> (Vec<u8>, bool) {
    let mut caps = vec![0u8; wants.len()];
    let mut left = budget - wants.iter().map(|w| w.rates[0]).sum::<f64>();
    let mut blocked = vec![false; wants.len()];
    for level in 1..3u8 {
        for (i, w) in wants.iter().enumerate() {
            if blocked[i] || w.layer < level {
                continue;
            }
            let extra = w.rates[level as usize] - w.rates[level as usize - 1];
            if extra <= left {
                caps[i] = level;
                left -= extra;
            } else {
                blocked[i] = true;
            }
        }
    }
    let full: f64 = wants.iter().map(|w| w.rates[w.layer as usize]).sum();
    (caps, budget >= full * 1.5)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(sent: u64, dropped: u64, queued: u64) -> LinkReport {
        LinkReport {
            sent_bytes: sent,
            dropped_frames: dropped,
            queued_frames: 0,
            queued_bytes: queued,
            rtt: Duration::from_millis(20),
        }
    }

    #[test]
    fn drops_lower_the_estimate_below_the_measured_throughput() {
        let t0 = Instant::now();
        let mut l = Link::default();
        l.update(t0, report(0, 0, 0));
        // 125 000 bytes in 1 s: 1 Mbit/s, with drops.
        assert!(l.update(t0 + Duration::from_secs(1), report(125_000, 3, 0)));
        let e = l.estimate_bps.expect("estimate set");
        assert!((e - 850_000.0).abs() < 1.0, "{e}");
        // Still congested 100 ms later: no second decrease so soon.
        assert!(!l.update(t0 + Duration::from_millis(1100), report(137_500, 5, 0)));
    }

    #[test]
    fn a_clear_link_raises_the_estimate_after_the_hold_time() {
        let t0 = Instant::now();
        let mut l = Link::default();
        l.update(t0, report(0, 0, 0));
        l.update(t0 + Duration::from_secs(1), report(125_000, 1, 0));
        let low = l.estimate_bps.expect("estimate");
        let mut sent = 125_000;
        let mut raised_at = None;
        for i in 2..8u64 {
            sent += 100_000;
            if l.update(t0 + Duration::from_secs(i), report(sent, 1, 0)) {
                raised_at = Some(i);
                break;
            }
        }
        assert_eq!(raised_at, Some(4), "2 s clear after the first clear report at 2 s");
        assert!((l.estimate_bps.expect("estimate") - low * INCREASE).abs() < 1.0);
    }

    #[test]
    fn allocation_fills_lowest_layers_first() {
        let w = Want { layer: 2, rates: [150_000.0, 500_000.0, 1_500_000.0] };
        assert_eq!(allocate(100_000.0, &[w, w]).0, [0, 0], "layer 0 always");
        assert_eq!(allocate(1_200_000.0, &[w, w]).0, [1, 1]);
        assert_eq!(allocate(2_100_000.0, &[w, w]).0, [2, 1]);
        let (caps, release) = allocate(10_000_000.0, &[w, w]);
        assert_eq!(caps, [2, 2]);
        assert!(release);
        let low = Want { layer: 0, ..w };
        assert_eq!(allocate(1_600_000.0, &[low, w]).0, [0, 1]);
        assert_eq!(allocate(1_700_000.0, &[low, w]).0, [0, 2]);
    }

    #[test]
    fn unmeasured_layers_are_assumed_three_times_the_one_below() {
        assert_eq!(layer_rates([Some(100.0), None, None]), [100.0, 300.0, 900.0]);
        assert_eq!(layer_rates([None, None, None]), [0.0, 0.0, 0.0]);
    }
}
