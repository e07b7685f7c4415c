//! The wtransport implementation of the [transport traits](super). The only module of the
//! protocol crates that names wtransport.

use std::time::Duration;

use bytes::Bytes;
use wtransport::error::{ConnectionError, SendDatagramError, StreamReadError, StreamWriteError};
use wtransport::{ClientConfig, Endpoint, VarInt};

use super::{RecvStream, SendStream, Session, TransportError};

/// A wtransport session.
#[derive(Clone, Debug)]
pub struct WtSession(pub wtransport::Connection);

/// The sending half of a wtransport stream.
#[derive(Debug)]
pub struct WtSend(pub wtransport::SendStream);

/// The receiving half of a wtransport stream.
#[derive(Debug)]
pub struct WtRecv(pub wtransport::RecvStream);

fn code(v: VarInt) -> u32 {
    u32::try_from(v.into_inner()).unwrap_or(u32::MAX)
}

/// Maps a wtransport connection error.
pub fn connection_error(e: ConnectionError) -> TransportError {
    match e {
        ConnectionError::ApplicationClosed(c) => TransportError::ClosedByPeer {
            code: code(c.code()),
            reason: String::from_utf8_lossy(c.reason()).into_owned(),
        },
        ConnectionError::LocallyClosed => TransportError::ClosedLocally,
        other => TransportError::Lost(other.to_string()),
    }
}

fn write_error(e: StreamWriteError) -> TransportError {
    match e {
        StreamWriteError::Stopped(c) => TransportError::StreamStopped(code(c)),
        other => TransportError::Lost(other.to_string()),
    }
}

impl Session for WtSession {
    type Send = WtSend;
    type Recv = WtRecv;

    async fn open_uni(&self) -> Result<WtSend, TransportError> {
        let opening = self.0.open_uni().await.map_err(connection_error)?;
        opening.await.map(WtSend).map_err(|e| TransportError::Lost(e.to_string()))
    }

    async fn open_bi(&self) -> Result<(WtSend, WtRecv), TransportError> {
        let opening = self.0.open_bi().await.map_err(connection_error)?;
        let (s, r) = opening.await.map_err(|e| TransportError::Lost(e.to_string()))?;
        Ok((WtSend(s), WtRecv(r)))
    }

    async fn accept_uni(&self) -> Result<WtRecv, TransportError> {
        self.0.accept_uni().await.map(WtRecv).map_err(connection_error)
    }

    async fn accept_bi(&self) -> Result<(WtSend, WtRecv), TransportError> {
        let (s, r) = self.0.accept_bi().await.map_err(connection_error)?;
        Ok((WtSend(s), WtRecv(r)))
    }

    fn send_datagram(&self, data: Bytes) -> Result<(), TransportError> {
        self.0.send_datagram(data).map_err(|e| match e {
            SendDatagramError::TooLarge => TransportError::DatagramTooLarge,
            other => TransportError::Other(other.to_string()),
        })
    }

    async fn recv_datagram(&self) -> Result<Bytes, TransportError> {
        let d = self.0.receive_datagram().await.map_err(connection_error)?;
        Ok(d.payload())
    }

    fn max_datagram_size(&self) -> Option<usize> {
        self.0.max_datagram_size()
    }

    fn close(&self, code: u32, reason: &str) {
        self.0.close(VarInt::from_u32(code), reason.as_bytes());
    }

    async fn closed(&self) -> TransportError {
        connection_error(self.0.closed().await)
    }

    fn rtt(&self) -> Duration {
        self.0.rtt()
    }

    fn path_stats(&self) -> super::PathStats {
        let p = self.0.quic_connection().stats().path;
        super::PathStats { rtt: p.rtt, sent_packets: p.sent_packets, lost_packets: p.lost_packets }
    }
}

impl SendStream for WtSend {
    async fn write_all(&mut self, data: &[u8]) -> Result<(), TransportError> {
        self.0.write_all(data).await.map_err(write_error)
    }

    async fn write_bytes(&mut self, data: Bytes) -> Result<(), TransportError> {
        // quinn keeps the `Bytes` itself in its send buffer: no copy of the payload.
        self.0.quic_stream_mut().write_chunk(data).await.map_err(|e| write_error(StreamWriteError::from(e)))
    }

    fn finish(&mut self) -> Result<(), TransportError> {
        self.0.quic_stream_mut().finish().map_err(|e| TransportError::Other(e.to_string()))
    }

    async fn flushed(&mut self) {
        let _ = self.0.stopped().await;
    }

    fn reset(&mut self, code: u32) {
        // Already finished or reset: nothing to abandon.
        let _ = self.0.reset(VarInt::from_u32(code));
    }

    fn set_priority(&mut self, priority: i32) {
        self.0.set_priority(priority);
    }
}

impl RecvStream for WtRecv {
    async fn read(&mut self, buf: &mut [u8]) -> Result<Option<usize>, TransportError> {
        self.0.read(buf).await.map_err(|e| match e {
            StreamReadError::Reset(c) => TransportError::StreamReset(code(c)),
            other => TransportError::Lost(other.to_string()),
        })
    }

    fn stop(self, code: u32) {
        self.0.stop(VarInt::from_u32(code));
    }
}

