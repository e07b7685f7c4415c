//! A simulated network around a [`Router`], on a virtual clock: one publisher sending simulcast
//! video (three layers at 30 fps, a keyframe every 2 s at five times the size) and audio (50 fps),
//! and subscribers each behind a link with a bandwidth limit, latency, packet loss and reordering
//! between streams. Each link's egress queue applies the SFU's own drop policy
//! ([`EgressPolicy`]); the router gets [`LinkReport`]s every 250 ms, as from the driver.
//!
//! Receivers check what a decoder would: a video frame is usable only if it is a keyframe, or the
//! next frame of the group it is decoding on the same layer. Anything else is counted as
//! undecodable — the SFU must never cause one.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::time::{Duration, Instant};

use bytes::Bytes;
use dark_tower_core::codec::media::MediaFrame;
use dark_tower_core::forwarding::ForwardingCommand;
use dark_tower_core::ids::{ParticipantId, TrackAlias, TrackId};
use dark_tower_core::track::TrackKind;
use dark_tower_sfu::egress_policy::{EgressPolicy, QueueState, Verdict};
use dark_tower_sfu::router::Feedback;
use dark_tower_sfu::{Input, LinkReport, Output, Router, SessionId, Via};

use super::{frame, meeting, pid};

/// Video track alias.
pub const VIDEO: u32 = 1;
/// Audio track alias.
pub const AUDIO: u32 = 2;
/// Bytes of a delta frame per layer: about 150 kbit/s, 500 kbit/s and 1.5 Mbit/s at 30 fps.
pub const LAYER_BYTES: [usize; 3] = [625, 2083, 6250];
const FRAME_INTERVAL: Duration = Duration::from_micros(33_333);
const GOP: u32 = 60;
const AUDIO_INTERVAL: Duration = Duration::from_millis(20);
const REPORT_INTERVAL: Duration = Duration::from_millis(250);
const TICK: Duration = Duration::from_millis(1);
/// Egress queue per subscriber, frames (the driver's default).
pub const QUEUE: usize = 512;
const PUBLISHER_SESSION: u64 = 1;

/// A subscriber's link.
#[derive(Debug, Clone, Copy)]
pub struct LinkSpec {
    /// Bits per second.
    pub bandwidth_bps: u64,
    /// One-way latency.
    pub latency: Duration,
    /// Packet loss, 0 … 1: a lost stream packet arrives one RTT late (retransmitted); a lost
    /// datagram never arrives.
    pub loss: f64,
    /// Up to this much extra delay per frame, which reorders frames of different groups (frames of
    /// one group stay in order, as on one QUIC stream).
    pub jitter: Duration,
}

impl LinkSpec {
    /// A link of `mbps` megabits per second, 20 ms, 1 % loss, 5 ms jitter.
    pub fn mbps(mbps: f64) -> Self {
        Self {
            bandwidth_bps: (mbps * 1e6) as u64,
            latency: Duration::from_millis(20),
            loss: 0.01,
            jitter: Duration::from_millis(5),
        }
    }
}

/// What one subscriber received.
#[derive(Debug, Default, Clone)]
pub struct Received {
    /// Video frames delivered and decodable.
    pub video_frames: u64,
    /// Video frames delivered that a decoder could not use (must stay 0).
    pub undecodable: u64,
    /// Audio frames delivered.
    pub audio_frames: u64,
    /// Latency of each decodable video frame, from its capture (ms).
    pub latencies_ms: Vec<f64>,
    /// Layer of each decodable video frame, with its delivery time since the start.
    pub layers: Vec<(Duration, u8)>,
    /// Frames the egress dropped.
    pub dropped: u64,
    /// Groups abandoned (streams reset).
    pub abandoned: u64,
}

impl Received {
    /// The `q` quantile of the video latencies, ms.
    pub fn latency_quantile(&self, q: f64) -> f64 {
        let mut v = self.latencies_ms.clone();
        v.sort_by(f64::total_cmp);
        if v.is_empty() {
            return f64::NAN;
        }
        v[((v.len() - 1) as f64 * q).round() as usize]
    }

