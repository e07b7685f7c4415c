//! The global controller's HTTP API (`/v1`). Errors are `{"error":{"code","message"}}` with the
//! HTTP status of their [`ErrorCode`](dark_tower_core::ErrorCode).

mod error;
mod join;

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderValue, Method, header};
use axum::routing::post;
use dark_tower_core::auth::Authenticator;
use dark_tower_core::store::MeetingStore;
use tower_http::cors::{AllowOrigin, CorsLayer};

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

/// The `/v1` routes. `cors_origins` empty allows any origin (development); otherwise only those.
pub fn router(state: ApiState, cors_origins: &[String]) -> Result<Router, String> {
    Ok(Router::new()
        .route("/v1/join", post(join::join))
        .fallback(error::not_found)
        .method_not_allowed_fallback(error::method_not_allowed)
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .layer(cors(cors_origins)?)
        .with_state(state))
}

fn cors(origins: &[String]) -> Result<CorsLayer, String> {
    let layer = CorsLayer::new()
        .allow_methods([Method::GET, Method::POST, Method::DELETE, Method::PATCH])
        .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE])
        .max_age(std::time::Duration::from_secs(600));
    if origins.is_empty() {
        return Ok(layer.allow_origin(AllowOrigin::any()));
    }
    let list = origins
        .iter()
        .map(|o| HeaderValue::from_str(o).map_err(|_| format!("invalid CORS origin {o:?}")))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(layer.allow_origin(list))
}
