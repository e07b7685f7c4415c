//! Over real WebTransport: the media handler's stats per subscriber (RTT, throughput, frames,
//! bytes, drops), per subscription (layer) and per track (layer bitrates) are available to an
//! embedding application, and feed Prometheus histograms without per-meeting labels.

mod common;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use common::{TestServer, wait_for};
use dark_tower_client::{OutgoingFrame, RoomEvent, TrackOptions, TrackSource, synthetic};
use dark_tower_core::ids::MeetingName;

fn now_us() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_micros() as u64).unwrap_or(0)
}

fn value(body: &str, name: &str) -> Option<f64> {
    body.lines().find_map(|l| {
        l.strip_prefix(name).and_then(|r| r.strip_prefix(' ')).and_then(|v| v.trim().parse().ok())
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stats_per_subscriber_subscription_and_track() {
    let t = TestServer::start().await;
    let publisher = t.join("stats", "pub").await;
    let mut viewer = t.join("stats", "viewer").await;
    let viewer_id = viewer.local_participant().id;
    let mut track = publisher
        .publish_track(
            TrackOptions::new(TrackSource::Camera, "synthetic")
                .simulcast(&[(320, 180, 150_000), (640, 360, 500_000)]),
        )
        .await
        .expect("publish");
    let track_id = track.info().id;
    let sender = tokio::spawn(async move {
        let mut clock = common::media_node::frame_clock(Duration::from_millis(33));
        for n in 0u64.. {
            clock.tick().await;
            for layer in 0..2u8 {
                let frame = OutgoingFrame {
                    spatial_id: layer,
                    temporal_id: 0,
                    keyframe: n % 30 == 0,
                    discardable: false,
                    capture_ts_us: now_us(),
                    audio_level: None,
                    payload: synthetic::payload(
                        u64::from(layer),
                        n,
                        now_us(),
                        400 * (usize::from(layer) + 1),
                    ),
                };
                if track.send(frame).await.is_err() {
                    return;
                }
            }
        }
    });
    wait_for(&mut viewer, |e| matches!(e, RoomEvent::Frame(f) if f.track == Some(track_id)).then_some(()))
        .await;

    // Stats are reported every 2 s per subscriber; wait (on frames arriving) until they are in.
    let meeting = MeetingName::new("stats").expect("name");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    let stats = loop {
        let _ = tokio::time::timeout(Duration::from_millis(200), viewer.next_event()).await;
        let s = t.server.media.meeting_stats(&meeting).await.expect("meeting has media");
        let ready = s.subscribers.iter().any(|x| x.participant == viewer_id && x.throughput_bps > 0)
            && s.tracks.iter().any(|x| x.layer_bps.iter().all(Option::is_some));
        if ready {
            break s;
        }
        assert!(tokio::time::Instant::now() < deadline, "stats never filled in: {s:?}");
    };
    let me = stats.subscribers.iter().find(|x| x.participant == viewer_id).expect("viewer's link");
    assert!(me.frames > 0 && me.bytes > 0, "{me:?}");
    assert!(me.rtt > Duration::ZERO && me.rtt < Duration::from_millis(500), "{me:?}");
    assert_eq!(me.dropped_frames, 0);
    let sub = stats.subscriptions.iter().find(|x| x.subscriber == viewer_id).expect("subscription");
    assert_eq!(sub.layer, Some(1), "top layer on an uncongested loopback link: {sub:?}");
    assert_eq!(sub.link_cap, None);
    assert!(sub.frames > 0 && sub.bytes > 0);
    let tr = &stats.tracks[0];
    let (l0, l1) = (tr.layer_bps[0].expect("l0"), tr.layer_bps[1].expect("l1"));
    assert!(l1 > l0, "layer bitrates measured: {l0} < {l1}");
    assert_eq!(tr.subscribers, 1);

    let body = reqwest::get(format!("http://{}/metrics", t.server.admin))
        .await
        .expect("scrape")
        .text()
        .await
        .expect("body");
    let rtt_samples = value(&body, "dark_tower_media_subscriber_rtt_seconds_count").expect("rtt histogram");
    assert!(rtt_samples >= 1.0, "{rtt_samples}");
    assert!(
        value(&body, "dark_tower_media_subscriber_throughput_bits_per_second_count").expect("throughput")
            >= 1.0
    );
    assert_eq!(value(&body, "dark_tower_media_layer_downgrades_total"), Some(0.0));
    assert!(!body.contains("meeting=") && !body.contains("participant="), "no per-meeting labels");
    sender.abort();
}
