//! The Dark Tower side: the SFU process (`dt-sfu`), tokens, a publisher that sends on a fixed
//! schedule, subscribers built on `dark-tower-client`, and a raw subscriber that reads slowly.

use std::path::PathBuf;
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, SystemTime};

use anyhow::{Context, anyhow};
use dark_tower_client::{
    ClientError, ConnectOptions, OutgoingFrame, Room, RoomEvent, TrackOptions, TrackSource, connect,
};
use dark_tower_core::codec::media::MediaStreamReader;
use dark_tower_core::codec::signal::{self as sigcodec, MessageReader};
use dark_tower_core::limits::{MAX_MEDIA_FRAME, MAX_SIGNAL_MESSAGE};
use dark_tower_core::proto::sig;
use dark_tower_core::token::{ApiKey, TokenBuilder};
use dark_tower_core::transport::{RecvStream, SendStream, Session, wt};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, ChildStdin, Command};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::payload::{self, AUDIO, AUDIO_BYTES, VIDEO};
use crate::stats::{self, Shared, Window};

/// The SFU under test, a process of its own.
pub struct Sfu {
    child: Child,
    _stdin: ChildStdin,
    /// Its pid, for /proc.
    pub pid: u32,
    /// HTTP API base URL.
    pub url: String,
    key: ApiKey,
    dir: PathBuf,
}

fn sibling(name: &str) -> anyhow::Result<PathBuf> {
    let exe = std::env::current_exe()?;
    Ok(exe.with_file_name(name))
}

