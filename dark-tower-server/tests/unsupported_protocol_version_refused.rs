//! A client speaking an unsupported protocol version gets a clear, typed error from both
//! `POST /v1/join` and the meeting controller.

mod common;

use common::TestServer;
use dark_tower_client::{ClientError, ConnectOptions};
use dark_tower_core::ErrorCode;
use dark_tower_core::proto::sig;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn join_endpoint_refuses_unknown_version() {
    let t = TestServer::start().await;
    let options = ConnectOptions { protocol_version: 99, ..ConnectOptions::default() };
    let err = dark_tower_client::connect(&t.url, &t.token("m", "old"), options).await.expect_err("refused");
    match err {
        ClientError::JoinRefused { status, code, message } => {
            assert_eq!(status, 400);
            assert_eq!(code, ErrorCode::UnsupportedVersion);
            assert!(message.contains("1..=1"), "the message names the supported range: {message}");
        }
        other => panic!("unexpected error {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn meeting_controller_refuses_unknown_version() {
    let t = TestServer::start().await;
    let mut raw = t.raw_signal("m", "old").await;
    raw.send_join(99).await;
    let (msgs, code) = raw.until_closed().await;
    assert_eq!(code, Some(ErrorCode::UnsupportedVersion.wire()));
    let disconnect = msgs
        .iter()
        .find_map(|m| match &m.message {
            Some(sig::server_message::Message::Disconnect(d)) => Some(d.clone()),
            _ => None,
        })
        .expect("a Disconnect explains why");
    assert_eq!(ErrorCode::from_proto(disconnect.code), Some(ErrorCode::UnsupportedVersion));
}
