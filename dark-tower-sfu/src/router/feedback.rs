//! What the router reports to the meeting controller: audio levels per interval (for active
//! speakers) and keyframe requests, merged and rate-limited per track and layer.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use dark_tower_core::ids::{ParticipantId, TrackAlias};

use super::stats::SubscriberStats;

/// How often audio levels are reported.
pub const LEVEL_INTERVAL: Duration = Duration::from_millis(200);
/// How often each subscriber's link stats are reported.
pub const STATS_INTERVAL: Duration = Duration::from_secs(2);
/// At most one keyframe request per track and layer in this window.
pub const KEYFRAME_INTERVAL: Duration = Duration::from_millis(500);

/// A report for the meeting controller.
#[derive(Debug, Clone, PartialEq)]
pub enum Feedback {
    /// Loudest audio level per publisher over the last interval (0 loudest … 127 silence),
    /// sorted by participant. Empty once everyone fell silent (sent once).
    AudioLevels(Vec<(ParticipantId, u8)>),
    /// Dynacast: the layers of `alias` that some subscriber wants (ascending) changed.
    LayersWanted {
        /// Publisher.
        publisher: ParticipantId,
        /// Track.
        alias: TrackAlias,
        /// Wanted layers.
        layers: Vec<u8>,
    },
    /// A subscriber's link, every [`STATS_INTERVAL`] while it receives media.
    SubscriberStats(SubscriberStats),
    /// Ask `publisher` for a keyframe of `alias` layer `spatial_id`.
    KeyframeNeeded {
        /// Publisher.
        publisher: ParticipantId,
        /// Track.
        alias: TrackAlias,
        /// Layer.
        spatial_id: u8,
    },
}

#[derive(Debug, Default)]
pub(super) struct Reporter {
    levels: HashMap<ParticipantId, u8>,
    reported_any: bool,
    next_report: Option<Instant>,
    keyframes: HashMap<(TrackAlias, u8), Instant>,
}

impl Reporter {
    pub(super) fn audio_level(&mut self, now: Instant, who: ParticipantId, level: u8) {
        let e = self.levels.entry(who).or_insert(level);
        *e = (*e).min(level);
        self.next_report.get_or_insert(now + LEVEL_INTERVAL);
    }

    /// Whether a keyframe request may go out now (and records it).
    pub(super) fn keyframe(&mut self, now: Instant, alias: TrackAlias, spatial_id: u8) -> bool {
        match self.keyframes.get(&(alias, spatial_id)) {
            Some(last) if now.saturating_duration_since(*last) < KEYFRAME_INTERVAL => false,
            _ => {
                self.keyframes.insert((alias, spatial_id), now);
                true
            }
        }
    }

    pub(super) fn forget_track(&mut self, alias: TrackAlias) {
        self.keyframes.retain(|(a, _), _| *a != alias);
    }

    pub(super) fn poll_timeout(&self) -> Option<Instant> {
        self.next_report
    }

    /// The levels report due at `now`, if any.
    pub(super) fn handle_timeout(&mut self, now: Instant) -> Option<Feedback> {
        let due = self.next_report.filter(|t| now >= *t)?;
        let mut levels: Vec<_> = self.levels.drain().collect();
        levels.sort();
        if levels.is_empty() {
            // One empty report tells the MC that everyone fell silent; then the timer stops.
            self.next_report = None;
            if !std::mem::take(&mut self.reported_any) {
                return None;
            }
        } else {
            self.reported_any = true;
            self.next_report = Some(due + LEVEL_INTERVAL);
        }
        Some(Feedback::AudioLevels(levels))
    }
}
