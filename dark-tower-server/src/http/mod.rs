//! The global controller's HTTP API (`/v1`). Errors are `{"error":{"code","message"}}` with the
//! HTTP status of their [`ErrorCode`](dark_tower_core::ErrorCode).
//!
//! `POST /v1/join` takes the participant's own token; every other route is server-to-server and
//! sits behind one layer that demands a token with the admin grant. `docs/openapi.yaml` documents
//! every route (a test checks it against this router).

mod admin_auth;
mod body;
mod demo;
mod error;
mod join;
mod keys;
mod limits;
mod meetings;
mod params;
mod participants;
mod tokens;

use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::http::{HeaderValue, Method, header};
use axum::middleware;
use axum::middleware::Next;
use axum::response::Response;
use axum::routing::{get, post};
use dark_tower_core::auth::{Authenticator, TokenIssuer};
use dark_tower_core::store::MeetingStore;
use dark_tower_core::webhook::WebhookSink;
use dark_tower_signaling::MeetingController;
use tower_http::cors::{AllowOrigin, CorsLayer};

use crate::admin::Readiness;
use crate::config::HttpLimits;
use crate::metrics::{RestLabels, RestLatency};
use crate::signing_keys::SigningKeys;

pub use demo::{DemoTokenRequest, DemoTokenResponse, has_demo};
pub use error::ApiError;
pub use join::{JoinRequest, JoinResponse};
pub use meetings::{CreateMeetingRequest, Meeting, MeetingList};
pub use participants::{Participant, ParticipantList, Permissions, Track, UpdateParticipantRequest};
pub use tokens::{MAX_TTL, MintTokenRequest, MintTokenResponse};

/// Largest accepted request body.
pub const MAX_BODY: usize = 64 * 1024;

/// What the HTTP handlers need.
#[derive(Clone)]
pub struct ApiState {
    /// Verifies access tokens.
    pub auth: Arc<dyn Authenticator>,
    /// Meeting records.
    pub store: Arc<dyn MeetingStore>,
    /// Mints tokens for `POST /v1/tokens`; `None`: that route answers `not_found`.
    pub issuer: Option<Arc<dyn TokenIssuer>>,
    /// The meeting controller, for ending meetings and acting on participants.
    pub mc: Arc<MeetingController>,
    /// Told when a meeting is created through the API.
    pub webhooks: Arc<dyn WebhookSink>,
    /// Joining a missing meeting creates it.
    pub auto_create_meetings: bool,
    /// `https://host:port` of the WebTransport endpoint.
    pub webtransport_base: String,
    /// Certificate hashes clients pin (hex); empty with a CA-signed certificate.
    pub certificate_sha256: Vec<String>,
    /// The server's Ed25519 token keys (`None` with a custom authenticator).
    pub signing: Option<Arc<SigningKeys>>,
    /// Off while draining: joins are refused with `shutting_down`.
    pub ready: Readiness,
    /// Serve the demo app and `POST /demo/token`.
    pub demo: bool,
    /// Where request latencies go (`None`: not measured).
    pub rest_latency: Option<RestLatency>,
}

/// The `/v1` routes. `cors_origins` empty allows any origin (development); otherwise only those.
/// Serve it with `into_make_service_with_connect_info::<SocketAddr>()` so the rate limits apply
/// per client address.
pub fn router(state: ApiState, cors_origins: &[String], limits: &HttpLimits) -> Result<Router, String> {
    let admin = Router::new()
        .route("/v1/meetings", post(meetings::create).get(meetings::list))
        .route("/v1/meetings/{name}", get(meetings::get).delete(meetings::end))
        .route("/v1/meetings/{name}/end", post(meetings::end))
        .route("/v1/meetings/{name}/participants", get(participants::list))
        .route(
            "/v1/meetings/{name}/participants/{identity}",
            axum::routing::delete(participants::remove).patch(participants::update),
        )
        .route("/v1/meetings/{name}/participants/{identity}/tracks/{track_id}/mute", post(participants::mute))
        .route("/v1/tokens", post(tokens::mint))
        .route("/v1/signing-keys/rotate", post(keys::rotate))
        .route_layer(middleware::from_fn_with_state(state.clone(), admin_auth::require_admin));
    Ok(Router::new()
        .route("/v1/join", post(join::join))
        .route("/.well-known/jwks.json", get(keys::jwks))
        .route("/demo/token", post(demo::token))
        .merge(admin)
        .fallback(demo::fallback)
        .method_not_allowed_fallback(error::method_not_allowed)
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .layer(middleware::from_fn_with_state(state.clone(), record_latency))
        .layer(middleware::from_fn_with_state(limits::Limits::new(limits), limits::enforce))
        .layer(cors(cors_origins)?)
        .with_state(state))
}

/// Records how long each request took, by route template, method and status class.
async fn record_latency(State(state): State<ApiState>, request: Request, next: Next) -> Response {
    let Some(family) = state.rest_latency.clone() else { return next.run(request).await };
    let method = match *request.method() {
        Method::GET | Method::POST | Method::DELETE | Method::PATCH | Method::PUT | Method::OPTIONS => {
            request.method().as_str().to_owned()
        }
        _ => "other".to_owned(),
    };
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".into());
    let started = Instant::now();
    let response = next.run(request).await;
    let status = format!("{}xx", response.status().as_u16() / 100);
    family.get_or_create(&RestLabels { method, route, status }).observe(started.elapsed().as_secs_f64());
    response
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
