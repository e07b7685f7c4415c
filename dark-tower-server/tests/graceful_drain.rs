//! Graceful shutdown: while draining, `/readyz` answers 503 and new joins are refused with
//! `shutting_down`, the meeting in progress goes on until the deadline, then its participants
//! get `Disconnect{shutting_down}` and the meeting stays live in the store. The binary drains
//! on SIGTERM and exits cleanly.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use common::{TestServer, status_json, wait_for};
use dark_tower_client::RoomEvent;
use dark_tower_core::ErrorCode;
use dark_tower_core::ids::MeetingName;
use dark_tower_core::store::{MeetingReader, MeetingStore, MemoryMeetingStore};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn draining_refuses_newcomers_then_tells_the_rest() {
    let store = Arc::new(MemoryMeetingStore::default());
    let shared: Arc<dyn MeetingStore> = store.clone();
    let t = TestServer::start_with_store(|_| {}, Some(shared)).await;
    let mut ann = t.join("drain", "ann").await;
    let bob = t.join("drain", "bob").await;
    let admin = format!("http://{}/readyz", t.server.admin);
    assert_eq!(reqwest::get(&admin).await.expect("readyz").status(), 200);

    let http = t.url.clone();
    let late_token = t.token("drain", "carol");
    let drained = tokio::spawn(t.server.drain(Duration::from_millis(1500)));

    // Readiness goes off at once; joins are refused while the meeting goes on.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while reqwest::get(&admin).await.expect("readyz").status() != 503 {
        assert!(tokio::time::Instant::now() < deadline, "readiness never went off");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let refused = reqwest::Client::new()
        .post(format!("{http}/v1/join"))
        .bearer_auth(&late_token)
        .json(&json!({ "protocol_version": 1 }))
        .send()
        .await
        .expect("join request");
    let (status, body) = status_json(refused).await;
    assert_eq!((status, body["error"]["code"].as_str()), (503, Some("shutting_down")), "{body}");
    bob.ping().await.expect("the meeting in progress still works while draining");

    // At the deadline everyone is told why.
    let (code, _) = wait_for(&mut ann, |e| match e {
        RoomEvent::Disconnected { code, reason } => Some((*code, reason.clone())),
        _ => None,
    })
    .await;
    assert_eq!(code, Some(ErrorCode::ShuttingDown));
    tokio::time::timeout(Duration::from_secs(10), drained).await.expect("drain ends").expect("no panic");
    let record =
        store.get_meeting(&MeetingName::new("drain").expect("name")).await.expect("store").expect("kept");
    assert!(record.ended_at.is_none(), "a drained meeting is not ended: it can go on after a restart");
}

#[test]
fn the_binary_drains_on_sigterm_and_exits_cleanly() {
    let dir = std::env::temp_dir().join(format!("dark-tower-sigterm-{}", std::process::id()));
    let mut child = Command::new(env!("CARGO_BIN_EXE_dark-tower-server"))
        .args(["--data-dir", dir.to_str().expect("utf-8"), "--store", "memory"])
        .args(["--http", "127.0.0.1:0", "--admin", "127.0.0.1:0", "--webtransport", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("server starts");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout")).read_line(&mut line).expect("ready line");
    assert!(line.contains("\"http\""), "ready line: {line}");
    let status = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().expect("kill runs");
    assert!(status.success());
    // Wait for the exit on a thread, so the test waits on the event itself.
    let pid = child.id().to_string();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait());
    });
    let Ok(exit) = rx.recv_timeout(Duration::from_secs(15)) else {
        let _ = Command::new("kill").args(["-KILL", &pid]).status();
        panic!("the server did not exit after SIGTERM");
    };
    let exit = exit.expect("wait");
    assert!(exit.success(), "exit status {exit:?}");
    let _ = std::fs::remove_dir_all(dir);
}
