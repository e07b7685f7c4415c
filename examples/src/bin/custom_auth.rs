//! An embedded server that trusts the application's own sessions instead of Dark Tower tokens:
//! a custom [`Authenticator`] looks the bearer string up in the app's session table (here a
//! fixed map; in an app, its database or its identity provider) and grants what that session
//! may do. Everything else (REST join, signaling, media) is the stock server.
//!
//! ```sh
//! cargo run -p dark-tower-examples --bin custom_auth
//! # then join with the bearer string "session-alice" (or "session-admin" for the server API)
//! ```

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use dark_tower_core::auth::Authenticator;
use dark_tower_core::ids::{Identity, MeetingName};
use dark_tower_core::store::MemoryMeetingStore;
use dark_tower_core::token::{Grant, Role, TokenError, VerifiedToken};
use dark_tower_server::{ServerBuilder, ServerConfig};

/// The app's sessions: opaque session id → (user, meeting, role, admin).
struct AppSessions {
    sessions: HashMap<String, (String, Option<String>, Role, bool)>,
}

impl Authenticator for AppSessions {
    fn verify(&self, token: &str, now: SystemTime) -> Result<VerifiedToken, TokenError> {
        let (user, meeting, role, admin) =
            self.sessions.get(token).ok_or_else(|| TokenError::Invalid("unknown session".into()))?;
        let meeting = meeting
            .as_deref()
            .map(|m| MeetingName::new(m).map_err(|e| TokenError::Invalid(e.to_string())))
            .transpose()?;
        let grant = Grant { meeting, role: *role, admin: *admin, ..Grant::default() };
        Ok(VerifiedToken {
            identity: Identity::new(user.clone()).map_err(|e| TokenError::Invalid(e.to_string()))?,
            name: user.clone(),
            grant,
            // The app's sessions last an hour from now (a real app reads the session's expiry).
            expires_at: now + Duration::from_secs(3600),
            key_id: "app-session".into(),
        })
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut sessions = HashMap::new();
    sessions.insert("session-alice".into(), ("alice".into(), Some("standup".into()), Role::Host, false));
    sessions.insert("session-bob".into(), ("bob".into(), Some("standup".into()), Role::Participant, false));
    sessions.insert("session-admin".into(), ("ops".into(), None, Role::Participant, true));
    let data_dir = std::env::temp_dir().join(format!("dark-tower-custom-auth-{}", std::process::id()));
    let server = ServerBuilder::new(ServerConfig::ephemeral(data_dir))
        .authenticator(Arc::new(AppSessions { sessions }))
        .store(Arc::new(MemoryMeetingStore::default()))
        .start()
        .await?;
    println!("{}", server.ready_line());
    server.wait().await;
    Ok(())
}
