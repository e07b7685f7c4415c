//! Joining a meeting that does not exist creates it, unless the server is configured not to:
//! then both the REST API and the meeting controller refuse with `meeting_not_found`.

mod common;

use common::TestServer;
use dark_tower_client::{ClientError, ConnectOptions};
use dark_tower_core::ErrorCode;
use dark_tower_core::proto::sig;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn joining_creates_the_meeting_by_default() {
    let t = TestServer::start().await;
    let room = t.join("brand-new", "alice").await;
    assert_eq!(room.meeting(), "brand-new");
    assert_eq!(t.server.meetings.live_meetings(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_auto_create_unknown_meetings_are_refused() {
    let t = TestServer::start_with(|c| c.auto_create_meetings = false).await;
    let err = dark_tower_client::connect(&t.url, &t.token("nope", "alice"), ConnectOptions::default())
        .await
        .expect_err("refused");
    assert!(
        matches!(err, ClientError::JoinRefused { status: 404, code: ErrorCode::MeetingNotFound, .. }),
        "{err:?}"
    );

    // A client going straight to the meeting controller gets the same answer.
    let mut raw = t.raw_signal("nope", "alice").await;
    raw.send_join(1).await;
    let (msgs, code) = raw.until_closed().await;
    assert_eq!(code, Some(ErrorCode::MeetingNotFound.wire()));
    assert!(msgs.iter().any(|m| matches!(
        &m.message,
        Some(sig::server_message::Message::Disconnect(d)) if ErrorCode::from_proto(d.code) == Some(ErrorCode::MeetingNotFound)
    )));
    assert_eq!(t.server.meetings.live_meetings(), 0);
}
