//! Garbage, oversized, and out-of-order signaling messages close the offending session with a
//! typed code; the meeting and its other participants carry on.

mod common;

use common::{TestServer, meeting_still_works};
use dark_tower_core::ErrorCode;
use dark_tower_core::limits::MAX_SIGNAL_MESSAGE;
use dark_tower_core::proto::sig;

fn disconnect_code(msgs: &[sig::ServerMessage]) -> Option<ErrorCode> {
    msgs.iter().find_map(|m| match &m.message {
        Some(sig::server_message::Message::Disconnect(d)) => ErrorCode::from_proto(d.code),
        _ => None,
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbage_before_join_closes_with_malformed() {
    let t = TestServer::start().await;
    let bystander = t.join("m", "bystander").await;
    let mut raw = t.raw_signal("m", "mallory").await;
    raw.send_raw(&[0, 0, 0, 3, 0xff, 0xff, 0xff]).await;
    let (msgs, code) = raw.until_closed().await;
    assert_eq!(code, Some(ErrorCode::Malformed.wire()));
    assert_eq!(disconnect_code(&msgs), Some(ErrorCode::Malformed));
    meeting_still_works(&t, "m", &bystander).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbage_after_join_closes_with_malformed_and_others_see_a_leave() {
    let t = TestServer::start().await;
    let mut bystander = t.join("m", "bystander").await;
    let mut raw = t.raw_signal("m", "mallory").await;
    raw.send_join(1).await;
    let mallory = common::wait_for(&mut bystander, |e| match e {
        dark_tower_client::RoomEvent::ParticipantJoined(p) => Some(p.id),
        _ => None,
    })
    .await;
    raw.send_raw(&[0, 0, 0, 2, 0x0a, 0xff]).await;
    let (msgs, code) = raw.until_closed().await;
    assert_eq!(code, Some(ErrorCode::Malformed.wire()));
    assert!(msgs.iter().any(|m| matches!(m.message, Some(sig::server_message::Message::Joined(_)))));
    let (left, reason) = common::wait_for(&mut bystander, |e| match e {
        dark_tower_client::RoomEvent::ParticipantLeft { participant, reason } => {
            Some((*participant, *reason))
        }
        _ => None,
    })
    .await;
    assert_eq!(left, mallory);
    assert_eq!(reason, sig::LeaveReason::ProtocolError);
    meeting_still_works(&t, "m", &bystander).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_length_prefix_closes_with_message_too_large() {
    let t = TestServer::start().await;
    let bystander = t.join("m", "bystander").await;
    let mut raw = t.raw_signal("m", "mallory").await;
    raw.send_join(1).await;
    // Only the prefix is sent: the server refuses before waiting for (or allocating) the body.
    raw.send_raw(&((MAX_SIGNAL_MESSAGE as u32 + 1).to_be_bytes())).await;
    let (msgs, code) = raw.until_closed().await;
    assert_eq!(code, Some(ErrorCode::MessageTooLarge.wire()));
    assert_eq!(disconnect_code(&msgs), Some(ErrorCode::MessageTooLarge));
    meeting_still_works(&t, "m", &bystander).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn first_message_other_than_join_is_a_protocol_violation() {
    let t = TestServer::start().await;
    let mut raw = t.raw_signal("m", "mallory").await;
    let ping = sig::ClientMessage {
        request_id: 1,
        message: Some(sig::client_message::Message::Ping(sig::Ping { client_time_us: 1 })),
    };
    raw.send_raw(&dark_tower_core::codec::signal::frame(&ping).expect("frame")).await;
    let (_, code) = raw.until_closed().await;
    assert_eq!(code, Some(ErrorCode::ProtocolViolation.wire()));
}
