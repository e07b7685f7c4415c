//! The signaling stream: one outgoing queue that survives reconnects (a writer task per
//! connection drains it), and request/response matching by `request_id`.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use dark_tower_core::codec::signal::{self, MessageReader, SignalCodecError};
use dark_tower_core::error::ErrorCode;
use dark_tower_core::proto::sig;
use dark_tower_core::transport::{RecvStream, SendStream};
use tokio::sync::{mpsc, oneshot};

use crate::ClientError;

pub(crate) type Pending = Arc<Mutex<HashMap<u32, oneshot::Sender<sig::ServerMessage>>>>;

/// The receiving end of the outgoing queue, taken by one connection's writer at a time.
pub(crate) type Outgoing = Arc<tokio::sync::Mutex<mpsc::UnboundedReceiver<sig::ClientMessage>>>;

/// How long a request waits for its answer.
pub(crate) const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

pub(crate) struct Signal {
    tx: mpsc::UnboundedSender<sig::ClientMessage>,
    pending: Pending,
    next: AtomicU32,
}

/// Reads one server message.
pub(crate) async fn read_message<R: RecvStream>(
    recv: &mut R,
    reader: &mut MessageReader,
) -> Result<Option<sig::ServerMessage>, SignalCodecError> {
    let mut buf = [0u8; 16 * 1024];
    loop {
        if let Some(body) = reader.next_message()? {
            return signal::decode_server(body).map(Some);
        }
        match recv.read(&mut buf).await {
            Ok(Some(n)) => reader.push(&buf[..n]),
            Ok(None) | Err(_) => return Ok(None),
        }
    }
}

/// Writes one client message.
pub(crate) async fn write_message<W: SendStream>(
    send: &mut W,
    msg: &sig::ClientMessage,
) -> Result<(), ClientError> {
    let bytes = signal::frame(msg).map_err(|e| ClientError::InvalidUse(e.to_string()))?;
    send.write_all(&bytes).await.map_err(|e| ClientError::Connection(e.to_string()))
}

/// Writes queued messages on one connection's stream until the queue closes or `closed`
/// resolves (the connection is gone; the queue is left for the next connection's writer).
pub(crate) fn spawn_writer<W: SendStream>(
    outgoing: Outgoing,
    mut send: W,
    closed: impl std::future::Future<Output = ()> + Send + 'static,
) {
    tokio::spawn(async move {
        let mut rx = outgoing.lock().await;
        tokio::pin!(closed);
        loop {
            let m = tokio::select! {
                m = rx.recv() => m,
                _ = &mut closed => return,
            };
            let Some(m) = m else { break };
            if write_message(&mut send, &m).await.is_err() {
                return;
            }
        }
        let _ = send.finish();
    });
}

impl Signal {
    /// A signaling handle; returns it, the pending map for the reader and the queue for writers.
    pub(crate) fn new() -> (Self, Pending, Outgoing) {
        let (tx, rx) = mpsc::unbounded_channel::<sig::ClientMessage>();
        let pending: Pending = Arc::default();
        let outgoing = Arc::new(tokio::sync::Mutex::new(rx));
        (Self { tx, pending: Arc::clone(&pending), next: AtomicU32::new(1) }, pending, outgoing)
    }

    /// Sends without waiting for an answer.
    pub(crate) fn send(&self, message: sig::client_message::Message) -> Result<(), ClientError> {
        self.tx
            .send(sig::ClientMessage { request_id: 0, message: Some(message) })
            .map_err(|_| ClientError::Connection("signaling closed".into()))
    }

    /// Sends and waits for the answer with the same request id. An `Error` answer is returned as
    /// [`ClientError::Server`].
    pub(crate) async fn request(
        &self,
        message: sig::client_message::Message,
    ) -> Result<sig::server_message::Message, ClientError> {
        let id = self.next.fetch_add(1, Ordering::Relaxed).max(1);
        let (tx, rx) = oneshot::channel();
        if let Ok(mut p) = self.pending.lock() {
            p.insert(id, tx);
        }
        self.tx
            .send(sig::ClientMessage { request_id: id, message: Some(message) })
            .map_err(|_| ClientError::Connection("signaling closed".into()))?;
        let reply = match tokio::time::timeout(REQUEST_TIMEOUT, rx).await {
            Ok(Ok(r)) => r,
            Ok(Err(_)) => return Err(ClientError::Connection("signaling closed".into())),
            Err(_) => {
                if let Ok(mut p) = self.pending.lock() {
                    p.remove(&id);
                }
                return Err(ClientError::Timeout);
            }
        };
        match reply.message {
            Some(sig::server_message::Message::Error(e)) => Err(ClientError::Server {
                code: ErrorCode::from_proto(e.code).unwrap_or(ErrorCode::Internal),
                message: e.message,
            }),
            Some(m) => Ok(m),
            None => Err(ClientError::Protocol("empty reply".into())),
        }
    }
}

/// Hands a reply to its waiting request; returns the message back if nobody waits for it.
pub(crate) fn deliver(pending: &Pending, msg: sig::ServerMessage) -> Option<sig::ServerMessage> {
    if msg.request_id == 0 {
        return Some(msg);
    }
    let waiter = pending.lock().ok().and_then(|mut p| p.remove(&msg.request_id));
    match waiter {
        Some(w) => {
            let _ = w.send(msg);
            None
        }
        None => Some(msg),
    }
}
