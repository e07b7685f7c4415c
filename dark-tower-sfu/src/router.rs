//! The sans-IO forwarding core for one meeting.
//!
//! Call order: [`Router::handle_input`] with the current time and one [`Input`], then drain
//! [`Router::poll_output`] until `None`. Outputs are ordered; the driver carries them out in order.
//!
//! Forwarding rules:
//! - a frame is accepted only from the session of the track's publisher (or, for a publisher on
//!   another media handler, from a relay session), for a published layer;
//! - audio frames go to every subscriber;
//! - for video each subscriber receives one spatial layer: the highest it wants that its link
//!   sustains ([`link`]). It starts, and switches up, only at a keyframe of its target layer, so it
//!   never receives an undecodable sequence; it switches *down* at once when the lower layer's
//!   current group is cached (relief for a congested link), else at the lower layer's next keyframe;
//! - a relay subscriber (another media handler, for a cascaded meeting) receives every layer;
//! - the current group of pictures of every layer is kept, so a new subscriber starts at once
//!   from the last keyframe instead of waiting for the next.

use std::collections::{HashMap, HashSet, VecDeque};
use std::time::Instant;

use dark_tower_core::codec::media::MediaFrame;
use dark_tower_core::error::ErrorCode;
use dark_tower_core::forwarding::ForwardingCommand;
use dark_tower_core::ids::{ParticipantId, TrackAlias};
use dark_tower_core::limits::MAX_SIMULCAST_LAYERS;
use dark_tower_core::track::TrackKind;

mod feedback;
mod group;
pub mod link;
mod stats;
mod track;
pub use feedback::{Feedback, KEYFRAME_INTERVAL, LEVEL_INTERVAL, STATS_INTERVAL};
pub use group::MAX_CACHED_GROUP_BYTES;
use group::Rate;
pub use link::LinkReport;
use link::{Link, Want};
pub use stats::{SubscriberStats, SubscriptionStats, TrackStats};
pub use track::LAYER_IDLE;
use track::{SWITCH_REPLAY_FRAMES, Subscription, Track, fallback};

/// A media session, as numbered by the driver.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SessionId(pub u64);

/// How a frame travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via {
    /// On the unidirectional stream of its group.
    Stream,
    /// As a datagram.
    Datagram,
}

/// Something that happened.
#[derive(Debug, Clone)]
pub enum Input {
    /// A command from the meeting controller.
    Command(ForwardingCommand),
    /// A media session authenticated as `participant` opened.
    SessionAttached {
        /// Session.
        session: SessionId,
        /// Whose it is.
        participant: ParticipantId,
        /// May publish.
        publish: bool,
        /// May receive.
        subscribe: bool,
        /// A relay between media handlers (cascade): as a subscriber it receives every layer of
        /// the tracks it subscribes to; as a publisher it carries the tracks of publishers that
        /// have no session here.
        relay: bool,
    },
    /// A media session closed.
    SessionDetached {
        /// Session.
        session: SessionId,
    },
    /// A frame arrived on a session.
    Frame {
        /// From which session.
        session: SessionId,
        /// The frame.
        frame: MediaFrame,
        /// How it came.
        via: Via,
    },
    /// What the driver measured of a session's egress (every few hundred milliseconds).
    Link {
        /// Session.
        session: SessionId,
        /// The measurements.
        report: LinkReport,
    },
}

/// Something the driver must do.
#[derive(Debug, Clone, PartialEq)]
pub enum Output {
    /// Send `frame` to `session`.
    Forward {
        /// To whom.
        session: SessionId,
        /// The frame; its payload is shared, not copied.
        frame: MediaFrame,
        /// Audio (datagram) or video (stream per group).
        via: Via,
    },
    /// Tell the meeting controller.
    Report(Feedback),
    /// Close the session; `code` is `None` for a normal close.
    CloseSession {
        /// Which.
        session: SessionId,
        /// Why, if an error.
        code: Option<ErrorCode>,
        /// Human-readable reason.
        reason: String,
    },
}

