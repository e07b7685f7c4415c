//! The `dark-tower-server` binary in development mode: it prints one JSON line with the bound
//! addresses and the certificate hash, serves `/livez`, and `token create` run with the same data
//! directory mints a token the running server accepts — also after a restart.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

use dark_tower_client::ConnectOptions;

const BIN: &str = env!("CARGO_BIN_EXE_dark-tower-server");

/// Kills the server when the test ends, also on failure.
struct Server {
    child: Child,
    ready: serde_json::Value,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(data_dir: &Path, extra: &[&str]) -> Server {
    let mut child = Command::new(BIN)
        .args(["--data-dir", data_dir.to_str().expect("utf-8 path")])
        .args(["--http", "127.0.0.1:0", "--admin", "127.0.0.1:0"])
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("server starts");
    let stdout = child.stdout.take().expect("stdout");
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line).expect("ready line");
    let ready: serde_json::Value = serde_json::from_str(&line).expect("the ready line is JSON");
    Server { child, ready }
}

fn token(data_dir: &Path, identity: &str, meeting: &str) -> String {
    let out = Command::new(BIN)
        .args(["token", "create", "--data-dir", data_dir.to_str().expect("utf-8 path")])
        .args(["--identity", identity, "--meeting", meeting, "--name", identity])
        .output()
        .expect("token create runs");
    assert!(out.status.success());
    let stdout = String::from_utf8(out.stdout).expect("utf-8");
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 1, "the token alone on stdout");
    assert_eq!(lines[0].split('.').count(), 3, "a JWT");
    lines[0].to_owned()
}

fn temp_dir(tag: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("dark-tower-bin-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dev_mode_prints_addresses_and_accepts_cli_tokens_across_restarts() {
    let dir = temp_dir("restart");
    let server = start(&dir, &["--webtransport", "127.0.0.1:0", "--webtransport", "[::1]:0"]);
    let r = &server.ready;
    let hash = r["certificate_sha256"].as_str().expect("hash");
    assert_eq!(hash.len(), 64);
    assert!(hash.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()));
    let wt: Vec<&str> =
        r["webtransport"].as_array().expect("list").iter().filter_map(|v| v.as_str()).collect();
    assert_eq!(wt.len(), 2);
    assert!(wt[0].starts_with("127.0.0.1:") && wt[1].starts_with("[::1]:"));
    assert_eq!(wt[0].rsplit(':').next(), wt[1].rsplit(':').next(), "one port on both loopback addresses");

    let admin = r["admin"].as_str().expect("admin");
    let livez = reqwest::get(format!("http://{admin}/livez")).await.expect("livez");
    assert_eq!(livez.status(), 200);
    let readyz = reqwest::get(format!("http://{admin}/readyz")).await.expect("readyz");
    assert_eq!(readyz.status(), 200);

    let url = format!("http://{}", r["http"].as_str().expect("http"));
    let t = token(&dir, "alice", "demo");
    let room =
        dark_tower_client::connect(&url, &t, ConnectOptions::default()).await.expect("the server accepts it");
    assert_eq!(room.meeting(), "demo");
    assert_eq!(room.local_participant().identity, "alice");
    room.leave().await;
    drop(server);

    // Same data directory, new process: the development key, and so the token, still work.
    let server = start(&dir, &["--webtransport", "127.0.0.1:0"]);
    let url = format!("http://{}", server.ready["http"].as_str().expect("http"));
    let room = dark_tower_client::connect(&url, &t, ConnectOptions::default()).await.expect("still accepted");
    room.leave().await;
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
}
