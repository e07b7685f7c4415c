//! Path and query parameters, validated into typed ids with REST errors.

use axum::extract::rejection::{PathRejection, QueryRejection};
use dark_tower_core::error::ErrorCode;
use dark_tower_core::ids::{Identity, MeetingName, TrackId};

use super::ApiError;

impl From<PathRejection> for ApiError {
    fn from(r: PathRejection) -> Self {
        ApiError::new(ErrorCode::InvalidRequest, r.body_text())
    }
}

impl From<QueryRejection> for ApiError {
    fn from(r: QueryRejection) -> Self {
        ApiError::new(ErrorCode::InvalidRequest, r.body_text())
    }
}

pub(super) fn meeting(name: String) -> Result<MeetingName, ApiError> {
    MeetingName::new(name).map_err(|e| ApiError::new(ErrorCode::InvalidRequest, e.to_string()))
}

pub(super) fn identity(identity: String) -> Result<Identity, ApiError> {
    Identity::new(identity).map_err(|e| ApiError::new(ErrorCode::InvalidRequest, e.to_string()))
}

pub(super) fn track(track: &str) -> Result<TrackId, ApiError> {
    track
        .parse()
        .map_err(|e: dark_tower_core::ids::IdError| ApiError::new(ErrorCode::InvalidRequest, e.to_string()))
}
