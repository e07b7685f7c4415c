//! Hosts lock the meeting to newcomers and change roles and permissions live: revoking publishing
//! unpublishes the participant's tracks at once, and a promoted participant can moderate.

mod common;

use common::{TestServer, wait_for};
use dark_tower_client::{
    ClientError, ConnectOptions, Permissions, Role, RoomEvent, TrackOptions, TrackSource,
};
use dark_tower_core::ErrorCode;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn locked_meetings_admit_only_moderators() {
    let t = TestServer::start().await;
    let host = t.join_as("m", "host", Role::Host).await;
    let mut bob = t.join("m", "bob").await;
    host.set_meeting_locked(true).await.expect("locked");
    let locked = wait_for(&mut bob, |e| match e {
        RoomEvent::MeetingUpdated { locked, .. } => Some(*locked),
        _ => None,
    })
    .await;
    assert!(locked);
    let err = dark_tower_client::connect(&t.url, &t.token("m", "late"), ConnectOptions::default())
        .await
        .expect_err("locked out");
    assert!(matches!(err, ClientError::Server { code: ErrorCode::MeetingLocked, .. }), "{err:?}");
    let _cohost = t.join_as("m", "cohost", Role::Host).await;
    host.set_meeting_locked(false).await.expect("unlocked");
    let late = t.join("m", "late").await;
    assert_eq!(late.remote_participants().len(), 3);
    let denied = bob.set_meeting_locked(true).await.expect_err("bob is no host");
    assert_eq!(denied.code(), Some(ErrorCode::PermissionDenied));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revoking_publish_unpublishes_and_promotion_grants_moderation() {
    let t = TestServer::start().await;
    let host = t.join_as("m", "host", Role::Host).await;
    let bob = t.join("m", "bob").await;
    let mut cyd = t.join("m", "cyd").await;
    let bob_id = bob.local_participant().id;
    bob.publish_track(TrackOptions::new(TrackSource::Camera, "vp8")).await.expect("camera");
    bob.publish_track(TrackOptions::new(TrackSource::Microphone, "opus")).await.expect("mic");
    for _ in 0..2 {
        wait_for(&mut cyd, |e| matches!(e, RoomEvent::TrackPublished { .. }).then_some(())).await;
    }
    let no_publish = Permissions {
        can_publish: false,
        can_publish_sources: vec![],
        can_subscribe: true,
        can_publish_data: true,
    };
    host.update_participant(bob_id, None, Some(no_publish)).await.expect("updated");
    let mut gone = 0;
    let updated = loop {
        match wait_for(&mut cyd, |e| match e {
            RoomEvent::TrackUnpublished { participant, .. } if *participant == bob_id => Some(None),
            RoomEvent::ParticipantUpdated(p) if p.id == bob_id => Some(Some(p.clone())),
            _ => None,
        })
        .await
        {
            None => gone += 1,
            Some(p) => break p,
        }
    };
    assert_eq!(gone, 2, "both of bob's tracks were unpublished before the update");
    assert!(!updated.permissions.can_publish);
    let err = bob.publish_track(TrackOptions::new(TrackSource::Camera, "vp8")).await.expect_err("revoked");
    assert_eq!(err.code(), Some(ErrorCode::PermissionDenied));

    // Cyd becomes a host and can moderate.
    let cyd_id = cyd.local_participant().id;
    host.update_participant(cyd_id, Some(Role::Host), None).await.expect("promoted");
    let me = wait_for(&mut cyd, |e| match e {
        RoomEvent::ParticipantUpdated(p) if p.id == cyd_id => Some(p.clone()),
        _ => None,
    })
    .await;
    assert_eq!(me.role, Role::Host);
    cyd.set_meeting_locked(true).await.expect("a promoted host moderates");
}
