//! Over real WebTransport: a subscriber that pauses a track stops receiving it, and on unpausing
//! starts again from a keyframe; asking for a small render size gets the lowest layer only.

mod common;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use common::{TestServer, wait_for};
use dark_tower_client::{
    OutgoingFrame, RoomEvent, SubscriptionSettings, TrackOptions, TrackSource, synthetic,
};

fn now_us() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_micros() as u64).unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pause_resume_and_render_size() {
    let t = TestServer::start().await;
    let publisher = t.join("adaptive", "pub").await;
    let mut viewer = t.join("adaptive", "viewer").await;
    let mut track = publisher
        .publish_track(TrackOptions::new(TrackSource::Camera, "synthetic").simulcast(&[
            (320, 180, 150_000),
            (640, 360, 500_000),
            (1280, 720, 1_500_000),
        ]))
        .await
        .expect("publish");
    let track_id = track.info().id;
    let sender = tokio::spawn(async move {
        for n in 0u64.. {
            tokio::time::sleep(Duration::from_millis(20)).await;
            for layer in 0..3u8 {
                let key = n % 15 == 0;
                let frame = OutgoingFrame {
                    spatial_id: layer,
                    temporal_id: 0,
                    keyframe: key,
                    discardable: false,
                    capture_ts_us: now_us(),
                    audio_level: None,
                    payload: synthetic::payload(u64::from(layer), n, now_us(), 300),
                };
                track.send(frame).await.expect("send");
            }
        }
    });
    let frame_of_track = |e: &RoomEvent| match e {
        RoomEvent::Frame(f) if f.track == Some(track_id) => Some(f.header),
        _ => None,
    };
    wait_for(&mut viewer, frame_of_track).await;

    // Rendered small: only layer 0 arrives (after the switch at a keyframe).
    viewer
        .update_subscription(
            track_id,
            SubscriptionSettings { max_size: Some((400, 300)), ..Default::default() },
        )
        .await
        .expect("resize");
    // The switch happens at layer 0's next keyframe; later groups come from layer 0 only (frames
    // of different groups travel on different streams, so one forwarded just before the switch
    // may still be read after it).
    let switch =
        wait_for(&mut viewer, |e| frame_of_track(e).filter(|h| h.spatial_id == 0 && h.keyframe)).await;
    let mut seen = 0;
    while seen < 30 {
        let h = wait_for(&mut viewer, frame_of_track).await;
        if h.group_seq > switch.group_seq {
            assert_eq!(h.spatial_id, 0, "{h:?}");
            seen += 1;
        }
    }

    // Paused: nothing more arrives.
    viewer
        .update_subscription(track_id, SubscriptionSettings { paused: true, ..Default::default() })
        .await
        .expect("pause");
    let paused_at = now_us();
    let quiet = tokio::time::timeout(Duration::from_millis(800), async {
        loop {
            match viewer.next_event().await {
                Some(RoomEvent::Frame(f))
                    if f.track == Some(track_id) && f.header.capture_ts_us > paused_at + 100_000 =>
                {
                    return f.header;
                }
                Some(_) => {}
                None => std::future::pending::<()>().await,
            }
        }
    })
    .await;
    assert!(quiet.is_err(), "a frame arrived while paused: {quiet:?}");

    // Unpaused: frames again, starting with a keyframe.
    viewer.update_subscription(track_id, SubscriptionSettings::default()).await.expect("unpause");
    let first = wait_for(&mut viewer, frame_of_track).await;
    assert!(first.keyframe, "starts from a keyframe: {first:?}");
    sender.abort();
}