/// Why a client could not open a session.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConnectError {
    /// A certificate hash that is not 64 hex digits.
    #[error("bad certificate hash: {0}")]
    BadCertificateHash(String),
    /// The server refused the session (bad credentials, unknown path).
    #[error("server rejected the session")]
    Rejected,
    /// Could not reach the server or complete the handshake.
    #[error("cannot connect: {0}")]
    Unreachable(String),
}

/// How a client connection notices a dead path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Liveness {
    /// Send a keep-alive when idle this long.
    pub keep_alive: Duration,
    /// Declare the connection lost after this long without hearing from the peer.
    pub idle_timeout: Duration,
}

impl Default for Liveness {
    fn default() -> Self {
        Self { keep_alive: Duration::from_secs(1), idle_timeout: Duration::from_secs(6) }
    }
}

/// Unidirectional streams a peer may have open towards us at once. quinn's default (100) is too
/// few for a subscriber of many tracks, which receives up to two group streams per video track.
pub const MAX_INCOMING_UNI_STREAMS: u32 = 1024;

/// Bytes of stream data a media handler lets the transport buffer per connection (quinn's default
/// is 10 MB). Media waiting beyond this stays in the SFU's own egress queue, where stale groups
/// can still be dropped; it allows 20 Mbit/s per subscriber at 200 ms RTT.
pub const SERVER_SEND_WINDOW: u64 = 512 * 1024;

/// Stream data a client's transport buffers per connection before flow control holds the sender
/// back (quinn's default is unlimited): 4 MiB is 320 Mbit/s at 100 ms RTT.
pub const CLIENT_RECEIVE_WINDOW: u32 = 4 * 1024 * 1024;

/// Datagrams the transport may buffer per connection before dropping the oldest (quinn's
/// default is 1 MB, minutes of audio): late audio is worthless.
pub const SERVER_DATAGRAM_BUFFER: usize = 64 * 1024;

/// The QUIC transport settings of Dark Tower endpoints: keep-alive, idle timeout, room for many
/// media streams; `server` also bounds the send buffers (see [`SERVER_SEND_WINDOW`]).
pub fn transport_config(
    keep_alive: Duration,
    idle_timeout: Duration,
    server: bool,
) -> Result<wtransport::config::QuicTransportConfig, String> {
    let mut tc = wtransport::config::QuicTransportConfig::default();
    tc.keep_alive_interval(Some(keep_alive));
    tc.max_idle_timeout(Some(idle_timeout.try_into().map_err(|_| "idle timeout out of range".to_owned())?));
    tc.max_concurrent_uni_streams(MAX_INCOMING_UNI_STREAMS.into());
    if server {
        tc.send_window(SERVER_SEND_WINDOW);
        tc.datagram_send_buffer_size(SERVER_DATAGRAM_BUFFER);
    } else {
        // quinn's default is unlimited: an application that reads slowly would let the
        // transport buffer without bound, and the SFU would never see it fall behind.
        tc.receive_window(CLIENT_RECEIVE_WINDOW.into());
    }
    Ok(tc)
}

/// Opens a client session to `url`, pinning `certificate_sha256` (hex) when not empty and
/// otherwise validating against the system roots.
pub async fn connect(url: &str, certificate_sha256: &[String]) -> Result<WtSession, ConnectError> {
    connect_with(url, certificate_sha256, Liveness::default()).await
}

/// [`connect`] with explicit keep-alive and idle timeout.
pub async fn connect_with(
    url: &str,
    certificate_sha256: &[String],
    liveness: Liveness,
) -> Result<WtSession, ConnectError> {
    let builder = ClientConfig::builder().with_bind_default();
    let idle = Some(liveness.idle_timeout);
    let mut config = if certificate_sha256.is_empty() {
        builder
            .with_native_certs()
            .keep_alive_interval(Some(liveness.keep_alive))
            .max_idle_timeout(idle)
            .map_err(|e| ConnectError::Unreachable(e.to_string()))?
            .build()
    } else {
        let mut hashes = Vec::new();
        for h in certificate_sha256 {
            let bytes: [u8; 32] = hex::decode(h)
                .ok()
                .and_then(|b| b.try_into().ok())
                .ok_or_else(|| ConnectError::BadCertificateHash(h.clone()))?;
            hashes.push(wtransport::tls::Sha256Digest::new(bytes));
        }
        builder
            .with_server_certificate_hashes(hashes)
            .keep_alive_interval(Some(liveness.keep_alive))
            .max_idle_timeout(idle)
            .map_err(|e| ConnectError::Unreachable(e.to_string()))?
            .build()
    };
    let transport = transport_config(liveness.keep_alive, liveness.idle_timeout, false)
        .map_err(ConnectError::Unreachable)?;
    config.quic_config_mut().transport_config(std::sync::Arc::new(transport));
    let endpoint = Endpoint::client(config).map_err(|e| ConnectError::Unreachable(e.to_string()))?;
    match endpoint.connect(url).await {
        Ok(c) => Ok(WtSession(c)),
        Err(wtransport::error::ConnectingError::SessionRejected) => Err(ConnectError::Rejected),
        Err(e) => Err(ConnectError::Unreachable(e.to_string())),
    }
}
