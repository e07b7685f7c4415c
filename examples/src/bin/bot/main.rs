//! `bot`: joins a meeting, optionally publishes synthetic simulcast video and audio whose
//! payloads carry a sequence number, a timestamp and a checksum, subscribes to everyone, verifies
//! every received frame, and prints per-peer counts, loss and latency.
//!
//! ```text
//! cargo run --release -p dark-tower-examples --bin bot -- \
//!     --url http://127.0.0.1:8080 --token T --publish --seconds 10 --expect-peers 2
//! ```
//!
//! With `--media-fixtures examples/fixtures` it publishes real VP8 video and Opus audio instead
//! (looping the committed clips, see `examples/fixtures/README.md`), so browsers can decode and
//! render it. Received frames are checked by their track's codec: synthetic payloads by their
//! checksum, VP8 and Opus structurally (VP8 frame tag, keyframe start code and size; Opus TOC
//! byte and frame lengths), other codecs not at all. With `--e2ee-passphrase` the bot encrypts
//! what it publishes and decrypts what it receives (SFrame, the same passphrase derivation as
//! the browser client); frames that do not decrypt are counted, not verified.
//!
//! It stays `--seconds` or until Ctrl-C (SIGINT), prints "bot: verified media from IDENTITY" on
//! stderr as soon as a peer has delivered verified audio and video (tests wait for that line),
//! then one JSON line per peer on stdout. Exits non-zero if fewer than `--expect-peers` peers
//! delivered verified audio and video, or if any frame failed verification.

mod check;
mod fixtures;
mod media;

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use clap::Parser;
use dark_tower_client::e2ee::{KeyProvider, KeyProviderOptions, PassphraseParams};
use dark_tower_client::{
    ClientError, ConnectOptions, LocalTrack, OutgoingFrame, ParticipantId, RoomEvent, TrackAlias, TrackId,
    TrackInfo, TrackKind, TrackOptions, TrackSource, connect, synthetic,
};
use tokio::time::{Instant, MissedTickBehavior};

#[derive(Parser, Debug)]
#[command(about = "Dark Tower smoke-test bot")]
struct Args {
    /// Server URL (the HTTP API).
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    url: String,
    /// Access token.
    #[arg(long)]
    token: String,
    /// Publish synthetic video (3 simulcast layers, 30 fps) and audio (50 fps).
    #[arg(long)]
    publish: bool,
    /// How long to stay in the meeting.
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// Fail unless this many peers delivered verified audio and video.
    #[arg(long, default_value_t = 0)]
    expect_peers: usize,
    /// A peer counts as verified once it delivered at least this many verified video frames
    /// and as many audio frames (and none failed its check).
    #[arg(long, default_value_t = 1)]
    min_frames: u64,
    /// Send this text as a reliable data message on topic "chat" once per second.
    #[arg(long)]
    data: Option<String>,
    /// Mute the published microphone after this many seconds.
    #[arg(long)]
    mute_after: Option<u64>,
    /// End the meeting for everyone after this many seconds (needs a host token).
    #[arg(long)]
    end_meeting_after: Option<u64>,
    /// Print roster, mute, data, speaker and keyframe events to stderr as they happen.
    #[arg(long)]
    print_events: bool,
    /// Send `--data` only to the participant(s) with this identity (repeatable).
    #[arg(long = "data-to")]
    data_to: Vec<String>,
    /// Send `--data` best effort (datagrams) instead of reliably.
    #[arg(long)]
    lossy_data: bool,
    /// Set this participant's metadata (any text, e.g. JSON) after joining.
    #[arg(long)]
    metadata: Option<String>,
    /// Turn the meeting's lobby on after joining (host).
    #[arg(long)]
    lobby: bool,
    /// Admit everyone who waits in the lobby (host).
    #[arg(long)]
    admit_all: bool,
    /// Lock the meeting after this many seconds (host).
    #[arg(long)]
    lock_after: Option<u64>,
    /// Remove the participant(s) with this identity as soon as they are in the meeting (host).
    #[arg(long)]
    remove: Vec<String>,
    /// Mute every remote microphone as soon as it is published (host).
    #[arg(long)]
    mute_others: bool,
    /// Publish real VP8 video and Opus audio, looping `video.ivf`, `audio.opus` and (optional)
    /// `audio.levels` from this directory (e.g. examples/fixtures), instead of synthetic media.
    #[arg(long, value_name = "DIR")]
    media_fixtures: Option<PathBuf>,
    /// End-to-end encryption with this shared passphrase (key index 0; PBKDF2 with the default
    /// salt and iterations of docs/E2EE.md §3.1, as the browser client uses).
    #[arg(long, value_name = "PASSPHRASE")]
    e2ee_passphrase: Option<String>,
}

