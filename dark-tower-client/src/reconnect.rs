//! Following the meeting and surviving a dropped connection.
//!
//! One task per room reads the signaling stream. When the connection is lost (not closed by the
//! server or by this client) it emits [`RoomEvent::Reconnecting`], opens a new signaling session
//! with the resume token, sends `Resume` with the highest message number received, and on
//! `Resumed` opens a new media session with the fresh ticket, swaps the room's [`Link`] and emits
//! [`RoomEvent::Reconnected`]; the messages missed meanwhile follow, each once. It retries with
//! backoff until the server's grace period is over, then gives up with
//! [`RoomEvent::Disconnected`].

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use dark_tower_core::codec::signal::{MessageReader, SignalCodecError};
use dark_tower_core::error::ErrorCode;
use dark_tower_core::limits::MAX_SIGNAL_MESSAGE;
use dark_tower_core::proto::sig;
use dark_tower_core::transport::wt::{self, ConnectError, Liveness, WtRecv, WtSession};
use dark_tower_core::transport::{Session, TransportError};
use sig::client_message::Message as C;
use sig::server_message::Message as S;
use tokio::time::Instant;

use crate::ClientError;
use crate::link::{Link, LinkCell};
use crate::room::{RoomEvent, Shared};
use crate::signal::{self, Outgoing, Pending};

/// Everything needed to resume.
pub(crate) struct Resumption {
    /// Signaling URL without its query.
    pub(crate) signal_url: String,
    pub(crate) certificate_sha256: Vec<String>,
    pub(crate) token: String,
    pub(crate) grace: Duration,
    pub(crate) protocol_version: u32,
    pub(crate) detail: String,
    pub(crate) liveness: Liveness,
}

/// The reading side of the current connection.
pub(crate) struct Reading {
    pub(crate) recv: WtRecv,
    pub(crate) reader: MessageReader,
    /// Highest `ServerMessage.seq` received.
    pub(crate) last_seq: u64,
}

/// Requests to fail once the messages resent after a resume have arrived: the server never
/// answered them, so they were lost with the connection.
struct Stale {
    ids: HashSet<u32>,
    replay_left: u32,
}

/// Reads the meeting until it is over for this client; resumes when the connection drops and
/// `resumption` allows.
pub(crate) async fn follow(
    shared: Arc<Shared>,
    cell: Arc<LinkCell>,
    pending: Pending,
    outgoing: Outgoing,
    mut reading: Reading,
    resumption: Option<Resumption>,
) {
    let mut stale: Option<Stale> = None;
    loop {
        let link = cell.get();
        if let Err(e) = read(&shared, &pending, &mut reading, &mut stale).await {
            tracing::warn!(error = %e, "bad signaling message from server");
            link.signal_session.close(e.code().wire(), &e.to_string());
        }
        let why = match tokio::time::timeout(Duration::from_secs(5), link.signal_session.closed()).await {
            Ok(why) => why,
            Err(_) => {
                link.signal_session.close(0, "signaling stream ended");
                TransportError::Other("the server ended the signaling stream".into())
            }
        };
        let resumption = match (&why, &resumption) {
            (TransportError::Lost(_), Some(r)) if !shared.is_disconnected() => r,
            _ => {
                link.media.close(0, "signaling closed");
                let (code, reason) = match why {
                    TransportError::ClosedByPeer { code, reason } => (ErrorCode::from_wire(code), reason),
                    other => (None, other.to_string()),
                };
                return shared.emit(RoomEvent::Disconnected { code, reason });
            }
        };
        tracing::info!(error = %why, "connection lost; resuming");
        shared.emit(RoomEvent::Reconnecting);
        link.media.close(0, "reconnecting");
        let ids = pending.lock().map(|p| p.keys().copied().collect()).unwrap_or_default();
        match resume(resumption, reading.last_seq).await {
            Ok(r) => {
                signal::spawn_writer(Arc::clone(&outgoing), r.send, closed(r.signal_session.clone()));
                spawn_datagrams(r.signal_session.clone(), Arc::clone(&shared));
                crate::media::spawn_receivers(r.media.clone(), Arc::clone(&shared));
                cell.set(Link {
                    signal_session: r.signal_session,
                    media: r.media,
                    generation: link.generation + 1,
                });
                reading = Reading { recv: r.recv, reader: r.reader, last_seq: reading.last_seq };
                let s = Stale { ids, replay_left: r.replayed };
                stale = if s.replay_left == 0 { fail_stale(&pending, s) } else { Some(s) };
                shared.emit(RoomEvent::Reconnected);
            }
            Err(e) => {
                let code = e.code();
                return shared.emit(RoomEvent::Disconnected { code, reason: e.to_string() });
            }
        }
    }
}

/// Handles messages until the stream ends (`Ok`) or carries garbage (`Err`).
async fn read(
    shared: &Shared,
    pending: &Pending,
    reading: &mut Reading,
    stale: &mut Option<Stale>,
) -> Result<(), SignalCodecError> {
    loop {
        match signal::read_message(&mut reading.recv, &mut reading.reader).await {
            Ok(Some(m)) => {
                if m.seq != 0 {
                    if m.seq <= reading.last_seq {
                        // Already seen before the connection dropped.
                        continue;
                    }
                    reading.last_seq = m.seq;
                }
                let replayed = m.seq != 0 && stale.is_some();
                if let Some(m) = signal::deliver(pending, m)
                    && let Some(body) = m.message
                {
                    shared.handle(body);
                }
                if replayed && let Some(mut s) = stale.take() {
                    s.replay_left = s.replay_left.saturating_sub(1);
                    *stale = if s.replay_left == 0 { fail_stale(pending, s) } else { Some(s) };
                }
            }
            Ok(None) => return Ok(()),
            // A message type newer than this client: ignored (proto/README.md §5).
            Err(SignalCodecError::Empty) => tracing::debug!("skipping an unknown server message"),
            Err(e) => return Err(e),
        }
    }
}

