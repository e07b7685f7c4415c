//! `POST /v1/tokens`: mint an access token (admin token required), for app backends that would
//! rather not sign tokens themselves.

use std::time::{Duration, SystemTime};

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use dark_tower_core::error::ErrorCode;
use dark_tower_core::ids::{Identity, MeetingName};
use dark_tower_core::token::{DEFAULT_TTL, Grant, Role, TokenBuilder, unix_secs};
use dark_tower_core::track::TrackSource;
use serde::{Deserialize, Serialize};

use super::body::JsonObject;
use super::{ApiError, ApiState};

/// Longest lifetime a minted token may have.
pub const MAX_TTL: Duration = Duration::from_secs(30 * 24 * 3600);

/// `POST /v1/tokens` body. Grant fields left out take their defaults (participant, may publish,
/// subscribe and send data).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MintTokenRequest {
    /// The identity (`sub`).
    pub identity: Identity,
    /// The meeting; required unless `admin`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub meeting: Option<MeetingName>,
    /// Display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Role in the meeting.
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
    /// Invisible to other participants.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hidden: Option<bool>,
    /// Server administration.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub admin: Option<bool>,
    /// Lifetime in seconds (1 to 30 days; default 6 hours).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttl_secs: Option<u64>,
}

/// `POST /v1/tokens` response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MintTokenResponse {
    /// The signed token (JWT).
    pub token: String,
    /// Its identity.
    pub identity: Identity,
    /// Its meeting, if any.
    pub meeting: Option<MeetingName>,
    /// When it expires, seconds since the Unix epoch.
    pub expires_at: u64,
}

pub(super) async fn mint(
    State(state): State<ApiState>,
    JsonObject(req): JsonObject<MintTokenRequest>,
) -> Result<(StatusCode, Json<MintTokenResponse>), ApiError> {
    let Some(issuer) = &state.issuer else {
        return Err(ApiError::new(ErrorCode::NotFound, "this server mints no tokens (no issuer configured)"));
    };
    let admin = req.admin.unwrap_or(false);
    if req.meeting.is_none() && !admin {
        return Err(ApiError::new(
            ErrorCode::InvalidRequest,
            "a token names a meeting unless it is an admin token",
        ));
    }
    let ttl = Duration::from_secs(req.ttl_secs.unwrap_or(DEFAULT_TTL.as_secs()));
    if ttl.is_zero() || ttl > MAX_TTL {
        return Err(ApiError::new(
            ErrorCode::InvalidRequest,
            "ttl_secs must be between 1 and 2592000 (30 days)",
        ));
    }
    if req.name.as_ref().is_some_and(|n| n.len() > 256) {
        return Err(ApiError::new(ErrorCode::InvalidRequest, "name longer than 256 bytes"));
    }
    let d = Grant::default();
    let grant = Grant {
        meeting: req.meeting.clone(),
        role: req.role.unwrap_or(d.role),
        can_publish: req.can_publish.unwrap_or(d.can_publish),
        can_publish_sources: req.can_publish_sources.unwrap_or(d.can_publish_sources),
        can_subscribe: req.can_subscribe.unwrap_or(d.can_subscribe),
        can_publish_data: req.can_publish_data.unwrap_or(d.can_publish_data),
        hidden: req.hidden.unwrap_or(d.hidden),
        admin,
    };
    let mut builder =
        TokenBuilder::new(req.identity.as_str()).grant(grant).role(req.role.unwrap_or(d.role)).ttl(ttl);
    if let Some(m) = &req.meeting {
        builder = builder.meeting(m.as_str());
    }
    if let Some(n) = &req.name {
        builder = builder.name(n.clone());
    }
    let now = SystemTime::now();
    let token = issuer.issue(&builder, now).map_err(|e| ApiError::new(e.code(), e.to_string()))?;
    Ok((
        StatusCode::CREATED,
        Json(MintTokenResponse {
            token,
            identity: req.identity,
            meeting: req.meeting,
            expires_at: unix_secs(now + ttl),
        }),
    ))
}
