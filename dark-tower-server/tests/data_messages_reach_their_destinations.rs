//! Data messages: reliable ones (up to 64 KiB) arrive once, in order, at everyone or at the
//! listed participants; best-effort ones travel as datagrams; above either limit, or without
//! permission, the sender gets a typed error and nothing is delivered.

mod common;

use std::time::{Duration, SystemTime};

use bytes::Bytes;
use common::{TestServer, wait_for};
use dark_tower_client::{ClientError, ConnectOptions, Room, RoomEvent};
use dark_tower_core::ErrorCode;
use dark_tower_core::limits::{MAX_RELIABLE_DATA, MAX_UNRELIABLE_DATA};
use dark_tower_core::token::{Grant, TokenBuilder};

async fn next_data(room: &mut Room) -> (String, Bytes, bool) {
    wait_for(room, |e| match e {
        RoomEvent::DataReceived { topic, payload, reliable, .. } => {
            Some((topic.clone(), payload.clone(), *reliable))
        }
        _ => None,
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reliable_messages_arrive_in_order_up_to_the_limit() {
    let t = TestServer::start().await;
    let ann = t.join("m", "ann").await;
    let mut bob = t.join("m", "bob").await;
    let mut cyd = t.join("m", "cyd").await;
    let big = Bytes::from(vec![7u8; MAX_RELIABLE_DATA]);
    for i in 0..5u8 {
        ann.send_data("chat", Bytes::from(vec![i; 10]), true, &[]).await.expect("sent");
    }
    ann.send_data("file", big.clone(), true, &[]).await.expect("a 64 KiB message is accepted");
    for room in [&mut bob, &mut cyd] {
        for i in 0..5u8 {
            assert_eq!(next_data(room).await, ("chat".into(), Bytes::from(vec![i; 10]), true));
        }
        assert_eq!(next_data(room).await, ("file".into(), big.clone(), true));
    }
    let too_big = Bytes::from(vec![1u8; MAX_RELIABLE_DATA + 1]);
    let err = ann.send_data("file", too_big, true, &[]).await.expect_err("refused");
    assert_eq!(err.code(), Some(ErrorCode::MessageTooLarge));
    // Only the listed participant receives a directed message; nothing from the refused one.
    ann.send_data("dm", Bytes::from_static(b"psst"), true, &[cyd.local_participant().id])
        .await
        .expect("sent");
    assert_eq!(next_data(&mut cyd).await, ("dm".into(), Bytes::from_static(b"psst"), true));
    ann.send_data("all", Bytes::from_static(b"hi"), true, &[]).await.expect("sent");
    assert_eq!(next_data(&mut bob).await.0, "all", "bob got neither the refused nor the directed message");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn best_effort_messages_travel_as_datagrams() {
    let t = TestServer::start().await;
    let ann = t.join("m", "ann").await;
    let mut bob = t.join("m", "bob").await;
    // Datagrams may be lost: send until one arrives.
    let payload = Bytes::from(vec![3u8; MAX_UNRELIABLE_DATA]);
    let received = async {
        loop {
            ann.send_data("cursor", payload.clone(), false, &[]).await.expect("sent");
            if let Ok(got) = tokio::time::timeout(Duration::from_millis(200), next_data(&mut bob)).await {
                return got;
            }
        }
    };
    let got = tokio::time::timeout(Duration::from_secs(20), received).await.expect("a datagram arrives");
    assert_eq!(got, ("cursor".into(), payload, false));
    let err = ann.send_data("cursor", Bytes::from(vec![0; MAX_UNRELIABLE_DATA + 1]), false, &[]).await;
    assert!(matches!(err, Err(ClientError::TooLarge { .. })));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_permission_data_is_refused() {
    let t = TestServer::start().await;
    let grant = Grant { can_publish_data: false, ..Grant::default() };
    let token =
        TokenBuilder::new("mute").meeting("m").grant(grant).sign(&t.key, SystemTime::now()).expect("sign");
    let room = dark_tower_client::connect(&t.url, &token, ConnectOptions::default()).await.expect("join");
    let err = room.send_data("chat", Bytes::from_static(b"x"), true, &[]).await.expect_err("refused");
    assert_eq!(err.code(), Some(ErrorCode::PermissionDenied));
}
