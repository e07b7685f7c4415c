//! The server API with the PostgreSQL store (feature `postgres`, database at `DATABASE_URL`):
//! meetings are created, refused when duplicated or malformed (nothing stored), ended for
//! everyone, and participant sessions are recorded. Fails if the database is unreachable.
#![cfg(feature = "postgres")]

mod common;

use std::sync::Arc;

use common::{PgSchema, TestServer, assert_error, status_json, wait_for};
use dark_tower_client::RoomEvent;
use dark_tower_core::ErrorCode;
use dark_tower_core::ids::MeetingName;
use dark_tower_core::store::{MeetingReader, MeetingStore};
use reqwest::Method;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn meetings_and_sessions_in_postgres() {
    let schema = PgSchema::create().await;
    let store = Arc::new(schema.store().await);
    let t = TestServer::start_with_store(|_| {}, Some(Arc::clone(&store) as Arc<dyn MeetingStore>)).await;
    let send = |m: Method, p: &str, b: Option<serde_json::Value>| {
        let mut r = t.api(m, p);
        if let Some(b) = b {
            r = r.json(&b);
        }
        async move { status_json(r.send().await.expect("request")).await }
    };

    let created =
        send(Method::POST, "/v1/meetings", Some(json!({ "name": "pg", "max_participants": 3 }))).await;
    assert_eq!(created.0, 201, "{}", created.1);
    assert_error(
        &send(Method::POST, "/v1/meetings", Some(json!({ "name": "pg" }))).await,
        409,
        ErrorCode::AlreadyExists,
    );
    assert_error(
        &send(Method::POST, "/v1/meetings", Some(json!({ "name": "pg2", "unknown": 1 }))).await,
        400,
        ErrorCode::InvalidRequest,
    );
    let oversized = json!({ "name": "pg3", "pad": "x".repeat(100 * 1024) });
    assert_error(&send(Method::POST, "/v1/meetings", Some(oversized)).await, 413, ErrorCode::MessageTooLarge);
    assert_eq!(send(Method::GET, "/v1/meetings/pg", None).await, (200, created.1.clone()));

    let mut ann = t.join("pg", "ann").await;
    let ended = send(Method::DELETE, "/v1/meetings/pg", None).await;
    assert_eq!(ended.0, 200, "{}", ended.1);
    let code = wait_for(&mut ann, |e| match e {
        RoomEvent::Disconnected { code, .. } => Some(*code),
        _ => None,
    })
    .await;
    assert_eq!(code, Some(ErrorCode::MeetingEnded));

    // What PostgreSQL holds: the one meeting, ended; ann's session, closed; nothing half-way.
    let all = store.list_meetings(true).await.expect("list");
    assert_eq!(all.len(), 1, "{all:?}");
    assert_eq!(all[0].name.as_str(), "pg");
    assert!(all[0].ended_at.is_some());
    assert_eq!(all[0].settings.max_participants, 3);
    let sessions = store.list_sessions(&MeetingName::new("pg").expect("name")).await.expect("sessions");
    assert_eq!(sessions.len(), 1);
    assert_eq!(sessions[0].identity.as_str(), "ann");
    assert!(sessions[0].left_at.is_some(), "the session was closed when the meeting ended");

    t.server.shutdown().await;
    store.close().await;
    schema.drop_schema().await;
}
