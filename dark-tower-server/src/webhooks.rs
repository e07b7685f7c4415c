//! Webhooks over HTTP: every event is POSTed as JSON to each configured receiver, signed with
//! HMAC-SHA256, retried with exponential backoff, in order per receiver.
//!
//! Each request carries:
//! - `Content-Type: application/json`, body `{"id", "created_at", "event", ...fields}`;
//! - `Dark-Tower-Event-Id`: the event id (the same on every retry: receivers deduplicate);
//! - `Dark-Tower-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`,
//!   checked by [`verify_signature`].
//!
//! A 2xx answer delivers; a connection error, a timeout, 408, 429 or 5xx is retried; any other
//! status drops the event at once (the receiver refused it). Events that exhaust their attempts
//! or find the queue full are dropped and counted.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use dark_tower_core::token::{Secret, unix_secs};
use dark_tower_core::webhook::{WebhookError, WebhookEvent, WebhookSink};
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use tokio::sync::mpsc;

use crate::config::WebhookConfig;

/// Header with the event id.
pub const EVENT_ID_HEADER: &str = "dark-tower-event-id";
/// Header with the signature.
pub const SIGNATURE_HEADER: &str = "dark-tower-signature";
/// Events waiting per receiver before new ones are dropped.
pub const QUEUE: usize = 10_000;

/// Delivery counters, summed over receivers.
#[derive(Debug, Default)]
pub struct WebhookCounters {
    /// Events a receiver accepted.
    pub delivered: AtomicU64,
    /// Attempts that failed and were retried.
    pub retried: AtomicU64,
    /// Events given up on (attempts exhausted, refused, or queue full).
    pub dropped: AtomicU64,
}

/// POSTs events to receivers; see the module documentation.
#[derive(Debug)]
pub struct HttpWebhookSink {
    queues: Vec<mpsc::Sender<Arc<Signed>>>,
    counters: Arc<WebhookCounters>,
}

/// One event, serialized once for every receiver.
#[derive(Debug)]
struct Signed {
    id: String,
    body: bytes::Bytes,
}

