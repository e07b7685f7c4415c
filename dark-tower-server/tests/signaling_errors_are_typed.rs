//! Requests that cannot be honoured get a typed error reply and change nothing: unknown tracks,
//! duplicate tracks, publishing without permission, invalid layers.

mod common;

use std::time::SystemTime;

use common::TestServer;
use dark_tower_client::{ClientError, ConnectOptions, TrackId, TrackOptions, TrackSource};
use dark_tower_core::ErrorCode;
use dark_tower_core::token::{Role, TokenBuilder};

fn code(r: Result<impl std::fmt::Debug, ClientError>) -> Option<ErrorCode> {
    r.expect_err("refused").code()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_and_duplicate_tracks() {
    let t = TestServer::start().await;
    let room = t.join("m", "alice").await;
    assert_eq!(code(room.subscribe(TrackId::from_u64(7), None).await), Some(ErrorCode::UnknownTrack));
    let opts = TrackOptions::new(TrackSource::Camera, "vp8");
    let track = room.publish_track(opts.clone()).await.expect("publish");
    assert_eq!(code(room.publish_track(opts).await), Some(ErrorCode::DuplicateTrack));
    // Subscribing to one's own track is not a thing.
    assert_eq!(code(room.subscribe(track.info().id, None).await), Some(ErrorCode::InvalidRequest));
    // Layers must be 0..n and distinct.
    let mut bad = TrackOptions::new(TrackSource::Screen, "vp8").simulcast(&[(1, 1, 1), (2, 2, 2)]);
    bad.layers[1].spatial_id = 0;
    assert_eq!(code(room.publish_track(bad).await), Some(ErrorCode::InvalidRequest));
    // Nothing changed: the meeting still answers.
    room.ping().await.expect("ping");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn viewers_and_restricted_sources_cannot_publish() {
    let t = TestServer::start().await;
    let viewer = TokenBuilder::new("watcher")
        .meeting("m")
        .role(Role::Viewer)
        .sign(&t.key, SystemTime::now())
        .expect("sign");
    let room = dark_tower_client::connect(&t.url, &viewer, ConnectOptions::default()).await.expect("join");
    let r = room.publish_track(TrackOptions::new(TrackSource::Camera, "vp8")).await;
    assert_eq!(code(r), Some(ErrorCode::PermissionDenied));

    let grant = dark_tower_core::token::Grant {
        can_publish_sources: vec![TrackSource::Microphone],
        ..Default::default()
    };
    let mic_only =
        TokenBuilder::new("mic").grant(grant).meeting("m").sign(&t.key, SystemTime::now()).expect("sign");
    let room = dark_tower_client::connect(&t.url, &mic_only, ConnectOptions::default()).await.expect("join");
    assert_eq!(
        code(room.publish_track(TrackOptions::new(TrackSource::Screen, "vp8")).await),
        Some(ErrorCode::PermissionDenied)
    );
    room.publish_track(TrackOptions::new(TrackSource::Microphone, "opus")).await.expect("microphone allowed");
}
