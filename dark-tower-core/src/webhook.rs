//! Webhook events and the sink that delivers them. The reference server signs and POSTs them;
//! [`MemoryWebhookSink`] records them for tests and embedders.

use std::sync::Mutex;

use async_trait::async_trait;
use serde::Serialize;

use crate::ids::{MeetingName, ParticipantId, TrackId};

/// Something that happened, as told to the app backend.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum WebhookEvent {
    /// A meeting started.
    MeetingStarted {
        /// Meeting.
        meeting: MeetingName,
    },
    /// A meeting ended.
    MeetingEnded {
        /// Meeting.
        meeting: MeetingName,
    },
    /// A participant joined.
    ParticipantJoined {
        /// Meeting.
        meeting: MeetingName,
        /// Participant session.
        participant: ParticipantId,
        /// Identity (token `sub`).
        identity: String,
    },
    /// A participant left.
    ParticipantLeft {
        /// Meeting.
        meeting: MeetingName,
        /// Participant session.
        participant: ParticipantId,
    },
    /// A track was published.
    TrackPublished {
        /// Meeting.
        meeting: MeetingName,
        /// Publisher.
        participant: ParticipantId,
        /// Track.
        track: TrackId,
    },
    /// A track was unpublished.
    TrackUnpublished {
        /// Meeting.
        meeting: MeetingName,
        /// Publisher.
        participant: ParticipantId,
        /// Track.
        track: TrackId,
    },
}

/// Why a webhook could not be delivered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("webhook delivery failed: {0}")]
pub struct WebhookError(pub String);

/// Delivers webhook events (at least once; receivers deduplicate by event id).
#[async_trait]
pub trait WebhookSink: Send + Sync + 'static {
    /// Queues `event` for delivery.
    async fn deliver(&self, event: WebhookEvent) -> Result<(), WebhookError>;
}

/// Records events in memory.
#[derive(Debug, Default)]
pub struct MemoryWebhookSink {
    events: Mutex<Vec<WebhookEvent>>,
}

impl MemoryWebhookSink {
    /// Events delivered so far.
    pub fn events(&self) -> Vec<WebhookEvent> {
        self.events.lock().map(|e| e.clone()).unwrap_or_default()
    }
}

#[async_trait]
impl WebhookSink for MemoryWebhookSink {
    async fn deliver(&self, event: WebhookEvent) -> Result<(), WebhookError> {
        self.events.lock().map_err(|_| WebhookError("poisoned lock".into()))?.push(event);
        Ok(())
    }
}
