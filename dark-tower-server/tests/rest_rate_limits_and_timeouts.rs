//! The HTTP API limits each client address to its configured rate (a flood gets `429
//! rate_limited` with `Retry-After`, and the bucket refills), and answers a request the server
//! cannot finish in time with `503 timeout` instead of hanging.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use common::{TestServer, status_json};
use dark_tower_core::ids::{MeetingName, ParticipantId};
use dark_tower_core::store::{
    MeetingReader, MeetingRecord, MeetingWriter, MemoryMeetingStore, SessionRecord, StoreError,
};
use reqwest::Method;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_from_one_address_is_refused_then_recovers() {
    let t = TestServer::start_with(|c| {
        c.http_limits.requests_per_second = 2;
        c.http_limits.burst = 5;
    })
    .await;
    let mut codes = Vec::new();
    let mut retry_after = None;
    for _ in 0..20 {
        let r = t.api(Method::GET, "/v1/meetings").send().await.expect("request");
        if let Some(v) = r.headers().get("retry-after") {
            retry_after = v.to_str().ok().and_then(|s| s.parse::<u64>().ok());
        }
        let (status, body) = status_json(r).await;
        codes.push((status, body["error"]["code"].as_str().map(str::to_owned)));
    }
    let ok = codes.iter().filter(|(s, _)| *s == 200).count();
    let limited = codes.iter().filter(|(s, c)| *s == 429 && c.as_deref() == Some("rate_limited")).count();
    assert_eq!(ok + limited, codes.len(), "only successes and rate_limited: {codes:?}");
    assert!(ok >= 5 && limited >= 5, "the burst passes, the rest is refused: {codes:?}");
    assert!(retry_after.is_some_and(|s| (1..=2).contains(&s)), "Retry-After: {retry_after:?}");
    // The bucket refills at the sustained rate.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let r = t.api(Method::GET, "/v1/meetings").send().await.expect("request");
    assert_eq!(r.status(), 200, "allowed again after waiting");
}

/// A store whose reads hang while `stall` is set.
#[derive(Default)]
struct StallingStore {
    inner: MemoryMeetingStore,
    stall: AtomicBool,
}

impl StallingStore {
    async fn maybe_stall(&self) {
        if self.stall.load(Ordering::SeqCst) {
            std::future::pending::<()>().await;
        }
    }
}

#[async_trait]
impl MeetingReader for StallingStore {
    async fn get_meeting(&self, name: &MeetingName) -> Result<Option<MeetingRecord>, StoreError> {
        self.inner.get_meeting(name).await
    }
    async fn list_meetings(&self, include_ended: bool) -> Result<Vec<MeetingRecord>, StoreError> {
        self.maybe_stall().await;
        self.inner.list_meetings(include_ended).await
    }
    async fn list_sessions(&self, meeting: &MeetingName) -> Result<Vec<SessionRecord>, StoreError> {
        self.inner.list_sessions(meeting).await
    }
}

#[async_trait]
impl MeetingWriter for StallingStore {
    async fn create_meeting(&self, record: MeetingRecord) -> Result<MeetingRecord, StoreError> {
        self.inner.create_meeting(record).await
    }
    async fn end_meeting(&self, name: &MeetingName, at: SystemTime) -> Result<(), StoreError> {
        self.inner.end_meeting(name, at).await
    }
    async fn session_started(&self, record: SessionRecord) -> Result<(), StoreError> {
        self.inner.session_started(record).await
    }
    async fn session_ended(
        &self,
        meeting: &MeetingName,
        participant: ParticipantId,
        at: SystemTime,
    ) -> Result<(), StoreError> {
        self.inner.session_ended(meeting, participant, at).await
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_the_server_cannot_finish_times_out_with_a_typed_error() {
    let store = Arc::new(StallingStore::default());
    let t = TestServer::start_with_store(
        |c| c.http_limits.request_timeout = Duration::from_millis(300),
        Some(store.clone()),
    )
    .await;
    assert_eq!(t.api(Method::GET, "/v1/meetings").send().await.expect("request").status(), 200);
    store.stall.store(true, Ordering::SeqCst);
    let started = tokio::time::Instant::now();
    let (status, body) = status_json(t.api(Method::GET, "/v1/meetings").send().await.expect("request")).await;
    assert_eq!((status, body["error"]["code"].as_str()), (503, Some("timeout")), "{body}");
    assert!(started.elapsed() < Duration::from_secs(10), "answered instead of hanging");
    store.stall.store(false, Ordering::SeqCst);
    assert_eq!(t.api(Method::GET, "/v1/meetings").send().await.expect("request").status(), 200);
}
