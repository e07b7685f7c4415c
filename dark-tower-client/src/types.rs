//! What a client sees of a meeting: tracks, participants, frames, and the events that report
//! changes to them.

use bytes::Bytes;
use dark_tower_core::codec::media::MediaHeader;
use dark_tower_core::error::ErrorCode;
use dark_tower_core::ids::{ParticipantId, TrackAlias, TrackId};
use dark_tower_core::proto::sig;
use dark_tower_core::token::Role;
use dark_tower_core::track::{TrackKind, TrackSource};

/// A published track as the client sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrackInfo {
    /// Server-assigned id.
    pub id: TrackId,
    /// Alias its frames carry.
    pub alias: TrackAlias,
    /// Audio or video.
    pub kind: TrackKind,
    /// Camera, microphone, screen…
    pub source: TrackSource,
    /// Codec string.
    pub codec: String,
    /// Number of simulcast layers.
    pub layers: u8,
    /// Publisher's label.
    pub name: String,
    /// Muted by its publisher or a moderator.
    pub muted: bool,
    /// Its publisher encrypts it end to end (SFrame).
    pub encrypted: bool,
}

impl TrackInfo {
    pub(crate) fn from_proto(t: &sig::Track) -> Option<Self> {
        Some(Self {
            id: t.id.parse().ok()?,
            alias: TrackAlias(t.alias),
            kind: TrackKind::from_proto(t.kind)?,
            source: TrackSource::from_proto(t.source)?,
            codec: t.codec.clone(),
            layers: t.layers.len().max(1) as u8,
            name: t.name.clone(),
            muted: t.muted,
            encrypted: t.encrypted,
        })
    }
}

/// A participant as the client sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParticipantInfo {
    /// Session id.
    pub id: ParticipantId,
    /// Identity (token `sub`).
    pub identity: String,
    /// Display name.
    pub name: String,
    /// Published tracks.
    pub tracks: Vec<TrackInfo>,
    /// Role in the meeting.
    pub role: Role,
    /// What it may do now.
    pub permissions: sig::Permissions,
    /// Its connection dropped; it is expected back within the resume grace period.
    pub reconnecting: bool,
    /// Free-form application data about it.
    pub metadata: String,
}

impl ParticipantInfo {
    pub(crate) fn from_proto(p: &sig::Participant) -> Option<Self> {
        Some(Self {
            id: p.id.parse().ok()?,
            identity: p.identity.clone(),
            name: p.name.clone(),
            tracks: p.tracks.iter().filter_map(TrackInfo::from_proto).collect(),
            role: match sig::Role::try_from(p.role) {
                Ok(sig::Role::Host) => Role::Host,
                Ok(sig::Role::Guest) => Role::Guest,
                Ok(sig::Role::Viewer) => Role::Viewer,
                _ => Role::Participant,
            },
            permissions: p.permissions.clone().unwrap_or_default(),
            reconnecting: p.reconnecting,
            metadata: p.metadata.clone(),
        })
    }
}

/// How a subscription is received: the layer (directly, or from the size the track is rendered
/// at) and whether it is paused. The default receives the highest layer.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SubscriptionSettings {
    /// Highest simulcast layer wanted.
    pub max_spatial: Option<u8>,
    /// The size the track is rendered at (width, height): the largest layer that fits is sent.
    pub max_size: Option<(u32, u32)>,
    /// Receive nothing until unpaused (the subscription is kept).
    pub paused: bool,
}

/// A participant's connection quality.
pub type ConnectionQuality = sig::ConnectionQualityLevel;

/// A received media frame.
#[derive(Debug, Clone)]
pub struct RemoteFrame {
    /// Publisher, if the track is known.
    pub participant: Option<ParticipantId>,
    /// Track, if known.
    pub track: Option<TrackId>,
    /// Routing header.
    pub header: MediaHeader,
    /// Payload as published.
    pub payload: Bytes,
    /// Arrived as a datagram (else on a group stream).
    pub datagram: bool,
}

