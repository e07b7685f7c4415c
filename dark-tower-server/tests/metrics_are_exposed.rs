//! The admin port serves Prometheus metrics that follow the media and the sessions, without
//! per-meeting labels.

mod common;

use bytes::Bytes;
use common::{TestServer, wait_for};
use dark_tower_client::{OutgoingFrame, RoomEvent, TrackOptions, TrackSource};

fn value(body: &str, name: &str) -> f64 {
    body.lines()
        .find_map(|l| l.strip_prefix(name).and_then(|rest| rest.strip_prefix(' ')))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("{name} missing from:\n{body}"))
}

async fn scrape(t: &TestServer) -> String {
    let r = reqwest::get(format!("http://{}/metrics", t.server.admin)).await.expect("scrape");
    assert_eq!(r.status(), 200);
    let ct = r.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    assert!(ct.starts_with("application/openmetrics-text"), "{ct}");
    r.text().await.expect("body")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_follow_sessions_and_media() {
    let t = TestServer::start().await;
    let before = scrape(&t).await;
    assert_eq!(value(&before, "dark_tower_signaling_sessions"), 0.0);
    assert_eq!(value(&before, "dark_tower_media_frames_forwarded_total"), 0.0);

    let ann = t.join("m", "ann").await;
    let mut bob = t.join("m", "bob").await;
    let mut mic =
        ann.publish_track(TrackOptions::new(TrackSource::Microphone, "opus")).await.expect("publish");
    wait_for(&mut bob, |e| matches!(e, RoomEvent::TrackPublished { .. }).then_some(())).await;
    let frame = OutgoingFrame {
        spatial_id: 0,
        temporal_id: 0,
        keyframe: false,
        discardable: false,
        capture_ts_us: 0,
        audio_level: Some(40),
        payload: Bytes::from_static(&[1; 50]),
    };
    // Datagrams may be lost: send until one arrives.
    let received = async {
        loop {
            mic.send(frame.clone()).await.expect("send");
            if let Ok(Some(RoomEvent::Frame(_))) =
                tokio::time::timeout(std::time::Duration::from_millis(100), bob.next_event()).await
            {
                return;
            }
        }
    };
    tokio::time::timeout(std::time::Duration::from_secs(20), received).await.expect("a frame arrives");

    let after = scrape(&t).await;
    assert_eq!(value(&after, "dark_tower_signaling_sessions"), 2.0);
    assert_eq!(value(&after, "dark_tower_media_sessions"), 2.0);
    assert_eq!(value(&after, "dark_tower_meetings_live"), 1.0);
    assert!(value(&after, "dark_tower_media_frames_forwarded_total") >= 1.0);
    assert!(value(&after, "dark_tower_media_bytes_forwarded_total") >= 50.0);
    assert!(!after.contains("meeting=") && !after.contains("participant="), "no per-meeting labels");
    assert_eq!(value(&after, "dark_tower_tracks_published"), 1.0);
    // Two joins measured, each under the largest bucket.
    assert_eq!(value(&after, "dark_tower_join_latency_seconds_count"), 2.0);
    assert!(value(&after, "dark_tower_join_latency_seconds_sum") > 0.0);
    assert_eq!(value(&after, "dark_tower_join_latency_seconds_bucket{le=\"+Inf\"}"), 2.0);
    // REST latency by route template: the two POST /v1/join calls.
    let joins =
        "dark_tower_http_request_duration_seconds_count{method=\"POST\",route=\"/v1/join\",status=\"2xx\"}";
    assert_eq!(value(&after, joins), 2.0);

    ann.unpublish_track(mic.info()).expect("unpublish");
    wait_for(&mut bob, |e| matches!(e, RoomEvent::TrackUnpublished { .. }).then_some(())).await;
    assert_eq!(value(&scrape(&t).await, "dark_tower_tracks_published"), 0.0);
}
