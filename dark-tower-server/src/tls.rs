//! TLS for WebTransport: production certificates from PEM files (reloaded without a restart),
//! or a development certificate: self-signed ECDSA P-256, valid for 14 days (the longest
//! browsers accept with `serverCertificateHashes`), pinned by clients through its hash.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use wtransport::config::Ipv6DualStackConfig;
use wtransport::endpoint::endpoint_side::Server;
use wtransport::tls::rustls;
use wtransport::tls::rustls::pki_types::{CertificateDer, PrivateKeyDer};
use wtransport::tls::rustls::sign::CertifiedKey;
use wtransport::{Endpoint, Identity};

/// Creates the development identity for `names` (host names and IP addresses).
pub fn dev_identity(names: &[String]) -> Result<Identity, String> {
    Identity::self_signed_builder()
        .subject_alt_names(names)
        .from_now_utc()
        .validity_days(14)
        .build()
        .map_err(|e| e.to_string())
}

/// Lowercase hex SHA-256 of the identity's leaf certificate (DER), as clients pin it.
pub fn certificate_sha256(identity: &Identity) -> String {
    identity
        .certificate_chain()
        .as_slice()
        .first()
        .map(|c| hex::encode(c.hash().as_ref()))
        .unwrap_or_default()
}

/// Loads a certificate chain and key from PEM files, and checks that the key belongs to the
/// certificate (files caught half-replaced must be refused, not served).
pub async fn load_identity(cert: &Path, key: &Path) -> Result<Identity, String> {
    let identity = Identity::load_pemfiles(cert, key)
        .await
        .map_err(|e| format!("cannot load {} and {}: {e}", cert.display(), key.display()))?;
    let chain: Vec<CertificateDer<'static>> = identity
        .certificate_chain()
        .as_slice()
        .iter()
        .map(|c| CertificateDer::from(c.der().to_vec()))
        .collect();
    let private = PrivateKeyDer::try_from(identity.private_key().secret_der().to_vec())
        .map_err(|e| format!("{}: {e}", key.display()))?;
    CertifiedKey::from_der(chain, private, &rustls::crypto::ring::default_provider())
        .map_err(|e| format!("{} does not fit {}: {e}", key.display(), cert.display()))?;
    Ok(identity)
}

/// Kernel buffer asked for on the WebTransport UDP socket, each way. The default (about
/// 208 KiB) overflows when a keyframe fans out to a few hundred subscribers (measured by
/// `bench/` at N = 200); the kernel may grant less (`net.core.rmem_max`).
pub const UDP_BUFFER: usize = 8 << 20;

/// Binds the WebTransport UDP socket of `addr` with large kernel buffers (IPv6: v6 only).
pub fn bind_udp(addr: SocketAddr) -> std::io::Result<std::net::UdpSocket> {
    use socket2::{Domain, Protocol, Socket, Type};
    let socket = Socket::new(Domain::for_address(addr), Type::DGRAM, Some(Protocol::UDP))?;
    if addr.is_ipv6() {
        socket.set_only_v6(true)?;
    }
    // Best effort: the kernel caps the sizes, and a smaller buffer still works.
    let _ = socket.set_recv_buffer_size(UDP_BUFFER);
    let _ = socket.set_send_buffer_size(UDP_BUFFER);
    socket.bind(&addr.into())?;
    socket.set_nonblocking(true)?;
    Ok(socket.into())
}

/// The endpoint configuration for the bound `socket` with `identity`.
pub fn endpoint_config_on(
    socket: std::net::UdpSocket,
    identity: &Identity,
    idle_timeout: Duration,
) -> Result<wtransport::ServerConfig, String> {
    finish(wtransport::ServerConfig::builder().with_bind_socket(socket), identity, idle_timeout)
}

/// The endpoint configuration for `addr` with `identity` (for a reload, which keeps the socket).
pub fn endpoint_config(
    addr: SocketAddr,
    identity: &Identity,
    idle_timeout: Duration,
) -> Result<wtransport::ServerConfig, String> {
    let builder = wtransport::ServerConfig::builder();
    let builder = match addr {
        SocketAddr::V4(_) => builder.with_bind_address(addr),
        SocketAddr::V6(v6) => builder.with_bind_address_v6(v6, Ipv6DualStackConfig::Deny),
    };
    finish(builder, identity, idle_timeout)
}

fn finish(
    builder: wtransport::config::ServerConfigBuilder<wtransport::config::states::WantsIdentity>,
    identity: &Identity,
    idle_timeout: Duration,
) -> Result<wtransport::ServerConfig, String> {
    let mut config = builder
        .with_identity(identity.clone_identity())
        .keep_alive_interval(Some(idle_timeout / 3))
        .max_idle_timeout(Some(idle_timeout))
        .map_err(|_| "idle_timeout out of range".to_owned())?
        .build();
    let transport = dark_tower_core::transport::wt::transport_config(idle_timeout / 3, idle_timeout, true)?;
    config.quic_config_mut().transport_config(Arc::new(transport));
    Ok(config)
}

/// Reloads the certificate files into running endpoints: new connections get the new
/// certificate, established ones keep theirs.
#[derive(Clone)]
pub struct TlsReloader {
    cert: PathBuf,
    key: PathBuf,
    idle_timeout: Duration,
    endpoints: Vec<(Arc<Endpoint<Server>>, SocketAddr)>,
}

impl TlsReloader {
    /// A reloader of `cert` and `key` for `endpoints` (each with its bound address).
    pub fn new(
        cert: PathBuf,
        key: PathBuf,
        idle_timeout: Duration,
        endpoints: Vec<(Arc<Endpoint<Server>>, SocketAddr)>,
    ) -> Self {
        Self { cert, key, idle_timeout, endpoints }
    }

    /// Reads the files again and applies them; returns the new leaf certificate's SHA-256. On
    /// error the previous certificate stays in use.
    pub async fn reload(&self) -> Result<String, String> {
        let identity = load_identity(&self.cert, &self.key).await?;
        for (ep, addr) in &self.endpoints {
            let config = endpoint_config(*addr, &identity, self.idle_timeout)?;
            ep.reload_config(config, false).map_err(|e| format!("cannot apply the new certificate: {e}"))?;
        }
        let hash = certificate_sha256(&identity);
        tracing::info!(certificate_sha256 = %hash, "TLS certificate reloaded");
        Ok(hash)
    }

    fn modified(&self) -> Option<(SystemTime, SystemTime)> {
        let m = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
        Some((m(&self.cert)?, m(&self.key)?))
    }

    /// Checks the files every `interval` and reloads when either changed.
    pub async fn watch(self, interval: Duration) {
        let mut seen = self.modified();
        let mut tick = tokio::time::interval(interval);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let now = self.modified();
            if now.is_some() && now != seen {
                match self.reload().await {
                    Ok(_) => seen = now,
                    // Perhaps half-written: try again at the next tick.
                    Err(e) => {
                        tracing::warn!(error = %e, "TLS reload failed; keeping the current certificate")
                    }
                }
            }
        }
    }
}
