//! The composition root: builds every part, binds every socket, and runs them.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use dark_tower_core::auth::{ApiKeyAuthenticator, Authenticator, TokenIssuer};
use dark_tower_core::forwarding::MediaForwarding;
use dark_tower_core::store::MeetingStore;
use dark_tower_core::token::{ApiKey, TicketKey};
use dark_tower_core::webhook::{WebhookError, WebhookEvent, WebhookSink};
use dark_tower_sfu::{MediaHandler, MediaHandlerConfig};
use dark_tower_signaling::{McConfig, MeetingController};
use tokio::task::JoinHandle;
use wtransport::config::Ipv6DualStackConfig;
use wtransport::endpoint::endpoint_side::Server;
use wtransport::{Endpoint, VarInt};

use crate::admin::{self, Readiness};
use crate::config::ServerConfig;
use crate::http::{self, ApiState};
use crate::webtransport::{self, Routes};
use crate::{devkeys, tls};

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// A socket could not be bound.
    #[error("cannot bind {what} on {addr}: {source}")]
    Bind {
        /// Which listener.
        what: &'static str,
        /// Where.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// The data directory could not be used.
    #[error("data directory: {0}")]
    DataDir(std::io::Error),
    /// The TLS identity could not be created.
    #[error("tls: {0}")]
    Tls(String),
    /// The configuration is invalid.
    #[error("invalid configuration: {0}")]
    Config(String),
    /// The meeting store could not be opened.
    #[error(transparent)]
    Store(#[from] crate::store::OpenError),
}

/// Logs webhook events; the signed HTTP sink comes with configured receivers.
#[derive(Debug, Default)]
struct LogWebhookSink;

#[async_trait]
impl WebhookSink for LogWebhookSink {
    async fn deliver(&self, event: WebhookEvent) -> Result<(), WebhookError> {
        tracing::debug!(?event, "event");
        Ok(())
    }
}

/// Builds a server. Every part has a default: the development API key, the store named by
/// [`ServerConfig::store`], webhooks to the log.
pub struct ServerBuilder {
    config: ServerConfig,
    auth: Option<Arc<dyn Authenticator>>,
    issuer: Option<Arc<dyn TokenIssuer>>,
    store: Option<Arc<dyn MeetingStore>>,
    webhooks: Option<Arc<dyn WebhookSink>>,
}

impl ServerBuilder {
    /// A builder for `config`.
    pub fn new(config: ServerConfig) -> Self {
        Self { config, auth: None, issuer: None, store: None, webhooks: None }
    }

    /// Uses `auth` instead of the development API key.
    pub fn authenticator(mut self, auth: Arc<dyn Authenticator>) -> Self {
        self.auth = Some(auth);
        self
    }

    /// Mints the tokens of `POST /v1/tokens` with `issuer` (default: the development API key
    /// when no authenticator is supplied; with a custom authenticator and no issuer, that route
    /// answers `not_found`).
    pub fn issuer(mut self, issuer: Arc<dyn TokenIssuer>) -> Self {
        self.issuer = Some(issuer);
        self
    }

    /// Uses `store` for meeting records instead of the one [`ServerConfig::store`] names.
    pub fn store(mut self, store: Arc<dyn MeetingStore>) -> Self {
        self.store = Some(store);
        self
    }

    /// Sends events to `webhooks`.
    pub fn webhooks(mut self, webhooks: Arc<dyn WebhookSink>) -> Self {
        self.webhooks = Some(webhooks);
        self
    }

    /// Binds everything and starts serving.
    pub async fn start(self) -> Result<RunningServer, ServerError> {
        let config = self.config;
        if config.webtransport.is_empty() {
            return Err(ServerError::Config("at least one WebTransport address is needed".into()));
        }
        // The store first: a database that cannot be reached stops the start before any bind.
        let store: Arc<dyn MeetingStore> = match self.store {
            Some(s) => s,
            None => crate::store::open(&config.store, &config.data_dir).await?,
        };
        type Auth = (Arc<dyn Authenticator>, Option<Arc<dyn TokenIssuer>>, Option<ApiKey>);
        let (auth, issuer, api_key): Auth = match self.auth {
            Some(a) => (a, self.issuer, None),
            None => {
                let key = devkeys::load_or_create(&config.data_dir).map_err(ServerError::DataDir)?;
                let dev = Arc::new(ApiKeyAuthenticator::new([key.clone()]).with_leeway(config.token_leeway));
                let issuer = self.issuer.unwrap_or_else(|| dev.clone());
                (dev, Some(issuer), Some(key))
            }
        };

        let mut names = vec!["localhost".to_owned(), "127.0.0.1".to_owned(), "::1".to_owned()];
        names.extend(config.public_host.iter().cloned());
        names.extend(config.webtransport.iter().map(|a| a.ip().to_string()));
        names.sort();
        names.dedup();
        let identity = tls::dev_identity(&names).map_err(ServerError::Tls)?;
        let certificate_sha256 = tls::certificate_sha256(&identity);

        let mut endpoints = Vec::new();
        let mut bound: Vec<SocketAddr> = Vec::new();
        for (i, addr) in config.webtransport.iter().enumerate() {
            let mut addr = *addr;
            if addr.port() == 0
                && let Some(first) = bound.first()
            {
                // The same port on every address, so one URL port works for all of them.
                addr.set_port(first.port());
            }
            let builder = wtransport::ServerConfig::builder();
            let builder = match addr {
                SocketAddr::V4(_) => builder.with_bind_address(addr),
                SocketAddr::V6(v6) => builder.with_bind_address_v6(v6, Ipv6DualStackConfig::Deny),
            };
            let server_config = builder
                .with_identity(identity.clone_identity())
                .keep_alive_interval(Some(config.idle_timeout / 3))
                .max_idle_timeout(Some(config.idle_timeout))
                .map_err(|_| ServerError::Config("idle_timeout out of range".into()))?
                .build();
            match Endpoint::server(server_config) {
                Ok(ep) => {
                    let local = ep.local_addr().map_err(|source| ServerError::Bind {
                        what: "webtransport",
                        addr,
                        source,
                    })?;
                    bound.push(local);
                    endpoints.push(Arc::new(ep));
                }
                Err(source) if i > 0 && !config.webtransport_all_required => {
                    tracing::warn!(%addr, error = %source, "WebTransport address not bound; continuing without it");
                }
                Err(source) => {
                    return Err(ServerError::Bind { what: "webtransport", addr, source });
                }
            }
        }
        let first = bound[0];
        let host = match (&config.public_host, first.ip()) {
            (Some(h), _) if h.parse::<std::net::Ipv6Addr>().is_ok() => format!("[{h}]"),
            (Some(h), _) => h.clone(),
            (None, IpAddr::V6(ip)) => format!("[{ip}]"),
            (None, ip) => ip.to_string(),
        };
        let base = format!("https://{host}:{}", config.public_port.unwrap_or(first.port()));

        let ticket_key = TicketKey::generate();
        let mh = MediaHandler::new(MediaHandlerConfig::default());
        let webhooks = self.webhooks.unwrap_or_else(|| Arc::new(LogWebhookSink));
        let mut mc_config =
            McConfig::new(format!("{base}/v1/media"), vec![certificate_sha256.clone()], ticket_key.clone());
        mc_config.auto_create_meetings = config.auto_create_meetings;
        mc_config.meeting.resume_grace = config.resume_grace;
        let forwarding: Arc<dyn MediaForwarding> = mh.clone();
        let mc = MeetingController::new(mc_config, Arc::clone(&store), forwarding, Arc::clone(&webhooks));
        let feedback: Arc<dyn dark_tower_core::forwarding::MediaFeedback> = mc.clone();
        mh.set_feedback(feedback);

        let ready = Readiness::default();
        let routes = Arc::new(Routes {
            auth: Arc::clone(&auth),
            ticket_key,
            mc: Arc::clone(&mc),
            mh: Arc::clone(&mh),
            ready: ready.clone(),
        });
        let mut tasks: Vec<JoinHandle<()>> = Vec::new();
        for ep in &endpoints {
            let ep = Arc::clone(ep);
            let routes = Arc::clone(&routes);
            tasks.push(tokio::spawn(async move { webtransport::serve(ep, routes).await }));
        }

        let api = http::router(
            ApiState {
                auth,
                store,
                issuer,
                mc: Arc::clone(&mc),
                webhooks,
                auto_create_meetings: config.auto_create_meetings,
                webtransport_base: base,
                certificate_sha256: vec![certificate_sha256.clone()],
            },
            &config.cors_origins,
        )
        .map_err(ServerError::Config)?;
        let http_listener = tokio::net::TcpListener::bind(config.http)
            .await
            .map_err(|source| ServerError::Bind { what: "http", addr: config.http, source })?;
        let admin_listener = tokio::net::TcpListener::bind(config.admin)
            .await
            .map_err(|source| ServerError::Bind { what: "admin", addr: config.admin, source })?;
        let http_addr = http_listener.local_addr().map_err(ServerError::DataDir)?;
        let admin_addr = admin_listener.local_addr().map_err(ServerError::DataDir)?;
        tasks.push(tokio::spawn(async move {
            if let Err(e) = axum::serve(http_listener, api).await {
                tracing::error!(error = %e, "http server stopped");
            }
        }));
        let registry = Arc::new(crate::metrics::registry(Arc::clone(&mh), Arc::clone(&mc)));
        let admin_router = admin::router(ready.clone(), registry);
        tasks.push(tokio::spawn(async move {
            if let Err(e) = axum::serve(admin_listener, admin_router).await {
                tracing::error!(error = %e, "admin server stopped");
            }
        }));
        ready.set(true);
        Ok(RunningServer {
            http: http_addr,
            admin: admin_addr,
            webtransport: bound,
            certificate_sha256,
            api_key,
            media: mh,
            meetings: mc,
            ready,
            endpoints,
            tasks,
        })
    }
}

/// A started server. Dropping it does not stop it; call [`RunningServer::shutdown`].
pub struct RunningServer {
    /// Bound HTTP API address.
    pub http: SocketAddr,
    /// Bound admin address.
    pub admin: SocketAddr,
    /// Bound WebTransport addresses.
    pub webtransport: Vec<SocketAddr>,
    /// Lowercase hex SHA-256 of the WebTransport certificate.
    pub certificate_sha256: String,
    /// The development API key, when no authenticator was supplied.
    pub api_key: Option<ApiKey>,
    /// The media handler (for stats and embedding).
    pub media: Arc<MediaHandler>,
    /// The meeting controller.
    pub meetings: Arc<MeetingController>,
    ready: Readiness,
    endpoints: Vec<Arc<Endpoint<Server>>>,
    tasks: Vec<JoinHandle<()>>,
}

impl RunningServer {
    /// The one JSON line printed once listening: bound addresses and the certificate hash.
    pub fn ready_line(&self) -> String {
        serde_json::json!({
            "http": self.http.to_string(),
            "admin": self.admin.to_string(),
            "webtransport": self.webtransport.iter().map(|a| a.to_string()).collect::<Vec<_>>(),
            "certificate_sha256": self.certificate_sha256,
            "api_key": self.api_key.as_ref().map(|k| k.key.clone()),
        })
        .to_string()
    }

    /// Stops accepting, closes every session and stops every task.
    pub async fn shutdown(self) {
        self.ready.set(false);
        for ep in &self.endpoints {
            ep.close(
                VarInt::from_u32(dark_tower_core::ErrorCode::ShuttingDown.wire()),
                b"server shutting down",
            );
        }
        for t in &self.tasks {
            t.abort();
        }
        for ep in &self.endpoints {
            let _ = tokio::time::timeout(Duration::from_secs(2), ep.wait_idle()).await;
        }
    }

    /// Runs until the process is told to stop (Ctrl-C or SIGTERM), then shuts down.
    pub async fn wait(self) {
        shutdown_signal().await;
        tracing::info!("shutting down");
        self.shutdown().await;
    }
}

async fn shutdown_signal() {
    #[cfg(unix)]
    {
        let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(s) => s,
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
                return;
            }
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
