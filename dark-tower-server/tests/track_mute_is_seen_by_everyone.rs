//! A participant mutes and unmutes its own track; everyone sees it, and a later joiner sees the
//! current state in the roster.

mod common;

use common::{TestServer, wait_for};
use dark_tower_client::{RoomEvent, TrackOptions, TrackSource};
use dark_tower_core::ErrorCode;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn self_mute_is_broadcast_and_kept_in_the_roster() {
    let t = TestServer::start().await;
    let ann = t.join("m", "ann").await;
    let mut bob = t.join("m", "bob").await;
    let mic = ann.publish_track(TrackOptions::new(TrackSource::Microphone, "opus")).await.expect("publish");
    let id = mic.info().id;
    ann.set_track_muted(id, true).await.expect("muted");
    let seen = wait_for(&mut bob, |e| match e {
        RoomEvent::TrackMuted { participant, track, muted, by } => Some((*participant, *track, *muted, *by)),
        _ => None,
    })
    .await;
    assert_eq!(seen, (ann.local_participant().id, id, true, None));
    let late = t.join("m", "cyd").await;
    let ann_tracks =
        late.remote_participants().into_iter().find(|p| p.identity == "ann").expect("ann in roster").tracks;
    assert_eq!(ann_tracks.len(), 1);
    assert!(ann_tracks[0].muted, "a later joiner sees the track muted");
    ann.set_track_muted(id, false).await.expect("unmuted");
    let seen = wait_for(&mut bob, |e| match e {
        RoomEvent::TrackMuted { muted, .. } => Some(*muted),
        _ => None,
    })
    .await;
    assert!(!seen);
    // Someone else's track cannot be self-muted.
    let err = bob.set_track_muted(id, true).await.expect_err("not bob's track");
    assert_eq!(err.code(), Some(ErrorCode::UnknownTrack));
}
