//! The boundary between the meeting controller (which decides) and the media handler (which
//! forwards). The MC emits [`ForwardingCommand`]s; whatever composes the two (the reference server)
//! hands them to the SFU through a [`MediaForwarding`] implementation. Neither crate imports the
//! other.

use async_trait::async_trait;

use crate::ids::{MeetingName, ParticipantId, TrackAlias, TrackId};
use crate::track::TrackKind;

/// What the MC tells the SFU.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ForwardingCommand {
    /// `publisher` may now send frames with `alias`.
    TrackPublished {
        /// Meeting.
        meeting: MeetingName,
        /// Who publishes.
        publisher: ParticipantId,
        /// Track id.
        track: TrackId,
        /// Alias carried by its frames.
        alias: TrackAlias,
        /// Audio or video.
        kind: TrackKind,
        /// Number of simulcast layers (1–3).
        layers: u8,
    },
    /// The track is gone; subscribers stop receiving it.
    TrackUnpublished {
        /// Meeting.
        meeting: MeetingName,
        /// Alias of the track.
        alias: TrackAlias,
    },
    /// Forward the track to `subscriber`.
    Subscribe {
        /// Meeting.
        meeting: MeetingName,
        /// Who receives.
        subscriber: ParticipantId,
        /// Alias of the track.
        alias: TrackAlias,
        /// Highest spatial layer wanted (`None`: the highest published).
        max_spatial: Option<u8>,
    },
    /// Stop forwarding the track to `subscriber`.
    Unsubscribe {
        /// Meeting.
        meeting: MeetingName,
        /// Who stops receiving.
        subscriber: ParticipantId,
        /// Alias of the track.
        alias: TrackAlias,
    },
    /// The participant left: drop its tracks, subscriptions and media session.
    ParticipantLeft {
        /// Meeting.
        meeting: MeetingName,
        /// Who left.
        participant: ParticipantId,
    },
}

impl ForwardingCommand {
    /// The meeting the command is about.
    pub fn meeting(&self) -> &MeetingName {
        match self {
            Self::TrackPublished { meeting, .. }
            | Self::TrackUnpublished { meeting, .. }
            | Self::Subscribe { meeting, .. }
            | Self::Unsubscribe { meeting, .. }
            | Self::ParticipantLeft { meeting, .. } => meeting,
        }
    }
}

/// Applies forwarding commands. `apply` returns once the command is ordered before any media
/// that arrives afterwards, so the MC may acknowledge the client right after.
#[async_trait]
pub trait MediaForwarding: Send + Sync + 'static {
    /// Applies one command.
    async fn apply(&self, command: ForwardingCommand);
}

/// What the media handler tells the meeting controller.
#[derive(Debug, Clone, PartialEq)]
pub enum MediaReport {
    /// Audio levels of the meeting's publishers over the last interval: 0 (loudest) to 127
    /// (silence), -dBov as in the frame header. Participants who sent no audio are absent.
    AudioLevels {
        /// Meeting.
        meeting: MeetingName,
        /// (participant, quietest-to-loudest level over the interval: the loudest seen).
        levels: Vec<(ParticipantId, u8)>,
    },
    /// A subscriber needs a keyframe of `alias`'s `spatial_id` layer.
    KeyframeNeeded {
        /// Meeting.
        meeting: MeetingName,
        /// The publisher to ask.
        publisher: ParticipantId,
        /// The track.
        alias: TrackAlias,
        /// The layer.
        spatial_id: u8,
    },
    /// Dynacast: the layers of `alias` that some subscriber wants changed.
    LayersWanted {
        /// Meeting.
        meeting: MeetingName,
        /// The publisher to tell.
        publisher: ParticipantId,
        /// The track.
        alias: TrackAlias,
        /// Wanted spatial layers, ascending (empty: nobody watches).
        layers: Vec<u8>,
    },
    /// How media reaches one subscriber (every few seconds while it receives any), for its
    /// connection quality.
    SubscriberLink {
        /// Meeting.
        meeting: MeetingName,
        /// The subscriber.
        participant: ParticipantId,
        /// Smoothed round-trip time of its media session.
        rtt: std::time::Duration,
        /// Measured send rate to it, bits per second.
        throughput_bps: u64,
        /// Fraction of the frames forwarded to it that were dropped because its link could not
        /// keep up, over the last interval (0 … 1).
        loss: f32,
        /// Its link holds it below the layers it asked for.
        constrained: bool,
    },
}

impl MediaReport {
    /// The meeting the report is about.
    pub fn meeting(&self) -> &MeetingName {
        match self {
            Self::AudioLevels { meeting, .. }
            | Self::KeyframeNeeded { meeting, .. }
            | Self::LayersWanted { meeting, .. }
            | Self::SubscriberLink { meeting, .. } => meeting,
        }
    }
}

/// Receives reports from the media handler (implemented by the meeting controller).
#[async_trait]
pub trait MediaFeedback: Send + Sync + 'static {
    /// Handles one report; must not block for long (the SFU's meeting actor waits).
    async fn report(&self, report: MediaReport);
}

/// Records commands instead of forwarding; for tests of the MC and for signaling-only nodes.
#[derive(Debug, Default)]
pub struct RecordingForwarding {
    commands: std::sync::Mutex<Vec<ForwardingCommand>>,
}

impl RecordingForwarding {
    /// Commands received so far.
    pub fn commands(&self) -> Vec<ForwardingCommand> {
        self.commands.lock().map(|c| c.clone()).unwrap_or_default()
    }
}

#[async_trait]
impl MediaForwarding for RecordingForwarding {
    async fn apply(&self, command: ForwardingCommand) {
        if let Ok(mut c) = self.commands.lock() {
            c.push(command);
        }
    }
}
