//! The embedding examples run as documented: `embedded_server` serves a meeting a client joins
//! with a token from its development key, and `custom_auth` admits the app's own session
//! strings (and refuses unknown ones) through its custom `Authenticator`.

use std::process::Stdio;

use dark_tower_client::ConnectOptions;
use dark_tower_core::token::{Role, TokenBuilder};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

async fn start(bin: &str, args: &[&str]) -> (Child, serde_json::Value) {
    let mut child = Command::new(bin)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("example starts");
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let line = tokio::time::timeout(std::time::Duration::from_secs(60), lines.next_line())
        .await
        .expect("ready in time")
        .expect("read")
        .expect("a ready line");
    (child, serde_json::from_str(&line).expect("JSON ready line"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_minimal_embedded_server_hosts_a_meeting() {
    let dir = std::env::temp_dir().join(format!("dark-tower-embedded-{}", std::process::id()));
    let (mut child, ready) =
        start(env!("CARGO_BIN_EXE_embedded_server"), &["--data-dir", dir.to_str().expect("utf-8")]).await;
    let key = dark_tower_server::devkeys::load_or_create(&dir).expect("the example's development key");
    assert_eq!(ready["api_key"].as_str(), Some(key.key.as_str()));
    let token =
        TokenBuilder::new("ann").meeting("embedded").sign(&key, std::time::SystemTime::now()).expect("sign");
    let url = format!("http://{}", ready["http"].as_str().expect("http"));
    let room = dark_tower_client::connect(&url, &token, ConnectOptions::default()).await.expect("joins");
    room.ping().await.expect("signaling works");
    room.leave().await;
    child.kill().await.expect("stop");
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_custom_authenticator_admits_app_sessions() {
    let (mut child, ready) = start(env!("CARGO_BIN_EXE_custom_auth"), &[]).await;
    let url = format!("http://{}", ready["http"].as_str().expect("http"));
    assert!(ready["api_key"].is_null(), "no development key with a custom authenticator");
    let alice =
        dark_tower_client::connect(&url, "session-alice", ConnectOptions::default()).await.expect("joins");
    let me = alice.local_participant();
    assert_eq!((me.identity.as_str(), me.role), ("alice", Role::Host));
    let Err(err) = dark_tower_client::connect(&url, "session-mallory", ConnectOptions::default()).await
    else {
        panic!("an unknown session is refused")
    };
    assert!(err.to_string().contains("invalid_token"), "{err}");
    let list = reqwest::Client::new()
        .get(format!("{url}/v1/meetings"))
        .bearer_auth("session-admin")
        .send()
        .await
        .expect("request");
    assert_eq!(list.status(), 200, "the app's admin session uses the server API");
    let body: serde_json::Value = list.json().await.expect("json");
    assert!(body.to_string().contains("standup"), "{body}");
    alice.leave().await;
    child.kill().await.expect("stop");
}
