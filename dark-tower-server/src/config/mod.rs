//! Server configuration. Development defaults bind the loopback addresses only.
//!
//! Every field has a default; an operator overrides them in layers (see [`load`]): defaults <
//! TOML file < environment (`DARK_TOWER__…`) < command-line flags. Durations are written as
//! human-readable strings (`"10s"`, `"500ms"`, `"24h"`). Secrets serialize as `<redacted>`, so
//! `dark-tower-server config print` never shows them.

mod layers;
mod validate;

use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use dark_tower_core::token::{ApiKey, Secret};
use serde::{Deserialize, Serialize};

pub use layers::{ConfigError, Overrides, StoreOverride, load};

/// Where meeting records are kept (see `docs/OPERATIONS.md`, "Storage").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "StoreRepr", into = "StoreRepr")]
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

/// The kinds of store, as written in the configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StoreKind {
    /// [`StoreConfig::Memory`].
    Memory,
    /// [`StoreConfig::Sqlite`].
    Sqlite,
    /// [`StoreConfig::Postgres`].
    Postgres,
}

/// `[store]` as written: `kind` and, for PostgreSQL, `url`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct StoreRepr {
    kind: StoreKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    url: Option<Secret>,
}

impl TryFrom<StoreRepr> for StoreConfig {
    type Error = String;
    fn try_from(r: StoreRepr) -> Result<Self, String> {
        match (r.kind, r.url) {
            (StoreKind::Memory, None) => Ok(Self::Memory),
            (StoreKind::Sqlite, None) => Ok(Self::Sqlite),
            (StoreKind::Postgres, Some(url)) => Ok(Self::Postgres { url }),
            (StoreKind::Postgres, None) => Err("store kind \"postgres\" needs store.url".into()),
            (_, Some(_)) => Err("store.url is only used with kind = \"postgres\"".into()),
        }
    }
}

impl From<StoreConfig> for StoreRepr {
    fn from(c: StoreConfig) -> Self {
        match c {
            StoreConfig::Memory => Self { kind: StoreKind::Memory, url: None },
            StoreConfig::Sqlite => Self { kind: StoreKind::Sqlite, url: None },
            StoreConfig::Postgres { url } => Self { kind: StoreKind::Postgres, url: Some(url) },
        }
    }
}

/// One HS256 API key: tokens naming it in `kid`/`iss` are verified with its secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiKeyConfig {
    /// Key id (the token's `kid` and `iss`).
    pub key: String,
    /// Shared secret, at least 32 bytes.
    pub secret: Secret,
}

impl From<&ApiKeyConfig> for ApiKey {
    fn from(k: &ApiKeyConfig) -> Self {
        ApiKey { key: k.key.clone(), secret: k.secret.clone() }
    }
}

/// How tokens are verified and minted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuthConfig {
    /// HS256 API keys. Empty: the development key kept in the data directory.
    pub api_keys: Vec<ApiKeyConfig>,
    /// Which key signs the tokens of `POST /v1/tokens`: the server's own Ed25519 key (`eddsa`,
    /// public keys at `/.well-known/jwks.json`) or the first API key (`api_key`, HS256).
    pub mint_with: MintWith,
    /// `iss` of the tokens the server signs with its Ed25519 keys.
    pub issuer: String,
    /// How long a replaced Ed25519 key stays published and accepted after a rotation: at least
    /// the longest token lifetime, so a token signed before a rotation stays valid until it
    /// expires.
    #[serde(with = "humantime_serde")]
    pub key_overlap: Duration,
}

impl Default for AuthConfig {
    fn default() -> Self {
        Self {
            api_keys: Vec::new(),
            mint_with: MintWith::Eddsa,
            issuer: "dark-tower-server".into(),
            key_overlap: crate::http::MAX_TTL,
        }
    }
}

/// See [`AuthConfig::mint_with`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MintWith {
    /// The server's Ed25519 signing key (EdDSA).
    Eddsa,
    /// The first API key (HS256).
    ApiKey,
}

/// Production TLS for WebTransport: a certificate chain and key from PEM files, reloaded
/// without a restart when they change. Without them the server makes a self-signed
/// development certificate that clients pin by hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TlsConfig {
    /// PEM certificate chain, leaf first.
    pub cert: Option<PathBuf>,
    /// PEM private key.
    pub key: Option<PathBuf>,
    /// How often the files are checked for changes (a SIGHUP reloads at once).
    #[serde(with = "humantime_serde")]
    pub watch_interval: Duration,
}

impl Default for TlsConfig {
    fn default() -> Self {
        Self { cert: None, key: None, watch_interval: Duration::from_secs(30) }
    }
}

