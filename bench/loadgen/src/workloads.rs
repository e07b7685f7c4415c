//! The workloads: B1 fan-out (ours and moq-relay), B2 meeting, B5 join, B7 slow subscriber.
//! Each run starts a fresh server process and stops it at the end.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use dark_tower_client::{TrackKind, connect};
use serde::Serialize;
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinHandle;

use crate::ours::{self, KeyRequests, Schedule, Sfu};
use crate::payload;
use crate::procstat::{self, CpuSample};
use crate::stats::{self, Shared, SubStats, Window};

/// Which server a run measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Target {
    /// Dark Tower's SFU (`dt-sfu`).
    Ours,
    /// moq-relay.
    MoqRelay,
}

/// Subscribers connecting at once.
const CONNECT_CONCURRENCY: usize = 16;

/// Figures of one measured window.
#[derive(Debug, Clone, Serialize, Default)]
pub struct Measured {
    /// Subscribers that joined.
    pub subscribers: usize,
    /// Subscribers that failed (with the first error).
    pub failed: usize,
    /// First failure seen.
    pub first_error: Option<String>,
    /// Window length, seconds.
    pub window_s: f64,
    /// Frames received whose scheduled time is in the window.
    pub frames: u64,
    /// Frames that should have been received.
    pub expected_frames: u64,
    /// 1 − frames / expected.
    pub loss: f64,
    /// Forwarded (received) frames per second.
    pub frames_per_s: f64,
    /// Payload bytes received per second, as Mbit/s.
    pub egress_mbps: f64,
    /// Latency from scheduled send time to receipt.
    pub p50_ms: f64,
    /// 99th percentile.
    pub p99_ms: f64,
    /// Largest.
    pub max_ms: f64,
    /// p50 / p99 by kind of frame, ms: audio, video keyframes (5× larger), other video frames.
    pub by_kind_ms: serde_json::Value,
    /// SFU CPU seconds (user + system) in the window.
    pub sfu_cpu_s: f64,
    /// SFU cores busy (CPU seconds per second).
    pub sfu_cores: f64,
    /// Load generator cores busy.
    pub loadgen_cores: f64,
    /// Egress per SFU core, Mbit/s.
    pub egress_mbps_per_core: f64,
    /// SFU CPU seconds per forwarded Gbit.
    pub cpu_s_per_gbit: f64,
    /// SFU resident set before subscribers joined (publisher connected), KiB.
    pub rss_base_kb: u64,
    /// SFU resident set at the end of the window, KiB.
    pub rss_kb: u64,
    /// (rss − base) / subscribers, KiB.
    pub rss_kb_per_subscriber: f64,
    /// Cores busy on the whole machine in the window, minus the SFU and the load generator:
    /// other work sharing the cores (another build, say). Above ~0.3 the run is noisy.
    pub other_cores: f64,
    /// 1-minute load average at the end of the window.
    pub loadavg: f64,
    /// UDP datagrams dropped machine-wide for a full socket receive buffer during the window
    /// (each one is a QUIC packet loss and a retransmission).
    pub udp_rcvbuf_errors: u64,
    /// Join time to first remote frame, p50 / p99 ms.
    pub join_first_frame_p50_ms: f64,
    /// p99.
    pub join_first_frame_p99_ms: f64,
}

struct Running {
    pid: u32,
    window: Arc<Window>,
    stop: watch::Sender<bool>,
    subs: Vec<Shared>,
    tasks: Vec<JoinHandle<()>>,
    schedule: Schedule,
}

