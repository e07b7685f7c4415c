//! Server configuration. Development defaults bind the loopback addresses only.

use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::PathBuf;

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
    /// Data directory: development API key.
    pub data_dir: PathBuf,
    /// Joining a meeting that does not exist creates it.
    pub auto_create_meetings: bool,
    /// Host name or address put in the URLs given to clients (default: the first WebTransport
    /// address's IP).
    pub public_host: Option<String>,
    /// Web origins allowed to call the HTTP API from a browser (CORS). Empty: any origin, which
    /// suits development on loopback; list the app's origins in production.
    pub cors_origins: Vec<String>,
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
            auto_create_meetings: true,
            public_host: None,
            cors_origins: Vec::new(),
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
