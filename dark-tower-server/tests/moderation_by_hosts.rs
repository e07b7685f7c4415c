//! Hosts moderate: mute another participant's track, remove a participant, end the meeting.
//! Participants cannot.

mod common;

use common::{TestServer, wait_for};
use dark_tower_client::{LeaveReason, RoomEvent, TrackOptions, TrackSource};
use dark_tower_core::ErrorCode;
use dark_tower_core::token::Role;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn participants_cannot_moderate() {
    let t = TestServer::start().await;
    let ann = t.join("m", "ann").await;
    let bob = t.join("m", "bob").await;
    let mic = bob.publish_track(TrackOptions::new(TrackSource::Microphone, "opus")).await.expect("publish");
    let bob_id = bob.local_participant().id;
    let denied = Some(ErrorCode::PermissionDenied);
    assert_eq!(ann.mute_participant_track(bob_id, mic.info().id).await.expect_err("denied").code(), denied);
    assert_eq!(ann.remove_participant(bob_id, "bye").await.expect_err("denied").code(), denied);
    assert_eq!(ann.end_meeting("over").await.expect_err("denied").code(), denied);
    bob.ping().await.expect("bob is still there");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn host_mutes_and_removes() {
    let t = TestServer::start().await;
    let host = t.join_as("m", "host", Role::Host).await;
    let mut bob = t.join("m", "bob").await;
    let mut cyd = t.join("m", "cyd").await;
    let mic = bob.publish_track(TrackOptions::new(TrackSource::Microphone, "opus")).await.expect("publish");
    let bob_id = bob.local_participant().id;
    host.mute_participant_track(bob_id, mic.info().id).await.expect("muted");
    for room in [&mut bob, &mut cyd] {
        let (muted, by) = wait_for(room, |e| match e {
            RoomEvent::TrackMuted { muted, by, .. } => Some((*muted, *by)),
            _ => None,
        })
        .await;
        assert!(muted);
        assert_eq!(by, Some(host.local_participant().id));
    }
    host.remove_participant(bob_id, "off topic").await.expect("removed");
    let code = wait_for(&mut bob, |e| match e {
        RoomEvent::Disconnected { code, .. } => Some(*code),
        _ => None,
    })
    .await;
    assert_eq!(code, Some(ErrorCode::Removed));
    let (who, reason) = wait_for(&mut cyd, |e| match e {
        RoomEvent::ParticipantLeft { participant, reason } => Some((*participant, *reason)),
        _ => None,
    })
    .await;
    assert_eq!((who, reason), (bob_id, LeaveReason::Removed));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn host_ends_the_meeting_for_everyone() {
    let t = TestServer::start().await;
    let host = t.join_as("m", "host", Role::Host).await;
    let mut bob = t.join("m", "bob").await;
    host.end_meeting("that's all").await.expect("ended");
    let code = wait_for(&mut bob, |e| match e {
        RoomEvent::Disconnected { code, .. } => Some(*code),
        _ => None,
    })
    .await;
    assert_eq!(code, Some(ErrorCode::MeetingEnded));
    // The meeting is over; its name can start a new one.
    let again = t.join("m", "bob").await;
    assert!(again.remote_participants().is_empty());
}
