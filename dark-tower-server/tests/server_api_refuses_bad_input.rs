//! Bad input to the server API gets the right status and error code and stores nothing:
//! malformed JSON, unknown fields, invalid values, oversized bodies, bad path and query
//! parameters, unknown meetings and participants.

mod common;

use common::{TestServer, assert_error, status_json};
use dark_tower_core::ErrorCode;
use reqwest::Method;
use serde_json::json;

async fn send(r: reqwest::RequestBuilder) -> (u16, serde_json::Value) {
    status_json(r.send().await.expect("request")).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_meeting_requests_are_refused_and_store_nothing() {
    let t = TestServer::start().await;
    let post = || t.api(Method::POST, "/v1/meetings");
    let json_body = |b: &'static str| post().header("content-type", "application/json").body(b);

    assert_error(&send(json_body("{\"name\": ")).await, 400, ErrorCode::Malformed);
    assert_error(&send(json_body("not json")).await, 400, ErrorCode::Malformed);
    assert_error(&send(post().body("{\"name\":\"m\"}")).await, 400, ErrorCode::Malformed); // no content type
    assert_error(
        &send(post().json(&json!({ "name": "m", "colour": "red" }))).await,
        400,
        ErrorCode::InvalidRequest,
    );
    assert_error(&send(post().json(&json!({ "max_participants": 3 }))).await, 400, ErrorCode::InvalidRequest);
    assert_error(&send(post().json(&json!({ "name": "no spaces" }))).await, 400, ErrorCode::InvalidRequest);
    assert_error(&send(post().json(&json!({ "name": "" }))).await, 400, ErrorCode::InvalidRequest);
    assert_error(
        &send(post().json(&json!({ "name": "x".repeat(129) }))).await,
        400,
        ErrorCode::InvalidRequest,
    );
    assert_error(
        &send(post().json(&json!({ "name": "m", "max_participants": 0 }))).await,
        400,
        ErrorCode::InvalidRequest,
    );
    assert_error(
        &send(post().json(&json!({ "name": "m", "max_participants": -1 }))).await,
        400,
        ErrorCode::InvalidRequest,
    );
    assert_error(
        &send(post().json(&json!({ "name": "m", "lobby": "yes" }))).await,
        400,
        ErrorCode::InvalidRequest,
    );
    assert_error(
        &send(post().json(&json!({ "name": "m", "max_duration_secs": 0 }))).await,
        400,
        ErrorCode::InvalidRequest,
    );
    assert_error(&send(post().json(&json!(["m"]))).await, 400, ErrorCode::InvalidRequest);

    // Oversized: refused before it is parsed.
    let big = json!({ "name": "m", "pad": "x".repeat(200 * 1024) });
    assert_error(&send(post().json(&big)).await, 413, ErrorCode::MessageTooLarge);

    // Bad query parameters.
    let list = |q: &str| t.api(Method::GET, &format!("/v1/meetings?{q}"));
    assert_error(&send(list("include_ended=maybe")).await, 400, ErrorCode::InvalidRequest);
    assert_error(&send(list("limit=3")).await, 400, ErrorCode::InvalidRequest);

    // Nothing was stored.
    let all = send(list("include_ended=true")).await;
    assert_eq!(all, (200, json!({ "meetings": [] })));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_meetings_and_participants_are_not_found() {
    let t = TestServer::start().await;
    let req = |m: Method, p: &str| t.api(m, p);
    assert_error(&send(req(Method::GET, "/v1/meetings/nope")).await, 404, ErrorCode::MeetingNotFound);
    assert_error(&send(req(Method::POST, "/v1/meetings/nope/end")).await, 404, ErrorCode::MeetingNotFound);
    assert_error(&send(req(Method::DELETE, "/v1/meetings/nope")).await, 404, ErrorCode::MeetingNotFound);
    assert_error(
        &send(req(Method::GET, "/v1/meetings/nope/participants")).await,
        404,
        ErrorCode::MeetingNotFound,
    );
    assert_error(
        &send(req(Method::DELETE, "/v1/meetings/nope/participants/ann")).await,
        404,
        ErrorCode::MeetingNotFound,
    );
    // An invalid name in the path.
    assert_error(&send(req(Method::GET, "/v1/meetings/bad%20name")).await, 400, ErrorCode::InvalidRequest);

    // A live meeting nobody is in: its participants list is empty, acting on anyone is not_found.
    let created =
        req(Method::POST, "/v1/meetings").json(&json!({ "name": "m" })).send().await.expect("request");
    assert_eq!(created.status(), 201);
    assert_eq!(
        send(req(Method::GET, "/v1/meetings/m/participants")).await,
        (200, json!({ "name": "m", "participants": [] }))
    );
    assert_error(
        &send(req(Method::DELETE, "/v1/meetings/m/participants/ann")).await,
        404,
        ErrorCode::NotFound,
    );
    let mute = "/v1/meetings/m/participants/ann/tracks/TR_0000000000000001/mute";
    assert_error(&send(req(Method::POST, mute)).await, 404, ErrorCode::NotFound);
    let bad_track = "/v1/meetings/m/participants/ann/tracks/camera/mute";
    assert_error(&send(req(Method::POST, bad_track)).await, 400, ErrorCode::InvalidRequest);
    let patch = || req(Method::PATCH, "/v1/meetings/m/participants/ann");
    assert_error(&send(patch().json(&json!({ "role": "viewer" }))).await, 404, ErrorCode::NotFound);
    assert_error(&send(patch().json(&json!({}))).await, 400, ErrorCode::InvalidRequest);
    assert_error(&send(patch().json(&json!({ "role": "king" }))).await, 400, ErrorCode::InvalidRequest);
    assert_error(&send(patch().json(&json!({ "hidden": true }))).await, 400, ErrorCode::InvalidRequest);

    // Unknown routes and methods.
    assert_error(&send(req(Method::GET, "/v1/meetings/m/nothing")).await, 404, ErrorCode::NotFound);
    assert_eq!(send(req(Method::PUT, "/v1/meetings/m")).await.0, 405);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_token_requests_are_refused() {
    let t = TestServer::start().await;
    let mint = |b: serde_json::Value| t.api(Method::POST, "/v1/tokens").json(&b);
    assert_error(&send(mint(json!({ "identity": "ann" }))).await, 400, ErrorCode::InvalidRequest);
    assert_error(
        &send(mint(json!({ "identity": "", "meeting": "m" }))).await,
        400,
        ErrorCode::InvalidRequest,
    );
    assert_error(
        &send(mint(json!({ "identity": "ann", "meeting": "bad name" }))).await,
        400,
        ErrorCode::InvalidRequest,
    );
    assert_error(
        &send(mint(json!({ "identity": "ann", "meeting": "m", "ttl_secs": 0 }))).await,
        400,
        ErrorCode::InvalidRequest,
    );
    assert_error(
        &send(mint(json!({ "identity": "ann", "meeting": "m", "ttl_secs": 31 * 24 * 3600 }))).await,
        400,
        ErrorCode::InvalidRequest,
    );
    assert_error(
        &send(mint(json!({ "identity": "ann", "meeting": "m", "sudo": true }))).await,
        400,
        ErrorCode::InvalidRequest,
    );
}
