//! Shared helpers for the server's integration tests: a real server on loopback ports chosen by
//! the OS, and tokens signed with its development key.
#![allow(dead_code)]

pub mod media_node;
pub mod throttle;

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use dark_tower_client::{ConnectOptions, Room, RoomEvent};
use dark_tower_core::ErrorCode;
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
        Self::start_with_store(edit, None).await
    }

    /// A server using `store` when given, else the one its configuration names.
    pub async fn start_with_store(
        edit: impl FnOnce(&mut ServerConfig),
        store: Option<std::sync::Arc<dyn dark_tower_core::store::MeetingStore>>,
    ) -> Self {
        let dir = std::env::temp_dir().join(format!(
            "dark-tower-test-{}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed),
            SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0)
        ));
        let mut config = ServerConfig::ephemeral(dir);
        edit(&mut config);
        let mut builder = ServerBuilder::new(config);
        if let Some(store) = store {
            builder = builder.store(store);
        }
        let server = builder.start().await.expect("server starts");
        let key = server.api_key.clone().expect("development key");
        let url = format!("http://{}", server.http);
        Self { server, key, url }
    }

    /// A token with the admin grant, for the server-to-server API.
    pub fn admin_token(&self) -> String {
        TokenBuilder::new("ops").admin(true).sign(&self.key, SystemTime::now()).expect("sign")
    }

    /// A request to the HTTP API with the admin token.
    pub fn api(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        reqwest::Client::new().request(method, format!("{}{path}", self.url)).bearer_auth(self.admin_token())
    }

    pub fn token(&self, meeting: &str, identity: &str) -> String {
        TokenBuilder::new(identity)
            .meeting(meeting)
            .name(identity)
            .sign(&self.key, SystemTime::now())
            .expect("sign")
    }

    pub async fn join_as(&self, meeting: &str, identity: &str, role: dark_tower_core::token::Role) -> Room {
        let token = TokenBuilder::new(identity)
            .meeting(meeting)
            .name(identity)
            .role(role)
            .sign(&self.key, SystemTime::now())
            .expect("sign");
        dark_tower_client::connect(&self.url, &token, ConnectOptions::default()).await.expect("join")
    }

    pub async fn join(&self, meeting: &str, identity: &str) -> Room {
        dark_tower_client::connect(&self.url, &self.token(meeting, identity), ConnectOptions::default())
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

use dark_tower_core::codec::signal;
use dark_tower_core::proto::sig;
use dark_tower_core::transport::wt::{self, ConnectError, WtRecv, WtSend, WtSession};
use dark_tower_core::transport::{RecvStream, SendStream, Session, TransportError};

/// A signaling session opened by hand, to send what a well-behaved client never would.
pub struct RawSignal {
    pub session: WtSession,
    pub send: WtSend,
    pub recv: WtRecv,
}

impl TestServer {
    pub fn signal_url(&self, meeting: &str, token: &str) -> String {
        format!("https://{}/v1/signal/{meeting}?access_token={token}", self.server.webtransport[0])
    }

    pub async fn raw_connect(&self, url: &str) -> Result<WtSession, ConnectError> {
        wt::connect(url, std::slice::from_ref(&self.server.certificate_sha256)).await
    }

    pub async fn raw_signal(&self, meeting: &str, identity: &str) -> RawSignal {
        let session = self
            .raw_connect(&self.signal_url(meeting, &self.token(meeting, identity)))
            .await
            .expect("connect");
        let (send, recv) = session.open_bi().await.expect("open stream");
        RawSignal { session, send, recv }
    }
}

impl RawSignal {
    pub async fn send_raw(&mut self, bytes: &[u8]) {
        self.send.write_all(bytes).await.expect("write");
    }

    pub async fn send_join(&mut self, version: u32) {
        let join = sig::ClientMessage {
            request_id: 0,
            message: Some(sig::client_message::Message::Join(sig::Join {
                protocol_version: version,
                client: None,
                auto_subscribe: true,
            })),
        };
        let bytes = signal::frame(&join).expect("frame");
        self.send_raw(&bytes).await;
    }

    /// Reads server messages until the session closes; returns them and the close code.
    pub async fn until_closed(mut self) -> (Vec<sig::ServerMessage>, Option<u32>) {
        let mut reader = signal::MessageReader::new(dark_tower_core::limits::MAX_SIGNAL_MESSAGE);
        let mut out = Vec::new();
        let mut buf = [0u8; 4096];
        let read = async {
            while let Ok(Some(n)) = self.recv.read(&mut buf).await {
                reader.push(&buf[..n]);
                while let Ok(Some(body)) = reader.next_message() {
                    if let Ok(m) = signal::decode_server(body) {
                        out.push(m);
                    }
                }
            }
        };
        tokio::time::timeout(Duration::from_secs(20), read).await.expect("stream ends in time");
        let code = match tokio::time::timeout(Duration::from_secs(20), self.session.closed()).await {
            Ok(TransportError::ClosedByPeer { code, .. }) => Some(code),
            _ => None,
        };
        (out, code)
    }
}

/// Waits for the session to be closed by the server; returns the close code.
pub async fn closed_code(session: &WtSession) -> Option<u32> {
    match tokio::time::timeout(Duration::from_secs(20), session.closed()).await.expect("closed in time") {
        TransportError::ClosedByPeer { code, .. } => Some(code),
        _ => None,
    }
}

/// Proves a meeting still works: a fresh participant joins, sees `bystander`, and both can ping.
pub async fn meeting_still_works(t: &TestServer, meeting: &str, bystander: &Room) {
    let probe = t.join(meeting, "probe").await;
    assert!(
        probe.remote_participants().iter().any(|p| p.id == bystander.local_participant().id),
        "the bystander is still in the meeting"
    );
    probe.ping().await.expect("probe ping");
    bystander.ping().await.expect("bystander ping");
    probe.leave().await;
}

/// The status and JSON body of a response (`Null` for an empty body).
pub async fn status_json(resp: reqwest::Response) -> (u16, serde_json::Value) {
    let status = resp.status().as_u16();
    let bytes = resp.bytes().await.expect("body");
    if bytes.is_empty() {
        return (status, serde_json::Value::Null);
    }
    let body = serde_json::from_slice(&bytes)
        .unwrap_or_else(|e| panic!("JSON body ({e}): {}", String::from_utf8_lossy(&bytes)));
    (status, body)
}

/// Asserts a REST error: the status and `error.code`.
pub fn assert_error(got: &(u16, serde_json::Value), status: u16, code: ErrorCode) {
    assert_eq!(got.0, status, "status of {}", got.1);
    assert_eq!(got.1["error"]["code"], code.name(), "code of {}", got.1);
    assert!(got.1["error"]["message"].as_str().is_some_and(|m| !m.is_empty()), "a message in {}", got.1);
}

/// A schema of its own in the PostgreSQL at `DATABASE_URL` (default
/// `postgres://postgres@127.0.0.1:5432/test`), so parallel tests never see each other's rows.
/// An unreachable database fails the test.
#[cfg(feature = "postgres")]
pub struct PgSchema {
    pub options: sqlx::postgres::PgConnectOptions,
    name: String,
    admin: sqlx::postgres::PgConnection,
}

#[cfg(feature = "postgres")]
impl PgSchema {
    pub async fn create() -> Self {
        use sqlx::Connection;
        use std::str::FromStr;
        let url = std::env::var("DATABASE_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
        let base = sqlx::postgres::PgConnectOptions::from_str(&url).expect("DATABASE_URL is a postgres URL");
        let mut admin = sqlx::postgres::PgConnection::connect_with(&base).await.unwrap_or_else(|e| {
            panic!("PostgreSQL at DATABASE_URL must be reachable for the postgres feature's tests: {e}")
        });
        let name = format!(
            "dt_test_{}_{}_{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed),
            SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0)
        );
        sqlx::query(&format!("CREATE SCHEMA {name}")).execute(&mut admin).await.expect("create schema");
        let options = base.options([("search_path", name.as_str())]);
        Self { options, name, admin }
    }

    pub async fn store(&self) -> dark_tower_server::store::PostgresMeetingStore {
        dark_tower_server::store::PostgresMeetingStore::connect_with(self.options.clone())
            .await
            .expect("connect to postgres")
    }

    pub async fn drop_schema(mut self) {
        sqlx::query(&format!("DROP SCHEMA {} CASCADE", self.name))
            .execute(&mut self.admin)
            .await
            .expect("drop schema");
    }
}
