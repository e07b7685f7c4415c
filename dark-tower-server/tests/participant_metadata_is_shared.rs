//! Over real WebTransport: a participant renames itself and sets metadata; the others see it at
//! once and a later joiner sees it in its roster.

mod common;

use common::{TestServer, wait_for};
use dark_tower_client::RoomEvent;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn name_and_metadata_reach_everyone() {
    let t = TestServer::start().await;
    let alice = t.join("meta", "alice").await;
    let mut bob = t.join("meta", "bob").await;
    let alice_id = alice.local_participant().id;
    alice.set_metadata(Some("Alice (presenting)"), Some(r#"{"hand":"raised"}"#)).await.expect("set");
    let p = wait_for(&mut bob, |e| match e {
        RoomEvent::ParticipantUpdated(p) if p.id == alice_id => Some(p.clone()),
        _ => None,
    })
    .await;
    assert_eq!(p.name, "Alice (presenting)");
    assert_eq!(p.metadata, r#"{"hand":"raised"}"#);
    let carol = t.join("meta", "carol").await;
    let seen = carol.remote_participants().into_iter().find(|p| p.id == alice_id).expect("alice listed");
    assert_eq!(seen.metadata, r#"{"hand":"raised"}"#);
    let too_big = "x".repeat(16 * 1024 + 1);
    let err = alice.set_metadata(None, Some(&too_big)).await.expect_err("too large");
    assert_eq!(err.code(), Some(dark_tower_core::ErrorCode::MessageTooLarge));
}
