//! Webhooks reach a real local HTTP receiver: meeting started / ended, participant joined /
//! left and track published / unpublished, each signed (the receiver verifies the signature
//! with the shared secret), retried with backoff when the receiver fails, in the order they
//! happened, and delivered once per event id.

mod common;

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use common::TestServer;
use dark_tower_client::TrackOptions;
use dark_tower_core::token::Secret;
use dark_tower_core::track::TrackSource;
use dark_tower_server::webhooks::{SIGNATURE_HEADER, verify_signature};
use reqwest::Method;

const SECRET: &str = "webhook-test-secret-0123456789abcdef";

#[derive(Default)]
struct Receiver {
    /// Every request: event id, body, and whether its signature verified.
    attempts: Vec<(String, serde_json::Value, bool)>,
    /// How many requests to fail (503) before accepting.
    fail_first: usize,
}

async fn receive(State(r): State<Arc<Mutex<Receiver>>>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let sig = headers.get(SIGNATURE_HEADER).and_then(|v| v.to_str().ok()).unwrap_or("");
    let ok = verify_signature(&Secret::new(SECRET), sig, &body, SystemTime::now(), Duration::from_secs(300))
        .is_ok();
    let id = headers.get("dark-tower-event-id").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    let json = serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null);
    let mut r = r.lock().expect("lock");
    r.attempts.push((id, json, ok));
    if r.attempts.len() <= r.fail_first { StatusCode::SERVICE_UNAVAILABLE } else { StatusCode::NO_CONTENT }
}

/// The delivered events (the last attempt of each id), in order.
fn delivered(r: &Receiver) -> Vec<(String, serde_json::Value)> {
    let mut out: Vec<(String, serde_json::Value)> = Vec::new();
    for (i, (id, body, _)) in r.attempts.iter().enumerate() {
        if i >= r.fail_first && !out.iter().any(|(x, _)| x == id) {
            out.push((id.clone(), body.clone()));
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_arrive_signed_in_order_after_retries() {
    let state = Arc::new(Mutex::new(Receiver { fail_first: 2, ..Receiver::default() }));
    let app = Router::new().route("/hook", post(receive)).with_state(Arc::clone(&state));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let hook_url = format!("http://{}/hook", listener.local_addr().expect("addr"));
    tokio::spawn(async move { axum::serve(listener, app).await });

    let t = TestServer::start_with(|c| {
        c.webhooks.urls = vec![hook_url];
        c.webhooks.secret = Some(Secret::new(SECRET));
        c.webhooks.initial_backoff = Duration::from_millis(50);
    })
    .await;
    let ann = t.join("hooks", "ann").await;
    let mic = ann.publish_track(TrackOptions::new(TrackSource::Microphone, "opus")).await.expect("publish");
    let track_id = mic.info().id.to_string();
    ann.unpublish_track(mic.info()).expect("unpublish");
    ann.leave().await;
    let (status, _) =
        common::status_json(t.api(Method::POST, "/v1/meetings/hooks/end").send().await.expect("end request"))
            .await;
    assert!(status == 200 || status == 204, "end: {status}");

    let expected = [
        "meeting_started",
        "participant_joined",
        "track_published",
        "track_unpublished",
        "participant_left",
        "meeting_ended",
    ];
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let events = delivered(&state.lock().expect("lock"));
        if events.len() >= expected.len() {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "only {} events arrived: {events:?}", events.len());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let (events, attempts) = {
        let r = state.lock().expect("lock");
        (delivered(&r), r.attempts.clone())
    };
    let kinds: Vec<&str> = events.iter().map(|(_, b)| b["event"].as_str().unwrap_or("?")).collect();
    assert_eq!(kinds, expected, "events in the order they happened");
    assert!(attempts.iter().all(|(_, _, ok)| *ok), "every request carries a valid signature");
    // The first event was refused twice, then delivered: three attempts with one id.
    let first_id = &events[0].0;
    assert_eq!(attempts.iter().filter(|(id, _, _)| id == first_id).count(), 3, "retried until accepted");
    assert_eq!(attempts.len(), expected.len() + 2, "each event delivered once after the retries");
    for (id, body) in &events {
        assert_eq!(body["id"].as_str(), Some(id.as_str()), "the body carries the event id");
        assert_eq!(body["meeting"], "hooks");
        assert!(body["created_at"].as_u64().is_some());
    }
    assert_eq!(events[2].1["track"], track_id.as_str());
    assert_eq!(events[1].1["identity"], "ann");
    let metrics = reqwest::get(format!("http://{}/metrics", t.server.admin)).await.expect("scrape");
    let metrics = metrics.text().await.expect("body");
    assert!(metrics.contains("dark_tower_webhooks_delivered_total 6"), "{metrics}");
    assert!(metrics.contains("dark_tower_webhooks_retried_total 2"), "{metrics}");
    assert!(metrics.contains("dark_tower_webhooks_dropped_total 0"), "{metrics}");
}
