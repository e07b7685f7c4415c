//! Limits in front of every HTTP route: a token bucket per client address (`429
//! rate_limited` with `Retry-After` when empty) and a deadline per request (`503 timeout`).

use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{ConnectInfo, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use dark_tower_core::error::ErrorCode;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use super::ApiError;
use crate::config::HttpLimits;

/// The per-address buckets and the request deadline.
#[derive(Clone)]
pub(crate) struct Limits {
    buckets: Option<Arc<DefaultKeyedRateLimiter<IpAddr>>>,
    timeout: Duration,
}

impl Limits {
    pub(crate) fn new(config: &HttpLimits) -> Self {
        let buckets = NonZeroU32::new(config.requests_per_second).map(|rate| {
            let burst = NonZeroU32::new(config.burst).unwrap_or(rate);
            let limiter = Arc::new(RateLimiter::keyed(Quota::per_second(rate).allow_burst(burst)));
            // Forget addresses whose bucket has refilled, so the map does not grow without bound.
            let weak = Arc::downgrade(&limiter);
            tokio::spawn(async move {
                let mut tick = tokio::time::interval(Duration::from_secs(60));
                loop {
                    tick.tick().await;
                    let Some(l) = weak.upgrade() else { break };
                    l.retain_recent();
                    l.shrink_to_fit();
                }
            });
            limiter
        });
        Self { buckets, timeout: config.request_timeout }
    }
}

/// Applies the limits; the client address comes from the connection (the server sits behind
/// no proxy it trusts to tell another).
pub(crate) async fn enforce(State(limits): State<Limits>, request: Request, next: Next) -> Response {
    if let Some(buckets) = &limits.buckets {
        let ip = request
            .extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip())
            .unwrap_or(IpAddr::from([0, 0, 0, 0]));
        if let Err(not_until) = buckets.check_key(&ip) {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
            let mut r =
                ApiError::new(ErrorCode::RateLimited, "too many requests from this address; slow down")
                    .into_response();
            if let Ok(v) = secs.max(1).to_string().parse() {
                r.headers_mut().insert(axum::http::header::RETRY_AFTER, v);
            }
            return r;
        }
    }
    match tokio::time::timeout(limits.timeout, next.run(request)).await {
        Ok(r) => r,
        Err(_) => ApiError::new(ErrorCode::Timeout, "the server did not answer in time").into_response(),
    }
}