impl Sfu {
    /// Starts `dt-sfu` and waits for its ready line.
    pub async fn start() -> anyhow::Result<Self> {
        let dir = std::env::temp_dir().join(format!("dt-bench-{}-{}", std::process::id(), payload::now_us()));
        // DT_SFU_PREFIX runs the SFU under a profiler, e.g. "valgrind --tool=massif".
        let prefix: Vec<String> = std::env::var("DT_SFU_PREFIX")
            .map(|p| p.split_whitespace().map(String::from).collect())
            .unwrap_or_default();
        let sfu = sibling("dt-sfu")?;
        let mut command = match prefix.split_first() {
            Some((program, args)) => {
                let mut c = Command::new(program);
                c.args(args).arg(&sfu);
                c
            }
            None => Command::new(&sfu),
        };
        let mut child = command
            .arg(&dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .context("starting dt-sfu (build it with the loadgen)")?;
        let stdin = child.stdin.take().ok_or_else(|| anyhow!("no stdin"))?;
        let stdout = child.stdout.take().ok_or_else(|| anyhow!("no stdout"))?;
        let mut lines = BufReader::new(stdout).lines();
        let line = tokio::time::timeout(Duration::from_secs(120), lines.next_line())
            .await
            .context("dt-sfu ready line")??
            .ok_or_else(|| anyhow!("dt-sfu exited"))?;
        let ready: serde_json::Value = serde_json::from_str(&line)?;
        let url = format!("http://{}", ready["http"].as_str().unwrap_or_default());
        let stored: serde_json::Value =
            serde_json::from_slice(&std::fs::read(dir.join("dev-api-key.json"))?)?;
        let key = ApiKey::new(
            stored["api_key"].as_str().unwrap_or_default(),
            stored["api_secret"].as_str().unwrap_or_default(),
        );
        let pid = child.id().ok_or_else(|| anyhow!("dt-sfu has no pid"))?;
        Ok(Self { child, _stdin: stdin, pid, url, key, dir })
    }

    /// A token for `identity` in `meeting`.
    pub fn token(&self, identity: &str, meeting: &str) -> String {
        TokenBuilder::new(identity).meeting(meeting).sign(&self.key, SystemTime::now()).unwrap_or_default()
    }

    /// Creates `meeting` with room for `max` participants (the default is 100).
    pub async fn create_meeting(&self, meeting: &str, max: u32) -> anyhow::Result<()> {
        let admin = TokenBuilder::new("bench-admin").admin(true).sign(&self.key, SystemTime::now())?;
        let resp = reqwest::Client::new()
            .post(format!("{}/v1/meetings", self.url))
            .bearer_auth(admin)
            .json(&serde_json::json!({ "name": meeting, "max_participants": max }))
            .send()
            .await?;
        if !resp.status().is_success() {
            return Err(anyhow!(
                "create meeting: {} {}",
                resp.status(),
                resp.text().await.unwrap_or_default()
            ));
        }
        Ok(())
    }

    /// Stops the process.
    pub async fn stop(mut self) {
        // Closing stdin asks dt-sfu to shut down (profilers then write their output).
        drop(self._stdin);
        if tokio::time::timeout(Duration::from_secs(10), self.child.wait()).await.is_err() {
            let _ = self.child.start_kill();
        }
        let _ = self.child.wait().await;
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Connect options of every load-generator room: no automatic resume (a finished run's rooms
/// must not come back).
pub fn options(auto_subscribe: bool) -> ConnectOptions {
    ConnectOptions {
        client_detail: "loadgen".into(),
        reconnect: false,
        auto_subscribe,
        ..ConnectOptions::default()
    }
}

/// A fixed schedule: frame times are `t0_us + offset(i)`, slept towards on tokio's clock.
#[derive(Clone, Copy)]
pub struct Schedule {
    /// Start, µs since the epoch.
    pub t0_us: u64,
    /// The same instant on tokio's clock.
    pub t0: tokio::time::Instant,
}

impl Schedule {
    /// A schedule starting `delay` from now.
    pub fn starting_in(delay: Duration) -> Self {
        Self { t0_us: payload::now_us() + delay.as_micros() as u64, t0: tokio::time::Instant::now() + delay }
    }
}

/// Keyframe requests from the SFU, per layer, for the sending loop.
pub type KeyRequests = Arc<[AtomicBool; 3]>;

/// Publishes 3 simulcast layers (or `layers`) and audio on `room`, sending open-loop on
/// `schedule` until `stop`. Returns the sending task.
pub async fn publish(
    room: &Room,
    schedule: Schedule,
    layers: usize,
    keys: KeyRequests,
    mut stop: watch::Receiver<bool>,
) -> anyhow::Result<JoinHandle<()>> {
    let spec: Vec<(u32, u32, u32)> =
        [(320, 180, 150_000), (640, 360, 500_000), (1280, 720, 1_500_000)][..layers].to_vec();
    let mut video =
        room.publish_track(TrackOptions::new(TrackSource::Camera, "synthetic").simulcast(&spec)).await?;
    let mut audio = room.publish_track(TrackOptions::new(TrackSource::Microphone, "synthetic")).await?;
    let mut stop2 = stop.clone();
    let video_task = async move {
        let mut force = [false; 3];
        for i in 0u64.. {
            let due = schedule.t0 + Duration::from_micros(payload::video_offset_us(i));
            tokio::select! {
                _ = tokio::time::sleep_until(due) => {}
                _ = stop.changed() => return,
            }
            let sched = schedule.t0_us + payload::video_offset_us(i);
            for layer in 0..layers {
                let key = i % payload::GOP == 0 || force[layer] || keys[layer].swap(false, Ordering::Relaxed);
                let len = if key {
                    payload::LAYER_BYTES[layer] * payload::KEYFRAME_FACTOR
                } else {
                    payload::LAYER_BYTES[layer]
                };
                let frame = OutgoingFrame {
                    spatial_id: layer as u8,
                    temporal_id: 0,
                    keyframe: key,
                    discardable: false,
                    capture_ts_us: sched,
                    audio_level: None,
                    payload: payload::make(VIDEO, layer as u8, i, sched, len),
                };
                match video.send(frame).await {
                    Ok(_) => force[layer] = false,
                    Err(ClientError::KeyframeRequired | ClientError::Connection(_)) => force[layer] = true,
                    Err(e) => {
                        eprintln!("loadgen: video publishing stopped: {e}");
                        return;
                    }
                }
            }
        }
    };
    let audio_task = async move {
        for i in 0u64.. {
            let due = schedule.t0 + Duration::from_micros(payload::audio_offset_us(i));
            tokio::select! {
                _ = tokio::time::sleep_until(due) => {}
                _ = stop2.changed() => return,
            }
            let sched = schedule.t0_us + payload::audio_offset_us(i);
            let frame = OutgoingFrame {
                spatial_id: 0,
                temporal_id: 0,
                keyframe: false,
                discardable: false,
                capture_ts_us: sched,
                audio_level: Some(if (i / 50) % 2 == 0 { 30 } else { 127 }),
                payload: payload::make(AUDIO, 0, i, sched, AUDIO_BYTES),
            };
            match audio.send(frame).await {
                Ok(_) | Err(ClientError::Connection(_)) => {}
                Err(e) => {
                    eprintln!("loadgen: audio publishing stopped: {e}");
                    return;
                }
            }
        }
    };
    Ok(tokio::spawn(async move {
        tokio::join!(video_task, audio_task);
    }))
}

/// Follows a publisher room's events: keyframe requests go to the sending loop; frames
/// (in a meeting where the publisher also subscribes) are recorded.
pub fn follow(
    mut room: Room,
    keys: KeyRequests,
    window: Arc<Window>,
    stats: Shared,
    mut stop: watch::Receiver<bool>,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            let ev = tokio::select! {
                ev = room.next_event() => ev,
                _ = stop.changed() => break,
            };
            match ev {
                Some(RoomEvent::KeyframeRequested { spatial_id, .. }) => {
                    if let Some(k) = keys.get(spatial_id as usize) {
                        k.store(true, Ordering::Relaxed);
                    }
                }
                Some(RoomEvent::Frame(f)) => {
                    stats::record(&stats, &window, &f.payload);
                }
                Some(RoomEvent::Disconnected { reason, .. }) => {
                    eprintln!("loadgen: room disconnected: {reason}");
                    break;
                }
                None => break,
                Some(_) => {}
            }
        }
        room.abort();
    })
}

/// One subscriber on its own connections: joins with auto-subscribe (every track, top layer)
/// and records every frame until `stop`.
pub fn subscriber(
    url: String,
    token: String,
    window: Arc<Window>,
    stats: Shared,
    gate: Arc<tokio::sync::Semaphore>,
    stop: watch::Receiver<bool>,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let permit = gate.acquire_owned().await;
        if let Ok(mut s) = stats.lock() {
            s.started = std::time::Instant::now();
        }
        let room = match connect(&url, &token, options(true)).await {
            Ok(r) => r,
            Err(e) => {
                if let Ok(mut s) = stats.lock() {
                    s.error = Some(e.to_string());
                }
                return;
            }
        };
        drop(permit);
        if let Ok(mut s) = stats.lock() {
            s.connected = Some(std::time::Instant::now());
        }
        let keys: KeyRequests = Arc::new(Default::default());
        let _ = follow(room, keys, window, stats, stop).await;
    })
}

