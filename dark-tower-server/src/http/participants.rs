//! `/v1/meetings/{name}/participants`: list, remove, mute a track, update role and permissions
//! (admin token required). Participants are addressed by identity; every session of that identity
//! in the meeting is acted on. Commands go through the meeting controller, so clients see them
//! exactly as they see a host's moderation.

use axum::Json;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use dark_tower_core::error::{ErrorCode, WireError};
use dark_tower_core::ids::{Identity, MeetingName, ParticipantId, TrackId};
use dark_tower_core::token::{Role, unix_secs};
use dark_tower_core::track::{TrackKind, TrackSource};
use dark_tower_signaling::meeting::{AdminCommand, AdminReply, GrantUpdate, ParticipantSnapshot};
use serde::{Deserialize, Serialize};

use super::body::JsonObject;
use super::meetings::live;
use super::{ApiError, ApiState, params};

/// A participant session as the API shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Participant {
    /// Session id (`PA_…`).
    pub id: ParticipantId,
    /// Identity (the token's `sub`).
    pub identity: Identity,
    /// Display name.
    pub name: String,
    /// Role now.
    pub role: Role,
    /// Permissions now.
    pub permissions: Permissions,
    /// When it joined, seconds since the Unix epoch.
    pub joined_at: u64,
    /// Published tracks.
    pub tracks: Vec<Track>,
}

/// What a participant may do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Permissions {
    /// May publish.
    pub can_publish: bool,
    /// Sources it may publish; empty: all.
    pub can_publish_sources: Vec<TrackSource>,
    /// May subscribe.
    pub can_subscribe: bool,
    /// May send data messages.
    pub can_publish_data: bool,
    /// Invisible to the other participants.
    pub hidden: bool,
}

/// A published track.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Track {
    /// Track id (`TR_…`).
    pub id: TrackId,
    /// `audio` or `video`.
    pub kind: TrackKind,
    /// `camera`, `microphone`, `screen`, `screen_audio`.
    pub source: TrackSource,
    /// Codec.
    pub codec: String,
    /// The publisher's name for it.
    pub name: String,
    /// Muted now.
    pub muted: bool,
    /// Simulcast layers.
    pub layers: u8,
}

impl From<ParticipantSnapshot> for Participant {
    fn from(p: ParticipantSnapshot) -> Self {
        Self {
            id: p.id,
            identity: p.identity,
            name: p.name,
            role: p.grant.role,
            permissions: Permissions {
                can_publish: p.grant.can_publish,
                can_publish_sources: p.grant.can_publish_sources,
                can_subscribe: p.grant.can_subscribe,
                can_publish_data: p.grant.can_publish_data,
                hidden: p.grant.hidden,
            },
            joined_at: unix_secs(p.joined_at),
            tracks: p
                .tracks
                .into_iter()
                .map(|t| Track {
                    id: t.id,
                    kind: t.kind,
                    source: t.source,
                    codec: t.codec,
                    name: t.name,
                    muted: t.muted,
                    layers: t.layers,
                })
                .collect(),
        }
    }
}

/// `GET …/participants` and `PATCH …/participants/{identity}` response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParticipantList {
    /// The meeting.
    pub name: MeetingName,
    /// In join order.
    pub participants: Vec<Participant>,
}

/// `PATCH …/participants/{identity}` body: the fields to change.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateParticipantRequest {
    /// New role.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<Role>,
    /// May publish.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub can_publish: Option<bool>,
    /// Sources it may publish; empty: all.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub can_publish_sources: Option<Vec<TrackSource>>,
    /// May subscribe.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub can_subscribe: Option<bool>,
    /// May send data messages.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub can_publish_data: Option<bool>,
}

fn wire(e: WireError) -> ApiError {
    ApiError::new(e.code, e.message)
}

fn nobody(identity: &Identity) -> ApiError {
    ApiError::new(ErrorCode::NotFound, format!("{identity} is not in the meeting"))
}

/// Runs `command` in the live meeting `name`; `None` when nobody is in it.
async fn admin(
    state: &ApiState,
    name: &MeetingName,
    command: AdminCommand,
) -> Result<Option<AdminReply>, ApiError> {
    live(state, name).await?;
    state.mc.admin(name, command).await.map_err(wire)
}

pub(super) async fn list(
    State(state): State<ApiState>,
    path: Result<Path<String>, PathRejection>,
) -> Result<Json<ParticipantList>, ApiError> {
    let name = params::meeting(path?.0)?;
    let participants = match admin(&state, &name, AdminCommand::Roster).await? {
        Some(AdminReply::Roster(r)) => r.into_iter().map(Participant::from).collect(),
        Some(_) => return Err(ApiError::new(ErrorCode::Internal, "unexpected reply to a roster request")),
        None => Vec::new(),
    };
    Ok(Json(ParticipantList { name, participants }))
}

pub(super) async fn remove(
    State(state): State<ApiState>,
    path: Result<Path<(String, String)>, PathRejection>,
) -> Result<StatusCode, ApiError> {
    let Path((name, identity)) = path?;
    let (name, identity) = (params::meeting(name)?, params::identity(identity)?);
    match admin(&state, &name, AdminCommand::Remove { identity: identity.clone() }).await? {
        Some(_) => Ok(StatusCode::NO_CONTENT),
        None => Err(nobody(&identity)),
    }
}

pub(super) async fn mute(
    State(state): State<ApiState>,
    path: Result<Path<(String, String, String)>, PathRejection>,
) -> Result<StatusCode, ApiError> {
    let Path((name, identity, track)) = path?;
    let (name, identity, track) =
        (params::meeting(name)?, params::identity(identity)?, params::track(&track)?);
    match admin(&state, &name, AdminCommand::MuteTrack { identity: identity.clone(), track }).await? {
        Some(_) => Ok(StatusCode::NO_CONTENT),
        None => Err(nobody(&identity)),
    }
}

pub(super) async fn update(
    State(state): State<ApiState>,
    path: Result<Path<(String, String)>, PathRejection>,
    JsonObject(req): JsonObject<UpdateParticipantRequest>,
) -> Result<Json<ParticipantList>, ApiError> {
    let Path((name, identity)) = path?;
    let (name, identity) = (params::meeting(name)?, params::identity(identity)?);
    if req == UpdateParticipantRequest::default() {
        return Err(ApiError::new(ErrorCode::InvalidRequest, "nothing to change"));
    }
    let update = GrantUpdate {
        role: req.role,
        can_publish: req.can_publish,
        can_publish_sources: req.can_publish_sources,
        can_subscribe: req.can_subscribe,
        can_publish_data: req.can_publish_data,
    };
    match admin(&state, &name, AdminCommand::Update { identity: identity.clone(), update }).await? {
        Some(AdminReply::Updated(p)) => {
            Ok(Json(ParticipantList { name, participants: p.into_iter().map(Participant::from).collect() }))
        }
        Some(_) => Err(ApiError::new(ErrorCode::Internal, "unexpected reply to an update")),
        None => Err(nobody(&identity)),
    }
}
