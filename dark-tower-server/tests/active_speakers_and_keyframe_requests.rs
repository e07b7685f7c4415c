//! The media handler's reports reach clients through the meeting controller: audio levels in
//! frame headers become `ActiveSpeakersChanged`, and a subscriber that has nothing to start from
//! makes the publisher receive a `KeyframeRequested`; dynacast tells the publisher which layers
//! are watched.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::Duration;

use bytes::Bytes;
use common::{TestServer, wait_for};
use dark_tower_client::{OutgoingFrame, RoomEvent, TrackOptions, TrackSource};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn loud_audio_makes_an_active_speaker_and_silence_clears_it() {
    let t = TestServer::start().await;
    let ann = t.join("m", "ann").await;
    let mut bob = t.join("m", "bob").await;
    let mut mic =
        ann.publish_track(TrackOptions::new(TrackSource::Microphone, "opus")).await.expect("publish");
    let level = Arc::new(AtomicU8::new(20));
    let sender = {
        let level = Arc::clone(&level);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_millis(20));
            loop {
                tick.tick().await;
                let frame = OutgoingFrame {
                    spatial_id: 0,
                    temporal_id: 0,
                    keyframe: false,
                    discardable: false,
                    capture_ts_us: 0,
                    audio_level: Some(level.load(Ordering::Relaxed)),
                    payload: Bytes::from_static(&[0; 40]),
                };
                if mic.send(frame).await.is_err() {
                    return;
                }
            }
        })
    };
    let speakers = wait_for(&mut bob, |e| match e {
        RoomEvent::ActiveSpeakersChanged(s) if !s.is_empty() => Some(s.clone()),
        _ => None,
    })
    .await;
    assert_eq!(speakers[0].0, ann.local_participant().id);
    assert!(speakers[0].1 > 0.5, "a loud speaker has a high level: {}", speakers[0].1);
    level.store(127, Ordering::Relaxed);
    wait_for(&mut bob, |e| match e {
        RoomEvent::ActiveSpeakersChanged(s) if s.is_empty() => Some(()),
        _ => None,
    })
    .await;
    sender.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subscriber_without_a_cached_group_triggers_a_keyframe_request() {
    let t = TestServer::start().await;
    let mut ann = t.join("m", "ann").await;
    let _bob = t.join("m", "bob").await;
    // Bob subscribes automatically when the track appears; nothing is cached yet.
    let cam = ann
        .publish_track(
            TrackOptions::new(TrackSource::Camera, "vp8")
                .simulcast(&[(320, 180, 150_000), (640, 360, 500_000)]),
        )
        .await
        .expect("publish");
    let (track, layer) = wait_for(&mut ann, |e| match e {
        RoomEvent::KeyframeRequested { track, spatial_id } => Some((*track, *spatial_id)),
        _ => None,
    })
    .await;
    assert_eq!(track, cam.info().id);
    assert_eq!(layer, 1, "the subscriber wants the top layer");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dynacast_tells_the_publisher_which_layers_are_watched() {
    let t = TestServer::start().await;
    let mut ann = t.join("m", "ann").await;
    let bob = t.join("m", "bob").await;
    let cam = ann
        .publish_track(TrackOptions::new(TrackSource::Camera, "vp8").simulcast(&[
            (320, 180, 150_000),
            (640, 360, 500_000),
            (1280, 720, 1_500_000),
        ]))
        .await
        .expect("publish");
    let layers_wanted = |want: Vec<u8>| {
        move |e: &RoomEvent| match e {
            RoomEvent::LayersWanted { track, layers } if *layers == want => Some(*track),
            _ => None,
        }
    };
    // Bob subscribes automatically: the top layer is watched.
    assert_eq!(wait_for(&mut ann, layers_wanted(vec![2])).await, cam.info().id);
    // Bob asks for the lowest layer only.
    bob.subscribe(cam.info().id, Some(0)).await.expect("resubscribe");
    assert_eq!(wait_for(&mut ann, layers_wanted(vec![0])).await, cam.info().id);
    bob.unsubscribe(cam.info().id).expect("unsubscribe");
    assert_eq!(wait_for(&mut ann, layers_wanted(vec![])).await, cam.info().id);
}