/// Webhook receivers: every event is POSTed, signed, to each URL, with retries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WebhookConfig {
    /// Receiver URLs (http or https). Empty: events only go to the log.
    pub urls: Vec<String>,
    /// HMAC-SHA256 key of the `Dark-Tower-Signature` header. Default: the first API key's
    /// secret.
    pub secret: Option<Secret>,
    /// Attempts per event and receiver before it is dropped (and counted).
    pub max_attempts: u32,
    /// Delay before the first retry; doubles up to `max_backoff`.
    #[serde(with = "humantime_serde")]
    pub initial_backoff: Duration,
    /// Longest delay between retries.
    #[serde(with = "humantime_serde")]
    pub max_backoff: Duration,
    /// Time allowed for one delivery attempt.
    #[serde(with = "humantime_serde")]
    pub timeout: Duration,
}

impl Default for WebhookConfig {
    fn default() -> Self {
        Self {
            urls: Vec::new(),
            secret: None,
            max_attempts: 8,
            initial_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(60),
            timeout: Duration::from_secs(5),
        }
    }
}

/// Limits of the HTTP API.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HttpLimits {
    /// Sustained requests per second allowed from one client address (0: no limit).
    pub requests_per_second: u32,
    /// Requests one client address may make in a burst above the sustained rate.
    pub burst: u32,
    /// A request not answered in this time gets `408 timeout`.
    #[serde(with = "humantime_serde")]
    pub request_timeout: Duration,
}

impl Default for HttpLimits {
    fn default() -> Self {
        Self { requests_per_second: 50, burst: 100, request_timeout: Duration::from_secs(10) }
    }
}

/// Whether the HTTP port serves the demo meeting app at `/` and mints demo tokens at
/// `POST /demo/token` (anyone reaching the port may then join any meeting: development only).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DemoMode {
    /// On in development mode (no API keys configured, no custom authenticator), else off.
    #[default]
    Auto,
    /// Always on.
    On,
    /// Never.
    Off,
}

/// Log output on stderr.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Pretty,
    /// One JSON object per line.
    Json,
}

/// What the server binds and where it keeps its files.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServerConfig {
    /// HTTP API (and the demo app).
    pub http: SocketAddr,
    /// Admin port: `/livez`, `/readyz`, `/metrics`.
    pub admin: SocketAddr,
    /// WebTransport (UDP) addresses; the first is advertised to clients.
    pub webtransport: Vec<SocketAddr>,
    /// Whether a failure to bind the second and later WebTransport addresses is fatal
    /// (development mode tolerates a machine without IPv6).
    pub webtransport_all_required: bool,
    /// Data directory: development API key, Ed25519 signing keys, SQLite database.
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
    /// UDP port put in the URLs given to clients, when a load balancer or NAT maps a different
    /// one to the first WebTransport address (default: its bound port).
    pub public_port: Option<u16>,
    /// Web origins allowed to call the HTTP API from a browser (CORS). Empty: any origin, which
    /// suits development on loopback; list the app's origins in production.
    pub cors_origins: Vec<String>,
    /// A WebTransport connection silent this long is dead (QUIC uses the smaller of this and
    /// the client's value); keep-alives go out at a third of it.
    #[serde(with = "humantime_serde")]
    pub idle_timeout: Duration,
    /// How long a participant whose connection dropped may resume before it leaves (zero: it
    /// leaves at once).
    #[serde(with = "humantime_serde")]
    pub resume_grace: Duration,
    /// Clock skew tolerated past an access token's `exp` (at most 30 s).
    #[serde(with = "humantime_serde")]
    pub token_leeway: Duration,
    /// On SIGTERM: how long participants get to leave before the server closes what remains.
    #[serde(with = "humantime_serde")]
    pub drain_timeout: Duration,
    /// Token verification and minting.
    pub auth: AuthConfig,
    /// Certificate files for WebTransport.
    pub tls: TlsConfig,
    /// Webhook receivers.
    pub webhooks: WebhookConfig,
    /// HTTP API limits.
    pub http_limits: HttpLimits,
    /// Log format.
    pub log_format: LogFormat,
    /// The demo app and its token endpoint.
    pub demo: DemoMode,
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
            public_port: None,
            cors_origins: Vec::new(),
            idle_timeout: Duration::from_secs(10),
            resume_grace: Duration::from_secs(20),
            token_leeway: dark_tower_core::token::LEEWAY,
            drain_timeout: Duration::from_secs(30),
            auth: AuthConfig::default(),
            tls: TlsConfig::default(),
            webhooks: WebhookConfig::default(),
            http_limits: HttpLimits::default(),
            log_format: LogFormat::default(),
            demo: DemoMode::default(),
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

    /// Checks the values together; every problem is listed, one per line.
    pub fn validate(&self) -> Result<(), Vec<String>> {
        validate::validate(self)
    }

    /// The effective configuration as TOML, secrets redacted.
    pub fn to_toml(&self) -> String {
        toml::to_string_pretty(self).unwrap_or_else(|e| format!("# cannot print the configuration: {e}\n"))
    }
}
