//! The bot's media mode without a browser: two `bot` processes publish the committed VP8 and
//! Opus fixtures (examples/fixtures) end-to-end encrypted with one passphrase, and each decrypts
//! and structurally verifies the other's frames. A third bot with a wrong passphrase, and a
//! fourth without E2EE, decrypt nothing, verify nothing and fail, without calling any frame bad;
//! the two others count their frames as undecryptable, not as bad. The browser side of the same
//! check is client-js/e2e/e2ee_browser_and_bot.test.mjs.

use std::process::Stdio;
use std::time::SystemTime;

use dark_tower_core::token::TokenBuilder;
use dark_tower_server::{ServerBuilder, ServerConfig};
use tokio::process::Command;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bots_exchange_fixture_media_end_to_end_encrypted() {
    let dir = std::env::temp_dir().join(format!("dark-tower-fixture-bots-{}", std::process::id()));
    let server = ServerBuilder::new(ServerConfig::ephemeral(&dir)).start().await.expect("server");
    let key = server.api_key.clone().expect("development key");
    let url = format!("http://{}", server.http);
    let fixtures = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures");
    let mut bots = Vec::new();
    let bots_and_passphrases = [
        ("ann", Some("shared secret")),
        ("bob", Some("shared secret")),
        ("eve", Some("a wrong guess")),
        ("zed", None),
    ];
    for (who, passphrase) in bots_and_passphrases {
        let token = TokenBuilder::new(who).meeting("fixtures").sign(&key, SystemTime::now()).expect("token");
        let e2ee = passphrase.map(|p| ["--e2ee-passphrase", p]);
        let child = Command::new(env!("CARGO_BIN_EXE_bot"))
            .args(["--url", &url, "--token", &token, "--media-fixtures", fixtures, "--seconds", "5"])
            .args(["--expect-peers", "1"])
            .args(e2ee.iter().flatten())
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
        let stderr = String::from_utf8_lossy(&out.stderr);
        let peers: Vec<serde_json::Value> =
            stdout.lines().map(|l| serde_json::from_str(l).expect("one JSON line per peer")).collect();
        let report = |identity: &str| {
            peers
                .iter()
                .find(|p| p["identity"] == identity)
                .unwrap_or_else(|| panic!("{who} saw no {identity}: {stdout}"))
        };
        if who == "eve" || who == "zed" {
            assert!(!out.status.success(), "{who} verified media without the key: {stdout}\n{stderr}");
            for other in ["ann", "bob"] {
                let p = report(other);
                assert_eq!(p["verified"], false);
                assert_eq!(p["video_frames"], 0);
                assert_eq!(p["audio_frames"], 0);
                assert_eq!(p["bad"], 0, "{who} about {other}: {p}");
                assert!(p["undecryptable"].as_u64().expect("count") > 0, "{p}");
            }
            continue;
        }
        assert!(out.status.success(), "{who} failed: {stdout}\n{stderr}");
        let other = if who == "ann" { "bob" } else { "ann" };
        let p = report(other);
        assert_eq!(p["verified"], true, "{who} about {other}: {p}");
        assert_eq!(p["bad"], 0);
        assert_eq!(p["unchecked"], 0);
        assert_eq!(p["undecryptable"], 0, "{who} about {other}: {p}");
        // 5 s of 15 fps video and 50 packets/s audio; generous for a loaded machine.
        assert!(p["video_frames"].as_u64().expect("count") > 20, "{p}");
        assert!(p["audio_frames"].as_u64().expect("count") > 100, "{p}");
        for outsider in ["eve", "zed"] {
            let p = report(outsider);
            assert_eq!(p["verified"], false);
            assert_eq!(p["bad"], 0, "undecryptable frames are not bad frames: {p}");
            assert!(p["undecryptable"].as_u64().expect("count") > 0, "{p}");
        }
    }
    server.shutdown().await;
    let _ = std::fs::remove_dir_all(&dir);
}