    /// Fraction of the decodable video frames delivered after `from` that were of `layer`.
    pub fn share_of_layer(&self, from: Duration, layer: u8) -> f64 {
        let after: Vec<_> = self.layers.iter().filter(|(t, _)| *t >= from).collect();
        if after.is_empty() {
            return 0.0;
        }
        after.iter().filter(|(_, l)| *l == layer).count() as f64 / after.len() as f64
    }
}

struct Queued {
    frame: MediaFrame,
    via: Via,
    len: u64,
}

struct Subscriber {
    session: SessionId,
    spec: LinkSpec,
    queue: VecDeque<Queued>,
    queued_bytes: u64,
    policy: EgressPolicy,
    abandoned: Vec<(TrackAlias, u8, u64)>,
    /// Bits the link may still send this tick.
    credit: f64,
    sent_bytes: u64,
    dropped: u64,
    /// In flight: (arrival, sequence) → frame.
    flight: BTreeMap<(Instant, u64), MediaFrame>,
    /// Arrival of the last frame per group, so a group stays in order.
    group_arrival: HashMap<(u8, u64), Instant>,
    /// Decoder state: (layer, group, next frame).
    decoding: Option<(u8, u64, u32)>,
    got: Received,
    /// Each link has its own random numbers, so adding a subscriber changes nobody else's.
    rng: Rng,
}

/// Deterministic pseudo-random numbers (xorshift64).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> f64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// The simulation.
pub struct Net {
    pub router: Router,
    start: Instant,
    now: Instant,
    subs: BTreeMap<u64, Subscriber>,
    seed: u64,
    seq: u64,
    next_video: Instant,
    next_audio: Instant,
    next_report: Instant,
    frame_no: u32,
    group: [u64; 3],
    frame_seq: [u32; 3],
    force_key: [bool; 3],
    /// Keyframe requests the publisher received: (time since start, layer).
    pub keyframe_requests: Vec<(Duration, u8)>,
    /// Dynacast reports: (time since start, wanted layers).
    pub layers_wanted: Vec<(Duration, Vec<u8>)>,
    /// Whether the publisher encodes each layer (dynacast).
    encoding: [bool; 3],
}

impl Net {
    /// A meeting with one publisher (participant 1) of a 3-layer video track and an audio track.
    pub fn new(seed: u64) -> Self {
        let start = Instant::now();
        let mut net = Self {
            router: Router::new(),
            start,
            now: start,
            subs: BTreeMap::new(),
            seed,
            seq: 0,
            next_video: start,
            next_audio: start,
            next_report: start + REPORT_INTERVAL,
            frame_no: 0,
            group: [0; 3],
            frame_seq: [0; 3],
            force_key: [false; 3],
            keyframe_requests: Vec::new(),
            layers_wanted: Vec::new(),
            encoding: [true; 3],
        };
        net.input(Input::SessionAttached {
            session: SessionId(PUBLISHER_SESSION),
            participant: pid(1),
            publish: true,
            subscribe: false,
            relay: false,
        });
        for (alias, kind, layers) in [(VIDEO, TrackKind::Video, 3), (AUDIO, TrackKind::Audio, 1)] {
            net.input(Input::Command(ForwardingCommand::TrackPublished {
                meeting: meeting(),
                publisher: pid(1),
                track: TrackId::from_u64(u64::from(alias)),
                alias: TrackAlias(alias),
                kind,
                layers,
            }));
        }
        net
    }

    /// Time since the start.
    pub fn elapsed(&self) -> Duration {
        self.now - self.start
    }

    /// Adds subscriber `n` (participant `n`, session `n`) behind `spec`, subscribed to both tracks.
    pub fn subscriber(&mut self, n: u64, spec: LinkSpec) {
        self.subs.insert(
            n,
            Subscriber {
                session: SessionId(n),
                spec,
                queue: VecDeque::new(),
                queued_bytes: 0,
                policy: EgressPolicy::new(false),
                abandoned: Vec::new(),
                credit: 0.0,
                sent_bytes: 0,
                dropped: 0,
                flight: BTreeMap::new(),
                group_arrival: HashMap::new(),
                decoding: None,
                got: Received::default(),
                rng: Rng((self.seed ^ n.wrapping_mul(0x9E37_79B9_7F4A_7C15)) | 1),
            },
        );
        self.input(Input::SessionAttached {
            session: SessionId(n),
            participant: pid(n),
            publish: false,
            subscribe: true,
            relay: false,
        });
        for alias in [VIDEO, AUDIO] {
            self.input(Input::Command(ForwardingCommand::Subscribe {
                meeting: meeting(),
                subscriber: pid(n),
                alias: TrackAlias(alias),
                max_spatial: None,
            }));
        }
    }

