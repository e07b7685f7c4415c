//! The composition root: builds every part, binds every socket, and runs them.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use dark_tower_core::auth::{ApiKeyAuthenticator, Authenticator, TokenIssuer};
use dark_tower_core::forwarding::MediaForwarding;
use dark_tower_core::store::MeetingStore;
use dark_tower_core::token::{ApiKey, TicketKey};
use dark_tower_core::webhook::{WebhookError, WebhookEvent, WebhookSink};
use dark_tower_sfu::{MediaHandler, MediaHandlerConfig};
use dark_tower_signaling::{McConfig, MeetingController};
use tokio::task::JoinHandle;
use wtransport::endpoint::endpoint_side::Server;
use wtransport::{Endpoint, VarInt};

use crate::admin::{self, Readiness};
use crate::auth::ServerAuthenticator;
use crate::config::{DemoMode, MintWith, ServerConfig};
use crate::devkeys;
use crate::http::{self, ApiState};
use crate::signing_keys::SigningKeys;
use crate::tls::{self, TlsReloader};
use crate::webhooks::HttpWebhookSink;
use crate::webtransport::{self, Routes};

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

/// Logs webhook events when no receiver is configured.
#[derive(Debug, Default)]
struct LogWebhookSink;

#[async_trait]
impl WebhookSink for LogWebhookSink {
    async fn deliver(&self, event: WebhookEvent) -> Result<(), WebhookError> {
        tracing::debug!(?event, "event");
        Ok(())
    }
}

type Auth = (Arc<dyn Authenticator>, Option<Arc<dyn TokenIssuer>>, Option<ApiKey>, Option<Arc<SigningKeys>>);

