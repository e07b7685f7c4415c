//! Logs never show a token or a secret: the binary at debug level, JSON logs, a join (token in
//! the signaling URL and the Authorization header), a refused join and a config with a database
//! password and a webhook secret. Only the development banner, printed once at start in
//! development mode, shows the development API secret, by design.

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::SystemTime;

use dark_tower_client::ConnectOptions;
use dark_tower_core::token::TokenBuilder;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn debug_logs_hold_no_token_or_secret() {
    let dir = std::env::temp_dir().join(format!("dark-tower-logs-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("dir");
    let config = dir.join("c.toml");
    std::fs::write(
        &config,
        "[webhooks]\nurls = [\"http://127.0.0.1:9/hook\"]\nsecret = \"hook-secret-zzz\"\nmax_attempts = 1\n",
    )
    .expect("config");
    let mut child = Command::new(env!("CARGO_BIN_EXE_dark-tower-server"))
        .args(["--config", config.to_str().expect("utf-8"), "--data-dir", dir.to_str().expect("utf-8")])
        .args(["--store", "memory", "--http", "127.0.0.1:0", "--admin", "127.0.0.1:0"])
        .args(["--webtransport", "127.0.0.1:0", "--log-format", "json"])
        .env("RUST_LOG", "debug,wtransport=trace")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("server starts");
    let mut stdout = child.stdout.take().expect("stdout");
    let mut line = Vec::new();
    let mut b = [0u8; 1];
    while stdout.read(&mut b).expect("read") == 1 && b[0] != b'\n' {
        line.push(b[0]);
    }
    let ready: serde_json::Value = serde_json::from_slice(&line).expect("ready line");
    let url = format!("http://{}", ready["http"].as_str().expect("http"));
    let key = dark_tower_server::devkeys::load_or_create(&dir).expect("dev key");
    let token = TokenBuilder::new("ann").meeting("logs").sign(&key, SystemTime::now()).expect("sign");
    let room = dark_tower_client::connect(&url, &token, ConnectOptions::default()).await.expect("join");
    room.ping().await.expect("ping");
    room.leave().await;
    let forged = format!("{}x", &token[..token.len() - 1]);
    assert!(dark_tower_client::connect(&url, &forged, ConnectOptions::default()).await.is_err());
    let _ = Command::new("kill").args(["-TERM", &child.id().to_string()]).status();
    let mut stderr = String::new();
    child.stderr.take().expect("stderr").read_to_string(&mut stderr).expect("read");
    let _ = child.wait();
    let _ = std::fs::remove_dir_all(&dir);

    let signature = token.rsplit('.').next().expect("signature");
    let logs: Vec<&str> = stderr.lines().filter(|l| l.starts_with('{')).collect();
    assert!(logs.len() > 5, "debug logs were written:\n{stderr}");
    for l in &logs {
        assert!(!l.contains(signature), "a token in the logs: {l}");
        assert!(!l.contains(key.secret.expose()), "the API secret in the logs: {l}");
        assert!(!l.contains("hook-secret-zzz"), "the webhook secret in the logs: {l}");
        assert!(
            !l.contains("access_token=") && !l.contains("ticket=ey"),
            "a credential URL in the logs: {l}"
        );
    }
}
