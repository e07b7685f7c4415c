//! `/v1/meetings` through the real server: create with settings, get, list live and ended, refuse
//! a duplicate live name, end (everyone is disconnected), reuse the name; the settings given at
//! creation are the ones the meeting runs with, and a meeting nobody joins ends after its empty
//! timeout.

mod common;

use common::{TestServer, assert_error, status_json, wait_for};
use dark_tower_client::{ClientError, ConnectOptions, RoomEvent};
use dark_tower_core::ErrorCode;
use reqwest::Method;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_get_list_end_and_reuse() {
    let t = TestServer::start().await;
    let created = status_json(
        t.api(Method::POST, "/v1/meetings")
            .json(&json!({ "name": "standup", "max_participants": 5, "lobby": false, "empty_timeout_secs": 60 }))
            .send()
            .await
            .expect("request"),
    )
    .await;
    assert_eq!(created.0, 201, "{}", created.1);
    let m = &created.1;
    assert_eq!(m["name"], "standup");
    assert_eq!(m["max_participants"], 5);
    assert_eq!(m["empty_timeout_secs"], 60);
    assert_eq!(m["e2ee_required"], false);
    assert!(m["ended_at"].is_null());
    assert!(m["max_duration_secs"].is_null());
    assert!(m["created_at"].as_u64().is_some_and(|t| t > 1_700_000_000));

    let got = status_json(t.api(Method::GET, "/v1/meetings/standup").send().await.expect("request")).await;
    assert_eq!(got, (200, created.1.clone()));

    let dup = status_json(
        t.api(Method::POST, "/v1/meetings")
            .json(&json!({ "name": "standup" }))
            .send()
            .await
            .expect("request"),
    )
    .await;
    assert_error(&dup, 409, ErrorCode::AlreadyExists);

    let other =
        t.api(Method::POST, "/v1/meetings").json(&json!({ "name": "retro" })).send().await.expect("request");
    assert_eq!(other.status(), 201);
    let names = |v: &serde_json::Value| -> Vec<String> {
        v["meetings"]
            .as_array()
            .expect("list")
            .iter()
            .map(|m| m["name"].as_str().expect("name").to_owned())
            .collect()
    };
    let live = status_json(t.api(Method::GET, "/v1/meetings").send().await.expect("request")).await;
    assert_eq!(live.0, 200);
    assert_eq!(names(&live.1), ["retro", "standup"]);

    // Ending disconnects everyone in it.
    let mut ann = t.join("standup", "ann").await;
    let ended =
        status_json(t.api(Method::POST, "/v1/meetings/standup/end").send().await.expect("request")).await;
    assert_eq!(ended.0, 200, "{}", ended.1);
    assert_eq!(ended.1["name"], "standup");
    assert!(ended.1["ended_at"].as_u64().is_some());
    let code = wait_for(&mut ann, |e| match e {
        RoomEvent::Disconnected { code, .. } => Some(*code),
        _ => None,
    })
    .await;
    assert_eq!(code, Some(ErrorCode::MeetingEnded));

    let got = status_json(t.api(Method::GET, "/v1/meetings/standup").send().await.expect("request")).await;
    assert_eq!(got.0, 200);
    assert!(got.1["ended_at"].as_u64().is_some(), "get shows the ended meeting: {}", got.1);
    let live = status_json(t.api(Method::GET, "/v1/meetings").send().await.expect("request")).await;
    assert_eq!(names(&live.1), ["retro"]);
    let all =
        status_json(t.api(Method::GET, "/v1/meetings?include_ended=true").send().await.expect("request"))
            .await;
    assert_eq!(names(&all.1), ["retro", "standup"]);

    // Ending again: it is over. DELETE is the same call.
    let again =
        status_json(t.api(Method::DELETE, "/v1/meetings/standup").send().await.expect("request")).await;
    assert_error(&again, 410, ErrorCode::MeetingEnded);
    let retro = status_json(t.api(Method::DELETE, "/v1/meetings/retro").send().await.expect("request")).await;
    assert_eq!(retro.0, 200);

    // The name is free again; the new meeting is the one get shows.
    let reused = status_json(
        t.api(Method::POST, "/v1/meetings")
            .json(&json!({ "name": "standup" }))
            .send()
            .await
            .expect("request"),
    )
    .await;
    assert_eq!(reused.0, 201);
    let got = status_json(t.api(Method::GET, "/v1/meetings/standup").send().await.expect("request")).await;
    assert!(got.1["ended_at"].is_null());
    assert_eq!(got.1["max_participants"], 100, "defaults for the new meeting");
    let all =
        status_json(t.api(Method::GET, "/v1/meetings?include_ended=true").send().await.expect("request"))
            .await;
    assert_eq!(names(&all.1), ["retro", "standup", "standup"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn settings_given_at_creation_are_enforced() {
    let t = TestServer::start_with(|c| c.auto_create_meetings = false).await;
    let created = t
        .api(Method::POST, "/v1/meetings")
        .json(&json!({ "name": "tiny", "max_participants": 1 }))
        .send()
        .await
        .expect("request");
    assert_eq!(created.status(), 201);
    let ann = t.join("tiny", "ann").await;
    let err = dark_tower_client::connect(&t.url, &t.token("tiny", "bob"), ConnectOptions::default())
        .await
        .expect_err("full");
    assert_eq!(err.code(), Some(ErrorCode::MeetingFull), "{err:?}");
    ann.ping().await.expect("ann is still in");

    // Created through the API, the meeting exists for joins even with auto-creation off; an
    // ended one does not.
    let ended = t.api(Method::POST, "/v1/meetings/tiny/end").send().await.expect("request");
    assert_eq!(ended.status(), 200);
    let err = dark_tower_client::connect(&t.url, &t.token("tiny", "bob"), ConnectOptions::default())
        .await
        .expect_err("ended");
    assert!(matches!(err, ClientError::JoinRefused { code: ErrorCode::MeetingNotFound, .. }), "{err:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_meeting_nobody_joins_ends_after_its_empty_timeout() {
    let t = TestServer::start().await;
    for (name, timeout) in [("brief", 0), ("patient", 300)] {
        let created = t
            .api(Method::POST, "/v1/meetings")
            .json(&json!({ "name": name, "empty_timeout_secs": timeout }))
            .send()
            .await
            .expect("request");
        assert_eq!(created.status(), 201);
    }
    // Poll until the meeting controller has ended it (its timer runs from creation).
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let got = status_json(t.api(Method::GET, "/v1/meetings/brief").send().await.expect("request")).await;
        if got.1["ended_at"].is_u64() {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "brief never ended: {}", got.1);
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let patient =
        status_json(t.api(Method::GET, "/v1/meetings/patient").send().await.expect("request")).await;
    assert!(patient.1["ended_at"].is_null(), "a meeting within its empty timeout stays live");
}
