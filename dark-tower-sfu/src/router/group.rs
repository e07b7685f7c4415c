//! What the router keeps per layer of a video track: the current group of pictures (for instant
//! start and instant down-switch) and the layer's measured bitrate (for layer allocation).

use std::time::{Duration, Instant};

use dark_tower_core::codec::media::MediaFrame;

/// Most bytes of one layer's current group kept for instant start; a longer group is not cached.
pub const MAX_CACHED_GROUP_BYTES: usize = 4 * 1024 * 1024;

/// Window over which a layer's bitrate is sampled.
const RATE_WINDOW: Duration = Duration::from_secs(1);
/// Weight of a new window in the layer's bitrate average.
const RATE_WEIGHT: f64 = 0.3;

#[derive(Debug, Default)]
pub(super) struct Group {
    /// The cached group, if its keyframe was seen and it is still complete.
    pub(super) seq: Option<u64>,
    /// The newest group seen on this layer. Groups travel on separate streams, so frames of an
    /// older group — even its keyframe — may arrive after a newer group started; they never
    /// replace it.
    newest: Option<u64>,
    pub(super) frames: Vec<MediaFrame>,
    bytes: usize,
    /// Measured bitrate of the layer.
    pub(super) rate: Rate,
    /// When the publisher last sent a frame of this layer.
    pub(super) last_frame: Option<Instant>,
}

impl Group {
    fn clear(&mut self) {
        self.seq = None;
        self.frames.clear();
        self.bytes = 0;
    }

    pub(super) fn push(&mut self, now: Instant, frame: &MediaFrame) {
        self.rate.add(now, frame.payload.len());
        self.last_frame = Some(now);
        let h = &frame.header;
        if self.newest.is_some_and(|n| h.group_seq < n) {
            return;
        }
        self.newest = Some(h.group_seq);
        if h.keyframe {
            self.clear();
            self.seq = Some(h.group_seq);
        } else if self.seq != Some(h.group_seq) {
            // A group whose keyframe we did not see cannot start anyone.
            self.clear();
            return;
        }
        self.bytes += frame.payload.len();
        if self.bytes > MAX_CACHED_GROUP_BYTES {
            self.clear();
            return;
        }
        self.frames.push(frame.clone());
    }

    /// The cached group's sequence number, if a subscriber can start from it.
    pub(super) fn startable(&self) -> Option<u64> {
        self.seq.filter(|_| !self.frames.is_empty())
    }
}

/// A bitrate measured over fixed windows and averaged. A layer that stops (a publisher pausing it
/// for dynacast) keeps its last rate: that is what resuming it will cost.
#[derive(Debug, Default, Clone, Copy)]
pub(super) struct Rate {
    window_start: Option<Instant>,
    window_bytes: u64,
    bps: Option<f64>,
}

impl Rate {
    pub(super) fn add(&mut self, now: Instant, bytes: usize) {
        let start = *self.window_start.get_or_insert(now);
        let elapsed = now.saturating_duration_since(start);
        if elapsed >= RATE_WINDOW {
            let sample = self.window_bytes as f64 * 8.0 / elapsed.as_secs_f64();
            self.bps = Some(match self.bps {
                None => sample,
                Some(b) => b * (1.0 - RATE_WEIGHT) + sample * RATE_WEIGHT,
            });
            self.window_start = Some(now);
            self.window_bytes = 0;
        }
        self.window_bytes += bytes as u64;
    }

    /// Bits per second, once a window completed.
    pub(super) fn bps(&self) -> Option<f64> {
        self.bps
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;
    use dark_tower_core::codec::media::MediaHeader;
    use dark_tower_core::ids::TrackAlias;

    fn frame(group: u64, seq: u32) -> MediaFrame {
        MediaFrame {
            header: MediaHeader {
                track_alias: TrackAlias(1),
                spatial_id: 0,
                temporal_id: 0,
                group_seq: group,
                frame_seq: seq,
                capture_ts_us: 0,
                keyframe: seq == 0,
                discardable: false,
                end_of_group: false,
                audio_level: None,
            },
            payload: Bytes::from_static(b"x"),
        }
    }

    #[test]
    fn late_frames_of_older_groups_never_replace_the_cache() {
        let now = Instant::now();
        let mut g = Group::default();
        for f in [frame(0, 0), frame(1, 0), frame(2, 0), frame(0, 1), frame(1, 1), frame(2, 1), frame(1, 2)] {
            g.push(now, &f);
        }
        assert_eq!(g.seq, Some(2));
        let cached: Vec<_> = g.frames.iter().map(|f| (f.header.group_seq, f.header.frame_seq)).collect();
        assert_eq!(cached, [(2, 0), (2, 1)]);
    }

    #[test]
    fn a_group_without_its_keyframe_is_not_cached() {
        let now = Instant::now();
        let mut g = Group::default();
        g.push(now, &frame(0, 0));
        g.push(now, &frame(1, 1));
        assert_eq!(g.seq, None);
        assert!(g.frames.is_empty());
        g.push(now, &frame(2, 0));
        assert_eq!(g.seq, Some(2));
    }

    #[test]
    fn rate_is_measured_per_window_and_kept_when_the_layer_stops() {
        let t0 = Instant::now();
        let mut r = Rate::default();
        // 1 000 bytes every 100 ms: 80 kbit/s.
        for i in 0..=20u32 {
            r.add(t0 + Duration::from_millis(100) * i, 1000);
        }
        let bps = r.bps().expect("two windows completed");
        assert!((bps - 80_000.0).abs() < 1.0, "{bps}");
        // Nothing more arrives: the last rate stays.
        assert_eq!(r.bps(), Some(bps));
    }
}