/// Waits until every subscriber has a first frame or an error, or `limit` passes.
async fn wait_warm(subs: &[Shared], limit: Duration) {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        let warm = subs
            .iter()
            .filter(|s| s.lock().map(|s| s.first_frame.is_some() || s.error.is_some()).unwrap_or(true))
            .count();
        if warm == subs.len() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Opens a window of `secs` from shortly after now, samples CPU and memory over it, lets late
/// frames arrive, and sums what the subscribers counted. `per_sub_expected` is how many frames
/// one subscriber should receive, given the window.
async fn measure(
    r: &Running,
    secs: f64,
    rss_base_kb: u64,
    per_sub_expected: impl Fn(u64, u64) -> u64,
    subs: &[Shared],
) -> Measured {
    let from = payload::now_us() + 200_000;
    let to = from + (secs * 1e6) as u64;
    r.window.set(from, to);
    tokio::time::sleep(Duration::from_micros(from.saturating_sub(payload::now_us()))).await;
    let (s0, g0): (CpuSample, CpuSample) = (procstat::cpu(Some(r.pid)), procstat::cpu(None));
    let (k0, u0) = (procstat::machine_ticks(), procstat::udp_rcvbuf_errors());
    tokio::time::sleep(Duration::from_micros(to.saturating_sub(payload::now_us()))).await;
    let (s1, g1) = (procstat::cpu(Some(r.pid)), procstat::cpu(None));
    let (k1, u1) = (procstat::machine_ticks(), procstat::udp_rcvbuf_errors());
    let rss_kb = procstat::rss_kb(Some(r.pid));
    // Late frames of the window still count (with their latency).
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let (sfu_cpu_s, sfu_cores) = procstat::used(s0, s1);
    let (_, loadgen_cores) = procstat::used(g0, g1);
    let window_s = secs;
    let machine = procstat::machine_cores(k0, k1, s1.at.duration_since(s0.at).as_secs_f64());
    let mut m = Measured {
        window_s,
        sfu_cpu_s,
        sfu_cores,
        loadgen_cores,
        rss_base_kb,
        rss_kb,
        other_cores: (machine - sfu_cores - loadgen_cores).max(0.0),
        loadavg: procstat::loadavg(),
        udp_rcvbuf_errors: u1.saturating_sub(u0),
        ..Default::default()
    };
    let mut hist = stats::histogram();
    let (mut ha, mut hk, mut hd) = (stats::histogram(), stats::histogram(), stats::histogram());
    let mut bytes = 0u64;
    let mut joins = Vec::new();
    for s in subs {
        let Ok(s) = s.lock() else { continue };
        if let Some(e) = &s.error {
            m.failed += 1;
            m.first_error.get_or_insert_with(|| e.clone());
            continue;
        }
        m.subscribers += 1;
        m.frames += s.frames;
        bytes += s.bytes;
        let _ = hist.add(&s.latency);
        let _ = ha.add(&s.audio);
        let _ = hk.add(&s.keyframes);
        let _ = hd.add(&s.deltas);
        if let Some(f) = s.first_frame {
            joins.push(f.duration_since(s.started).as_secs_f64() * 1000.0);
        }
    }
    m.expected_frames = per_sub_expected(from, to) * m.subscribers as u64;
    m.loss = if m.expected_frames == 0 {
        0.0
    } else {
        (1.0 - m.frames as f64 / m.expected_frames as f64).max(0.0)
    };
    m.frames_per_s = m.frames as f64 / window_s;
    m.egress_mbps = bytes as f64 * 8.0 / window_s / 1e6;
    (m.p50_ms, m.p99_ms, m.max_ms) = stats::percentiles_ms(&hist);
    let kind = |h: &hdrhistogram::Histogram<u64>| {
        let (p50, p99, max) = stats::percentiles_ms(h);
        serde_json::json!({ "p50": p50, "p99": p99, "max": max, "frames": h.len() })
    };
    m.by_kind_ms = serde_json::json!({ "audio": kind(&ha), "keyframes": kind(&hk), "deltas": kind(&hd) });
    m.egress_mbps_per_core = if sfu_cores > 0.0 { m.egress_mbps / sfu_cores } else { f64::NAN };
    m.cpu_s_per_gbit = if bytes > 0 { sfu_cpu_s / (bytes as f64 * 8.0 / 1e9) } else { f64::NAN };
    m.rss_kb_per_subscriber = if m.subscribers > 0 {
        rss_kb.saturating_sub(rss_base_kb) as f64 / m.subscribers as f64
    } else {
        f64::NAN
    };
    m.join_first_frame_p50_ms = stats::percentile_ms(&mut joins, 0.5);
    m.join_first_frame_p99_ms = stats::percentile_ms(&mut joins, 0.99);
    m
}

/// Frames one B1 subscriber receives in `[from, to)`: the top video layer and audio.
fn b1_expected(t0: u64) -> impl Fn(u64, u64) -> u64 {
    move |from, to| {
        payload::scheduled_in(t0, from, to, payload::video_offset_us)
            + payload::scheduled_in(t0, from, to, payload::audio_offset_us)
    }
}

async fn finish(r: Running) {
    let _ = r.stop.send(true);
    for t in r.tasks {
        let _ = tokio::time::timeout(Duration::from_secs(2), t).await;
    }
}

/// B1 against our SFU: one publisher, `n` subscribers.
pub async fn b1_ours(n: usize, secs: f64) -> anyhow::Result<Measured> {
    let sfu = Sfu::start().await?;
    let meeting = "b1";
    sfu.create_meeting(meeting, (n + 10) as u32).await?;
    let (stop, stop_rx) = watch::channel(false);
    let window = Arc::new(Window::default());
    let schedule = Schedule::starting_in(Duration::from_millis(300));
    let publisher = connect(&sfu.url, &sfu.token("publisher", meeting), ours::options(false)).await?;
    let keys: KeyRequests = Arc::new(Default::default());
    let mut tasks = vec![ours::publish(&publisher, schedule, 3, Arc::clone(&keys), stop_rx.clone()).await?];
    tasks.push(ours::follow(
        publisher,
        keys,
        Arc::clone(&window),
        Arc::new(Mutex::new(SubStats::new())),
        stop_rx.clone(),
    ));
    tokio::time::sleep(Duration::from_secs(1)).await;
    let rss_base = procstat::rss_kb(Some(sfu.pid));
    let gate = Arc::new(Semaphore::new(CONNECT_CONCURRENCY));
    let mut subs = Vec::new();
    for i in 0..n {
        let s: Shared = Arc::new(Mutex::new(SubStats::new()));
        subs.push(Arc::clone(&s));
        tasks.push(ours::subscriber(
            sfu.url.clone(),
            sfu.token(&format!("sub{i}"), meeting),
            Arc::clone(&window),
            s,
            Arc::clone(&gate),
            stop_rx.clone(),
        ));
    }
    wait_warm(&subs, Duration::from_secs(20 + n as u64 / 10)).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let r = Running { pid: sfu.pid, window, stop, subs: subs.clone(), tasks, schedule };
    let m = measure(&r, secs, rss_base, b1_expected(r.schedule.t0_us), &r.subs).await;
    finish(r).await;
    sfu.stop().await;
    Ok(m)
}

/// B1 against moq-relay: the same workload through moq-lite.
pub async fn b1_moq(n: usize, secs: f64) -> anyhow::Result<Measured> {
    let relay = crate::moq::Relay::start().await?;
    let (stop, stop_rx) = watch::channel(false);
    let window = Arc::new(Window::default());
    let schedule = Schedule::starting_in(Duration::from_millis(300));
    let mut tasks = vec![crate::moq::publish(relay.url.clone(), schedule, stop_rx.clone()).await?];
    tokio::time::sleep(Duration::from_secs(1)).await;
    let rss_base = procstat::rss_kb(Some(relay.pid));
    let gate = Arc::new(Semaphore::new(CONNECT_CONCURRENCY));
    let mut subs = Vec::new();
    for _ in 0..n {
        let s: Shared = Arc::new(Mutex::new(SubStats::new()));
        subs.push(Arc::clone(&s));
        tasks.push(crate::moq::subscriber(
            relay.url.clone(),
            Arc::clone(&window),
            s,
            Arc::clone(&gate),
            stop_rx.clone(),
        ));
    }
    wait_warm(&subs, Duration::from_secs(20 + n as u64 / 10)).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let r = Running { pid: relay.pid, window, stop, subs: subs.clone(), tasks, schedule };
    let m = measure(&r, secs, rss_base, b1_expected(r.schedule.t0_us), &r.subs).await;
    finish(r).await;
    relay.stop().await;
    Ok(m)
}

/// B1 on either target.
pub async fn b1(target: Target, n: usize, secs: f64) -> anyhow::Result<Measured> {
    match target {
        Target::Ours => b1_ours(n, secs).await,
        Target::MoqRelay => b1_moq(n, secs).await,
    }
}

/// B5: while B1 runs with `background` subscribers, `joins` more join, `concurrency` at a time;
/// each is timed from the start of `connect` (token in hand: HTTP join, signaling session,
/// media session) to its first remote frame, and to its first video frame.
#[derive(Debug, Clone, Serialize, Default)]
pub struct JoinResult {
    /// Background subscribers of the B1 load.
    pub background: usize,
    /// Joins measured.
    pub joins: usize,
    /// Joins that failed.
    pub failed: usize,
    /// At once.
    pub concurrency: usize,
    /// Connect to first remote frame (any kind), ms.
    pub first_frame_p50_ms: f64,
    /// p99.
    pub first_frame_p99_ms: f64,
    /// Connect to first video frame, ms (video waits for a keyframe).
    pub first_video_p50_ms: f64,
    /// p99.
    pub first_video_p99_ms: f64,
    /// Connect to `connect` returning (HTTP join, signaling session, Joined, media session), ms.
    pub connect_p50_ms: f64,
    /// p99.
    pub connect_p99_ms: f64,
    /// Joins completed per wall second.
    pub joins_per_s: f64,
    /// SFU cores busy while joining, minus the cores the background load used before.
    pub sfu_join_cores: f64,
    /// Joins per extra SFU CPU second.
    pub joins_per_sfu_cpu_s: f64,
    /// Signaling round trip (ping / pong through the meeting controller) under the B1 load, ms.
    pub ping_p50_ms: f64,
    /// p99.
    pub ping_p99_ms: f64,
}

/// Runs B5.
pub async fn b5(background: usize, joins: usize, concurrency: usize) -> anyhow::Result<JoinResult> {
    let sfu = Sfu::start().await?;
    let meeting = "b5";
    sfu.create_meeting(meeting, (background + joins + 10) as u32).await?;
    let (stop, stop_rx) = watch::channel(false);
    let window = Arc::new(Window::default());
    let schedule = Schedule::starting_in(Duration::from_millis(300));
    let publisher = connect(&sfu.url, &sfu.token("publisher", meeting), ours::options(false)).await?;
    let keys: KeyRequests = Arc::new(Default::default());
    let mut tasks = vec![ours::publish(&publisher, schedule, 3, Arc::clone(&keys), stop_rx.clone()).await?];
    tasks.push(ours::follow(
        publisher,
        keys,
        Arc::clone(&window),
        Arc::new(Mutex::new(SubStats::new())),
        stop_rx.clone(),
    ));
    let gate = Arc::new(Semaphore::new(CONNECT_CONCURRENCY));
    let mut bg = Vec::new();
    for i in 0..background {
        let s: Shared = Arc::new(Mutex::new(SubStats::new()));
        bg.push(Arc::clone(&s));
        tasks.push(ours::subscriber(
            sfu.url.clone(),
            sfu.token(&format!("bg{i}"), meeting),
            Arc::clone(&window),
            s,
            Arc::clone(&gate),
            stop_rx.clone(),
        ));
    }
    wait_warm(&bg, Duration::from_secs(30)).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    // Signaling round trips while loaded; the same two seconds give the background's CPU.
    let pinger = connect(&sfu.url, &sfu.token("pinger", meeting), ours::options(false)).await?;
    let c0 = procstat::cpu(Some(sfu.pid));
    let mut pings = Vec::new();
    for _ in 0..100 {
        if let Ok(rtt) = pinger.ping().await {
            pings.push(rtt.as_secs_f64() * 1000.0);
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let c1 = procstat::cpu(Some(sfu.pid));
    pinger.abort();
    let (_, bg_cores) = procstat::used(c0, c1);
    let tokens: Vec<String> = (0..joins).map(|i| sfu.token(&format!("join{i}"), meeting)).collect();
    let gate = Arc::new(Semaphore::new(concurrency));
    let mut js = Vec::new();
    let start = Instant::now();
    let j0 = procstat::cpu(Some(sfu.pid));
    for token in tokens {
        let s: Shared = Arc::new(Mutex::new(SubStats::new()));
        js.push(Arc::clone(&s));
        // The permit is held until the first frame, so `concurrency` joins are in flight.
        let permit = Arc::clone(&gate).acquire_owned().await?;
        let free = Arc::new(Semaphore::new(1));
        tasks.push(ours::subscriber(
            sfu.url.clone(),
            token,
            Arc::clone(&window),
            Arc::clone(&s),
            free,
            stop_rx.clone(),
        ));
        tokio::spawn(async move {
            let deadline = Instant::now() + Duration::from_secs(10);
            while Instant::now() < deadline {
                if s.lock().map(|s| s.first_frame.is_some() || s.error.is_some()).unwrap_or(true) {
                    break;
                }
                tokio::time::sleep(Duration::from_micros(500)).await;
            }
            drop(permit);
        });
    }
    let _ = gate.acquire_many(concurrency as u32).await;
    let elapsed = start.elapsed().as_secs_f64();
    let j1 = procstat::cpu(Some(sfu.pid));
    let (join_cpu, join_cores) = procstat::used(j0, j1);
    // Wait for first video frames too.
    wait_video(&js, Duration::from_secs(5)).await;
    let mut ff = Vec::new();
    let mut fv = Vec::new();
    let mut cc = Vec::new();
    let mut failed = 0;
    for s in &js {
        let Ok(s) = s.lock() else { continue };
        if s.error.is_some() {
            failed += 1;
            continue;
        }
        if let Some(f) = s.first_frame {
            ff.push(f.duration_since(s.started).as_secs_f64() * 1000.0);
        }
        if let Some(f) = s.first_video {
            fv.push(f.duration_since(s.started).as_secs_f64() * 1000.0);
        }
        if let Some(c) = s.connected {
            cc.push(c.duration_since(s.started).as_secs_f64() * 1000.0);
        }
    }
    let extra_cpu = (join_cpu - bg_cores * elapsed).max(1e-6);
    let res = JoinResult {
        background,
        joins,
        failed,
        concurrency,
        first_frame_p50_ms: stats::percentile_ms(&mut ff.clone(), 0.5),
        first_frame_p99_ms: stats::percentile_ms(&mut ff, 0.99),
        first_video_p50_ms: stats::percentile_ms(&mut fv.clone(), 0.5),
        first_video_p99_ms: stats::percentile_ms(&mut fv, 0.99),
        connect_p50_ms: stats::percentile_ms(&mut cc.clone(), 0.5),
        connect_p99_ms: stats::percentile_ms(&mut cc, 0.99),
        joins_per_s: joins as f64 / elapsed,
        sfu_join_cores: join_cores - bg_cores,
        joins_per_sfu_cpu_s: joins as f64 / extra_cpu,
        ping_p50_ms: stats::percentile_ms(&mut pings.clone(), 0.5),
        ping_p99_ms: stats::percentile_ms(&mut pings, 0.99),
    };
    let r = Running { pid: sfu.pid, window, stop, subs: Vec::new(), tasks, schedule };
    finish(r).await;
    sfu.stop().await;
    Ok(res)
}

async fn wait_video(subs: &[Shared], limit: Duration) {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if subs.iter().all(|s| s.lock().map(|s| s.first_video.is_some() || s.error.is_some()).unwrap_or(true))
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// B7: `n` subscribers, once all reading at full speed and once with one of them reading at
/// `fraction` of its rate.
#[derive(Debug, Clone, Serialize, Default)]
pub struct SlowResult {
    /// Subscribers.
    pub n: usize,
    /// The slow one's read rate relative to its stream.
    pub fraction: f64,
    /// The others, all fast (mean of the runs before and after the slow one).
    pub baseline: Measured,
    /// Those two runs.
    pub baseline_runs: Vec<Measured>,
    /// The others, with the slow one present.
    pub with_slow: Measured,
    /// The slow one's share of its frames received.
    pub slow_received_fraction: f64,
    /// others' p99 with the slow one / without (1 = unchanged).
    pub p99_ratio: f64,
    /// SFU memory growth over the window with the slow one, KiB (bounded queues: small).
    pub rss_growth_kb: i64,
}

/// Runs B7.
pub async fn b7(n: usize, secs: f64, fraction: f64) -> anyhow::Result<SlowResult> {
    // Baseline, slow, baseline again: the shared machine drifts, so the slow run is compared
    // with the mean of the runs either side of it.
    let before = b7_run(n, secs, None).await?.0;
    let (with_slow, slow_frac, growth) = b7_run(n - 1, secs, Some(fraction)).await?;
    let after = b7_run(n, secs, None).await?.0;
    let mut baseline = before.clone();
    baseline.p50_ms = (before.p50_ms + after.p50_ms) / 2.0;
    baseline.p99_ms = (before.p99_ms + after.p99_ms) / 2.0;
    baseline.max_ms = before.max_ms.max(after.max_ms);
    baseline.loss = (before.loss + after.loss) / 2.0;
    Ok(SlowResult {
        n,
        fraction,
        p99_ratio: with_slow.p99_ms / baseline.p99_ms,
        baseline,
        baseline_runs: vec![before, after],
        with_slow,
        slow_received_fraction: slow_frac,
        rss_growth_kb: growth,
    })
}

async fn b7_run(n: usize, secs: f64, slow: Option<f64>) -> anyhow::Result<(Measured, f64, i64)> {
    let sfu = Sfu::start().await?;
    let meeting = "b7";
    sfu.create_meeting(meeting, (n + 10) as u32).await?;
    let (stop, stop_rx) = watch::channel(false);
    let window = Arc::new(Window::default());
    let schedule = Schedule::starting_in(Duration::from_millis(300));
    let publisher = connect(&sfu.url, &sfu.token("publisher", meeting), ours::options(false)).await?;
    let keys: KeyRequests = Arc::new(Default::default());
    let mut tasks = vec![ours::publish(&publisher, schedule, 3, Arc::clone(&keys), stop_rx.clone()).await?];
    tasks.push(ours::follow(
        publisher,
        keys,
        Arc::clone(&window),
        Arc::new(Mutex::new(SubStats::new())),
        stop_rx.clone(),
    ));
    tokio::time::sleep(Duration::from_secs(1)).await;
    let rss_base = procstat::rss_kb(Some(sfu.pid));
    let gate = Arc::new(Semaphore::new(CONNECT_CONCURRENCY));
    let mut subs = Vec::new();
    for i in 0..n {
        let s: Shared = Arc::new(Mutex::new(SubStats::new()));
        subs.push(Arc::clone(&s));
        tasks.push(ours::subscriber(
            sfu.url.clone(),
            sfu.token(&format!("sub{i}"), meeting),
            Arc::clone(&window),
            s,
            Arc::clone(&gate),
            stop_rx.clone(),
        ));
    }
    let slow_stats: Shared = Arc::new(Mutex::new(SubStats::new()));
    if let Some(fraction) = slow {
        // Top layer plus keyframes: 6250 B × (59 + 5) / 60 per frame at 30 fps.
        let rate = fraction * 6250.0 * 64.0 / 60.0 * 30.0;
        tasks.push(ours::slow_subscriber(
            sfu.url.clone(),
            sfu.token("slow", meeting),
            rate,
            Arc::clone(&window),
            Arc::clone(&slow_stats),
            stop_rx.clone(),
        ));
    }
    wait_warm(&subs, Duration::from_secs(30)).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let rss_start = procstat::rss_kb(Some(sfu.pid));
    let r = Running { pid: sfu.pid, window, stop, subs: subs.clone(), tasks, schedule };
    let t0 = r.schedule.t0_us;
    let m = measure(&r, secs, rss_base, b1_expected(t0), &r.subs).await;
    let (from, to) = r.window.get();
    // The slow subscriber records video only (its audio datagrams are read but not counted).
    let slow_frac = slow_stats
        .lock()
        .map(|s| {
            s.frames as f64 / payload::scheduled_in(t0, from, to, payload::video_offset_us).max(1) as f64
        })
        .unwrap_or(0.0);
    let growth = m.rss_kb as i64 - rss_start as i64;
    finish(r).await;
    sfu.stop().await;
    Ok((m, slow_frac, growth))
}

/// B2: `m` participants all publishing; each receives 2 others at the top layer and the rest
/// at the lowest, and every audio track.
pub async fn b2(m_count: usize, secs: f64) -> anyhow::Result<Measured> {
    let sfu = Sfu::start().await?;
    let meeting = "b2";
    sfu.create_meeting(meeting, (m_count + 10) as u32).await?;
    let (stop, stop_rx) = watch::channel(false);
    let window = Arc::new(Window::default());
    let schedule = Schedule::starting_in(Duration::from_secs(2));
    let mut rooms = Vec::new();
    let mut tasks = Vec::new();
    let rss_base = procstat::rss_kb(Some(sfu.pid));
    for i in 0..m_count {
        let room = connect(&sfu.url, &sfu.token(&format!("p{i}"), meeting), ours::options(false)).await?;
        let keys: KeyRequests = Arc::new(Default::default());
        tasks.push(ours::publish(&room, schedule, 3, Arc::clone(&keys), stop_rx.clone()).await?);
        rooms.push((room, keys));
    }
    // Every room must know every other participant's two tracks before it subscribes.
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        let complete = rooms.iter().all(|(r, _)| {
            let others = r.remote_participants();
            others.len() == m_count - 1 && others.iter().all(|p| p.tracks.len() == 2)
        });
        if complete {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let mut subscriptions = 0usize;
    let mut subs = Vec::new();
    let ids: Vec<_> = rooms.iter().map(|(r, _)| r.local_participant().id).collect();
    for (i, (room, keys)) in rooms.into_iter().enumerate() {
        let big = [ids[(i + 1) % m_count], ids[(i + 2) % m_count]];
        for p in room.remote_participants() {
            for t in &p.tracks {
                let layer = match t.kind {
                    TrackKind::Audio => None,
                    _ if big.contains(&p.id) => Some(2),
                    _ => Some(0),
                };
                // One message per track: with dozens of participants that exceeds the server's
                // signaling flood limit, so back off and retry as a well-behaved client would.
                loop {
                    match room.subscribe(t.id, layer).await {
                        Ok(()) => break,
                        Err(e) if e.code() == Some(dark_tower_core::ErrorCode::RateLimited) => {
                            tokio::time::sleep(Duration::from_millis(250)).await;
                        }
                        Err(e) => return Err(e.into()),
                    }
                }
                subscriptions += 1;
            }
        }
        let s: Shared = Arc::new(Mutex::new(SubStats::new()));
        subs.push(Arc::clone(&s));
        tasks.push(ours::follow(room, keys, Arc::clone(&window), s, stop_rx.clone()));
    }
    wait_warm(&subs, Duration::from_secs(20)).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let r = Running { pid: sfu.pid, window, stop, subs: subs.clone(), tasks, schedule };
    let t0 = r.schedule.t0_us;
    let others = (m_count - 1) as u64;
    let wanted = m_count * (m_count - 1) * 2;
    if subscriptions < wanted {
        eprintln!("loadgen: B2 made {subscriptions} of {wanted} subscriptions (roster incomplete)");
    }
    let mut res = measure(&r, secs, rss_base, move |a, b| others * b1_expected(t0)(a, b), &r.subs).await;
    res.rss_kb_per_subscriber = res.rss_kb.saturating_sub(rss_base) as f64 / m_count as f64;
    finish(r).await;
    sfu.stop().await;
    Ok(res)
}

/// Memory per idle subscriber: joined, subscribed to nothing, no media flowing.
#[derive(Debug, Clone, Serialize, Default)]
pub struct IdleMemory {
    /// Subscribers.
    pub n: usize,
    /// SFU RSS before they joined, KiB.
    pub rss_base_kb: u64,
    /// After, KiB.
    pub rss_kb: u64,
    /// (rss − base) / n.
    pub rss_kb_per_subscriber: f64,
}

/// Idle memory on our SFU (no publisher; subscribers join without auto-subscribe).
pub async fn idle_ours(n: usize) -> anyhow::Result<IdleMemory> {
    let sfu = Sfu::start().await?;
    let meeting = "idle";
    sfu.create_meeting(meeting, (n + 10) as u32).await?;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let base = procstat::rss_kb(Some(sfu.pid));
    let mut rooms = Vec::new();
    for i in 0..n {
        rooms.push(connect(&sfu.url, &sfu.token(&format!("idle{i}"), meeting), ours::options(false)).await?);
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let rss = procstat::rss_kb(Some(sfu.pid));
    for r in &rooms {
        r.abort();
    }
    drop(rooms);
    sfu.stop().await;
    Ok(IdleMemory {
        n,
        rss_base_kb: base,
        rss_kb: rss,
        rss_kb_per_subscriber: rss.saturating_sub(base) as f64 / n as f64,
    })
}

/// Idle memory on moq-relay (sessions that subscribe to nothing).
pub async fn idle_moq(n: usize) -> anyhow::Result<IdleMemory> {
    let relay = crate::moq::Relay::start().await?;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let base = procstat::rss_kb(Some(relay.pid));
    let mut conns = Vec::new();
    for _ in 0..n {
        let client = crate::moq::client()?;
        let origin = moq_tokio::origin::spawn();
        let conn =
            client.clone().with_subscriber(origin.clone()).connect(relay.url.clone()).established().await?;
        conns.push((client, origin, conn));
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let rss = procstat::rss_kb(Some(relay.pid));
    for (client, _, conn) in conns {
        drop(conn);
        client.close().await;
    }
    relay.stop().await;
    Ok(IdleMemory {
        n,
        rss_base_kb: base,
        rss_kb: rss,
        rss_kb_per_subscriber: rss.saturating_sub(base) as f64 / n as f64,
    })
}
