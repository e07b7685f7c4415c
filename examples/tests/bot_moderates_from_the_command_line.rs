//! The bot exercises moderation, the lobby, metadata and targeted best-effort data from the
//! command line: a host bot turns the lobby on and admits whoever waits, removes `mallory` when
//! she arrives and mutes every remote microphone; a guest bot waits in the lobby, is admitted,
//! sets its metadata, sees its microphone muted by the host and sends best-effort data to the
//! host only; `mallory` is admitted, then removed.

use std::process::Stdio;
use std::time::{Duration, SystemTime};

use dark_tower_core::token::{Role, TokenBuilder};
use dark_tower_server::{ServerBuilder, ServerConfig};
use tokio::io::{AsyncBufReadExt, BufReader, Lines};
use tokio::process::{Child, ChildStderr, Command};

/// A running bot and what it has printed on stderr so far.
struct Bot {
    child: Child,
    lines: Lines<BufReader<ChildStderr>>,
    seen: Vec<String>,
}

fn bot(url: &str, token: &str, args: &[&str]) -> Bot {
    let mut child = Command::new(env!("CARGO_BIN_EXE_bot"))
        .args(["--url", url, "--token", token, "--print-events"])
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("bot starts");
    let lines = BufReader::new(child.stderr.take().expect("stderr")).lines();
    Bot { child, lines, seen: Vec::new() }
}

impl Bot {
    /// Reads stderr until a line containing `needle`.
    async fn until(&mut self, needle: &str) {
        let found = async {
            while let Ok(Some(l)) = self.lines.next_line().await {
                let hit = l.contains(needle);
                self.seen.push(l);
                if hit {
                    return true;
                }
            }
            false
        };
        let ok = tokio::time::timeout(Duration::from_secs(30), found).await.unwrap_or(false);
        assert!(ok, "no line with {needle:?} in: {:#?}", self.seen);
    }

    /// Everything printed until it exits.
    async fn finish(mut self) -> String {
        while let Ok(Ok(Some(l))) =
            tokio::time::timeout(Duration::from_secs(40), self.lines.next_line()).await
        {
            self.seen.push(l);
        }
        let _ = self.child.wait().await;
        self.seen.join("\n")
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_host_bot_moderates_and_a_guest_bot_follows() {
    let dir = std::env::temp_dir().join(format!("dark-tower-bot-mod-{}", std::process::id()));
    let server = ServerBuilder::new(ServerConfig::ephemeral(&dir)).start().await.expect("server");
    let key = server.api_key.clone().expect("development key");
    let url = format!("http://{}", server.http);
    let token = |who: &str, role: Role| {
        TokenBuilder::new(who).meeting("mod").role(role).sign(&key, SystemTime::now()).expect("token")
    };

    let mut host = bot(
        &url,
        &token("host", Role::Host),
        &["--seconds", "25", "--lobby", "--admit-all", "--remove", "mallory", "--mute-others"],
    );
    host.until("bot: lobby on").await;

    let mut guest = bot(
        &url,
        &token("guest", Role::Participant),
        &[
            "--seconds",
            "8",
            "--publish",
            "--metadata",
            "{\"seat\":4}",
            "--data",
            "hi host",
            "--data-to",
            "host",
            "--lossy-data",
        ],
    );
    host.until("bot: admitted guest").await;
    guest.until("bot: joined mod as guest").await;
    guest.until("bot: metadata set").await;
    host.until("bot: muted the microphone of").await;
    guest.until("muted=true").await;
    host.until("data from").await;

    let mut mallory = bot(&url, &token("mallory", Role::Participant), &["--seconds", "25"]);
    host.until("bot: admitted mallory").await;
    host.until("bot: removed mallory").await;
    mallory.until("disconnected Some(Removed)").await;
    mallory.finish().await;
    let guest_log = guest.finish().await;
    assert!(!guest_log.contains("data from"), "data sent to the host only never reached others: {guest_log}");
    host.child.kill().await.expect("stop host");
    server.shutdown().await;
    let _ = std::fs::remove_dir_all(&dir);
}
