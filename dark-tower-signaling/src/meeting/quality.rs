//! Connection quality per participant, from two sources:
//! - samples of its signaling connection's QUIC path (round-trip time and packet loss) that the
//!   driver takes every few seconds;
//! - the media handler's reports of how media reaches it as a subscriber (frames dropped because
//!   its link could not keep up, and whether its link holds it below the layers it wants).
//!
//! | level | path | media |
//! |---|---|---|
//! | excellent | RTT < 100 ms and loss < 2 % | drops < 2 % and not held to lower layers |
//! | good | RTT < 300 ms and loss < 10 % | drops < 10 % |
//! | poor | otherwise | otherwise |
//! | lost | reconnecting (no connection now) | |
//!
//! The level is the worse of the two; the loss reported is the higher.
//!
//! Everyone is told when a participant's level changes (`ConnectionQuality`); a joiner gets
//! every known level right after `Joined`.

use std::time::Duration;

use dark_tower_core::ids::ParticipantId;
use dark_tower_core::proto::sig;
use dark_tower_core::transport::PathStats;

use super::{Meeting, S};

/// A quality level.
pub type Level = sig::ConnectionQualityLevel;

/// What is known of one participant's connection.
#[derive(Debug, Default, Clone)]
pub struct Quality {
    last: Option<PathStats>,
    level: Option<Level>,
    rtt_ms: u32,
    loss: f32,
    path: Option<Level>,
    /// Last media report: (drop fraction, held below wanted layers).
    media: Option<(f32, bool)>,
}

/// The level for a subscriber's media drop fraction and whether its link holds it to lower
/// layers.
pub fn classify_media(loss: f32, constrained: bool) -> Level {
    if loss < 0.02 && !constrained {
        Level::Excellent
    } else if loss < 0.10 {
        Level::Good
    } else {
        Level::Poor
    }
}

/// Worse of two levels.
fn worse(a: Level, b: Level) -> Level {
    let rank = |l: Level| match l {
        Level::Excellent => 3,
        Level::Good => 2,
        Level::Poor => 1,
        _ => 0,
    };
    if rank(a) <= rank(b) { a } else { b }
}

/// The level for a round-trip time and a loss fraction.
pub fn classify(rtt: Duration, loss: f32) -> Level {
    if rtt < Duration::from_millis(100) && loss < 0.02 {
        Level::Excellent
    } else if rtt < Duration::from_millis(300) && loss < 0.10 {
        Level::Good
    } else {
        Level::Poor
    }
}

impl Quality {
    fn proto(&self, id: ParticipantId) -> Option<sig::ParticipantQuality> {
        Some(sig::ParticipantQuality {
            participant_id: id.to_string(),
            quality: self.level? as i32,
            rtt_ms: self.rtt_ms,
            loss: self.media.map_or(self.loss, |(m, _)| m.max(self.loss)),
        })
    }
}

impl Meeting {
    /// Takes a path sample of `participant`'s session `epoch`; tells everyone if its level changed.
    pub(super) fn path_sample(&mut self, participant: ParticipantId, epoch: u64, stats: PathStats) {
        let Some(m) = self.members.get_mut(&participant) else { return };
        if m.epoch != epoch || m.away_since.is_some() {
            return;
        }
        let q = &mut m.quality;
        // Loss over the interval since the previous sample of the same session.
        let loss = match q.last {
            Some(prev) if stats.sent_packets > prev.sent_packets => {
                let sent = stats.sent_packets - prev.sent_packets;
                let lost = stats.lost_packets.saturating_sub(prev.lost_packets).min(sent);
                lost as f32 / sent as f32
            }
            _ => 0.0,
        };
        q.last = Some(stats);
        q.rtt_ms = u32::try_from(stats.rtt.as_millis()).unwrap_or(u32::MAX);
        q.loss = loss;
        q.path = Some(classify(stats.rtt, loss));
        self.requalify(participant);
    }

    /// Takes the media handler's report of how media reaches `participant`.
    pub(super) fn media_sample(&mut self, participant: ParticipantId, loss: f32, constrained: bool) {
        let Some(m) = self.members.get_mut(&participant) else { return };
        if m.away_since.is_some() {
            return;
        }
        m.quality.media = Some((loss, constrained));
        self.requalify(participant);
    }

    /// Recomputes `participant`'s level from its samples; tells everyone if it changed.
    fn requalify(&mut self, participant: ParticipantId) {
        let Some(m) = self.members.get_mut(&participant) else { return };
        let q = &mut m.quality;
        let media = q.media.map(|(loss, constrained)| classify_media(loss, constrained));
        let level = match (q.path, media) {
            (Some(p), Some(m)) => worse(p, m),
            (Some(l), None) | (None, Some(l)) => l,
            (None, None) => return,
        };
        if q.level == Some(level) {
            return;
        }
        q.level = Some(level);
        let hidden = m.grant.hidden;
        self.quality_changed(participant, hidden);
    }

    /// The participant's connection is gone: level lost, until its next sample after a resume.
    pub(super) fn quality_lost(&mut self, participant: ParticipantId) {
        let Some(m) = self.members.get_mut(&participant) else { return };
        m.quality = Quality { level: Some(Level::Lost), ..Quality::default() };
        let hidden = m.grant.hidden;
        self.quality_changed(participant, hidden);
    }

    fn quality_changed(&mut self, participant: ParticipantId, hidden: bool) {
        let Some(update) = self.members.get(&participant).and_then(|m| m.quality.proto(participant)) else {
            return;
        };
        let msg = S::ConnectionQuality(sig::ConnectionQuality { updates: vec![update] });
        // A hidden participant's quality is its own business.
        let to: Vec<_> = if hidden { vec![participant] } else { self.members.keys().copied().collect() };
        self.send_each(to, msg);
    }

    /// Every known level (of visible participants, and its own) to a joiner.
    pub(super) fn send_quality_snapshot(&mut self, to: ParticipantId) {
        let updates: Vec<_> = self
            .members
            .iter()
            .filter(|(p, m)| **p == to || !m.grant.hidden)
            .filter_map(|(p, m)| m.quality.proto(*p))
            .collect();
        if !updates.is_empty() {
            self.send(to, 0, S::ConnectionQuality(sig::ConnectionQuality { updates }));
        }
    }
}
