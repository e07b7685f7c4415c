//! `POST /v1/join`: check the participant's token and tell it where to connect.

use std::time::{SystemTime, UNIX_EPOCH};

use axum::Json;
use axum::extract::State;
use axum::extract::rejection::JsonRejection;
use axum::http::HeaderMap;
use dark_tower_core::error::ErrorCode;
use dark_tower_core::ids::MeetingName;
use dark_tower_core::token::VerifiedToken;
use dark_tower_core::{PROTOCOL_VERSION, PROTOCOL_VERSIONS};
use serde::{Deserialize, Serialize};

use super::{ApiError, ApiState};

/// Request body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JoinRequest {
    /// Signaling protocol version the client speaks.
    pub protocol_version: u32,
    /// The meeting the client means to join; must match the token's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub meeting: Option<MeetingName>,
}

/// Response body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JoinResponse {
    /// The protocol version to speak.
    pub protocol_version: u32,
    /// The meeting.
    pub meeting: MeetingName,
    /// The token's identity.
    pub identity: String,
    /// The token's display name.
    pub participant_name: String,
    /// WebTransport URL of the meeting controller; append `?access_token=<token>`.
    pub signal_url: String,
    /// Certificate hashes to pin (lowercase hex SHA-256); empty when publicly trusted.
    pub certificate_sha256: Vec<String>,
    /// When the token expires, seconds since the epoch.
    pub token_expires_at: u64,
}

/// Extracts and verifies the bearer token.
pub(crate) fn bearer(state: &ApiState, headers: &HeaderMap) -> Result<VerifiedToken, ApiError> {
    let value = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| ApiError::new(ErrorCode::InvalidToken, "missing Authorization: Bearer <token>"))?;
    let token = value
        .strip_prefix("Bearer ")
        .ok_or_else(|| ApiError::new(ErrorCode::InvalidToken, "Authorization must be a Bearer token"))?;
    state.auth.verify(token.trim(), SystemTime::now()).map_err(|e| ApiError::new(e.code(), e.to_string()))
}

pub(super) async fn join(
    State(state): State<ApiState>,
    headers: HeaderMap,
    body: Result<Json<JoinRequest>, JsonRejection>,
) -> Result<Json<JoinResponse>, ApiError> {
    if !state.ready.get() {
        return Err(ApiError::new(
            ErrorCode::ShuttingDown,
            "this server is shutting down; join again shortly",
        ));
    }
    let token = bearer(&state, &headers)?;
    let Json(req) = body?;
    if !PROTOCOL_VERSIONS.contains(&req.protocol_version) {
        return Err(ApiError::new(
            ErrorCode::UnsupportedVersion,
            format!(
                "protocol version {} is not supported; supported: {}..={}",
                req.protocol_version,
                PROTOCOL_VERSIONS.start(),
                PROTOCOL_VERSIONS.end()
            ),
        ));
    }
    let Some(meeting) = token.grant.meeting.clone() else {
        return Err(ApiError::new(ErrorCode::PermissionDenied, "the token names no meeting"));
    };
    if req.meeting.as_ref().is_some_and(|m| *m != meeting) {
        return Err(ApiError::new(ErrorCode::MeetingMismatch, "the token is for another meeting"));
    }
    if !state.auto_create_meetings {
        let live = state
            .store
            .get_meeting(&meeting)
            .await
            .map_err(|e| ApiError::new(ErrorCode::Internal, e.to_string()))?
            .is_some_and(|m| m.ended_at.is_none());
        if !live {
            return Err(ApiError::new(ErrorCode::MeetingNotFound, "no such meeting"));
        }
    }
    let expires = token.expires_at.duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    Ok(Json(JoinResponse {
        protocol_version: PROTOCOL_VERSION,
        signal_url: format!("{}/v1/signal/{}", state.webtransport_base, meeting),
        meeting,
        identity: token.identity.as_str().to_owned(),
        participant_name: token.name,
        certificate_sha256: state.certificate_sha256.clone(),
        token_expires_at: expires,
    }))
}