    /// Changes subscriber `n`'s link.
    pub fn set_link(&mut self, n: u64, spec: LinkSpec) {
        if let Some(s) = self.subs.get_mut(&n) {
            s.spec = spec;
        }
    }

    /// What subscriber `n` received so far.
    pub fn received(&self, n: u64) -> Received {
        let s = &self.subs[&n];
        Received { dropped: s.dropped, abandoned: s.abandoned.len() as u64, ..s.got.clone() }
    }

    /// The participant of subscriber `n`.
    pub fn participant(n: u64) -> ParticipantId {
        pid(n)
    }

    fn input(&mut self, input: Input) {
        self.router.handle_input(self.now, input);
        while let Some(o) = self.router.poll_output() {
            match o {
                Output::Forward { session, frame, via } => self.enqueue(session.0, frame, via),
                Output::Report(Feedback::KeyframeNeeded { spatial_id, .. }) => {
                    self.keyframe_requests.push((self.elapsed(), spatial_id));
                    self.force_key[spatial_id as usize] = true;
                }
                Output::Report(Feedback::LayersWanted { layers, .. }) => {
                    self.encoding = [0, 1, 2].map(|l| layers.contains(&l));
                    self.layers_wanted.push((self.elapsed(), layers));
                }
                Output::Report(_) | Output::CloseSession { .. } => {}
            }
        }
    }

    fn enqueue(&mut self, session: u64, frame: MediaFrame, via: Via) {
        let Some(s) = self.subs.get_mut(&session) else { return };
        let len = frame.payload.len() as u64 + 16;
        if via == Via::Datagram {
            // Audio bypasses the queue, as in the driver.
            s.sent_bytes += len;
            s.credit -= (len * 8) as f64;
            if s.rng.next() >= s.spec.loss {
                let at = self.now + s.spec.latency;
                self.seq += 1;
                s.flight.insert((at, self.seq), frame);
            }
            return;
        }
        let state = QueueState { frames: s.queue.len(), capacity: QUEUE, bytes: s.queued_bytes };
        let mut gone = Vec::new();
        let verdict = s.policy.offer(&frame.header, state, |g| gone.push(g));
        for g in gone {
            abandon(s, g);
        }
        if verdict != Verdict::Queue {
            s.dropped += 1;
            return;
        }
        if s.queue.len() >= QUEUE {
            s.dropped += 1;
            let mut gone = Vec::new();
            s.policy.refused(&frame.header, |g| gone.push(g));
            for g in gone {
                abandon(s, g);
            }
            return;
        }
        s.queued_bytes += len;
        s.queue.push_back(Queued { frame, via, len });
    }

    /// Runs the simulation until `until` since the start.
    pub fn run_until(&mut self, until: Duration) {
        while self.elapsed() < until {
            self.step();
        }
    }

    fn step(&mut self) {
        self.now += TICK;
        if self.now >= self.next_video {
            self.next_video += FRAME_INTERVAL;
            self.send_video();
        }
        if self.now >= self.next_audio {
            self.next_audio += AUDIO_INTERVAL;
            let mut f = frame(AUDIO, 0, u64::from(self.frame_no), 0, true, Bytes::from(vec![0u8; 80]));
            f.header.audio_level = Some(40);
            f.header.capture_ts_us = self.elapsed().as_micros() as u64;
            self.input(Input::Frame { session: SessionId(PUBLISHER_SESSION), frame: f, via: Via::Datagram });
        }
        let now = self.now;
        let start = self.start;
        for s in self.subs.values_mut() {
            transmit(s, now, &mut self.seq);
            deliver(s, now, start);
        }
        if self.now >= self.next_report {
            self.next_report += REPORT_INTERVAL;
            let reports: Vec<_> = self
                .subs
                .values()
                .map(|s| {
                    (
                        s.session,
                        LinkReport {
                            sent_bytes: s.sent_bytes,
                            dropped_frames: s.dropped,
                            queued_frames: s.queue.len() as u32,
                            queued_bytes: s.queued_bytes,
                            rtt: s.spec.latency * 2,
                        },
                    )
                })
                .collect();
            for (session, report) in reports {
                self.input(Input::Link { session, report });
            }
        }
    }

