//! Bad, expired, not-yet-valid, forged, wrong-audience, wrong-issuer and wrong-meeting tokens are
//! refused with typed errors by the REST API, and refused before acceptance by the WebTransport
//! endpoint.

mod common;

use std::time::{Duration, SystemTime};

use common::TestServer;
use dark_tower_client::{ClientError, ConnectOptions};
use dark_tower_core::ErrorCode;
use dark_tower_core::token::{ApiKey, TokenBuilder, sign_claims};
use dark_tower_core::transport::wt::ConnectError;

async fn join_error(t: &TestServer, token: &str) -> (u16, ErrorCode) {
    match dark_tower_client::connect(&t.url, token, ConnectOptions::default()).await {
        Err(ClientError::JoinRefused { status, code, .. }) => (status, code),
        other => panic!("expected a refused join, got {other:?}"),
    }
}

async fn session_rejected(t: &TestServer, meeting: &str, token: &str) {
    let r = t.raw_connect(&t.signal_url(meeting, token)).await;
    assert!(matches!(r, Err(ConnectError::Rejected)), "session must be refused before acceptance: {r:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbage_token() {
    let t = TestServer::start().await;
    assert_eq!(join_error(&t, "not-a-jwt").await, (401, ErrorCode::InvalidToken));
    session_rejected(&t, "m", "not-a-jwt").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_token() {
    let t = TestServer::start().await;
    let past = SystemTime::now() - Duration::from_secs(3600);
    let token =
        TokenBuilder::new("late").meeting("m").ttl(Duration::from_secs(60)).sign(&t.key, past).expect("sign");
    assert_eq!(join_error(&t, &token).await, (401, ErrorCode::TokenExpired));
    session_rejected(&t, "m", &token).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_signature() {
    let t = TestServer::start().await;
    let forged = ApiKey::new(t.key.key.clone(), "f".repeat(40));
    let token = TokenBuilder::new("eve").meeting("m").sign(&forged, SystemTime::now()).expect("sign");
    assert_eq!(join_error(&t, &token).await, (401, ErrorCode::InvalidToken));
    session_rejected(&t, "m", &token).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_audience_issuer_or_not_yet_valid() {
    let t = TestServer::start().await;
    let now = SystemTime::now();
    let b = TokenBuilder::new("eve").meeting("m");
    let mut wrong_aud = b.claims(&t.key, now).expect("claims");
    wrong_aud.aud = "some-other-service".into();
    let mut wrong_iss = b.claims(&t.key, now).expect("claims");
    wrong_iss.iss = "APIsomeoneelse".into();
    for claims in [wrong_aud, wrong_iss] {
        let token = sign_claims(&claims, &t.key).expect("sign");
        assert_eq!(join_error(&t, &token).await, (401, ErrorCode::InvalidToken), "{claims:?}");
        session_rejected(&t, "m", &token).await;
    }
    // Not valid for another hour (beyond the 30 s of tolerated skew).
    let early = b.clone().not_before(now + Duration::from_secs(3600)).sign(&t.key, now).expect("sign");
    assert_eq!(join_error(&t, &early).await.0, 401);
    session_rejected(&t, "m", &early).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_meeting() {
    let t = TestServer::start().await;
    let token = t.token("meeting-a", "alice");
    // The REST API compares the meeting the client names with the token's.
    let resp = reqwest::Client::new()
        .post(format!("{}/v1/join", t.url))
        .bearer_auth(&token)
        .json(&serde_json::json!({ "protocol_version": 1, "meeting": "meeting-b" }))
        .send()
        .await
        .expect("request");
    assert_eq!(resp.status(), 403);
    let body: serde_json::Value = resp.json().await.expect("json");
    assert_eq!(body["error"]["code"], "meeting_mismatch");
    // The MC refuses a session for another meeting than the token's.
    session_rejected(&t, "meeting-b", &token).await;
    // And the right meeting still works with the same token.
    let ok = t.raw_connect(&t.signal_url("meeting-a", &token)).await;
    assert!(ok.is_ok());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_token_and_bad_media_ticket() {
    let t = TestServer::start().await;
    let r = t.raw_connect(&format!("https://{}/v1/signal/m", t.server.webtransport[0])).await;
    assert!(matches!(r, Err(ConnectError::Rejected)));
    let r = t.raw_connect(&format!("https://{}/v1/media?ticket=forged", t.server.webtransport[0])).await;
    assert!(matches!(r, Err(ConnectError::Rejected)));
    let resp = reqwest::Client::new()
        .post(format!("{}/v1/join", t.url))
        .json(&serde_json::json!({ "protocol_version": 1 }))
        .send()
        .await
        .expect("request");
    assert_eq!(resp.status(), 401);
}
