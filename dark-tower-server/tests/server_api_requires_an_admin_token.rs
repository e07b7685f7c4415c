//! Every server-to-server route refuses a request without a valid admin token: missing, not a
//! bearer, garbage, signed by an unknown key, expired, not yet valid, or valid but without the
//! admin grant. A refused write stores nothing.

mod common;

use std::time::{Duration, SystemTime};

use common::{TestServer, assert_error, status_json};
use dark_tower_core::ErrorCode;
use dark_tower_core::token::{ApiKey, Role, TokenBuilder};
use reqwest::Method;
use serde_json::json;

/// Every admin route, with a body that would be accepted.
fn routes() -> Vec<(Method, &'static str, Option<serde_json::Value>)> {
    vec![
        (Method::POST, "/v1/meetings", Some(json!({ "name": "m" }))),
        (Method::GET, "/v1/meetings", None),
        (Method::GET, "/v1/meetings/m", None),
        (Method::DELETE, "/v1/meetings/m", None),
        (Method::POST, "/v1/meetings/m/end", None),
        (Method::GET, "/v1/meetings/m/participants", None),
        (Method::DELETE, "/v1/meetings/m/participants/ann", None),
        (Method::PATCH, "/v1/meetings/m/participants/ann", Some(json!({ "role": "viewer" }))),
        (Method::POST, "/v1/meetings/m/participants/ann/tracks/TR_0000000000000001/mute", None),
        (Method::POST, "/v1/tokens", Some(json!({ "identity": "eve", "admin": true }))),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_admin_route_refuses_bad_credentials() {
    let t = TestServer::start().await;
    let now = SystemTime::now();
    let admin = TokenBuilder::new("ops").admin(true);
    let other_key = ApiKey::new(t.key.key.clone(), "ffffffffffffffffffffffffffffffff");
    let expired = admin
        .clone()
        .ttl(Duration::from_secs(60))
        .sign(&t.key, now - Duration::from_secs(3600))
        .expect("sign");
    let early = admin.clone().not_before(now + Duration::from_secs(3600)).sign(&t.key, now).expect("sign");
    let forged = admin.clone().sign(&other_key, now).expect("sign");
    let unknown_key =
        admin.sign(&ApiKey::new("APIother", "0123456789abcdef0123456789abcdef"), now).expect("sign");
    let host = TokenBuilder::new("h").meeting("m").role(Role::Host).sign(&t.key, now).expect("sign");
    let client = reqwest::Client::new();

    for (method, path, body) in routes() {
        let request = |auth: Option<String>| {
            let mut r = client.request(method.clone(), format!("{}{path}", t.url));
            if let Some(a) = auth {
                r = r.header("authorization", a);
            }
            if let Some(b) = &body {
                r = r.json(b);
            }
            r.send()
        };
        let cases: Vec<(Option<String>, u16, ErrorCode)> = vec![
            (None, 401, ErrorCode::InvalidToken),
            (Some(format!("Basic {}", t.admin_token())), 401, ErrorCode::InvalidToken),
            (Some("Bearer not.a.jwt".into()), 401, ErrorCode::InvalidToken),
            (Some(format!("Bearer {forged}")), 401, ErrorCode::InvalidToken),
            (Some(format!("Bearer {unknown_key}")), 401, ErrorCode::InvalidToken),
            (Some(format!("Bearer {expired}")), 401, ErrorCode::TokenExpired),
            (Some(format!("Bearer {early}")), 401, ErrorCode::TokenExpired),
            (Some(format!("Bearer {host}")), 403, ErrorCode::PermissionDenied),
        ];
        for (auth, status, code) in cases {
            let what = format!("{method} {path} with {:?}", auth.as_deref().map(|a| &a[..a.len().min(12)]));
            let got = status_json(request(auth).await.expect("request")).await;
            assert_eq!(got.0, status, "{what}: {}", got.1);
            assert_error(&got, status, code);
        }
    }

    // Nothing was created by the refused calls; the admin token itself works.
    let got = status_json(t.api(Method::GET, "/v1/meetings/m").send().await.expect("request")).await;
    assert_error(&got, 404, ErrorCode::MeetingNotFound);
    let list =
        status_json(t.api(Method::GET, "/v1/meetings?include_ended=true").send().await.expect("request"))
            .await;
    assert_eq!(list, (200, json!({ "meetings": [] })));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_participant_token_cannot_mint_itself_an_admin_token() {
    let t = TestServer::start().await;
    let mine = t.token("m", "ann");
    let got = status_json(
        reqwest::Client::new()
            .post(format!("{}/v1/tokens", t.url))
            .bearer_auth(mine)
            .json(&json!({ "identity": "ann", "admin": true }))
            .send()
            .await
            .expect("request"),
    )
    .await;
    assert_error(&got, 403, ErrorCode::PermissionDenied);
}