/// Fails (by dropping their reply channels) the requests the server never answered.
fn fail_stale(pending: &Pending, stale: Stale) -> Option<Stale> {
    if let Ok(mut p) = pending.lock() {
        p.retain(|id, _| !stale.ids.contains(id));
    }
    None
}

pub(crate) async fn closed(session: WtSession) {
    session.closed().await;
}

/// Best-effort data messages arrive as signaling-session datagrams.
pub(crate) fn spawn_datagrams(session: WtSession, shared: Arc<Shared>) {
    tokio::spawn(async move {
        while let Ok(d) = session.recv_datagram().await {
            if let Ok(m) = <sig::ServerMessage as prost::Message>::decode(d)
                && let Some(body) = m.message
            {
                shared.handle(body);
            }
        }
    });
}

/// A resumed connection.
struct Resumed {
    signal_session: WtSession,
    send: wt::WtSend,
    recv: WtRecv,
    reader: MessageReader,
    media: WtSession,
    replayed: u32,
}

enum Attempt {
    /// Worth trying again (the network is still down).
    Retry(ClientError),
    /// The server said no.
    Fatal(ClientError),
}

/// Tries to resume until the grace period is over.
async fn resume(r: &Resumption, last_seq: u64) -> Result<Resumed, ClientError> {
    let deadline = Instant::now() + r.grace;
    let mut backoff = Duration::from_millis(100);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(ClientError::Connection("could not resume within the grace period".into()));
        }
        let attempt = match tokio::time::timeout(left, attempt(r, last_seq)).await {
            Ok(a) => a,
            Err(_) => Err(Attempt::Retry(ClientError::Timeout)),
        };
        match attempt {
            Ok(resumed) => return Ok(resumed),
            Err(Attempt::Fatal(e)) => return Err(e),
            Err(Attempt::Retry(e)) => {
                tracing::debug!(error = %e, "resume attempt failed; retrying");
                let left = deadline.saturating_duration_since(Instant::now());
                tokio::time::sleep(backoff.min(left)).await;
                backoff = (backoff * 2).min(Duration::from_secs(2));
            }
        }
    }
}

async fn attempt(r: &Resumption, last_seq: u64) -> Result<Resumed, Attempt> {
    use Attempt::{Fatal, Retry};
    let lost = |e: &dyn std::fmt::Display| Retry(ClientError::Connection(e.to_string()));
    let url = format!("{}?resume_token={}", r.signal_url, r.token);
    let session = match wt::connect_with(&url, &r.certificate_sha256, r.liveness).await {
        Ok(s) => s,
        Err(ConnectError::Rejected) => {
            return Err(Fatal(ClientError::Server {
                code: ErrorCode::ResumeFailed,
                message: "the server refused the resume token".into(),
            }));
        }
        Err(e) => return Err(lost(&e)),
    };
    let (mut send, mut recv) = session.open_bi().await.map_err(|e| lost(&e))?;
    let hello = sig::ClientMessage {
        request_id: 0,
        message: Some(C::Resume(sig::Resume {
            protocol_version: r.protocol_version,
            last_seq,
            client: Some(sig::ClientInfo {
                sdk: "dark-tower-client".into(),
                version: env!("CARGO_PKG_VERSION").into(),
                detail: r.detail.clone(),
                video_decoders: Vec::new(),
            }),
        })),
    };
    signal::write_message(&mut send, &hello).await.map_err(Retry)?;
    let mut reader = MessageReader::new(MAX_SIGNAL_MESSAGE);
    let first = tokio::time::timeout(signal::REQUEST_TIMEOUT, signal::read_message(&mut recv, &mut reader))
        .await
        .map_err(|_| Retry(ClientError::Timeout))?
        .map_err(|e| Fatal(ClientError::Protocol(e.to_string())))?;
    let resumed = match first.and_then(|m| m.message) {
        Some(S::Resumed(r)) => r,
        Some(S::Disconnect(d)) => {
            return Err(Fatal(ClientError::Server {
                code: ErrorCode::from_proto(d.code).unwrap_or(ErrorCode::ResumeFailed),
                message: d.message,
            }));
        }
        Some(other) => return Err(Fatal(ClientError::Protocol(format!("expected Resumed, got {other:?}")))),
        None => {
            return Err(match session.closed().await {
                TransportError::ClosedByPeer { code, reason } => Fatal(ClientError::Server {
                    code: ErrorCode::from_wire(code).unwrap_or(ErrorCode::ResumeFailed),
                    message: reason,
                }),
                other => lost(&other),
            });
        }
    };
    let ep = resumed.media.ok_or_else(|| Fatal(ClientError::Protocol("Resumed without media".into())))?;
    let media_url = format!("{}?ticket={}", ep.url, ep.ticket);
    let media = match wt::connect_with(&media_url, &ep.certificate_sha256, r.liveness).await {
        Ok(m) => m,
        Err(e) => {
            session.close(0, "media session failed");
            return Err(lost(&e));
        }
    };
    Ok(Resumed { signal_session: session, send, recv, reader, media, replayed: resumed.replayed })
}
