//! The README's smoke test, automated: three `bot` processes join one meeting on a running
//! server, publish synthetic simulcast video and audio, and each exits 0 only after receiving
//! verified media from the two others. They also chat (reliable data messages) and mute their
//! microphones half-way, from the command line.

use std::process::Stdio;
use std::time::SystemTime;

use dark_tower_core::token::TokenBuilder;
use dark_tower_server::{ServerBuilder, ServerConfig};
use tokio::process::Command;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_bots_exchange_verified_media() {
    let dir = std::env::temp_dir().join(format!("dark-tower-bots-{}", std::process::id()));
    let server = ServerBuilder::new(ServerConfig::ephemeral(&dir)).start().await.expect("server");
    let key = server.api_key.clone().expect("development key");
    let url = format!("http://{}", server.http);
    let mut bots = Vec::new();
    for who in ["ann", "bob", "cyd"] {
        let token = TokenBuilder::new(who).meeting("smoke").sign(&key, SystemTime::now()).expect("token");
        let child = Command::new(env!("CARGO_BIN_EXE_bot"))
            .args(["--url", &url, "--token", &token, "--publish", "--seconds", "4", "--expect-peers", "2"])
            .args(["--data", &format!("hello from {who}"), "--mute-after", "2"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("bot starts");
        bots.push((who, child));
    }
    for (who, bot) in bots {
        let out = bot.wait_with_output().await.expect("bot runs");
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{who} failed: {stdout}\n{}", String::from_utf8_lossy(&out.stderr));
        let peers: Vec<serde_json::Value> =
            stdout.lines().map(|l| serde_json::from_str(l).expect("one JSON line per peer")).collect();
        assert_eq!(peers.len(), 2, "{who} reports two peers");
        for p in peers {
            assert_eq!(p["verified"], true);
            assert_eq!(p["bad"], 0);
            assert!(p["video_frames"].as_u64().expect("count") > 0);
            assert!(p["audio_frames"].as_u64().expect("count") > 0);
            assert!(p["data_messages"].as_u64().expect("count") > 0, "{who} got chat from {}", p["identity"]);
        }
    }
    server.shutdown().await;
    let _ = std::fs::remove_dir_all(&dir);
}
