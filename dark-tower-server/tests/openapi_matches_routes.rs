//! `docs/openapi.yaml` matches the real server: every documented operation exists, the join and
//! server API responses carry exactly the documented fields, and every error code is documented.

mod common;

use std::collections::BTreeSet;

use common::TestServer;
use dark_tower_core::ErrorCode;

const SPEC: &str = include_str!("../../docs/openapi.yaml");

/// (path, method) of every documented operation.
fn operations() -> Vec<(String, String)> {
    let mut ops = Vec::new();
    let mut path: Option<String> = None;
    let mut in_paths = false;
    for line in SPEC.lines() {
        if line == "paths:" {
            in_paths = true;
            continue;
        }
        if in_paths && !line.starts_with(' ') && !line.is_empty() {
            in_paths = false;
        }
        if !in_paths {
            continue;
        }
        if let Some(p) = line.strip_prefix("  /").and_then(|l| l.strip_suffix(':')) {
            path = Some(format!("/{p}"));
        } else if let Some(m) = line.strip_prefix("    ").and_then(|l| l.strip_suffix(':'))
            && ["get", "post", "put", "patch", "delete"].contains(&m)
            && let Some(p) = &path
        {
            ops.push((p.clone(), m.to_uppercase()));
        }
    }
    ops
}

/// The `required` list of a schema under `components.schemas`.
fn required(schema: &str) -> BTreeSet<String> {
    let header = format!("    {schema}:");
    let mut lines = SPEC.lines().skip_while(|l| *l != header).skip(1);
    let mut out = BTreeSet::new();
    let mut in_required = false;
    for line in lines.by_ref() {
        if line.starts_with("    ") && !line.starts_with("     ") {
            break; // next schema
        }
        if let Some(inline) = line.trim().strip_prefix("required: [").and_then(|l| l.strip_suffix(']')) {
            out.extend(inline.split(',').map(|s| s.trim().to_owned()));
            break;
        }
        if line.trim() == "required:" {
            in_required = true;
        } else if in_required && let Some(item) = line.trim().strip_prefix("- ") {
            out.insert(item.to_owned());
        } else if in_required {
            break;
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_documented_operation_exists() {
    let t = TestServer::start().await;
    let ops = operations();
    assert!(ops.contains(&("/v1/join".into(), "POST".into())), "the spec documents /v1/join: {ops:?}");
    let client = reqwest::Client::new();
    for (path, method) in ops {
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        let mut found = false;
        for base in [t.server.http, t.server.admin] {
            let status = client
                .request(method.clone(), format!("http://{base}{path}"))
                .send()
                .await
                .expect("request")
                .status();
            if status != 404 && status != 405 {
                found = true;
            }
        }
        assert!(found, "{method} {path} is documented but not served");
    }
    let undocumented = client.get(format!("{}/v1/nothing-here", t.url)).send().await.expect("request");
    assert_eq!(undocumented.status(), 404);
    let body: serde_json::Value = undocumented.json().await.expect("json error body");
    assert_eq!(body["error"]["code"], "not_found");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn join_response_has_exactly_the_documented_fields() {
    let t = TestServer::start().await;
    let resp = reqwest::Client::new()
        .post(format!("{}/v1/join", t.url))
        .bearer_auth(t.token("m", "alice"))
        .json(&serde_json::json!({ "protocol_version": 1 }))
        .send()
        .await
        .expect("request");
    assert_eq!(resp.status(), 200);
    let body: serde_json::Value = resp.json().await.expect("json");
    let keys: BTreeSet<String> = body.as_object().expect("object").keys().cloned().collect();
    assert_eq!(keys, required("JoinResponse"));
    let request_fields = required("JoinRequest");
    assert_eq!(request_fields, BTreeSet::from(["protocol_version".to_owned()]));
}

fn keys(v: &serde_json::Value) -> BTreeSet<String> {
    v.as_object().unwrap_or_else(|| panic!("an object: {v}")).keys().cloned().collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_api_responses_have_exactly_the_documented_fields() {
    use dark_tower_client::{TrackOptions, TrackSource};
    use reqwest::Method;
    let t = TestServer::start().await;
    let created = t
        .api(Method::POST, "/v1/meetings")
        .json(&serde_json::json!({ "name": "m" }))
        .send()
        .await
        .expect("request");
    assert_eq!(created.status(), 201);
    let meeting: serde_json::Value = created.json().await.expect("json");
    assert_eq!(keys(&meeting), required("Meeting"));
    let list: serde_json::Value =
        t.api(Method::GET, "/v1/meetings").send().await.expect("request").json().await.expect("json");
    assert_eq!(keys(&list), required("MeetingList"));

    let ann = t.join("m", "ann").await;
    ann.publish_track(TrackOptions::new(TrackSource::Microphone, "opus")).await.expect("publish");
    let people: serde_json::Value = t
        .api(Method::GET, "/v1/meetings/m/participants")
        .send()
        .await
        .expect("request")
        .json()
        .await
        .expect("json");
    assert_eq!(keys(&people), required("ParticipantList"));
    let p = &people["participants"][0];
    assert_eq!(keys(p), required("Participant"));
    assert_eq!(keys(&p["permissions"]), required("Permissions"));
    assert_eq!(keys(&p["tracks"][0]), required("Track"));

    let minted: serde_json::Value = t
        .api(Method::POST, "/v1/tokens")
        .json(&serde_json::json!({ "identity": "bob", "meeting": "m" }))
        .send()
        .await
        .expect("request")
        .json()
        .await
        .expect("json");
    assert_eq!(keys(&minted), required("MintTokenResponse"));
    assert_eq!(required("CreateMeetingRequest"), BTreeSet::from(["name".to_owned()]));
    assert_eq!(required("MintTokenRequest"), BTreeSet::from(["identity".to_owned()]));
    ann.leave().await;
}

#[test]
fn every_error_code_is_documented() {
    for code in ErrorCode::ALL {
        assert!(SPEC.contains(code.name()), "error code {} missing from docs/openapi.yaml", code.name());
    }
}
