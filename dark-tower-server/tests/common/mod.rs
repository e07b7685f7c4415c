//! Shared helpers for the server's integration tests: a real server on loopback ports chosen by
//! the OS, and tokens signed with its development key.
#![allow(dead_code)]

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use dark_tower_client::{ConnectOptions, Room, RoomEvent};
use dark_tower_core::token::{ApiKey, TokenBuilder};
use dark_tower_server::{RunningServer, ServerBuilder, ServerConfig};

static N: AtomicU64 = AtomicU64::new(0);

pub struct TestServer {
    pub server: RunningServer,
    pub key: ApiKey,
    pub url: String,
}

impl TestServer {
    pub async fn start() -> Self {
        Self::start_with(|_| {}).await
    }

    pub async fn start_with(edit: impl FnOnce(&mut ServerConfig)) -> Self {
        let dir = std::env::temp_dir().join(format!(
            "dark-tower-test-{}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed),
            SystemTime::now()
                .duration_since(SystemTime::UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or(0)
        ));
        let mut config = ServerConfig::ephemeral(dir);
        edit(&mut config);
        let server = ServerBuilder::new(config).start().await.expect("server starts");
        let key = server.api_key.clone().expect("development key");
        let url = format!("http://{}", server.http);
        Self { server, key, url }
    }

    pub fn token(&self, meeting: &str, identity: &str) -> String {
        TokenBuilder::new(identity)
            .meeting(meeting)
            .name(identity)
            .sign(&self.key, SystemTime::now())
            .expect("sign")
    }

    pub async fn join(&self, meeting: &str, identity: &str) -> Room {
        dark_tower_client::connect(
            &self.url,
            &self.token(meeting, identity),
            ConnectOptions::default(),
        )
        .await
        .expect("join")
    }
}

/// Waits for the first event matching `f`, failing the test after 20 s.
pub async fn wait_for<T>(room: &mut Room, mut f: impl FnMut(&RoomEvent) -> Option<T>) -> T {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let ev = tokio::time::timeout_at(deadline, room.next_event())
            .await
            .expect("event in time")
            .expect("room open");
        if let Some(v) = f(&ev) {
            return v;
        }
    }
}