/// The embedder's authenticator and issuer if given; else the configured API keys (or the
/// development key) and the server's Ed25519 signing keys, minting with the one the config names.
fn built_in_auth(
    config: &ServerConfig,
    auth: Option<Arc<dyn Authenticator>>,
    issuer: Option<Arc<dyn TokenIssuer>>,
) -> Result<Auth, ServerError> {
    if let Some(a) = auth {
        return Ok((a, issuer, None, None));
    }
    let (keys, dev_key) = if config.auth.api_keys.is_empty() {
        let key = devkeys::load_or_create(&config.data_dir).map_err(ServerError::DataDir)?;
        (vec![key.clone()], Some(key))
    } else {
        (config.auth.api_keys.iter().map(ApiKey::from).collect(), None)
    };
    let api = ApiKeyAuthenticator::new(keys).with_leeway(config.token_leeway);
    let signing = Arc::new(
        SigningKeys::load_or_create(
            &config.data_dir,
            config.auth.issuer.clone(),
            config.auth.key_overlap,
            config.token_leeway,
            SystemTime::now(),
        )
        .map_err(ServerError::DataDir)?,
    );
    let issuer: Arc<dyn TokenIssuer> = match (issuer, config.auth.mint_with) {
        (Some(i), _) => i,
        (None, MintWith::Eddsa) => signing.clone(),
        (None, MintWith::ApiKey) => Arc::new(api.clone()),
    };
    let auth = Arc::new(ServerAuthenticator::new(api, Arc::clone(&signing)));
    Ok((auth, Some(issuer), dev_key, Some(signing)))
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
        config.validate().map_err(|e| ServerError::Config(e.join("; ")))?;
        // The store first: a database that cannot be reached stops the start before any bind.
        let store: Arc<dyn MeetingStore> = match self.store {
            Some(s) => s,
            None => crate::store::open(&config.store, &config.data_dir).await?,
        };
        let demo = match config.demo {
            DemoMode::On => true,
            DemoMode::Off => false,
            DemoMode::Auto => self.auth.is_none() && config.auth.api_keys.is_empty(),
        } && http::has_demo();
        let (auth, issuer, api_key, signing) = built_in_auth(&config, self.auth, self.issuer)?;

        // Certificate files when configured (publicly trusted: nothing to pin), else a
        // development certificate that clients pin by hash.
        let (identity, pinned) = match (&config.tls.cert, &config.tls.key) {
            (Some(cert), Some(key)) => {
                (tls::load_identity(cert, key).await.map_err(ServerError::Tls)?, false)
            }
            _ => {
                let mut names = vec!["localhost".to_owned(), "127.0.0.1".to_owned(), "::1".to_owned()];
                names.extend(config.public_host.iter().cloned());
                names.extend(config.webtransport.iter().map(|a| a.ip().to_string()));
                names.sort();
                names.dedup();
                (tls::dev_identity(&names).map_err(ServerError::Tls)?, true)
            }
        };
        let certificate_sha256 = tls::certificate_sha256(&identity);
        let pins = if pinned { vec![certificate_sha256.clone()] } else { Vec::new() };

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
            let endpoint = tls::bind_udp(addr).and_then(|socket| {
                let server_config = tls::endpoint_config_on(socket, &identity, config.idle_timeout)
                    .map_err(std::io::Error::other)?;
                Endpoint::server(server_config)
            });
            match endpoint {
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
        let mut webhook_counters = None;
        let webhooks: Arc<dyn WebhookSink> = match self.webhooks {
            Some(w) => w,
            None if config.webhooks.urls.is_empty() => Arc::new(LogWebhookSink),
            None => {
                let secret = config
                    .webhooks
                    .secret
                    .clone()
                    .or_else(|| config.auth.api_keys.first().map(|k| k.secret.clone()))
                    .ok_or_else(|| {
                        ServerError::Config("webhooks.secret is needed to sign webhooks".into())
                    })?;
                let sink = HttpWebhookSink::start(&config.webhooks, secret).map_err(ServerError::Config)?;
                webhook_counters = Some(sink.counters());
                Arc::new(sink)
            }
        };
        let mut mc_config = McConfig::new(format!("{base}/v1/media"), pins.clone(), ticket_key.clone());
        mc_config.auto_create_meetings = config.auto_create_meetings;
        mc_config.meeting.resume_grace = config.resume_grace;
        let forwarding: Arc<dyn MediaForwarding> = mh.clone();
        let mc = MeetingController::new(mc_config, Arc::clone(&store), forwarding, Arc::clone(&webhooks));
        // Live meetings of before a restart run again, so their empty timeouts and maximum
        // durations still end them.
        match store.list_meetings(false).await {
            Ok(live) => {
                let now = SystemTime::now();
                for record in &live {
                    mc.reopen_meeting(record, now);
                }
            }
            Err(e) => tracing::warn!(error = %e, "cannot list live meetings to reopen them"),
        }
        let feedback: Arc<dyn dark_tower_core::forwarding::MediaFeedback> = mc.clone();
        mh.set_feedback(feedback);

        let (registry, rest_latency) =
            crate::metrics::registry(Arc::clone(&mh), Arc::clone(&mc), webhook_counters);
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
                certificate_sha256: pins,
                signing,
                ready: ready.clone(),
                demo,
                rest_latency: Some(rest_latency),
            },
            &config.cors_origins,
            &config.http_limits,
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
            let service = api.into_make_service_with_connect_info::<SocketAddr>();
            if let Err(e) = axum::serve(http_listener, service).await {
                tracing::error!(error = %e, "http server stopped");
            }
        }));
        let registry = Arc::new(registry);
        let admin_router = admin::router(ready.clone(), registry);
        tasks.push(tokio::spawn(async move {
            if let Err(e) = axum::serve(admin_listener, admin_router).await {
                tracing::error!(error = %e, "admin server stopped");
            }
        }));
        let tls_reloader = match (&config.tls.cert, &config.tls.key) {
            (Some(cert), Some(key)) => {
                let eps = endpoints.iter().cloned().zip(bound.iter().copied()).collect();
                let r = TlsReloader::new(cert.clone(), key.clone(), config.idle_timeout, eps);
                tasks.push(tokio::spawn(r.clone().watch(config.tls.watch_interval)));
                Some(r)
            }
            _ => None,
        };
        ready.set(true);
        Ok(RunningServer {
            tls_reloader,
            http: http_addr,
            admin: admin_addr,
            webtransport: bound,
            certificate_sha256,
            api_key,
            media: mh,
            meetings: mc,
            ready,
            drain_timeout: config.drain_timeout,
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
    drain_timeout: Duration,
    tls_reloader: Option<TlsReloader>,
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

    /// Reads the configured certificate files again and serves new connections with them
    /// (also done when the files change, and on SIGHUP by the binary). Returns the new
    /// certificate's SHA-256; an error leaves the current certificate in place.
    pub async fn reload_tls(&self) -> Result<String, ServerError> {
        match &self.tls_reloader {
            Some(r) => r.reload().await.map_err(ServerError::Tls),
            None => Err(ServerError::Config("no TLS certificate files are configured".into())),
        }
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

    /// Drains, then shuts down: readiness goes off and new joins and sessions are refused
    /// (`shutting_down`); meetings in progress continue until everyone has left or `deadline`
    /// passes; then the remaining participants are told the server is stopping
    /// (`Disconnect{shutting_down}`: their meetings stay live, so they can join again) and
    /// everything closes.
    pub async fn drain(self, deadline: Duration) {
        self.ready.set(false);
        let until = tokio::time::Instant::now() + deadline;
        tracing::info!(sessions = self.meetings.session_count(), ?deadline, "draining");
        while self.meetings.session_count() > 0 && tokio::time::Instant::now() < until {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let left = self.meetings.session_count();
        if left > 0 {
            tracing::info!(
                sessions = left,
                "drain deadline passed; disconnecting the remaining participants"
            );
            self.meetings.evacuate().await;
            let grace = tokio::time::Instant::now() + Duration::from_secs(2);
            while self.meetings.session_count() > 0 && tokio::time::Instant::now() < grace {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
        self.shutdown().await;
    }

    /// Runs until the process is told to stop (Ctrl-C or SIGTERM), then drains for
    /// [`ServerConfig::drain_timeout`] and shuts down.
    /// SIGHUP reloads the TLS certificate files.
    pub async fn wait(self) {
        let stop = shutdown_signal();
        tokio::pin!(stop);
        loop {
            tokio::select! {
                _ = &mut stop => break,
                _ = hangup() => {
                    if self.tls_reloader.is_some()
                        && let Err(e) = self.reload_tls().await
                    {
                        tracing::warn!(error = %e, "TLS reload on SIGHUP failed");
                    }
                }
            }
        }
        tracing::info!("shutting down");
        let deadline = self.drain_timeout;
        self.drain(deadline).await;
    }
}

/// Resolves at the next SIGHUP (never, where there is none).
async fn hangup() {
    #[cfg(unix)]
    if let Ok(mut hup) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()) {
        hup.recv().await;
        return;
    }
    std::future::pending::<()>().await;
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