fn now_us() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_micros() as u64).unwrap_or(0)
}

/// Bytes per frame of each layer at 30 fps: about 150 kbit/s, 500 kbit/s and 1.5 Mbit/s.
const LAYER_BYTES: [usize; 3] = [625, 2083, 6250];
const FPS: u64 = 30;
const GOP: u64 = 60;

/// Publishes the tracks, then sends frames on a fixed schedule from a task of their own.
/// The publishing task and the microphone track's id.
type Publisher = (tokio::task::JoinHandle<Result<(), ClientError>>, dark_tower_client::TrackId);

async fn publish(room: &dark_tower_client::Room, seconds: u64) -> Result<Publisher, ClientError> {
    let mut video: LocalTrack = room
        .publish_track(TrackOptions::new(TrackSource::Camera, "synthetic").simulcast(&[
            (320, 180, 150_000),
            (640, 360, 500_000),
            (1280, 720, 1_500_000),
        ]))
        .await?;
    let mut audio: LocalTrack =
        room.publish_track(TrackOptions::new(TrackSource::Microphone, "synthetic")).await?;
    let seed = room.local_participant().id.as_u64();
    let mic_id = audio.info().id;
    let video_task = async move {
        let mut tick = tokio::time::interval(Duration::from_micros(1_000_000 / FPS));
        tick.set_missed_tick_behavior(MissedTickBehavior::Skip);
        // Layers that must restart with a keyframe (after a reconnect).
        let mut force_key = [false; LAYER_BYTES.len()];
        for n in 0..seconds * FPS {
            tick.tick().await;
            for (layer, size) in LAYER_BYTES.iter().enumerate() {
                let key = n % GOP == 0 || force_key[layer];
                let len = if key { size * 5 } else { *size };
                let frame = OutgoingFrame {
                    spatial_id: layer as u8,
                    temporal_id: 0,
                    keyframe: key,
                    discardable: false,
                    capture_ts_us: now_us(),
                    audio_level: None,
                    payload: synthetic::payload(seed ^ layer as u64, n, now_us(), len),
                };
                match video.send(frame).await {
                    Ok(_) => force_key[layer] = false,
                    Err(ClientError::KeyframeRequired) => force_key[layer] = true,
                    // Reconnecting: frames are dropped until the room is back.
                    Err(ClientError::Connection(_)) => force_key[layer] = true,
                    Err(e) => return Err(e),
                }
            }
        }
        Ok::<_, ClientError>(())
    };
    let audio_task = async move {
        let mut tick = tokio::time::interval(Duration::from_millis(20));
        tick.set_missed_tick_behavior(MissedTickBehavior::Skip);
        for n in 0..seconds * 50 {
            tick.tick().await;
            let frame = OutgoingFrame {
                spatial_id: 0,
                temporal_id: 0,
                keyframe: false,
                discardable: false,
                capture_ts_us: now_us(),
                // Alternate loud and silent seconds, as a speaker would.
                audio_level: Some(((n / 50) % 2 * 90) as u8),
                payload: synthetic::payload(seed ^ 9, n, now_us(), 80),
            };
            match audio.send(frame).await {
                Ok(_) | Err(ClientError::Connection(_)) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    };
    let task = tokio::spawn(async move {
        let (v, a) = tokio::join!(video_task, audio_task);
        v.and(a)
    });
    Ok((task, mic_id))
}

#[derive(Default)]
struct PeerStats {
    identity: String,
    video: u64,
    audio: u64,
    bad: u64,
    /// Frames of codecs the bot has no check for.
    unchecked: u64,
    /// Frames that did not decrypt (E2EE): neither verified nor bad.
    undecryptable: u64,
    lost: u64,
    latencies_us: Vec<u64>,
    /// [`PeerStats::verified`] was printed.
    announced: bool,
    /// Last sequence number per (track alias, layer).
    last: HashMap<(TrackAlias, u8), u64>,
}

impl PeerStats {
    /// At least `min_frames` verified audio and video frames arrived, and no frame failed its
    /// check.
    fn verified(&self, min_frames: u64) -> bool {
        self.video >= min_frames && self.audio >= min_frames && self.bad == 0
    }

    /// Records a verified frame; `seq` (synthetic payloads only) counts gaps as losses.
    fn record(&mut self, alias: TrackAlias, layer: u8, seq: Option<u64>, latency_us: u64) {
        if let Some(seq) = seq
            && let Some(prev) = self.last.insert((alias, layer), seq)
            && seq > prev + 1
        {
            self.lost += seq - prev - 1;
        }
        self.latencies_us.push(latency_us);
    }

    fn percentile(&self, p: f64) -> f64 {
        if self.latencies_us.is_empty() {
            return 0.0;
        }
        let mut v = self.latencies_us.clone();
        v.sort_unstable();
        let i = ((v.len() - 1) as f64 * p).round() as usize;
        v[i] as f64 / 1000.0
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let fixtures = match &args.media_fixtures {
        None => None,
        Some(dir) => match fixtures::MediaFixtures::load(dir) {
            Ok(f) => Some(f),
            Err(e) => {
                eprintln!("bot: cannot read the media fixtures in {}: {e}", dir.display());
                return ExitCode::from(2);
            }
        },
    };
    let e2ee = match &args.e2ee_passphrase {
        None => None,
        Some(passphrase) => {
            let mut keys = KeyProvider::new(KeyProviderOptions::default());
            let params = PassphraseParams::default();
            if let Err(e) = keys.set_shared_passphrase(std::time::Instant::now(), 0, passphrase, &params) {
                eprintln!("bot: bad E2EE passphrase: {e}");
                return ExitCode::from(2);
            }
            Some(Arc::new(Mutex::new(keys)))
        }
    };
    let options = ConnectOptions { client_detail: "bot".into(), e2ee, ..ConnectOptions::default() };
    let mut room = match connect(&args.url, &args.token, options).await {
        Ok(r) => r,
        Err(e) => {
            eprintln!("bot: cannot join: {e}");
            return ExitCode::from(2);
        }
    };
    let me = room.local_participant().clone();
    eprintln!("bot: joined {} as {} ({})", room.meeting(), me.identity, me.id);
    if let Some(m) = &args.metadata {
        match room.set_metadata(None, Some(m)).await {
            Ok(()) => eprintln!("bot: metadata set"),
            Err(e) => eprintln!("bot: setting metadata failed: {e}"),
        }
    }
    if args.lobby {
        match room.set_lobby(true).await {
            Ok(()) => eprintln!("bot: lobby on"),
            Err(e) => eprintln!("bot: turning the lobby on failed: {e}"),
        }
    }
    for p in room.remote_participants() {
        moderate_newcomer(&room, &args, &p).await;
    }
    let mut identities: HashMap<ParticipantId, String> =
        room.remote_participants().into_iter().map(|p| (p.id, p.identity)).collect();
    let mut tracks: HashMap<TrackId, TrackInfo> =
        room.remote_participants().into_iter().flat_map(|p| p.tracks).map(|t| (t.id, t)).collect();
    let mut keyframe_requests = None;
    let published = match fixtures {
        Some(f) => Some(media::publish(&room, f, args.seconds).await.map(|(publisher, requests)| {
            keyframe_requests = Some(requests);
            publisher
        })),
        None if args.publish => Some(publish(&room, args.seconds).await),
        None => None,
    };
    let (sender, mic) = if let Some(published) = published {
        match published {
            Ok((task, mic)) => (Some(task), Some(mic)),
            Err(e) => {
                eprintln!("bot: cannot publish: {e}");
                return ExitCode::from(2);
            }
        }
    } else {
        (None, None)
    };
    let start = Instant::now();
    let mut data_tick = tokio::time::interval(Duration::from_secs(1));
    data_tick.set_missed_tick_behavior(MissedTickBehavior::Skip);
    let mut muted = false;
    let mut ended = false;
    let mut locked = false;
    let mut data_received: HashMap<ParticipantId, u64> = HashMap::new();
    let deadline = Instant::now() + Duration::from_secs(args.seconds);
    // Ctrl-C (SIGINT) ends the run early, with the report as at the deadline.
    let interrupted = tokio::signal::ctrl_c();
    tokio::pin!(interrupted);
    let mut peers: HashMap<ParticipantId, PeerStats> = HashMap::new();
    let mut disconnected = None;
    let mut stopped_early = false;
    loop {
        let ev = tokio::select! {
            ev = room.next_event() => ev,
            _ = tokio::time::sleep_until(deadline) => break,
            _ = &mut interrupted => {
                eprintln!("bot: interrupted");
                stopped_early = true;
                break;
            }
            _ = data_tick.tick() => {
                let elapsed = start.elapsed().as_secs();
                if let Some(text) = &args.data {
                    let to: Vec<ParticipantId> = identities
                        .iter()
                        .filter(|(_, identity)| args.data_to.contains(identity))
                        .map(|(id, _)| *id)
                        .collect();
                    // Named recipients not in the meeting yet: nothing to send this second.
                    let skip = !args.data_to.is_empty() && to.is_empty();
                    let payload = bytes::Bytes::from(text.clone());
                    if !skip && let Err(e) = room.send_data("chat", payload, !args.lossy_data, &to).await {
                        eprintln!("bot: sending data failed: {e}");
                    }
                }
                if let Some(after) = args.lock_after
                    && !locked
                    && elapsed >= after
                {
                    locked = true;
                    match room.set_meeting_locked(true).await {
                        Ok(()) => eprintln!("bot: meeting locked"),
                        Err(e) => eprintln!("bot: locking failed: {e}"),
                    }
                }
                if let (Some(after), Some(mic)) = (args.mute_after, mic)
                    && !muted
                    && elapsed >= after
                {
                    muted = true;
                    match room.set_track_muted(mic, true).await {
                        Ok(()) => eprintln!("bot: microphone muted"),
                        Err(e) => eprintln!("bot: mute failed: {e}"),
                    }
                }
                if let Some(after) = args.end_meeting_after
                    && !ended
                    && elapsed >= after
                {
                    ended = true;
                    if let Err(e) = room.end_meeting("bot").await {
                        eprintln!("bot: ending the meeting failed: {e}");
                    }
                }
                continue;
            }
        };
        if args.print_events {
            print_event(ev.as_ref());
        }
        match ev {
            None => break,
            Some(RoomEvent::ParticipantJoined(p)) => {
                moderate_newcomer(&room, &args, &p).await;
                tracks.extend(p.tracks.iter().map(|t| (t.id, t.clone())));
                identities.insert(p.id, p.identity);
            }
            Some(RoomEvent::KeyframeRequested { track, .. }) => {
                if let Some(k) = keyframe_requests.as_ref().filter(|k| k.track == track) {
                    k.request();
                }
            }
            Some(RoomEvent::TrackPublished { participant, track }) => {
                if args.mute_others && track.source == TrackSource::Microphone {
                    match room.mute_participant_track(participant, track.id).await {
                        Ok(()) => eprintln!("bot: muted the microphone of {participant}"),
                        Err(e) => eprintln!("bot: muting {participant} failed: {e}"),
                    }
                }
                tracks.insert(track.id, track);
            }
            Some(RoomEvent::LobbyUpdated(waiting)) if args.admit_all => {
                for w in waiting {
                    match room.admit(w.id, true).await {
                        Ok(()) => eprintln!("bot: admitted {}", w.identity),
                        Err(e) => eprintln!("bot: admitting {} failed: {e}", w.identity),
                    }
                }
            }
            Some(RoomEvent::Frame(f)) => {
                let Some(pid) = f.participant else { continue };
                let s = peers.entry(pid).or_default();
                if s.identity.is_empty() {
                    s.identity = identities.get(&pid).cloned().unwrap_or_default();
                }
                let Some(track) = f.track.and_then(|t| tracks.get(&t)) else {
                    s.unchecked += 1;
                    continue;
                };
                // An end-to-end encrypted track reaches a bot without the key as ciphertext.
                if track.encrypted && args.e2ee_passphrase.is_none() {
                    s.undecryptable += 1;
                    continue;
                }
                let video = track.kind == TrackKind::Video;
                match check::received(&track.codec, video, f.header.keyframe, &f.payload) {
                    Ok((kind, seq)) => {
                        match kind {
                            check::Verified::Video => s.video += 1,
                            check::Verified::Audio => s.audio += 1,
                            check::Verified::Unchecked => {
                                s.unchecked += 1;
                                continue;
                            }
                        }
                        let latency = now_us().saturating_sub(f.header.capture_ts_us);
                        s.record(f.header.track_alias, f.header.spatial_id, seq, latency);
                        if !s.announced && s.verified(args.min_frames) {
                            s.announced = true;
                            eprintln!("bot: verified media from {}", s.identity);
                        }
                    }
                    Err(e) => {
                        s.bad += 1;
                        eprintln!("bot: bad {} frame from {pid}: {e}", track.codec);
                    }
                }
            }
            Some(RoomEvent::EncryptionError { participant: Some(pid), error, .. }) => {
                let s = peers.entry(pid).or_default();
                if s.identity.is_empty() {
                    s.identity = identities.get(&pid).cloned().unwrap_or_default();
                }
                s.undecryptable += 1;
                if s.undecryptable == 1 {
                    eprintln!("bot: cannot decrypt a frame from {pid}: {error}");
                }
            }
            Some(RoomEvent::DataReceived { from: Some(from), .. }) => {
                *data_received.entry(from).or_default() += 1;
            }
            Some(RoomEvent::Disconnected { code, reason }) => {
                disconnected = Some(format!("{code:?}: {reason}"));
                break;
            }
            Some(_) => {}
        }
    }
    if let Some(task) = sender {
        if stopped_early {
            task.abort();
        }
        match task.await {
            Ok(Err(e)) => eprintln!("bot: publishing stopped: {e}"),
            Err(e) if !e.is_cancelled() => eprintln!("bot: publisher task failed: {e}"),
            Ok(Ok(())) | Err(_) => {}
        }
    }
    let mut verified_peers = 0;
    let mut any_bad = false;
    for (pid, s) in &peers {
        let ok = s.verified(args.min_frames);
        verified_peers += usize::from(ok);
        any_bad |= s.bad > 0;
        let line = serde_json::json!({
            "peer": pid.to_string(),
            "identity": s.identity,
            "video_frames": s.video,
            "audio_frames": s.audio,
            "lost": s.lost,
            "bad": s.bad,
            "unchecked": s.unchecked,
            "undecryptable": s.undecryptable,
            "latency_ms": { "p50": s.percentile(0.5), "p99": s.percentile(0.99), "max": s.percentile(1.0) },
            "verified": ok,
            "data_messages": data_received.get(pid).copied().unwrap_or(0),
        });
        println!("{line}");
    }
    eprintln!("bot: {verified_peers} peer(s) delivered verified media (expected {})", args.expect_peers);
    if let Some(d) = disconnected {
        eprintln!("bot: disconnected: {d}");
    }
    room.leave().await;
    if verified_peers < args.expect_peers || any_bad { ExitCode::FAILURE } else { ExitCode::SUCCESS }
}

/// Removes a newcomer named by `--remove`.
async fn moderate_newcomer(
    room: &dark_tower_client::Room,
    args: &Args,
    p: &dark_tower_client::ParticipantInfo,
) {
    if args.remove.contains(&p.identity) {
        match room.remove_participant(p.id, "removed by the bot").await {
            Ok(()) => eprintln!("bot: removed {}", p.identity),
            Err(e) => eprintln!("bot: removing {} failed: {e}", p.identity),
        }
    }
}

/// One line on stderr per event worth seeing (frames are summarised at the end instead).
fn print_event(ev: Option<&RoomEvent>) {
    let line = match ev {
        Some(RoomEvent::ParticipantJoined(p)) => format!("joined {} ({})", p.identity, p.id),
        Some(RoomEvent::ParticipantLeft { participant, reason }) => {
            format!("left {participant} ({reason:?})")
        }
        Some(RoomEvent::TrackPublished { participant, track }) => {
            format!("track {} {:?} from {participant}", track.id, track.source)
        }
        Some(RoomEvent::TrackUnpublished { participant, track }) => {
            format!("unpublished {track} of {participant}")
        }
        Some(RoomEvent::TrackMuted { participant, track, muted, by }) => {
            format!("{track} of {participant} muted={muted} by={by:?}")
        }
        Some(RoomEvent::DataReceived { from, topic, payload, .. }) => {
            format!("data from {from:?} on {topic}: {}", String::from_utf8_lossy(payload))
        }
        Some(RoomEvent::ActiveSpeakersChanged(s)) => format!("active speakers {s:?}"),
        Some(RoomEvent::LayersWanted { track, layers }) => format!("layers wanted for {track}: {layers:?}"),
        Some(RoomEvent::KeyframeRequested { track, spatial_id }) => {
            format!("keyframe wanted: {track} layer {spatial_id}")
        }
        Some(RoomEvent::ParticipantUpdated(p)) => format!("updated {} role {:?}", p.id, p.role),
        Some(RoomEvent::MeetingUpdated { locked, lobby }) => format!("meeting locked={locked} lobby={lobby}"),
        Some(RoomEvent::LobbyUpdated(w)) => format!("lobby: {} waiting", w.len()),
        Some(RoomEvent::Error { code, message }) => format!("error {code}: {message}"),
        Some(RoomEvent::EncryptionError { participant, error, .. }) => {
            format!("cannot decrypt a frame from {participant:?}: {error}")
        }
        Some(RoomEvent::Disconnected { code, reason }) => format!("disconnected {code:?}: {reason}"),
        Some(RoomEvent::Reconnecting) => "reconnecting".into(),
        Some(RoomEvent::Reconnected) => "reconnected".into(),
        Some(RoomEvent::ConnectionQualityChanged { participant, quality, rtt_ms, loss }) => {
            format!("quality of {participant}: {quality:?} (rtt {rtt_ms} ms, loss {loss:.3})")
        }
        Some(RoomEvent::Frame(_)) | None => return,
    };
    eprintln!("bot: {line}");
}
