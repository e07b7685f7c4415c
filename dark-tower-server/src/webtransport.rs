//! The WebTransport endpoint shared by the meeting controller and the media handler. Sessions
//! are authorized from their URL before they are accepted:
//! - `/v1/signal/{meeting}?access_token=<JWT>` → meeting controller;
//! - `/v1/signal/{meeting}?resume_token=<token>` → meeting controller, resuming a participant;
//! - `/v1/media?ticket=<media ticket>` → media handler;
//!
//! anything else is refused (403 for bad credentials, 404 for unknown paths).

use std::sync::Arc;
use std::time::SystemTime;

use dark_tower_core::auth::Authenticator;
use dark_tower_core::ids::MeetingName;
use dark_tower_core::token::TicketKey;
use dark_tower_core::transport::wt::WtSession;
use dark_tower_sfu::MediaHandler;
use dark_tower_signaling::MeetingController;
use wtransport::Endpoint;
use wtransport::endpoint::IncomingSession;
use wtransport::endpoint::endpoint_side::Server;

use crate::admin::Readiness;

/// Where accepted sessions go.
pub struct Routes {
    /// Verifies access tokens on `/v1/signal`.
    pub auth: Arc<dyn Authenticator>,
    /// Verifies media tickets on `/v1/media`.
    pub ticket_key: TicketKey,
    /// Meeting controller.
    pub mc: Arc<MeetingController>,
    /// Media handler.
    pub mh: Arc<MediaHandler>,
    /// New sessions are refused while not ready (starting or draining).
    pub ready: Readiness,
}

/// A request path, split.
#[derive(Debug, PartialEq, Eq)]
pub enum Target {
    /// Signaling for a meeting, with the access token.
    Signal {
        /// Meeting.
        meeting: MeetingName,
        /// Access token.
        token: String,
    },
    /// Signaling for a meeting, resuming a participant with its resume token.
    Resume {
        /// Meeting.
        meeting: MeetingName,
        /// Resume token.
        token: String,
    },
    /// Media, with the ticket.
    Media {
        /// Media ticket.
        ticket: String,
    },
    /// A known path without its credential.
    Unauthorized,
    /// An unknown path.
    NotFound,
}

/// Parses a request path (`:path`, with its query string).
pub fn parse_target(path_and_query: &str) -> Target {
    let Ok(url) = url::Url::parse(&format!("https://host{path_and_query}")) else {
        return Target::NotFound;
    };
    let query = |name: &str| url.query_pairs().find(|(k, _)| k == name).map(|(_, v)| v.into_owned());
    let segments: Vec<_> = url.path_segments().map(|s| s.collect()).unwrap_or_default();
    match segments.as_slice() {
        ["v1", "signal", meeting] => {
            match (MeetingName::new(*meeting), query("access_token"), query("resume_token")) {
                (Err(_), _, _) => Target::NotFound,
                (Ok(meeting), Some(token), None) => Target::Signal { meeting, token },
                (Ok(meeting), None, Some(token)) => Target::Resume { meeting, token },
                (Ok(_), _, _) => Target::Unauthorized,
            }
        }
        ["v1", "media"] => match query("ticket") {
            Some(ticket) => Target::Media { ticket },
            None => Target::Unauthorized,
        },
        _ => Target::NotFound,
    }
}

/// Accepts sessions on `endpoint` until the task is dropped.
pub async fn serve(endpoint: Arc<Endpoint<Server>>, routes: Arc<Routes>) {
    loop {
        let incoming = endpoint.accept().await;
        let routes = Arc::clone(&routes);
        tokio::spawn(async move { handle(incoming, routes).await });
    }
}

