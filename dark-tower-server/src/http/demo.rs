//! The demo meeting app, served at `/` in development mode: static files embedded in the binary
//! at build time (from `assets/demo/`, the committed build of `client-js/demo`; CI rebuilds it
//! and compares), and `POST /demo/token`, which mints a participant token for a name and a
//! meeting so the page can join without an app backend. Both exist only when
//! [`DemoMode`](crate::config::DemoMode) allows (by default: no API keys configured).

use std::time::SystemTime;

use axum::Json;
use axum::extract::State;
use axum::http::{Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use dark_tower_core::error::ErrorCode;
use dark_tower_core::ids::{Identity, MeetingName};
use dark_tower_core::token::{Role, TokenBuilder};
use serde::{Deserialize, Serialize};

use super::body::JsonObject;
use super::{ApiError, ApiState};

#[derive(rust_embed::Embed)]
#[folder = "assets/demo/"]
struct DemoAssets;

fn content_type(path: &str) -> &'static str {
    match path.rsplit('.').next().unwrap_or("") {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "json" | "map" => "application/json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "wasm" => "application/wasm",
        "woff2" => "font/woff2",
        "txt" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

/// Whether the binary holds a demo app (an empty `assets/demo/` builds a server without one).
pub fn has_demo() -> bool {
    DemoAssets::get("index.html").is_some()
}

/// `GET` of anything outside the API: a file of the demo app, or its page for app routes
/// without an extension; `not_found` otherwise or when the demo is off.
pub(super) async fn fallback(State(state): State<ApiState>, method: Method, uri: Uri) -> Response {
    let path = uri.path().trim_start_matches('/');
    let api = path.starts_with("v1/") || path == "v1" || path.starts_with(".well-known/");
    if !state.demo || api || !(method == Method::GET || method == Method::HEAD) {
        return super::error::not_found().await.into_response();
    }
    let path = if path.is_empty() { "index.html" } else { path };
    let (name, file) = match DemoAssets::get(path) {
        Some(f) => (path, f),
        // App routes (no extension) get the page; a missing file is a 404.
        None if !path.rsplit('/').next().unwrap_or("").contains('.') => match DemoAssets::get("index.html") {
            Some(f) => ("index.html", f),
            None => return super::error::not_found().await.into_response(),
        },
        None => return super::error::not_found().await.into_response(),
    };
    // Hashed build outputs never change; the page must be fetched fresh.
    let cache = if name.starts_with("assets/") { "public, max-age=31536000, immutable" } else { "no-cache" };
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, content_type(name)), (header::CACHE_CONTROL, cache)],
        file.data.into_owned(),
    )
        .into_response()
}

/// `POST /demo/token` body.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DemoTokenRequest {
    /// The participant's identity, also shown as its name unless `name` is given.
    pub identity: Identity,
    /// The meeting.
    pub meeting: MeetingName,
    /// Display name.
    #[serde(default)]
    pub name: Option<String>,
}

/// `POST /demo/token` response.
#[derive(Debug, Clone, Serialize)]
pub struct DemoTokenResponse {
    /// A participant token for the meeting, valid for 6 hours.
    pub token: String,
}

pub(super) async fn token(
    State(state): State<ApiState>,
    JsonObject(req): JsonObject<DemoTokenRequest>,
) -> Result<Json<DemoTokenResponse>, ApiError> {
    let Some(issuer) = state.issuer.as_ref().filter(|_| state.demo) else {
        return Err(ApiError::new(ErrorCode::NotFound, "no such endpoint"));
    };
    let name = req.name.unwrap_or_else(|| req.identity.as_str().to_owned());
    if name.len() > 256 {
        return Err(ApiError::new(ErrorCode::InvalidRequest, "name longer than 256 bytes"));
    }
    let builder = TokenBuilder::new(req.identity.as_str())
        .meeting(req.meeting.as_str())
        .name(name)
        .role(Role::Participant);
    let token =
        issuer.issue(&builder, SystemTime::now()).map_err(|e| ApiError::new(e.code(), e.to_string()))?;
    Ok(Json(DemoTokenResponse { token }))
}
