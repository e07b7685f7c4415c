//! The global controller's HTTP API (`/v1`). Errors are `{"error":{"code","message"}}` with the
//! HTTP status of their [`ErrorCode`](dark_tower_core::ErrorCode).

mod error;
mod join;

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::post;
use dark_tower_core::auth::Authenticator;
use dark_tower_core::store::MeetingStore;

pub use error::ApiError;
pub use join::{JoinRequest, JoinResponse};

/// Largest accepted request body.
pub const MAX_BODY: usize = 64 * 1024;

/// What the HTTP handlers need.
#[derive(Clone)]
pub struct ApiState {
    /// Verifies access tokens.
    pub auth: Arc<dyn Authenticator>,
    /// Meeting records.
    pub store: Arc<dyn MeetingStore>,
    /// Joining a missing meeting creates it.
    pub auto_create_meetings: bool,
    /// `https://host:port` of the WebTransport endpoint.
    pub webtransport_base: String,
    /// Certificate hashes clients pin (hex).
    pub certificate_sha256: Vec<String>,
}

/// The `/v1` routes.
pub fn router(state: ApiState) -> Router {
    Router::new()
        .route("/v1/join", post(join::join))
        .fallback(error::not_found)
        .method_not_allowed_fallback(error::method_not_allowed)
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .with_state(state)
}
