//! The server binary keeps meetings in SQLite under its data directory by default: a meeting
//! created through the API is still there after the process restarts with the same directory,
//! and one ended before the restart stays ended.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

use serde_json::json;

const BIN: &str = env!("CARGO_BIN_EXE_dark-tower-server");

/// Kills the server when the test ends, also on failure.
struct Server {
    child: Child,
    url: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(data_dir: &Path) -> Server {
    let mut child = Command::new(BIN)
        .args(["--data-dir", data_dir.to_str().expect("utf-8 path")])
        .args(["--http", "127.0.0.1:0", "--admin", "127.0.0.1:0", "--webtransport", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("server starts");
    let stdout = child.stdout.take().expect("stdout");
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line).expect("ready line");
    let ready: serde_json::Value = serde_json::from_str(&line).expect("the ready line is JSON");
    let url = format!("http://{}", ready["http"].as_str().expect("http"));
    Server { child, url }
}

fn admin_token(data_dir: &Path) -> String {
    let out = Command::new(BIN)
        .args(["token", "create", "--admin", "--identity", "ops", "--data-dir"])
        .arg(data_dir)
        .output()
        .expect("token create runs");
    assert!(out.status.success());
    String::from_utf8(out.stdout).expect("utf-8").trim().to_owned()
}

async fn call(
    server: &Server,
    token: &str,
    method: reqwest::Method,
    path: &str,
    body: Option<serde_json::Value>,
) -> (u16, serde_json::Value) {
    let mut r = reqwest::Client::new().request(method, format!("{}{path}", server.url)).bearer_auth(token);
    if let Some(b) = body {
        r = r.json(&b);
    }
    let resp = r.send().await.expect("request");
    let status = resp.status().as_u16();
    (status, resp.json().await.expect("json"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn meetings_created_through_the_api_survive_a_restart() {
    let dir = tempfile::tempdir().expect("temp dir");
    let token = admin_token(dir.path());
    let server = start(dir.path());
    let created = call(
        &server,
        &token,
        reqwest::Method::POST,
        "/v1/meetings",
        Some(json!({ "name": "keep", "lobby": true, "max_participants": 9 })),
    )
    .await;
    assert_eq!(created.0, 201, "{}", created.1);
    let gone =
        call(&server, &token, reqwest::Method::POST, "/v1/meetings", Some(json!({ "name": "gone" }))).await;
    assert_eq!(gone.0, 201);
    let ended = call(&server, &token, reqwest::Method::POST, "/v1/meetings/gone/end", None).await;
    assert_eq!(ended.0, 200);
    drop(server);
    assert!(dir.path().join("meetings.sqlite3").exists(), "the SQLite file is in the data directory");

    let server = start(dir.path());
    let got = call(&server, &token, reqwest::Method::GET, "/v1/meetings/keep", None).await;
    assert_eq!(got, (200, created.1.clone()));
    let got = call(&server, &token, reqwest::Method::GET, "/v1/meetings/gone", None).await;
    assert_eq!(got, (200, ended.1.clone()));
    let live = call(&server, &token, reqwest::Method::GET, "/v1/meetings", None).await;
    assert_eq!(live, (200, json!({ "meetings": [created.1] })));
    // Still one live meeting per name.
    let dup =
        call(&server, &token, reqwest::Method::POST, "/v1/meetings", Some(json!({ "name": "keep" }))).await;
    assert_eq!(dup.0, 409);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_empty_meeting_still_times_out_after_a_restart() {
    let dir = tempfile::tempdir().expect("temp dir");
    let token = admin_token(dir.path());
    let server = start(dir.path());
    let created = call(
        &server,
        &token,
        reqwest::Method::POST,
        "/v1/meetings",
        Some(json!({ "name": "brief", "empty_timeout_secs": 1 })),
    )
    .await;
    assert_eq!(created.0, 201, "{}", created.1);
    drop(server);

    // Nobody ever joins: after the restart its empty timeout (counted from the restart) ends it.
    let server = start(dir.path());
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(15);
    loop {
        let got = call(&server, &token, reqwest::Method::GET, "/v1/meetings/brief", None).await;
        assert_eq!(got.0, 200);
        if !got.1["ended_at"].is_null() {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "the meeting never ended: {}", got.1);
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
}
