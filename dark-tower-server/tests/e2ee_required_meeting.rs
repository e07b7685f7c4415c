//! A meeting created through the API with `"e2ee_required": true`: clients learn it on join;
//! a client without E2EE cannot publish into it (`permission_denied`); a client with a key
//! publishes, and the others see its tracks marked encrypted.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Instant;

use common::{TestServer, status_json, wait_for};
use dark_tower_client::e2ee::{KeyProvider, KeyProviderOptions};
use dark_tower_client::{ClientError, ConnectOptions, RoomEvent, TrackOptions, TrackSource};
use dark_tower_core::ErrorCode;
use reqwest::Method;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_e2ee_meeting_takes_only_encrypted_tracks() {
    let t = TestServer::start().await;
    let (status, body) = status_json(
        t.api(Method::POST, "/v1/meetings")
            .json(&json!({ "name": "secret", "e2ee_required": true }))
            .send()
            .await
            .expect("create"),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["e2ee_required"], true, "{body}");

    let mut keys = KeyProvider::new(KeyProviderOptions::default());
    keys.set_shared_key(Instant::now(), 0, b"meeting passphrase").expect("key");
    let with_key = ConnectOptions { e2ee: Some(Arc::new(Mutex::new(keys))), ..ConnectOptions::default() };
    let ann = dark_tower_client::connect(&t.url, &t.token("secret", "ann"), with_key).await.expect("join");
    assert!(ann.e2ee_required(), "the meeting says E2EE is required");
    let mut bob = t.join("secret", "bob").await;
    assert!(bob.e2ee_required());

    match bob.publish_track(TrackOptions::new(TrackSource::Microphone, "opus")).await {
        Err(ClientError::Server { code, message }) => {
            assert_eq!(code, ErrorCode::PermissionDenied, "{message}")
        }
        Err(other) => panic!("refused with the wrong error: {other}"),
        Ok(_) => panic!("a clear track was published in an E2EE meeting"),
    }
    let mic = ann.publish_track(TrackOptions::new(TrackSource::Microphone, "opus")).await.expect("publish");
    assert!(mic.info().encrypted);
    let seen = wait_for(&mut bob, |e| match e {
        RoomEvent::TrackPublished { track, .. } => Some(track.encrypted),
        _ => None,
    })
    .await;
    assert!(seen, "others see the track is encrypted");

    // An ordinary meeting says nothing of E2EE.
    let carol = t.join("open", "carol").await;
    assert!(!carol.e2ee_required());
}