/// Counters of one router.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct RouterStats {
    /// Frames accepted from publishers.
    pub frames_in: u64,
    /// Frames handed to subscribers.
    pub frames_out: u64,
    /// Payload bytes handed to subscribers.
    pub bytes_out: u64,
    /// Dropped: frame for a track the sender never published.
    pub dropped_unknown_track: u64,
    /// Dropped: frame for a track the sender unpublished (late arrival).
    pub dropped_stale_track: u64,
    /// Dropped: layer not published.
    pub dropped_bad_layer: u64,
    /// Dropped: the session may not publish.
    pub dropped_not_allowed: u64,
    /// A subscriber's link forced a lower layer.
    pub layer_downgrades: u64,
    /// A subscriber's link allowed a higher layer again.
    pub layer_upgrades: u64,
}

#[derive(Debug, Default)]
struct Participant {
    session: Option<SessionId>,
    publish: bool,
    relay: bool,
    published: HashSet<TrackAlias>,
    link: Link,
    frames_out: u64,
    bytes_out: u64,
}

/// The forwarding state of one meeting. See the module docs for the call order.
#[derive(Debug, Default)]
pub struct Router {
    tracks: HashMap<TrackAlias, Track>,
    participants: HashMap<ParticipantId, Participant>,
    sessions: HashMap<SessionId, ParticipantId>,
    out: VecDeque<Output>,
    stats: RouterStats,
    reporter: feedback::Reporter,
    now: Option<Instant>,
}

impl Router {
    /// An empty router.
    pub fn new() -> Self {
        Self::default()
    }

    /// Counters so far.
    pub fn stats(&self) -> RouterStats {
        self.stats
    }

    /// True when no participant, session or track is known: the router can be dropped.
    pub fn is_idle(&self) -> bool {
        self.tracks.is_empty() && self.participants.is_empty() && self.sessions.is_empty()
    }

    /// Number of media sessions attached.
    pub fn session_count(&self) -> usize {
        self.sessions.len()
    }

    /// The next output, if any. Drain after every input.
    pub fn poll_output(&mut self) -> Option<Output> {
        self.out.pop_front()
    }

