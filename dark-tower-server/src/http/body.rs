//! Request bodies of the server API: a JSON object (serde would also take a struct written as
//! an array), decoded strictly, with REST errors for every failure.

use axum::Json;
use axum::extract::{FromRequest, Request};
use dark_tower_core::error::ErrorCode;
use serde::de::DeserializeOwned;

use super::ApiError;

/// A JSON object body decoded as `T`.
#[derive(Debug, Clone)]
pub(super) struct JsonObject<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for JsonObject<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        let Json(value) = Json::<serde_json::Value>::from_request(request, state).await?;
        if !value.is_object() {
            return Err(ApiError::new(ErrorCode::InvalidRequest, "the body must be a JSON object"));
        }
        serde_json::from_value(value)
            .map(JsonObject)
            .map_err(|e| ApiError::new(ErrorCode::InvalidRequest, format!("invalid body: {e}")))
    }
}
