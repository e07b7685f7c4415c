//! The drop policy of a subscriber's egress queue, sans IO: what to queue, what to drop, and
//! which groups to give up on. The driver applies it in front of each session's writer; the
//! simulated-network tests apply the same policy to their model links.
//!
//! - A frame marked discardable (an upper temporal layer) is shed while the queue is more than
//!   half full: the subscriber loses frame rate before it loses whole groups.
//! - When the queue is full the frame is dropped and its group is **abandoned**: its remaining
//!   frames are dropped as they come, those still queued are skipped, and its stream is reset
//!   (data the transport still buffers for it is discarded). Forwarding resumes at the next
//!   keyframe.
//! - When a keyframe of another layer of the same track arrives (the router switched the
//!   subscriber), the old layer's current group is abandoned: nothing of it is decodable any more
//!   for this subscriber. A relay (which receives every layer) is exempt.
//! - When a keyframe of a newer group arrives while the queue is backed up, the older group is
//!   abandoned: the subscriber jumps to the fresh keyframe instead of playing stale frames.

use std::collections::HashMap;

use dark_tower_core::codec::media::MediaHeader;
use dark_tower_core::ids::TrackAlias;

/// A group: track, layer and group sequence number.
pub type GroupRef = (TrackAlias, u8, u64);

/// The queue's state when a frame is offered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueueState {
    /// Frames queued.
    pub frames: usize,
    /// Most frames it holds.
    pub capacity: usize,
    /// Payload bytes queued.
    pub bytes: u64,
}

impl QueueState {
    fn half_full(&self) -> bool {
        self.frames * 2 > self.capacity
    }

    /// A backlog of frames, not merely of bytes: a burst of large frames on a fast link drains
    /// in milliseconds and is not stale (found by a publisher sending three groups at once).
    fn backed_up(&self) -> bool {
        self.half_full()
    }
}

/// What to do with an offered video frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Queue it.
    Queue,
    /// Drop it: its group is broken.
    Drop,
    /// Drop it: discardable, and the queue is more than half full.
    Shed,
}

/// The policy state of one subscriber session.
#[derive(Debug, Default)]
pub struct EgressPolicy {
    relay: bool,
    /// Group being dropped, per track and layer.
    broken: HashMap<(TrackAlias, u8), u64>,
    /// Layer and group of the newest keyframe queued, per track.
    current: HashMap<TrackAlias, (u8, u64)>,
}

impl EgressPolicy {
    /// The policy of an ordinary subscriber, or of a relay (which receives every layer).
    pub fn new(relay: bool) -> Self {
        Self { relay, ..Self::default() }
    }

    /// Decides about a video (stream) frame offered to a queue in `state`. Groups to give up on
    /// are passed to `abandon`.
    pub fn offer(
        &mut self,
        h: &MediaHeader,
        state: QueueState,
        mut abandon: impl FnMut(GroupRef),
    ) -> Verdict {
        let key = (h.track_alias, h.spatial_id);
        if h.discardable && state.half_full() {
            return Verdict::Shed;
        }
        if let Some(&g) = self.broken.get(&key) {
            if g == h.group_seq || !h.keyframe {
                return Verdict::Drop;
            }
            self.broken.remove(&key);
        }
        if h.keyframe && !self.relay {
            let now = (h.spatial_id, h.group_seq);
            match self.current.get(&h.track_alias).copied() {
                Some((layer, group)) if layer != h.spatial_id => {
                    abandon((h.track_alias, layer, group));
                    self.current.insert(h.track_alias, now);
                }
                Some((layer, group)) if group < h.group_seq => {
                    if state.backed_up() {
                        abandon((h.track_alias, layer, group));
                    }
                    self.current.insert(h.track_alias, now);
                }
                // A late keyframe of an older group.
                Some(_) => {}
                None => {
                    self.current.insert(h.track_alias, now);
                }
            }
        }
        Verdict::Queue
    }

    /// The queue refused the frame (full): its group is abandoned.
    pub fn refused(&mut self, h: &MediaHeader, mut abandon: impl FnMut(GroupRef)) {
        self.broken.insert((h.track_alias, h.spatial_id), h.group_seq);
        abandon((h.track_alias, h.spatial_id, h.group_seq));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(layer: u8, group: u64, seq: u32) -> MediaHeader {
        MediaHeader {
            track_alias: TrackAlias(1),
            spatial_id: layer,
            temporal_id: 0,
            group_seq: group,
            frame_seq: seq,
            capture_ts_us: 0,
            keyframe: seq == 0,
            discardable: false,
            end_of_group: false,
            audio_level: None,
        }
    }

    const CLEAR: QueueState = QueueState { frames: 0, capacity: 8, bytes: 0 };
    const BACKED_UP: QueueState = QueueState { frames: 6, capacity: 8, bytes: 0 };

    #[test]
    fn a_refused_frame_breaks_its_group_until_the_next_keyframe() {
        let mut p = EgressPolicy::new(false);
        let mut gone = Vec::new();
        assert_eq!(p.offer(&h(0, 1, 0), CLEAR, |g| gone.push(g)), Verdict::Queue);
        p.refused(&h(0, 1, 1), |g| gone.push(g));
        assert_eq!(gone, [(TrackAlias(1), 0, 1)]);
        assert_eq!(p.offer(&h(0, 1, 2), CLEAR, |_| {}), Verdict::Drop);
        assert_eq!(p.offer(&h(0, 2, 0), CLEAR, |_| {}), Verdict::Queue);
        assert_eq!(p.offer(&h(0, 2, 1), CLEAR, |_| {}), Verdict::Queue);
    }

    #[test]
    fn a_layer_switch_abandons_the_old_layer_and_a_backlog_the_old_group() {
        let mut p = EgressPolicy::new(false);
        let mut gone = Vec::new();
        p.offer(&h(2, 1, 0), CLEAR, |g| gone.push(g));
        p.offer(&h(0, 1, 0), CLEAR, |g| gone.push(g));
        assert_eq!(gone, [(TrackAlias(1), 2, 1)], "switched from layer 2 to 0");
        p.offer(&h(0, 2, 0), CLEAR, |g| gone.push(g));
        assert_eq!(gone.len(), 1, "a new group on a clear queue abandons nothing");
        p.offer(&h(0, 3, 0), BACKED_UP, |g| gone.push(g));
        assert_eq!(gone[1], (TrackAlias(1), 0, 2), "backed up: the older group goes");
    }

    #[test]
    fn a_relay_keeps_every_layer() {
        let mut p = EgressPolicy::new(true);
        let mut gone = Vec::new();
        for layer in 0..3 {
            p.offer(&h(layer, 1, 0), BACKED_UP, |g| gone.push(g));
        }
        assert!(gone.is_empty());
    }
}