async fn handle(incoming: IncomingSession, routes: Arc<Routes>) {
    let request = match incoming.await {
        Ok(r) => r,
        Err(e) => {
            tracing::debug!(error = %e, "incoming session failed");
            return;
        }
    };
    if !routes.ready.get() {
        request.too_many_requests().await;
        return;
    }
    let now = SystemTime::now();
    match parse_target(request.path()) {
        Target::Signal { meeting, token } => {
            let verified = match routes.auth.verify(&token, now) {
                Ok(v) => v,
                Err(e) => {
                    tracing::info!(error = %e, "refusing signaling session");
                    return request.forbidden().await;
                }
            };
            if verified.grant.meeting.as_ref() != Some(&meeting) {
                tracing::info!(%meeting, "refusing signaling session: token for another meeting");
                return request.forbidden().await;
            }
            match request.accept().await {
                // Boxed, so this task is sized for what it runs, not for the largest branch.
                Ok(conn) => Box::pin(routes.mc.serve_session(WtSession(conn), meeting, verified)).await,
                Err(e) => tracing::debug!(error = %e, "signaling session failed during accept"),
            }
        }
        Target::Resume { meeting, token } => {
            let claims = match routes.ticket_key.verify_resume(&token, now) {
                Ok(c) if c.meeting == meeting => c,
                Ok(_) => {
                    tracing::info!(%meeting, "refusing resume: token for another meeting");
                    return request.forbidden().await;
                }
                Err(e) => {
                    tracing::info!(error = %e, "refusing resume");
                    return request.forbidden().await;
                }
            };
            match request.accept().await {
                Ok(conn) => Box::pin(routes.mc.serve_resume_session(WtSession(conn), claims)).await,
                Err(e) => tracing::debug!(error = %e, "resumed signaling session failed during accept"),
            }
        }
        Target::Media { ticket } => {
            let claims = match routes.ticket_key.verify(&ticket, now) {
                Ok(c) => c,
                Err(e) => {
                    tracing::info!(error = %e, "refusing media session");
                    return request.forbidden().await;
                }
            };
            match request.accept().await {
                Ok(conn) => routes.mh.serve_session(WtSession(conn), claims).await,
                Err(e) => tracing::debug!(error = %e, "media session failed during accept"),
            }
        }
        Target::Unauthorized => request.forbidden().await,
        Target::NotFound => request.not_found().await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths() {
        assert!(
            matches!(parse_target("/v1/signal/standup?access_token=abc"), Target::Signal { token, .. } if token == "abc")
        );
        assert_eq!(parse_target("/v1/signal/standup"), Target::Unauthorized);
        assert!(
            matches!(parse_target("/v1/signal/standup?resume_token=r"), Target::Resume { token, .. } if token == "r")
        );
        // One credential or the other, not both.
        assert_eq!(parse_target("/v1/signal/standup?access_token=a&resume_token=r"), Target::Unauthorized);
        assert_eq!(parse_target("/v1/signal/bad%20name?access_token=x"), Target::NotFound);
        assert_eq!(parse_target("/v1/media?ticket=t"), Target::Media { ticket: "t".into() });
        assert_eq!(parse_target("/v1/media"), Target::Unauthorized);
        assert_eq!(parse_target("/other"), Target::NotFound);
    }
}
/// Every open session holds its task's future for its whole life, so the futures' sizes are
/// memory per participant (two sessions each). A 16 KiB read buffer held across an await once made
/// each of them 20 KB; these bounds keep that from creeping back.
#[cfg(test)]
mod future_sizes {
    use dark_tower_core::transport::wt::WtSession;

    fn of2<A, B, Fut, F: FnOnce(A, B) -> Fut>(_: F) -> usize {
        std::mem::size_of::<Fut>()
    }
    fn of3<A, B, C, Fut, F: FnOnce(A, B, C) -> Fut>(_: F) -> usize {
        std::mem::size_of::<Fut>()
    }
    fn of4<A, B, C, D, Fut, F: FnOnce(A, B, C, D) -> Fut>(_: F) -> usize {
        std::mem::size_of::<Fut>()
    }

    #[test]
    fn session_tasks_stay_small() {
        let sizes = [
            ("handle", of2(super::handle)),
            ("MediaHandler::serve_session", of3(dark_tower_sfu::MediaHandler::serve_session::<WtSession>)),
            (
                "MeetingController::serve_session",
                of4(dark_tower_signaling::MeetingController::serve_session::<WtSession>),
            ),
            (
                "MeetingController::serve_resume_session",
                of3(dark_tower_signaling::MeetingController::serve_resume_session::<WtSession>),
            ),
        ];
        for (name, size) in sizes {
            assert!(size <= 6 * 1024, "{name}'s future is {size} bytes");
        }
    }
}
