//! In development mode the server serves the demo app at `/` from files embedded in the binary
//! (so it works from any working directory) and mints demo tokens at `POST /demo/token`; with
//! API keys configured (production) neither exists.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use common::{TestServer, status_json};
use dark_tower_client::ConnectOptions;
use dark_tower_server::config::ApiKeyConfig;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_page_its_assets_and_demo_tokens() {
    let t = TestServer::start().await;
    let page = reqwest::get(format!("{}/", t.url)).await.expect("GET /");
    assert_eq!(page.status(), 200);
    assert!(page.headers()["content-type"].to_str().unwrap_or("").starts_with("text/html"));
    let html = page.text().await.expect("body");
    assert!(html.contains("<html"), "{html}");
    // Every script the page loads is served with a JavaScript type.
    let scripts: Vec<&str> = html.split("src=\"").skip(1).filter_map(|s| s.split('"').next()).collect();
    assert!(!scripts.is_empty(), "the page loads a script");
    for s in scripts {
        let r = reqwest::get(format!("{}/{}", t.url, s.trim_start_matches("./").trim_start_matches('/')))
            .await
            .expect("GET script");
        assert_eq!(r.status(), 200, "{s}");
        assert!(r.headers()["content-type"].to_str().unwrap_or("").starts_with("text/javascript"), "{s}");
    }
    // App routes get the page; missing files and unknown API paths are 404 JSON.
    assert_eq!(reqwest::get(format!("{}/meeting/standup", t.url)).await.expect("get").status(), 200);
    let (status, body) = status_json(reqwest::get(format!("{}/missing.js", t.url)).await.expect("get")).await;
    assert_eq!((status, body["error"]["code"].as_str()), (404, Some("not_found")));
    let (status, _) = status_json(reqwest::get(format!("{}/v1/nothing", t.url)).await.expect("get")).await;
    assert_eq!(status, 404);

    let (status, body) = status_json(
        reqwest::Client::new()
            .post(format!("{}/demo/token", t.url))
            .json(&json!({ "identity": "ann", "meeting": "demo", "name": "Ann" }))
            .send()
            .await
            .expect("request"),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let room =
        dark_tower_client::connect(&t.url, body["token"].as_str().expect("token"), ConnectOptions::default())
            .await
            .expect("a demo token joins");
    assert_eq!(room.local_participant().name, "Ann");
    room.leave().await;
    let (status, _) = status_json(
        reqwest::Client::new()
            .post(format!("{}/demo/token", t.url))
            .json(&json!({ "identity": "", "meeting": "demo" }))
            .send()
            .await
            .expect("request"),
    )
    .await;
    assert_eq!(status, 400, "a bad identity is refused");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn production_mode_serves_neither() {
    let dir = std::env::temp_dir().join(format!("dark-tower-demo-prod-{}", std::process::id()));
    let mut config = dark_tower_server::ServerConfig::ephemeral(&dir);
    config.auth.api_keys = vec![ApiKeyConfig {
        key: "APIprod".into(),
        secret: dark_tower_core::token::Secret::new("p".repeat(40)),
    }];
    let server = dark_tower_server::ServerBuilder::new(config).start().await.expect("start");
    let url = format!("http://{}", server.http);
    assert_eq!(reqwest::get(format!("{url}/")).await.expect("get").status(), 404);
    let r = reqwest::Client::new()
        .post(format!("{url}/demo/token"))
        .json(&json!({ "identity": "ann", "meeting": "demo" }))
        .send()
        .await
        .expect("request");
    assert_eq!(r.status(), 404);
    server.shutdown().await;
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn the_binary_serves_the_demo_from_any_working_directory() {
    let cwd = std::env::temp_dir().join(format!("dark-tower-demo-cwd-{}", std::process::id()));
    std::fs::create_dir_all(&cwd).expect("dir");
    let mut child = Command::new(env!("CARGO_BIN_EXE_dark-tower-server"))
        .current_dir(&cwd)
        .args(["--store", "memory", "--http", "127.0.0.1:0", "--admin", "127.0.0.1:0"])
        .args(["--webtransport", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("server starts");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout")).read_line(&mut line).expect("ready line");
    let ready: serde_json::Value = serde_json::from_str(&line).expect("json");
    let http = ready["http"].as_str().expect("http").to_owned();
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let status =
        rt.block_on(async { reqwest::get(format!("http://{http}/")).await.map(|r| r.status().as_u16()) });
    let _ = child.kill();
    let _ = child.wait();
    let _ = std::fs::remove_dir_all(&cwd);
    assert_eq!(status.expect("GET /"), 200);
}
