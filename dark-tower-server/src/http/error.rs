//! The REST error body and the mapping of request-parsing failures.

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use dark_tower_core::error::ErrorCode;
use serde_json::json;

/// An API error: a code (which decides the status) and a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// The code.
    pub code: ErrorCode,
    /// Human-readable detail; never contains secrets.
    pub message: String,
}

impl ApiError {
    /// A new error.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self { code, message: message.into() }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status =
            StatusCode::from_u16(self.code.spec().http_status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = json!({ "error": { "code": self.code.name(), "message": self.message } });
        (status, Json(body)).into_response()
    }
}

impl From<JsonRejection> for ApiError {
    fn from(r: JsonRejection) -> Self {
        match r {
            JsonRejection::JsonDataError(e) => ApiError::new(ErrorCode::InvalidRequest, e.body_text()),
            JsonRejection::JsonSyntaxError(e) => ApiError::new(ErrorCode::Malformed, e.body_text()),
            JsonRejection::MissingJsonContentType(_) => {
                ApiError::new(ErrorCode::Malformed, "expected Content-Type: application/json")
            }
            other if other.status() == StatusCode::PAYLOAD_TOO_LARGE => ApiError::new(
                ErrorCode::MessageTooLarge,
                format!("request body above {} bytes", super::MAX_BODY),
            ),
            other => ApiError::new(ErrorCode::Malformed, other.body_text()),
        }
    }
}

pub(super) async fn method_not_allowed() -> Response {
    let body =
        json!({ "error": { "code": ErrorCode::InvalidRequest.name(), "message": "method not allowed" } });
    (StatusCode::METHOD_NOT_ALLOWED, Json(body)).into_response()
}

pub(super) async fn not_found() -> ApiError {
    ApiError::new(ErrorCode::NotFound, "no such endpoint")
}
