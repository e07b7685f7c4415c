//! The moq-relay side: the relay process (built by `bench/build-peers.sh`), and a publisher and
//! subscribers speaking moq-lite through moq's published client crates (moq-tokio, moq-net).
//!
//! Mapping of the B1 workload onto moq-lite: one broadcast `bench` with tracks `video0`,
//! `video1`, `video2` (one group per group of pictures, as on our side) and `audio` (one group
//! per second of frames, see [`AUDIO_GROUP`]). A subscriber takes `video2` (the
//! top layer, which our SFU sends by default) and `audio`, so both sides carry the same bytes.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use anyhow::{Context, anyhow};
use moq_net::Timestamp;
use std::sync::Arc;
use tokio::process::{Child, Command};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::ours::Schedule;
use crate::payload::{self, AUDIO, AUDIO_BYTES, VIDEO};
use crate::stats::{self, Shared, Window};

/// Audio frames per moq-lite group (one second). One group per frame loses about 8 % of audio
/// frames at N = 100 on loopback: each group is a QUIC stream, and a group that arrives after a
/// newer one is skipped by design (moq-lite is latest-first), which is not what this workload is
/// about.
const AUDIO_GROUP: u64 = 50;

/// The pinned relay version (see bench/build-peers.sh).
pub const MOQ_RELAY_VERSION: &str = "0.17.10";

/// Where build-peers.sh puts the relay.
pub fn relay_binary() -> PathBuf {
    let bench = std::env::var("DT_BENCH_DIR").map(PathBuf::from).unwrap_or_else(|_| PathBuf::from("bench"));
    bench.join(format!(".peers/moq-relay-{MOQ_RELAY_VERSION}/bin/moq-relay"))
}

/// A running moq-relay.
pub struct Relay {
    child: Child,
    /// Its pid, for /proc.
    pub pid: u32,
    /// The URL clients connect to.
    pub url: url::Url,
}

