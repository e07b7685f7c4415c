//! Server configuration. Development defaults bind the loopback addresses only.

use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use dark_tower_core::token::Secret;

/// Where meeting records are kept (see `docs/OPERATIONS.md`, "Storage").
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreConfig {
    /// In memory: forgotten when the server stops.
    Memory,
    /// A SQLite file in the data directory (`meetings.sqlite3`); needs the `sqlite` feature (on
    /// by default). The default.
    Sqlite,
    /// PostgreSQL; needs the `postgres` feature.
    Postgres {
        /// `postgres://user:password@host:port/database`; kept out of logs.
        url: Secret,
    },
}

impl Default for StoreConfig {
    /// SQLite when built in, else memory.
    fn default() -> Self {
        if cfg!(feature = "sqlite") { Self::Sqlite } else { Self::Memory }
    }
}

/// What the server binds and where it keeps its files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerConfig {
    /// HTTP API (and, later, the demo app).
    pub http: SocketAddr,
    /// Admin port: `/livez`, `/readyz`.
    pub admin: SocketAddr,
    /// WebTransport (UDP) addresses; the first is advertised to clients.
    pub webtransport: Vec<SocketAddr>,
    /// Whether a failure to bind the second and later WebTransport addresses is fatal
    /// (development mode tolerates a machine without IPv6).
    pub webtransport_all_required: bool,
    /// Data directory: development API key, SQLite database.
    pub data_dir: PathBuf,
    /// Where meeting records are kept. Ignored when [`ServerBuilder::store`] supplies a store.
    ///
    /// [`ServerBuilder::store`]: crate::ServerBuilder::store
    pub store: StoreConfig,
    /// Joining a meeting that does not exist creates it.
    pub auto_create_meetings: bool,
    /// Host name or address put in the URLs given to clients (default: the first WebTransport
    /// address's IP).
    pub public_host: Option<String>,
    /// Web origins allowed to call the HTTP API from a browser (CORS). Empty: any origin, which
    /// suits development on loopback; list the app's origins in production.
    pub cors_origins: Vec<String>,
    /// UDP port put in the URLs given to clients, when a load balancer or NAT maps a different
    /// one to the first WebTransport address (default: its bound port).
    pub public_port: Option<u16>,
    /// A WebTransport connection silent this long is dead (QUIC uses the smaller of this and
    /// the client's value); keep-alives go out at a third of it.
    pub idle_timeout: Duration,
    /// How long a participant whose connection dropped may resume before it leaves (zero: it
    /// leaves at once).
    pub resume_grace: Duration,
    /// Clock skew tolerated past an access token's `exp` (at most 30 s).
    pub token_leeway: Duration,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            http: SocketAddr::from((Ipv4Addr::LOCALHOST, 8080)),
            admin: SocketAddr::from((Ipv4Addr::LOCALHOST, 9090)),
            webtransport: vec![
                SocketAddr::from((Ipv4Addr::LOCALHOST, 4433)),
                SocketAddr::from((Ipv6Addr::LOCALHOST, 4433)),
            ],
            webtransport_all_required: false,
            data_dir: PathBuf::from("./data"),
            store: StoreConfig::default(),
            auto_create_meetings: true,
            public_host: None,
            cors_origins: Vec::new(),
            public_port: None,
            idle_timeout: Duration::from_secs(10),
            resume_grace: Duration::from_secs(20),
            token_leeway: dark_tower_core::token::LEEWAY,
        }
    }
}

impl ServerConfig {
    /// Every port chosen by the OS on 127.0.0.1 (and `::1` for WebTransport): for tests and
    /// embedding.
    pub fn ephemeral(data_dir: impl Into<PathBuf>) -> Self {
        Self {
            http: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
            admin: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
            webtransport: vec![SocketAddr::from((Ipv4Addr::LOCALHOST, 0))],
            data_dir: data_dir.into(),
            ..Self::default()
        }
    }
}
