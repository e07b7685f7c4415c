//! Statistics the router keeps, per subscriber, per subscription and per track.

use std::time::Duration;

use dark_tower_core::ids::{ParticipantId, TrackAlias};
use dark_tower_core::track::TrackKind;

use super::{Participant, Router};

/// The link of one subscriber, as estimated from its egress.
#[derive(Debug, Clone, PartialEq)]
pub struct SubscriberStats {
    /// The subscriber.
    pub participant: ParticipantId,
    /// Smoothed round-trip time of its media session.
    pub rtt: Duration,
    /// Measured send rate to it, bits per second.
    pub throughput_bps: u64,
    /// What its link is believed to sustain (`None`: no limit seen).
    pub estimate_bps: Option<u64>,
    /// Frames forwarded to it since its session attached (before any egress drop).
    pub frames: u64,
    /// Payload bytes forwarded to it since its session attached.
    pub bytes: u64,
    /// Frames its egress dropped since its session attached.
    pub dropped_frames: u64,
    /// Its egress is backed up now.
    pub congested: bool,
    /// Its link holds at least one of its video subscriptions below the layer it wants.
    pub constrained: bool,
    /// Fraction of frames dropped over the last report interval (0 … 1).
    pub loss: f32,
}

/// One subscriber's reception of one track.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubscriptionStats {
    /// The subscriber.
    pub subscriber: ParticipantId,
    /// The track.
    pub alias: TrackAlias,
    /// Layer being forwarded now (`None`: waiting for a keyframe).
    pub layer: Option<u8>,
    /// Layer it should receive (its preference, capped by its link).
    pub target: u8,
    /// Highest layer its link allows (`None`: no limit).
    pub link_cap: Option<u8>,
    /// Frames forwarded.
    pub frames: u64,
    /// Payload bytes forwarded.
    pub bytes: u64,
}

/// One published track.
#[derive(Debug, Clone, PartialEq)]
pub struct TrackStats {
    /// The track.
    pub alias: TrackAlias,
    /// Its publisher.
    pub publisher: ParticipantId,
    /// Frames received from the publisher.
    pub frames: u64,
    /// Payload bytes received from the publisher.
    pub bytes: u64,
    /// Measured bitrate of each published layer, bits per second (`None`: not yet measured).
    pub layer_bps: Vec<Option<u64>>,
    /// Subscribers.
    pub subscribers: usize,
}

impl Router {
    /// Every attached subscriber's link, by participant.
    pub fn subscriber_stats(&self) -> Vec<SubscriberStats> {
        let mut v: Vec<_> = self
            .participants
            .iter()
            .filter(|(_, p)| p.session.is_some())
            .map(|(id, p)| Self::subscriber_stat(*id, p, 0.0, self.constrained(*id)))
            .collect();
        v.sort_by_key(|s| s.participant);
        v
    }

    /// Whether `participant`'s link holds one of its video subscriptions below what it wants.
    pub(super) fn constrained(&self, participant: ParticipantId) -> bool {
        self.tracks.values().any(|t| {
            t.subscribers.get(&participant).is_some_and(|s| s.cap.is_some_and(|c| c < t.wanted_layer(s)))
        })
    }

    pub(super) fn subscriber_stat(
        id: ParticipantId,
        p: &Participant,
        loss: f32,
        constrained: bool,
    ) -> SubscriberStats {
        SubscriberStats {
            participant: id,
            rtt: p.link.rtt,
            throughput_bps: p.link.throughput_bps as u64,
            estimate_bps: p.link.estimate_bps.map(|e| e as u64),
            frames: p.frames_out,
            bytes: p.bytes_out,
            dropped_frames: p.link.report.dropped_frames,
            congested: p.link.congested,
            constrained,
            loss,
        }
    }

    /// Subscribers whose link holds them below what they want.
    pub fn constrained_count(&self) -> usize {
        self.participants.keys().filter(|p| self.constrained(**p)).count()
    }

    /// Every subscription, by track then subscriber.
    pub fn subscription_stats(&self) -> Vec<SubscriptionStats> {
        let mut v = Vec::new();
        for (alias, t) in &self.tracks {
            for (who, s) in &t.subscribers {
                v.push(SubscriptionStats {
                    subscriber: *who,
                    alias: *alias,
                    layer: if t.kind == TrackKind::Audio { Some(0) } else { s.layer },
                    target: t.target_layer(s),
                    link_cap: s.cap,
                    frames: s.frames,
                    bytes: s.bytes,
                });
            }
        }
        v.sort_by_key(|s| (s.alias, s.subscriber));
        v
    }

    /// Every published track, by alias.
    pub fn track_stats(&self) -> Vec<TrackStats> {
        let mut v: Vec<_> = self
            .tracks
            .iter()
            .map(|(alias, t)| TrackStats {
                alias: *alias,
                publisher: t.publisher,
                frames: t.frames_in,
                bytes: t.bytes_in,
                layer_bps: match t.kind {
                    TrackKind::Audio => vec![t.audio_rate.bps().map(|b| b as u64)],
                    TrackKind::Video => {
                        (0..t.layers as usize).map(|l| t.groups[l].rate.bps().map(|b| b as u64)).collect()
                    }
                },
                subscribers: t.subscribers.len(),
            })
            .collect();
        v.sort_by_key(|t| t.alias);
        v
    }
}
