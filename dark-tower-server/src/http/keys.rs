//! The server's Ed25519 signing keys over HTTP: the public JWKS (`GET /.well-known/jwks.json`,
//! no token: anyone may verify the server's tokens) and rotation (`POST
//! /v1/signing-keys/rotate`, admin token).

use std::time::SystemTime;

use axum::Json;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use dark_tower_core::error::ErrorCode;

use super::{ApiError, ApiState};
use crate::signing_keys::{Rotation, SigningKeys};

fn keys(state: &ApiState) -> Result<&SigningKeys, ApiError> {
    state.signing.as_deref().ok_or_else(|| {
        ApiError::new(ErrorCode::NotFound, "this server has no signing keys (custom authenticator)")
    })
}

pub(super) async fn jwks(State(state): State<ApiState>) -> Result<impl IntoResponse, ApiError> {
    let doc = keys(&state)?.jwks(SystemTime::now());
    // Verifiers may cache for a minute; a rotation keeps the old key published for the overlap.
    Ok(([(header::CACHE_CONTROL, "public, max-age=60")], Json(doc)))
}

pub(super) async fn rotate(State(state): State<ApiState>) -> Result<Json<Rotation>, ApiError> {
    let r = keys(&state)?
        .rotate(SystemTime::now())
        .map_err(|e| ApiError::new(ErrorCode::Internal, format!("cannot save the new key: {e}")))?;
    tracing::info!(active = %r.active, "signing key rotated");
    Ok(Json(r))
}