/// Something that happened in the meeting.
#[derive(Debug, Clone)]
pub enum RoomEvent {
    /// Someone joined.
    ParticipantJoined(ParticipantInfo),
    /// Someone left (their tracks are gone with them).
    ParticipantLeft {
        /// Who.
        participant: ParticipantId,
        /// Why.
        reason: sig::LeaveReason,
    },
    /// Someone published a track.
    TrackPublished {
        /// Who.
        participant: ParticipantId,
        /// The track.
        track: TrackInfo,
    },
    /// Someone unpublished a track.
    TrackUnpublished {
        /// Who.
        participant: ParticipantId,
        /// The track.
        track: TrackId,
    },
    /// A media frame arrived.
    Frame(RemoteFrame),
    /// With end-to-end encryption on, a frame arrived that could not be decrypted (no key, the
    /// wrong key, or tampered). It is dropped: no [`RoomEvent::Frame`] for it.
    EncryptionError {
        /// The publisher, if the track is known.
        participant: Option<ParticipantId>,
        /// The track, if known.
        track: Option<TrackId>,
        /// Why.
        error: crate::e2ee::E2eeError,
    },
    /// A track was muted or unmuted.
    TrackMuted {
        /// Whose track.
        participant: ParticipantId,
        /// Which.
        track: TrackId,
        /// Muted now.
        muted: bool,
        /// The moderator who muted it, if not a self mute.
        by: Option<ParticipantId>,
    },
    /// A participant's role or permissions changed (this participant's too).
    ParticipantUpdated(ParticipantInfo),
    /// The meeting's settings changed.
    MeetingUpdated {
        /// Locked to new participants.
        locked: bool,
        /// Non-moderators wait in a lobby.
        lobby: bool,
    },
    /// To moderators: the participants waiting in the lobby now.
    LobbyUpdated(Vec<ParticipantInfo>),
    /// The participants speaking now changed: loudest first, with a level from 0 to 1.
    ActiveSpeakersChanged(Vec<(ParticipantId, f32)>),
    /// Dynacast: the layers of one of this participant's tracks that anyone watches; the others
    /// need not be encoded until they appear here again.
    LayersWanted {
        /// The track.
        track: TrackId,
        /// Wanted spatial layers, ascending (empty: nobody watches).
        layers: Vec<u8>,
    },
    /// The media handler needs a keyframe of one of this participant's tracks: encode one soon.
    KeyframeRequested {
        /// The track.
        track: TrackId,
        /// The layer.
        spatial_id: u8,
    },
    /// A data message arrived.
    DataReceived {
        /// Sender.
        from: Option<ParticipantId>,
        /// Topic.
        topic: String,
        /// Payload.
        payload: Bytes,
        /// Came on the reliable (ordered) path.
        reliable: bool,
    },
    /// A participant's connection quality changed (this participant's too).
    ConnectionQualityChanged {
        /// Whose.
        participant: ParticipantId,
        /// Excellent, good, poor or lost (reconnecting).
        quality: ConnectionQuality,
        /// Round-trip time of its connection, milliseconds.
        rtt_ms: u32,
        /// Fraction of its packets lost recently, 0 to 1.
        loss: f32,
    },
    /// This client's connection dropped; it is resuming (same participant, tracks and
    /// subscriptions). Requests made meanwhile are sent once it is back.
    Reconnecting,
    /// Resumed after [`RoomEvent::Reconnecting`]; every event missed meanwhile follows.
    Reconnected,
    /// An error the server sent outside any request.
    Error {
        /// Code.
        code: ErrorCode,
        /// Message.
        message: String,
    },
    /// The session ended; no more events follow.
    Disconnected {
        /// The server's code, if it sent one.
        code: Option<ErrorCode>,
        /// Why.
        reason: String,
    },
}