impl HttpWebhookSink {
    /// Starts one delivery task per URL of `config`, signing with `secret`. Needs a tokio
    /// runtime.
    pub fn start(config: &WebhookConfig, secret: Secret) -> Result<Self, String> {
        let client = reqwest::Client::builder()
            .timeout(config.timeout)
            .user_agent(concat!("dark-tower-server/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| format!("webhook client: {e}"))?;
        let counters = Arc::new(WebhookCounters::default());
        let mut queues = Vec::new();
        for url in &config.urls {
            let url = reqwest::Url::parse(url).map_err(|e| format!("webhook url {url:?}: {e}"))?;
            let (tx, rx) = mpsc::channel(QUEUE);
            let receiver = Receiver {
                client: client.clone(),
                url,
                secret: secret.clone(),
                config: config.clone(),
                counters: Arc::clone(&counters),
            };
            tokio::spawn(receiver.run(rx));
            queues.push(tx);
        }
        Ok(Self { queues, counters })
    }

    /// Delivery counters.
    pub fn counters(&self) -> Arc<WebhookCounters> {
        Arc::clone(&self.counters)
    }
}

#[async_trait]
impl WebhookSink for HttpWebhookSink {
    async fn deliver(&self, event: WebhookEvent) -> Result<(), WebhookError> {
        tracing::debug!(?event, "webhook event");
        let id: [u8; 12] = rand::random();
        let id = hex::encode(id);
        let mut body = serde_json::to_value(&event).map_err(|e| WebhookError(e.to_string()))?;
        if let Some(obj) = body.as_object_mut() {
            obj.insert("id".into(), id.clone().into());
            obj.insert("created_at".into(), unix_secs(SystemTime::now()).into());
        }
        let body = serde_json::to_vec(&body).map_err(|e| WebhookError(e.to_string()))?;
        let signed = Arc::new(Signed { id, body: body.into() });
        let mut full = 0;
        for q in &self.queues {
            if q.try_send(Arc::clone(&signed)).is_err() {
                full += 1;
            }
        }
        if full > 0 {
            self.counters.dropped.fetch_add(full, Ordering::Relaxed);
            return Err(WebhookError(format!("{full} webhook queue(s) full; event dropped there")));
        }
        Ok(())
    }
}

struct Receiver {
    client: reqwest::Client,
    url: reqwest::Url,
    secret: Secret,
    config: WebhookConfig,
    counters: Arc<WebhookCounters>,
}

enum Outcome {
    Delivered,
    Retry(String),
    Refused(String),
}

impl Receiver {
    async fn run(self, mut rx: mpsc::Receiver<Arc<Signed>>) {
        while let Some(event) = rx.recv().await {
            let mut backoff = self.config.initial_backoff;
            let mut attempt = 1;
            loop {
                match self.attempt(&event).await {
                    Outcome::Delivered => {
                        self.counters.delivered.fetch_add(1, Ordering::Relaxed);
                        break;
                    }
                    Outcome::Refused(why) => {
                        tracing::warn!(url = %self.url, id = %event.id, %why, "webhook refused; dropped");
                        self.counters.dropped.fetch_add(1, Ordering::Relaxed);
                        break;
                    }
                    Outcome::Retry(why) if attempt >= self.config.max_attempts => {
                        tracing::warn!(url = %self.url, id = %event.id, %why, attempt, "webhook undeliverable; dropped");
                        self.counters.dropped.fetch_add(1, Ordering::Relaxed);
                        break;
                    }
                    Outcome::Retry(why) => {
                        tracing::debug!(url = %self.url, id = %event.id, %why, attempt, "webhook retry");
                        self.counters.retried.fetch_add(1, Ordering::Relaxed);
                        tokio::time::sleep(backoff).await;
                        backoff = (backoff * 2).min(self.config.max_backoff);
                        attempt += 1;
                    }
                }
            }
        }
    }

    async fn attempt(&self, event: &Signed) -> Outcome {
        let t = unix_secs(SystemTime::now());
        let signature = signature_header(&self.secret, t, &event.body);
        let sent = self
            .client
            .post(self.url.clone())
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header(EVENT_ID_HEADER, &event.id)
            .header(SIGNATURE_HEADER, signature)
            .body(event.body.clone())
            .send()
            .await;
        match sent {
            Err(e) => Outcome::Retry(e.to_string()),
            Ok(r) if r.status().is_success() => Outcome::Delivered,
            Ok(r) if r.status().is_server_error() || matches!(r.status().as_u16(), 408 | 429) => {
                Outcome::Retry(format!("status {}", r.status()))
            }
            Ok(r) => Outcome::Refused(format!("status {}", r.status())),
        }
    }
}

fn mac(secret: &Secret, t: u64, body: &[u8]) -> Hmac<Sha256> {
    // HMAC takes keys of any length.
    let mut m = <Hmac<Sha256> as KeyInit>::new_from_slice(secret.expose().as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC accepts any key length"));
    m.update(t.to_string().as_bytes());
    m.update(b".");
    m.update(body);
    m
}

/// The `Dark-Tower-Signature` value for `body` sent at `t` (Unix seconds).
pub fn signature_header(secret: &Secret, t: u64, body: &[u8]) -> String {
    format!("t={t},v1={}", hex::encode(mac(secret, t, body).finalize().into_bytes()))
}

/// Why a webhook signature was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    /// The header is not `t=…,v1=…`.
    #[error("malformed signature header")]
    Malformed,
    /// The timestamp is further than the tolerance from now (a replay, or a skewed clock).
    #[error("signature timestamp outside the tolerance")]
    Stale,
    /// The HMAC does not match.
    #[error("signature mismatch")]
    Mismatch,
}

/// Checks a `Dark-Tower-Signature` header against `body` (constant-time comparison), refusing
/// timestamps more than `tolerance` from `now`.
pub fn verify_signature(
    secret: &Secret,
    header: &str,
    body: &[u8],
    now: SystemTime,
    tolerance: Duration,
) -> Result<(), SignatureError> {
    let mut t = None;
    let mut v1 = None;
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", v)) => t = v.parse::<u64>().ok(),
            Some(("v1", v)) => v1 = hex::decode(v).ok(),
            _ => {}
        }
    }
    let (Some(t), Some(v1)) = (t, v1) else { return Err(SignatureError::Malformed) };
    if unix_secs(now).abs_diff(t) > tolerance.as_secs() {
        return Err(SignatureError::Stale);
    }
    mac(secret, t, body).verify_slice(&v1).map_err(|_| SignatureError::Mismatch)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_verify_and_refuse_tampering() {
        let s = Secret::new("k");
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        let h = signature_header(&s, unix_secs(now), b"{}");
        let tol = Duration::from_secs(300);
        assert_eq!(verify_signature(&s, &h, b"{}", now, tol), Ok(()));
        assert_eq!(verify_signature(&s, &h, b"{ }", now, tol), Err(SignatureError::Mismatch));
        assert_eq!(verify_signature(&Secret::new("x"), &h, b"{}", now, tol), Err(SignatureError::Mismatch));
        assert_eq!(
            verify_signature(&s, &h, b"{}", now + Duration::from_secs(301), tol),
            Err(SignatureError::Stale)
        );
        assert_eq!(verify_signature(&s, "v1=00", b"{}", now, tol), Err(SignatureError::Malformed));
    }
}