    fn send_video(&mut self) {
        let n = self.frame_no;
        self.frame_no += 1;
        let capture = self.elapsed().as_micros() as u64;
        for layer in 0..3u8 {
            let l = layer as usize;
            if !self.encoding[l] {
                continue;
            }
            let key = n.is_multiple_of(GOP) || self.force_key[l];
            if key {
                self.force_key[l] = false;
                self.group[l] += 1;
            }
            let size = if key { LAYER_BYTES[l] * 5 } else { LAYER_BYTES[l] };
            let mut f = frame(VIDEO, layer, self.group[l], 0, key, Bytes::from(vec![layer; size]));
            f.header.frame_seq = self.frame_seq(l, key);
            f.header.capture_ts_us = capture;
            self.input(Input::Frame { session: SessionId(PUBLISHER_SESSION), frame: f, via: Via::Stream });
        }
    }

    fn frame_seq(&mut self, layer: usize, key: bool) -> u32 {
        if key {
            self.frame_seq[layer] = 0;
        } else {
            self.frame_seq[layer] += 1;
        }
        self.frame_seq[layer]
    }
}

fn abandon(s: &mut Subscriber, g: (TrackAlias, u8, u64)) {
    s.abandoned.push(g);
    let before = s.queue.len();
    s.queue.retain(|q| {
        let h = &q.frame.header;
        !(q.via == Via::Stream && h.track_alias == g.0 && h.spatial_id == g.1 && h.group_seq == g.2)
    });
    s.dropped += (before - s.queue.len()) as u64;
    s.queued_bytes = s.queue.iter().map(|q| q.len).sum();
}

/// Sends what the link's bandwidth allows this tick.
fn transmit(s: &mut Subscriber, now: Instant, seq: &mut u64) {
    s.credit += s.spec.bandwidth_bps as f64 * TICK.as_secs_f64();
    // An idle link does not save up capacity beyond 10 ms worth.
    s.credit = s.credit.min(s.spec.bandwidth_bps as f64 * 0.01);
    while s.queue.front().is_some() {
        // A frame goes out once the link is free; it occupies the link for its size.
        if s.credit <= 0.0 {
            break;
        }
        let q = s.queue.pop_front().expect("front exists");
        s.credit -= (q.len * 8) as f64;
        s.queued_bytes -= q.len;
        s.sent_bytes += q.len;
        let h = q.frame.header;
        let mut at = now + s.spec.latency + s.spec.jitter.mul_f64(s.rng.next());
        if s.rng.next() < s.spec.loss {
            at += s.spec.latency * 2;
        }
        let key = (h.spatial_id, h.group_seq);
        if let Some(prev) = s.group_arrival.get(&key) {
            at = at.max(*prev);
        }
        s.group_arrival.insert(key, at);
        *seq += 1;
        s.flight.insert((at, *seq), q.frame);
    }
}

/// Hands the frames that arrived by `now` to the subscriber's decoders.
fn deliver(s: &mut Subscriber, now: Instant, start: Instant) {
    while let Some((&(at, n), _)) = s.flight.first_key_value() {
        if at > now {
            break;
        }
        let f = s.flight.remove(&(at, n)).expect("first exists");
        let h = f.header;
        if h.track_alias.0 == AUDIO {
            s.got.audio_frames += 1;
            continue;
        }
        // A late frame of a group already left behind is skipped by a decoder, not fed.
        if s.decoding.is_some_and(|(l, g, _)| l == h.spatial_id && h.group_seq < g) {
            continue;
        }
        if !h.keyframe && s.decoding != Some((h.spatial_id, h.group_seq, h.frame_seq)) {
            s.got.undecodable += 1;
            continue;
        }
        s.decoding = Some((h.spatial_id, h.group_seq, h.frame_seq + 1));
        s.got.video_frames += 1;
        let latency = (now - start).as_micros() as f64 / 1000.0 - h.capture_ts_us as f64 / 1000.0;
        s.got.latencies_ms.push(latency);
        s.got.layers.push((now - start, h.spatial_id));
    }
}