/// A subscriber that reads its media streams at `bytes_per_s` at most (a slow receiver: the
/// QUIC flow-control windows fill and the SFU must drop for it). Built on the core transport,
/// since the client SDK always drains its streams. Datagrams (audio) are read at full speed.
pub fn slow_subscriber(
    url: String,
    token: String,
    bytes_per_s: f64,
    window: Arc<Window>,
    stats: Shared,
    mut stop: watch::Receiver<bool>,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let run = async {
            let join: serde_json::Value = reqwest::Client::new()
                .post(format!("{url}/v1/join"))
                .bearer_auth(&token)
                .json(&serde_json::json!({ "protocol_version": dark_tower_core::PROTOCOL_VERSION }))
                .send()
                .await?
                .json()
                .await?;
            let hashes: Vec<String> = serde_json::from_value(join["certificate_sha256"].clone())?;
            let signal_url =
                format!("{}?access_token={token}", join["signal_url"].as_str().unwrap_or_default());
            let signal = wt::connect(&signal_url, &hashes).await?;
            let (mut send, mut recv) = signal.open_bi().await?;
            let hello = sig::ClientMessage {
                request_id: 0,
                message: Some(sig::client_message::Message::Join(sig::Join {
                    protocol_version: dark_tower_core::PROTOCOL_VERSION,
                    client: Some(sig::ClientInfo {
                        sdk: "loadgen-slow".into(),
                        version: "0".into(),
                        detail: String::new(),
                        video_decoders: Vec::new(),
                    }),
                    auto_subscribe: true,
                })),
            };
            send.write_all(&sigcodec::frame(&hello)?).await?;
            let mut reader = MessageReader::new(MAX_SIGNAL_MESSAGE);
            let mut buf = vec![0u8; 16 * 1024];
            let joined = loop {
                if let Some(body) = reader.next_message()? {
                    if let Some(sig::server_message::Message::Joined(j)) =
                        sigcodec::decode_server(body)?.message
                    {
                        break j;
                    }
                    continue;
                }
                match recv.read(&mut buf).await? {
                    Some(n) => reader.push(&buf[..n]),
                    None => return Err(anyhow!("signaling closed before Joined")),
                }
            };
            let media_ep = joined.media.ok_or_else(|| anyhow!("Joined without media"))?;
            let media = wt::connect(
                &format!("{}?ticket={}", media_ep.url, media_ep.ticket),
                &media_ep.certificate_sha256,
            )
            .await?;
            // Keep reading signaling so the server never waits on us there.
            tokio::spawn(async move {
                let mut buf = vec![0u8; 16 * 1024];
                while let Ok(Some(_)) = recv.read(&mut buf).await {}
                drop(send);
            });
            let m2 = media.clone();
            let (w2, s2) = (Arc::clone(&window), Arc::clone(&stats));
            // Audio datagrams: read at full speed, not counted (the figure is about video).
            drop((w2, s2));
            tokio::spawn(async move { while m2.recv_datagram().await.is_ok() {} });
            let bucket = Arc::new(tokio::sync::Mutex::new((tokio::time::Instant::now(), 0.0f64)));
            while let Ok(mut recv) = media.accept_uni().await {
                let (bucket, window, stats) = (Arc::clone(&bucket), Arc::clone(&window), Arc::clone(&stats));
                tokio::spawn(async move {
                    let mut reader = MediaStreamReader::new(MAX_MEDIA_FRAME);
                    let mut buf = vec![0u8; 2048];
                    loop {
                        // Token bucket shared by all streams: spend before reading.
                        {
                            let mut b = bucket.lock().await;
                            let now = tokio::time::Instant::now();
                            let elapsed = now.duration_since(b.0).as_secs_f64();
                            b.0 = now;
                            b.1 = (b.1 + elapsed * bytes_per_s).min(bytes_per_s * 0.1);
                            if b.1 < buf.len() as f64 {
                                let wait = (buf.len() as f64 - b.1) / bytes_per_s;
                                tokio::time::sleep(Duration::from_secs_f64(wait)).await;
                                b.0 = tokio::time::Instant::now();
                                b.1 = buf.len() as f64;
                            }
                            b.1 -= buf.len() as f64;
                        }
                        match recv.read(&mut buf).await {
                            Ok(Some(n)) => reader.push(&buf[..n]),
                            Ok(None) | Err(_) => return,
                        }
                        while let Ok(Some(f)) = reader.next_frame() {
                            stats::record(&stats, &window, &f.payload);
                        }
                    }
                });
            }
            drop(signal);
            Ok::<_, anyhow::Error>(())
        };
        tokio::select! {
            r = run => if let Err(e) = r && let Ok(mut s) = stats.lock() { s.error = Some(e.to_string()); },
            _ = stop.changed() => {}
        }
    })
}