    /// When [`Router::handle_timeout`] must next be called, if ever.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.reporter.poll_timeout()
    }

    /// Advances timers to `now` (audio level reports).
    pub fn handle_timeout(&mut self, now: Instant) {
        self.now = Some(now);
        if let Some(f) = self.reporter.handle_timeout(now) {
            self.out.push_back(Output::Report(f));
        }
    }

    /// Asks the publisher of `alias` for a keyframe of `layer`, unless asked recently.
    fn request_keyframe(&mut self, alias: TrackAlias, layer: u8) {
        let Some(publisher) = self.tracks.get(&alias).map(|t| t.publisher) else { return };
        let Some(now) = self.now else { return };
        if self.reporter.keyframe(now, alias, layer) {
            self.out.push_back(Output::Report(Feedback::KeyframeNeeded {
                publisher,
                alias,
                spatial_id: layer,
            }));
        }
    }

    /// Feeds one input at time `now`.
    pub fn handle_input(&mut self, now: Instant, input: Input) {
        self.now = Some(now);
        match input {
            Input::Command(c) => {
                let subscriber = match &c {
                    ForwardingCommand::Subscribe { subscriber, .. } => Some(*subscriber),
                    _ => None,
                };
                self.handle_command(c);
                if let Some(s) = subscriber {
                    self.allocate(s);
                }
                self.report_wanted_layers();
            }
            Input::SessionAttached { session, participant, publish, subscribe: _, relay } => {
                self.attach(session, participant, publish, relay)
            }
            Input::SessionDetached { session } => self.detach(session),
            Input::Frame { session, frame, via } => self.handle_frame(session, frame, via),
            Input::Link { session, report } => self.link_report(now, session, report),
        }
    }

    fn handle_command(&mut self, c: ForwardingCommand) {
        match c {
            ForwardingCommand::TrackPublished { publisher, alias, kind, layers, .. } => {
                let layers = layers.clamp(1, MAX_SIMULCAST_LAYERS as u8);
                self.participants.entry(publisher).or_default().published.insert(alias);
                self.tracks.insert(
                    alias,
                    Track {
                        publisher,
                        kind,
                        layers,
                        groups: Default::default(),
                        audio_rate: Rate::default(),
                        subscribers: HashMap::new(),
                        reported_layers: None,
                        frames_in: 0,
                        bytes_in: 0,
                        first_frame: None,
                    },
                );
            }
            ForwardingCommand::TrackUnpublished { alias, .. } => {
                self.tracks.remove(&alias);
                self.reporter.forget_track(alias);
            }
            ForwardingCommand::Subscribe { subscriber, alias, max_spatial, .. } => {
                let p = self.participants.entry(subscriber).or_default();
                let (session, relay) = (p.session, p.relay);
                if let Some(track) = self.tracks.get_mut(&alias) {
                    let sub = track
                        .subscribers
                        .entry(subscriber)
                        .or_insert_with(|| Subscription::new(max_spatial, relay));
                    sub.max_spatial = max_spatial;
                    if let Some(session) = session {
                        self.start_from_cache(alias, subscriber, session);
                    }
                    self.request_needed_keyframe(alias, subscriber);
                }
            }
            ForwardingCommand::Unsubscribe { subscriber, alias, .. } => {
                if let Some(track) = self.tracks.get_mut(&alias) {
                    track.subscribers.remove(&subscriber);
                }
                self.allocate(subscriber);
            }
            ForwardingCommand::ParticipantLeft { participant, .. } => {
                self.tracks.retain(|_, t| t.publisher != participant);
                for t in self.tracks.values_mut() {
                    t.subscribers.remove(&participant);
                }
                if let Some(p) = self.participants.remove(&participant)
                    && let Some(session) = p.session
                {
                    self.sessions.remove(&session);
                    self.out.push_back(Output::CloseSession { session, code: None, reason: "left".into() });
                }
            }
        }
    }

    fn attach(&mut self, session: SessionId, participant: ParticipantId, publish: bool, relay: bool) {
        // The driver never reuses a session id; if it did, the old binding goes first.
        if self.sessions.contains_key(&session) {
            self.detach(session);
        }
        let p = self.participants.entry(participant).or_default();
        if let Some(old) = p.session.replace(session) {
            self.sessions.remove(&old);
            self.out.push_back(Output::CloseSession {
                session: old,
                code: None,
                reason: "replaced by a newer media session".into(),
            });
        }
        p.publish = publish;
        p.relay = relay;
        // A new session is a new path: what was learnt of the old one no longer holds.
        p.link = Link::default();
        p.frames_out = 0;
        p.bytes_out = 0;
        self.sessions.insert(session, participant);
        let mut subscribed = Vec::new();
        for (alias, track) in self.tracks.iter_mut() {
            if let Some(sub) = track.subscribers.get_mut(&participant) {
                sub.reset();
                sub.cap = None;
                sub.relay = relay.then(Default::default);
                subscribed.push(*alias);
            }
        }
        subscribed.sort_unstable();
        for alias in subscribed {
            self.start_from_cache(alias, participant, session);
            self.request_needed_keyframe(alias, participant);
        }
    }

    fn detach(&mut self, session: SessionId) {
        let Some(participant) = self.sessions.remove(&session) else {
            return;
        };
        if let Some(p) = self.participants.get_mut(&participant)
            && p.session == Some(session)
        {
            p.session = None;
        }
        for t in self.tracks.values_mut() {
            if let Some(sub) = t.subscribers.get_mut(&participant) {
                sub.reset();
            }
        }
        // A participant the MC no longer knows about (no tracks, no subscriptions) is forgotten.
        let known = self
            .tracks
            .values()
            .any(|t| t.publisher == participant || t.subscribers.contains_key(&participant));
        if !known && self.participants.get(&participant).is_some_and(|p| p.session.is_none()) {
            self.participants.remove(&participant);
        }
    }

    /// Takes a link report of `session`: updates the estimate, re-allocates layers when it
    /// changed, and reports stats to the MC every [`STATS_INTERVAL`].
    fn link_report(&mut self, now: Instant, session: SessionId, report: LinkReport) {
        let Some(&participant) = self.sessions.get(&session) else { return };
        let constrained = self.constrained(participant);
        let Some(p) = self.participants.get_mut(&participant) else { return };
        let lost = report.dropped_frames > p.link.report.dropped_frames;
        let changed = p.link.update(now, report);
        let due = p.link.stats_at.is_none_or(|(t, _, _)| now.saturating_duration_since(t) >= STATS_INTERVAL);
        if due {
            let (frames, dropped) = (p.frames_out, report.dropped_frames);
            let loss = match p.link.stats_at {
                Some((_, f0, d0)) if frames > f0 => {
                    (dropped.saturating_sub(d0) as f32 / (frames - f0) as f32).min(1.0)
                }
                _ => 0.0,
            };
            p.link.stats_at = Some((now, frames, dropped));
            if p.frames_out > 0 {
                let stat = Self::subscriber_stat(participant, p, loss, constrained);
                self.out.push_back(Output::Report(Feedback::SubscriberStats(stat)));
            }
        }
        if changed {
            self.allocate(participant);
            self.report_wanted_layers();
        }
        if lost {
            // Its egress gave up groups: it waits for keyframes to recover; ask for them now
            // rather than at the publisher's next scheduled one.
            let mut waiting: Vec<TrackAlias> = self
                .tracks
                .iter()
                .filter(|(_, t)| t.kind == TrackKind::Video && t.subscribers.contains_key(&participant))
                .map(|(a, _)| *a)
                .collect();
            waiting.sort_unstable();
            for alias in waiting {
                let target = self.tracks[&alias]
                    .subscribers
                    .get(&participant)
                    .map(|s| s.target(self.tracks[&alias].layers));
                if let Some(layer) = target {
                    self.request_keyframe(alias, layer);
                }
            }
        }
    }

    /// Chooses the layer each video subscription of `participant` may receive within its link's
    /// estimate, and starts the switches that follow.
    fn allocate(&mut self, participant: ParticipantId) {
        let Some(p) = self.participants.get(&participant) else { return };
        if p.relay {
            return;
        }
        let estimate = p.link.estimate_bps;
        let mut aliases: Vec<TrackAlias> = self
            .tracks
            .iter()
            .filter(|(_, t)| t.subscribers.contains_key(&participant))
            .map(|(a, _)| *a)
            .collect();
        aliases.sort_unstable();
        let mut audio = 0.0;
        let mut video = Vec::new();
        let mut wants = Vec::new();
        for alias in &aliases {
            let t = &self.tracks[alias];
            match t.kind {
                TrackKind::Audio => audio += t.audio_rate.bps().unwrap_or(0.0),
                TrackKind::Video => {
                    let sub = &t.subscribers[&participant];
                    video.push(*alias);
                    wants.push(Want { layer: t.wanted_layer(sub), rates: t.layer_rates() });
                }
            }
        }
        let caps: Vec<Option<u8>> = match estimate {
            None => vec![None; video.len()],
            Some(e) => {
                let (caps, release) = link::allocate(e - audio, &wants);
                if release {
                    if let Some(p) = self.participants.get_mut(&participant) {
                        p.link.release();
                    }
                    vec![None; video.len()]
                } else {
                    caps.into_iter().map(Some).collect()
                }
            }
        };
        for (alias, cap) in video.into_iter().zip(caps) {
            let Some(t) = self.tracks.get_mut(&alias) else { continue };
            let Some(sub) = t.subscribers.get_mut(&participant) else { continue };
            if sub.cap == cap {
                continue;
            }
            let before = sub.target(t.layers);
            sub.cap = cap;
            let after = sub.target(t.layers);
            if after < before {
                self.stats.layer_downgrades += 1;
            } else if after > before {
                self.stats.layer_upgrades += 1;
            }
            if after < before {
                self.switch_down_from_cache(alias, participant);
            }
            self.request_needed_keyframe(alias, participant);
        }
    }

    /// Dynacast: tells each video publisher which layers someone receives, when that changed.
    fn report_wanted_layers(&mut self) {
        for (alias, track) in self.tracks.iter_mut() {
            if track.kind != TrackKind::Video {
                continue;
            }
            let relayed = track.subscribers.values().any(|s| s.relay.is_some());
            let mut wanted: Vec<u8> = if relayed {
                // Another media handler decides for its own subscribers: keep every layer.
                (0..track.layers).collect()
            } else {
                track.subscribers.values().map(|s| track.target_layer(s)).collect()
            };
            wanted.sort_unstable();
            wanted.dedup();
            if track.reported_layers.as_ref() != Some(&wanted) {
                track.reported_layers = Some(wanted.clone());
                self.out.push_back(Output::Report(Feedback::LayersWanted {
                    publisher: track.publisher,
                    alias: *alias,
                    layers: wanted,
                }));
            }
        }
    }

    /// Closes a misbehaving session: the driver is told, and the router forgets the session at
    /// once so nothing more is forwarded to it.
    fn close_for_error(&mut self, session: SessionId, code: ErrorCode, reason: String) {
        self.out.push_back(Output::CloseSession { session, code: Some(code), reason });
        self.detach(session);
    }

    /// Asks for a keyframe of the layer a video subscriber waits for, if it is not receiving its
    /// target (a relay: of every layer it has not started).
    fn request_needed_keyframe(&mut self, alias: TrackAlias, subscriber: ParticipantId) {
        let Some(track) = self.tracks.get(&alias) else { return };
        let Some(sub) = track.subscribers.get(&subscriber) else { return };
        if track.kind != TrackKind::Video {
            return;
        }
        let needed: Vec<u8> = match &sub.relay {
            Some(r) => (0..track.layers).filter(|l| r[*l as usize].is_empty()).collect(),
            None => {
                let target = track.live_target(sub, self.now.unwrap_or_else(Instant::now));
                if sub.layer == Some(target) { vec![] } else { vec![target] }
            }
        };
        for layer in needed {
            self.request_keyframe(alias, layer);
        }
    }

    /// Replays the cached group of the target layer (a relay: of every layer) to a subscriber
    /// that receives nothing yet, so it starts now.
    fn start_from_cache(&mut self, alias: TrackAlias, subscriber: ParticipantId, session: SessionId) {
        let Some(track) = self.tracks.get_mut(&alias) else { return };
        if track.kind != TrackKind::Video {
            return;
        }
        let Some(sub) = track.subscribers.get(&subscriber) else { return };
        let layers: Vec<u8> = match &sub.relay {
            Some(r) => (0..track.layers).filter(|l| r[*l as usize].is_empty()).collect(),
            None if sub.layer.is_none() => {
                vec![track.live_target(sub, self.now.unwrap_or_else(Instant::now))]
            }
            None => return,
        };
        for layer in layers {
            self.replay(alias, subscriber, session, layer);
        }
    }

    /// A subscriber whose link cap fell below the layer it receives switches at once if the
    /// lower layer's current group is cached and short (a few frames since its keyframe: cheap,
    /// and relieves its link now); otherwise at that layer's next keyframe, which is requested.
    fn switch_down_from_cache(&mut self, alias: TrackAlias, subscriber: ParticipantId) {
        let Some(session) = self.participants.get(&subscriber).and_then(|p| p.session) else { return };
        let Some(track) = self.tracks.get(&alias) else { return };
        let Some(sub) = track.subscribers.get(&subscriber) else { return };
        let target = track.target_layer(sub);
        if sub.relay.is_some() || sub.layer.is_none_or(|l| l <= target) {
            return;
        }
        if track.groups[target as usize].frames.len() > SWITCH_REPLAY_FRAMES {
            return;
        }
        self.replay(alias, subscriber, session, target);
    }

    /// Sends the cached group of `layer` to the subscriber and starts it there.
    fn replay(&mut self, alias: TrackAlias, subscriber: ParticipantId, session: SessionId, layer: u8) {
        let Some(track) = self.tracks.get_mut(&alias) else { return };
        let group = &track.groups[layer as usize];
        let Some(group_seq) = group.startable() else { return };
        let Some(sub) = track.subscribers.get_mut(&subscriber) else { return };
        let mut bytes = 0u64;
        for f in &group.frames {
            bytes += f.payload.len() as u64;
            self.out.push_back(Output::Forward { session, frame: f.clone(), via: Via::Stream });
        }
        let n = group.frames.len() as u64;
        match &mut sub.relay {
            Some(r) => {
                r[layer as usize].clear();
                r[layer as usize].push_back(group_seq);
            }
            None => sub.start(layer, group_seq),
        }
        sub.frames += n;
        sub.bytes += bytes;
        self.count_out(subscriber, n, bytes);
    }

    fn count_out(&mut self, subscriber: ParticipantId, frames: u64, bytes: u64) {
        self.stats.frames_out += frames;
        self.stats.bytes_out += bytes;
        if let Some(p) = self.participants.get_mut(&subscriber) {
            p.frames_out += frames;
            p.bytes_out += bytes;
        }
    }

    fn handle_frame(&mut self, session: SessionId, frame: MediaFrame, via: Via) {
        let Some(&participant) = self.sessions.get(&session) else {
            return;
        };
        let Some(p) = self.participants.get(&participant) else {
            return;
        };
        let alias = frame.header.track_alias;
        if !p.publish {
            self.stats.dropped_not_allowed += 1;
            self.close_for_error(session, ErrorCode::PermissionDenied, "this session may not publish".into());
            return;
        }
        // A relay carries the tracks of publishers with no session on this media handler.
        let relayed = |publisher: &ParticipantId| {
            p.relay && self.participants.get(publisher).is_none_or(|pp| pp.session.is_none())
        };
        let allowed =
            self.tracks.get(&alias).is_some_and(|t| t.publisher == participant || relayed(&t.publisher));
        if !allowed {
            if p.published.contains(&alias) || p.relay {
                // A relay may carry a track whose publication has not reached this media handler
                // yet (or was just withdrawn): dropped, not an offence.
                self.stats.dropped_stale_track += 1;
            } else {
                self.stats.dropped_unknown_track += 1;
                self.close_for_error(
                    session,
                    ErrorCode::UnknownTrack,
                    format!("track {alias} was not published by this participant"),
                );
            }
            return;
        }
        let Some(track) = self.tracks.get_mut(&alias) else { return };
        let layer = frame.header.spatial_id;
        if layer >= track.layers || (track.kind == TrackKind::Audio && layer != 0) {
            self.stats.dropped_bad_layer += 1;
            self.close_for_error(
                session,
                ErrorCode::ProtocolViolation,
                format!("layer {layer} not published for track {alias}"),
            );
            return;
        }
        let now = self.now.unwrap_or_else(Instant::now);
        self.stats.frames_in += 1;
        track.frames_in += 1;
        track.bytes_in += frame.payload.len() as u64;
        track.first_frame.get_or_insert(now);
        if let (TrackKind::Audio, Some(level)) = (track.kind, frame.header.audio_level) {
            self.reporter.audio_level(now, track.publisher, level);
        }
        let out_via = if track.kind == TrackKind::Audio { via } else { Via::Stream };
        match track.kind {
            TrackKind::Video => track.groups[layer as usize].push(now, &frame),
            TrackKind::Audio => track.audio_rate.add(now, frame.payload.len()),
        }
        let h = frame.header;
        let len = frame.payload.len() as u64;
        let mut sent_to = Vec::new();
        let mut fall_back = Vec::new();
        let layers = track.layers;
        let live = track.live_layers(now);
        let startable = track.groups[layer as usize].startable().is_some();
        for (sub_id, sub) in track.subscribers.iter_mut() {
            let Some(sub_session) = self.participants.get(sub_id).and_then(|p| p.session) else {
                continue;
            };
            if track.kind == TrackKind::Video {
                let target = fallback(sub.target(layers), live);
                // Its layer stopped arriving and this one is what it falls back to: it starts at
                // once from this layer's cached group (which holds this frame).
                let stalled =
                    sub.relay.is_none() && sub.layer.is_some_and(|l| l != layer && !live[l as usize]);
                if stalled && target == layer && startable {
                    fall_back.push((*sub_id, sub_session));
                    continue;
                }
                if !sub.accepts(layer, h.group_seq, h.keyframe, target) {
                    continue;
                }
            }
            sub.frames += 1;
            sub.bytes += len;
            sent_to.push(*sub_id);
            self.out.push_back(Output::Forward { session: sub_session, frame: frame.clone(), via: out_via });
        }
        for s in sent_to {
            self.count_out(s, 1, len);
        }
        for (s, session) in fall_back {
            self.replay(alias, s, session, layer);
        }
    }
}
