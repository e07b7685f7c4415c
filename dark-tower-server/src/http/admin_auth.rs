//! The layer in front of every server-to-server route: a bearer token carrying the admin grant.
//! Missing, malformed, badly signed or expired tokens get 401 (`invalid_token`,
//! `token_expired`); a valid token without the admin grant gets 403 (`permission_denied`).

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use dark_tower_core::error::ErrorCode;

use super::join::bearer;
use super::{ApiError, ApiState};

/// Lets the request through only with an admin token; runs before any body is read.
pub(super) async fn require_admin(
    State(state): State<ApiState>,
    request: Request,
    next: Next,
) -> Result<Response, ApiError> {
    let token = bearer(&state, request.headers())?;
    if !token.grant.admin {
        return Err(ApiError::new(
            ErrorCode::PermissionDenied,
            "this call needs a token with the admin grant (dark-tower-server token create --admin)",
        ));
    }
    Ok(next.run(request).await)
}