impl Relay {
    /// Starts the relay on a free loopback port with a generated self-signed certificate and
    /// anonymous access to every path.
    pub async fn start() -> anyhow::Result<Self> {
        let port = std::net::UdpSocket::bind("127.0.0.1:0")?.local_addr()?.port();
        let bin = relay_binary();
        let child = Command::new(&bin)
            .args(["--listen", &format!("127.0.0.1:{port}")])
            .args(["--listen-tls-generate", "localhost"])
            .args(["--auth-public", "**"])
            .args(["--log-level", "error"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("starting {} (run bench/build-peers.sh)", bin.display()))?;
        let pid = child.id().ok_or_else(|| anyhow!("moq-relay has no pid"))?;
        let url: url::Url = format!("https://localhost:{port}/").parse()?;
        let relay = Self { child, pid, url };
        // Ready once a session completes.
        for _ in 0..100 {
            let client = client()?;
            let origin = moq_tokio::origin::spawn();
            let attempt = client.clone().with_subscriber(origin).connect(relay.url.clone());
            if let Ok(Ok(conn)) = tokio::time::timeout(Duration::from_secs(1), attempt.established()).await {
                let _ = conn.close().await;
                client.close().await;
                return Ok(relay);
            }
            client.close().await;
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Err(anyhow!("moq-relay did not accept a session"))
    }

    /// Stops the process.
    pub async fn stop(mut self) {
        let _ = self.child.start_kill();
        let _ = self.child.wait().await;
    }
}

/// A one-shot client on its own UDP socket that trusts the relay's self-signed certificate.
pub fn client() -> anyhow::Result<moq_tokio::Client> {
    let mut config = moq_tokio::connect::Config::default();
    config.tls.insecure = Some(true);
    config.once = Some(true);
    config.bind = Some("127.0.0.1:0".parse()?);
    Ok(config.init(Default::default())?)
}

/// The publisher: connects, announces `bench`, sends on `schedule` until `stop`.
pub async fn publish(
    url: url::Url,
    schedule: Schedule,
    mut stop: watch::Receiver<bool>,
) -> anyhow::Result<JoinHandle<()>> {
    let client = client()?;
    let origin = moq_tokio::origin::spawn();
    let broadcast = origin.create_broadcast("bench").map_err(|e| anyhow!("{e}"))?;
    let mut video = Vec::new();
    for layer in 0..3 {
        video.push(broadcast.create_track(format!("video{layer}"), None).map_err(|e| anyhow!("{e}"))?);
    }
    let audio = broadcast.create_track("audio", None).map_err(|e| anyhow!("{e}"))?;
    broadcast.announce(Default::default()).map_err(|e| anyhow!("{e}"))?;
    let conn = client.clone().with_publisher(&origin).connect(url).established().await?;
    let mut stop2 = stop.clone();
    let video_task = async move {
        let mut groups: Vec<Option<moq_net::group::Producer>> = vec![None, None, None];
        for i in 0u64.. {
            let due = schedule.t0 + Duration::from_micros(payload::video_offset_us(i));
            tokio::select! {
                _ = tokio::time::sleep_until(due) => {}
                _ = stop.changed() => return,
            }
            let sched = schedule.t0_us + payload::video_offset_us(i);
            for (layer, track) in video.iter().enumerate() {
                if i % payload::GOP == 0 {
                    if let Some(g) = groups[layer].take() {
                        let _ = g.finish();
                    }
                    match track.append_group() {
                        Ok(g) => groups[layer] = Some(g),
                        Err(e) => {
                            eprintln!("loadgen: moq video group: {e}");
                            return;
                        }
                    }
                }
                let p = payload::make(VIDEO, layer as u8, i, sched, payload::video_len(layer, i));
                if let Some(g) = groups[layer].as_mut()
                    && let Err(e) = g.write_frame(Timestamp::now(), p)
                {
                    eprintln!("loadgen: moq video frame: {e}");
                    return;
                }
            }
        }
    };
    let audio_task = async move {
        let mut group: Option<moq_net::group::Producer> = None;
        for i in 0u64.. {
            let due = schedule.t0 + Duration::from_micros(payload::audio_offset_us(i));
            tokio::select! {
                _ = tokio::time::sleep_until(due) => {}
                _ = stop2.changed() => return,
            }
            let sched = schedule.t0_us + payload::audio_offset_us(i);
            if i % AUDIO_GROUP == 0 {
                if let Some(g) = group.take() {
                    let _ = g.finish();
                }
                match audio.append_group() {
                    Ok(g) => group = Some(g),
                    Err(e) => {
                        eprintln!("loadgen: moq audio group: {e}");
                        return;
                    }
                }
            }
            if let Some(g) = group.as_mut()
                && let Err(e) =
                    g.write_frame(Timestamp::now(), payload::make(AUDIO, 0, i, sched, AUDIO_BYTES))
            {
                eprintln!("loadgen: moq audio frame: {e}");
                return;
            }
        }
    };
    Ok(tokio::spawn(async move {
        tokio::join!(video_task, audio_task);
        drop(broadcast);
        let _ = conn.close().await;
        client.close().await;
    }))
}

async fn read_track(
    mut track: moq_net::track::Subscriber,
    window: Arc<Window>,
    stats: Shared,
) -> anyhow::Result<()> {
    // Each group is read by a task of its own, as a player would: a group still arriving never
    // holds up the next.
    while let Some(mut group) = track.recv_group().await? {
        let (window, stats) = (Arc::clone(&window), Arc::clone(&stats));
        tokio::spawn(async move {
            while let Ok(Some(frame)) = group.read_frame().await {
                stats::record(&stats, &window, &frame.payload);
            }
        });
    }
    Ok(())
}

/// One subscriber on its own connection: takes `video2` and `audio` of `bench`.
pub fn subscriber(
    url: url::Url,
    window: Arc<Window>,
    stats: Shared,
    gate: Arc<tokio::sync::Semaphore>,
    mut stop: watch::Receiver<bool>,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let run = async {
            let permit = gate.acquire_owned().await;
            if let Ok(mut s) = stats.lock() {
                s.started = std::time::Instant::now();
            }
            let client = client()?;
            let origin = moq_tokio::origin::spawn();
            let conn = client.clone().with_subscriber(origin.clone()).connect(url).established().await?;
            drop(permit);
            let consumer = origin.consume();
            let mut announced = consumer.announced();
            let prefix = loop {
                let update = announced.next().await.ok_or_else(|| anyhow!("announcements ended"))?;
                if update.kind.is_active() && update.prefix.as_str() == "bench" {
                    break update.prefix;
                }
            };
            let broadcast = consumer.request_broadcast(&prefix).await?;
            let video = broadcast.track("video2")?.subscribe(None).await?;
            let audio = broadcast.track("audio")?.subscribe(None).await?;
            let v = read_track(video, Arc::clone(&window), Arc::clone(&stats));
            let a = read_track(audio, Arc::clone(&window), Arc::clone(&stats));
            let (rv, ra) = tokio::join!(v, a);
            drop(conn);
            client.close().await;
            rv.and(ra)
        };
        tokio::select! {
            r = run => if let Err(e) = r && let Ok(mut s) = stats.lock() { s.error = Some(format!("{e:#}")); },
            _ = stop.changed() => {}
        }
    })
}
