//! Statistics the router keeps, per subscriber, per subscription and per track.

use std::time::Duration;

use dark_tower_core::ids::{ParticipantId, TrackAlias};

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
