//! `/v1/meetings`: create, get, list and end meetings (admin token required).

use std::time::SystemTime;

use axum::Json;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use dark_tower_core::error::ErrorCode;
use dark_tower_core::ids::MeetingName;
use dark_tower_core::store::{MeetingRecord, MeetingSettings, StoreError};
use dark_tower_core::token::unix_secs;
use dark_tower_core::webhook::WebhookEvent;
use serde::{Deserialize, Serialize};

use super::body::JsonObject;
use super::{ApiError, ApiState, params};

/// `POST /v1/meetings` body: a name and optional settings (defaults in [`MeetingSettings`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateMeetingRequest {
    /// 1–128 characters of `A–Z a–z 0–9 - _ .`.
    pub name: MeetingName,
    /// Most participants at once (at least 1; default 100).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_participants: Option<u32>,
    /// Hold non-hosts in a lobby until admitted (default false).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lobby: Option<bool>,
    /// Every client must encrypt media end to end (default false).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub e2ee_required: Option<bool>,
    /// Seconds the meeting stays open once empty, or after creation if nobody joins (default
    /// 300).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub empty_timeout_secs: Option<u32>,
    /// Seconds after creation at which the meeting ends for everyone (at least 1; default none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_duration_secs: Option<u32>,
}

impl CreateMeetingRequest {
    fn settings(&self) -> Result<MeetingSettings, ApiError> {
        let d = MeetingSettings::default();
        let s = MeetingSettings {
            max_participants: self.max_participants.unwrap_or(d.max_participants),
            lobby: self.lobby.unwrap_or(d.lobby),
            e2ee_required: self.e2ee_required.unwrap_or(d.e2ee_required),
            empty_timeout_secs: self.empty_timeout_secs.unwrap_or(d.empty_timeout_secs),
            max_duration_secs: self.max_duration_secs,
        };
        if s.max_participants == 0 {
            return Err(ApiError::new(ErrorCode::InvalidRequest, "max_participants must be at least 1"));
        }
        if s.max_duration_secs == Some(0) {
            return Err(ApiError::new(ErrorCode::InvalidRequest, "max_duration_secs must be at least 1"));
        }
        Ok(s)
    }
}

/// A meeting as the API shows it. Times are seconds since the Unix epoch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Meeting {
    /// The meeting's name.
    pub name: MeetingName,
    /// When it was created.
    pub created_at: u64,
    /// When it ended; `null` while live.
    pub ended_at: Option<u64>,
    /// Most participants at once.
    pub max_participants: u32,
    /// Non-hosts wait in a lobby.
    pub lobby: bool,
    /// Media must be end-to-end encrypted.
    pub e2ee_required: bool,
    /// Seconds the meeting stays open once empty.
    pub empty_timeout_secs: u32,
    /// Seconds after creation at which it ends; `null`: no limit.
    pub max_duration_secs: Option<u32>,
}

impl From<&MeetingRecord> for Meeting {
    fn from(r: &MeetingRecord) -> Self {
        Self {
            name: r.name.clone(),
            created_at: unix_secs(r.created_at),
            ended_at: r.ended_at.map(unix_secs),
            max_participants: r.settings.max_participants,
            lobby: r.settings.lobby,
            e2ee_required: r.settings.e2ee_required,
            empty_timeout_secs: r.settings.empty_timeout_secs,
            max_duration_secs: r.settings.max_duration_secs,
        }
    }
}

/// `GET /v1/meetings` response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MeetingList {
    /// By name, then oldest first.
    pub meetings: Vec<Meeting>,
}

/// `GET /v1/meetings` query.
#[derive(Debug, Clone, Copy, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ListQuery {
    #[serde(default)]
    include_ended: bool,
}

/// A store failure as the API reports it; backend details go to the log only.
pub(super) fn store_error(e: StoreError) -> ApiError {
    match e {
        StoreError::AlreadyExists(name) => {
            ApiError::new(ErrorCode::AlreadyExists, format!("a live meeting named {name} exists"))
        }
        StoreError::NotFound => ApiError::new(ErrorCode::MeetingNotFound, "no such meeting"),
        StoreError::Backend(detail) => {
            tracing::error!(error = %detail, "meeting store failed");
            ApiError::new(ErrorCode::Internal, "the meeting store failed")
        }
    }
}

/// The newest record of `name`, which must be live.
pub(super) async fn live(state: &ApiState, name: &MeetingName) -> Result<MeetingRecord, ApiError> {
    match state.store.get_meeting(name).await.map_err(store_error)? {
        None => Err(ApiError::new(ErrorCode::MeetingNotFound, format!("no meeting named {name}"))),
        Some(r) if r.ended_at.is_some() => {
            Err(ApiError::new(ErrorCode::MeetingEnded, format!("meeting {name} has ended")))
        }
        Some(r) => Ok(r),
    }
}

pub(super) async fn create(
    State(state): State<ApiState>,
    JsonObject(req): JsonObject<CreateMeetingRequest>,
) -> Result<(StatusCode, Json<Meeting>), ApiError> {
    let record = MeetingRecord {
        settings: req.settings()?,
        name: req.name,
        created_at: SystemTime::now(),
        ended_at: None,
    };
    let record = state.store.create_meeting(record).await.map_err(store_error)?;
    // Its empty timeout runs from now, whether or not anyone joins.
    state.mc.open_meeting(&record);
    if let Err(e) =
        state.webhooks.deliver(WebhookEvent::MeetingStarted { meeting: record.name.clone() }).await
    {
        tracing::warn!(meeting = %record.name, error = %e, "webhook delivery failed");
    }
    Ok((StatusCode::CREATED, Json(Meeting::from(&record))))
}

pub(super) async fn get(
    State(state): State<ApiState>,
    path: Result<Path<String>, PathRejection>,
) -> Result<Json<Meeting>, ApiError> {
    let name = params::meeting(path?.0)?;
    match state.store.get_meeting(&name).await.map_err(store_error)? {
        Some(r) => Ok(Json(Meeting::from(&r))),
        None => Err(ApiError::new(ErrorCode::MeetingNotFound, format!("no meeting named {name}"))),
    }
}

pub(super) async fn list(
    State(state): State<ApiState>,
    query: Result<Query<ListQuery>, QueryRejection>,
) -> Result<Json<MeetingList>, ApiError> {
    let Query(q) = query?;
    let records = state.store.list_meetings(q.include_ended).await.map_err(store_error)?;
    Ok(Json(MeetingList { meetings: records.iter().map(Meeting::from).collect() }))
}

/// Ends the meeting for everyone through its meeting controller, then answers with the ended
/// record.
pub(super) async fn end(
    State(state): State<ApiState>,
    path: Result<Path<String>, PathRejection>,
) -> Result<Json<Meeting>, ApiError> {
    let name = params::meeting(path?.0)?;
    let record = live(&state, &name).await?;
    state.mc.end_meeting(&record).await.map_err(|e| ApiError::new(e.code, e.message))?;
    let after = state.store.get_meeting(&name).await.map_err(store_error)?;
    let ended = match after {
        Some(r) if r.created_at == record.created_at && r.ended_at.is_some() => r,
        Some(r) if r.created_at == record.created_at => {
            // The controller could not record the end (it logged why): record it now, or fail.
            let now = SystemTime::now();
            state.store.end_meeting(&name, now).await.map_err(store_error)?;
            MeetingRecord { ended_at: Some(now), ..r }
        }
        // A new meeting of the same name started right after this one ended.
        _ => MeetingRecord { ended_at: Some(SystemTime::now()), ..record },
    };
    Ok(Json(Meeting::from(&ended)))
}
