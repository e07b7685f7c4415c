//! `POST /v1/tokens` mints tokens the server accepts: a participant token joins its meeting with
//! the grant asked for, an admin token calls the server API.

mod common;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use common::{TestServer, status_json};
use dark_tower_client::ConnectOptions;
use dark_tower_core::token::Role;
use reqwest::Method;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn minted_tokens_join_and_administer() {
    let t = TestServer::start().await;
    let minted = status_json(
        t.api(Method::POST, "/v1/tokens")
            .json(&json!({ "identity": "ann", "meeting": "m", "name": "Ann", "role": "viewer", "ttl_secs": 600 }))
            .send()
            .await
            .expect("request"),
    )
    .await;
    assert_eq!(minted.0, 201, "{}", minted.1);
    assert_eq!(minted.1["identity"], "ann");
    assert_eq!(minted.1["meeting"], "m");
    let expires = minted.1["expires_at"].as_u64().expect("expires_at");
    let now = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    assert!(expires.abs_diff(now + 600) <= 5, "expires in 600 s: {expires} vs {now}");
    let token = minted.1["token"].as_str().expect("token");

    let room = dark_tower_client::connect(&t.url, token, ConnectOptions::default()).await.expect("joins");
    let me = room.local_participant();
    assert_eq!((me.identity.as_str(), me.name.as_str(), me.role), ("ann", "Ann", Role::Viewer));
    assert!(!me.permissions.can_publish, "a viewer cannot publish");

    // A minted admin token works on the server API (and is not a meeting token).
    let admin = status_json(
        t.api(Method::POST, "/v1/tokens")
            .json(&json!({ "identity": "backend", "admin": true }))
            .send()
            .await
            .expect("request"),
    )
    .await;
    assert_eq!(admin.0, 201);
    assert!(admin.1["meeting"].is_null());
    let list = reqwest::Client::new()
        .get(format!("{}/v1/meetings", t.url))
        .bearer_auth(admin.1["token"].as_str().expect("token"))
        .timeout(Duration::from_secs(20))
        .send()
        .await
        .expect("request");
    assert_eq!(list.status(), 200);
    room.leave().await;
}
