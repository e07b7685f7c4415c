//! Connection quality per participant, from samples of its signaling connection's QUIC path
//! (round-trip time and packet loss) that the driver takes every few seconds.
//!
//! | level | when |
//! |---|---|
//! | excellent | RTT < 100 ms and loss < 2 % |
//! | good | RTT < 300 ms and loss < 10 % |
//! | poor | otherwise |
//! | lost | reconnecting (no connection now) |
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
            loss: self.loss,
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
        let level = classify(stats.rtt, loss);
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
        for p in to {
            self.send(p, 0, msg.clone());
        }
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
