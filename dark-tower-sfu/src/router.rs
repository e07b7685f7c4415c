//! The sans-IO forwarding core for one meeting.
//!
//! Call order: [`Router::handle_input`] with the current time and one [`Input`], then drain
//! [`Router::poll_output`] until `None`. Outputs are ordered; the driver carries them out in order.
//!
//! Forwarding rules:
//! - a frame is accepted only from the session of the track's publisher, for a published layer;
//! - audio frames go to every subscriber;
//! - for video each subscriber receives one spatial layer; it starts, and switches, only at a
//!   keyframe of its target layer, so it never receives an undecodable sequence;
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
pub use feedback::{Feedback, KEYFRAME_INTERVAL, LEVEL_INTERVAL};

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

/// Most bytes of one layer's current group kept for instant start; a longer group is not cached.
pub const MAX_CACHED_GROUP_BYTES: usize = 4 * 1024 * 1024;

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
}

#[derive(Debug, Default)]
struct Group {
    /// The cached group, if its keyframe was seen and it is still complete.
    seq: Option<u64>,
    /// The newest group seen on this layer. Groups travel on separate streams, so frames of an
    /// older group — even its keyframe — may arrive after a newer group started; they never
    /// replace it.
    newest: Option<u64>,
    frames: Vec<MediaFrame>,
    bytes: usize,
}

impl Group {
    fn clear(&mut self) {
        self.seq = None;
        self.frames.clear();
        self.bytes = 0;
    }

    fn push(&mut self, frame: &MediaFrame) {
        let h = &frame.header;
        if self.newest.is_some_and(|n| h.group_seq < n) {
            return;
        }
        self.newest = Some(h.group_seq);
        if h.keyframe {
            self.clear();
            self.seq = Some(h.group_seq);
        } else if self.seq != Some(h.group_seq) {
            // A group whose keyframe we did not see cannot start anyone.
            self.clear();
            return;
        }
        self.bytes += frame.payload.len();
        if self.bytes > MAX_CACHED_GROUP_BYTES {
            self.clear();
            return;
        }
        self.frames.push(frame.clone());
    }
}

#[derive(Debug)]
struct Subscription {
    max_spatial: Option<u8>,
    /// Layer being forwarded; `None` until a keyframe starts it.
    layer: Option<u8>,
    /// Groups of `layer` whose keyframe the subscriber received, newest last: only their frames
    /// are decodable for it. Groups travel on separate streams and may arrive out of order, so a
    /// group is admitted whenever its keyframe comes, unless it is older than the whole window.
    admitted: VecDeque<u64>,
}

/// Groups per subscription that may be in flight at once.
const ADMITTED_GROUPS: usize = 4;

impl Subscription {
    /// Admits group `g` on seeing its keyframe; false if it is too old to matter.
    fn admit(&mut self, g: u64) -> bool {
        if self.admitted.contains(&g) {
            return true;
        }
        if self.admitted.len() >= ADMITTED_GROUPS && self.admitted.iter().all(|a| *a > g) {
            return false;
        }
        let at = self.admitted.iter().position(|a| *a > g).unwrap_or(self.admitted.len());
        self.admitted.insert(at, g);
        while self.admitted.len() > ADMITTED_GROUPS {
            self.admitted.pop_front();
        }
        true
    }

    /// Starts (or restarts) forwarding `layer` at group `g`.
    fn start(&mut self, layer: u8, g: u64) {
        self.layer = Some(layer);
        self.admitted.clear();
        self.admitted.push_back(g);
    }
}

#[derive(Debug)]
struct Track {
    publisher: ParticipantId,
    kind: TrackKind,
    layers: u8,
    groups: [Group; MAX_SIMULCAST_LAYERS],
    subscribers: HashMap<ParticipantId, Subscription>,
    /// Dynacast: the wanted layers last reported to the publisher.
    reported_layers: Option<Vec<u8>>,
}

impl Track {
    fn target_layer(&self, sub: &Subscription) -> u8 {
        let top = self.layers.saturating_sub(1);
        sub.max_spatial.map_or(top, |m| m.min(top))
    }
}

#[derive(Debug, Default)]
struct Participant {
    session: Option<SessionId>,
    publish: bool,
    published: HashSet<TrackAlias>,
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
                self.handle_command(c);
                self.report_wanted_layers();
            }
            Input::SessionAttached { session, participant, publish, subscribe: _ } => {
                self.attach(session, participant, publish)
            }
            Input::SessionDetached { session } => self.detach(session),
            Input::Frame { session, frame, via } => self.handle_frame(session, frame, via),
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
                        subscribers: HashMap::new(),
                        reported_layers: None,
                    },
                );
            }
            ForwardingCommand::TrackUnpublished { alias, .. } => {
                self.tracks.remove(&alias);
                self.reporter.forget_track(alias);
            }
            ForwardingCommand::Subscribe { subscriber, alias, max_spatial, .. } => {
                self.participants.entry(subscriber).or_default();
                let session = self.participants.get(&subscriber).and_then(|p| p.session);
                if let Some(track) = self.tracks.get_mut(&alias) {
                    let sub = track.subscribers.entry(subscriber).or_insert(Subscription {
                        max_spatial,
                        layer: None,
                        admitted: VecDeque::new(),
                    });
                    sub.max_spatial = max_spatial;
                    if let Some(session) = session {
                        Self::start_from_cache(
                            &mut self.out,
                            &mut self.stats,
                            alias,
                            track,
                            subscriber,
                            session,
                        );
                    }
                    if let Some(layer) = Self::keyframe_needed(track, subscriber) {
                        self.request_keyframe(alias, layer);
                    }
                }
            }
            ForwardingCommand::Unsubscribe { subscriber, alias, .. } => {
                if let Some(track) = self.tracks.get_mut(&alias) {
                    track.subscribers.remove(&subscriber);
                }
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

    fn attach(&mut self, session: SessionId, participant: ParticipantId, publish: bool) {
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
        self.sessions.insert(session, participant);
        let mut needed = Vec::new();
        for (alias, track) in self.tracks.iter_mut() {
            if let Some(sub) = track.subscribers.get_mut(&participant) {
                sub.layer = None;
                Self::start_from_cache(&mut self.out, &mut self.stats, *alias, track, participant, session);
                if let Some(layer) = Self::keyframe_needed(track, participant) {
                    needed.push((*alias, layer));
                }
            }
        }
        for (alias, layer) in needed {
            self.request_keyframe(alias, layer);
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
                sub.layer = None;
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

    /// Dynacast: tells each video publisher which layers someone wants, when that changed.
    fn report_wanted_layers(&mut self) {
        for (alias, track) in self.tracks.iter_mut() {
            if track.kind != TrackKind::Video {
                continue;
            }
            let mut wanted: Vec<u8> = track.subscribers.values().map(|s| track.target_layer(s)).collect();
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

    /// The layer a video subscriber waits for a keyframe of, if it is not receiving its target.
    fn keyframe_needed(track: &Track, subscriber: ParticipantId) -> Option<u8> {
        let sub = track.subscribers.get(&subscriber)?;
        let target = track.target_layer(sub);
        (track.kind == TrackKind::Video && sub.layer != Some(target)).then_some(target)
    }

    /// Replays the cached group of the target layer, if there is one, so the subscriber starts now.
    fn start_from_cache(
        out: &mut VecDeque<Output>,
        stats: &mut RouterStats,
        _alias: TrackAlias,
        track: &mut Track,
        subscriber: ParticipantId,
        session: SessionId,
    ) {
        if track.kind != TrackKind::Video {
            return;
        }
        let Some(sub) = track.subscribers.get(&subscriber) else {
            return;
        };
        if sub.layer.is_some() {
            return;
        }
        let target = track.target_layer(sub);
        let group = &track.groups[target as usize];
        let Some(group_seq) = group.seq.filter(|_| !group.frames.is_empty()) else { return };
        for f in &group.frames {
            stats.frames_out += 1;
            stats.bytes_out += f.payload.len() as u64;
            out.push_back(Output::Forward { session, frame: f.clone(), via: Via::Stream });
        }
        if let Some(sub) = track.subscribers.get_mut(&subscriber) {
            sub.start(target, group_seq);
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
        let Some(track) = self.tracks.get_mut(&alias).filter(|t| t.publisher == participant) else {
            if p.published.contains(&alias) {
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
        };
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
        self.stats.frames_in += 1;
        if let (TrackKind::Audio, Some(level), Some(now)) = (track.kind, frame.header.audio_level, self.now) {
            self.reporter.audio_level(now, participant, level);
        }
        let out_via = if track.kind == TrackKind::Audio { via } else { Via::Stream };
        if track.kind == TrackKind::Video {
            track.groups[layer as usize].push(&frame);
        }
        let keyframe = frame.header.keyframe;
        let layers = track.layers;
        for (sub_id, sub) in track.subscribers.iter_mut() {
            let Some(sub_session) = self.participants.get(sub_id).and_then(|p| p.session) else {
                continue;
            };
            if track.kind == TrackKind::Video {
                let top = layers.saturating_sub(1);
                let target = sub.max_spatial.map_or(top, |m| m.min(top));
                let group = frame.header.group_seq;
                let forward = if layer == target && keyframe && sub.layer != Some(target) {
                    sub.start(target, group);
                    true
                } else if sub.layer != Some(layer) {
                    false
                } else if keyframe {
                    sub.admit(group)
                } else {
                    sub.admitted.contains(&group)
                };
                if !forward {
                    continue;
                }
            }
            self.stats.frames_out += 1;
            self.stats.bytes_out += frame.payload.len() as u64;
            self.out.push_back(Output::Forward { session: sub_session, frame: frame.clone(), via: out_via });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;
    use dark_tower_core::codec::media::MediaHeader;

    fn frame(group: u64, seq: u32) -> MediaFrame {
        MediaFrame {
            header: MediaHeader {
                track_alias: TrackAlias(1),
                spatial_id: 0,
                temporal_id: 0,
                group_seq: group,
                frame_seq: seq,
                capture_ts_us: 0,
                keyframe: seq == 0,
                discardable: false,
                end_of_group: false,
                audio_level: None,
            },
            payload: Bytes::from_static(b"x"),
        }
    }

    #[test]
    fn late_frames_of_older_groups_never_replace_the_cache() {
        let mut g = Group::default();
        for f in [frame(0, 0), frame(1, 0), frame(2, 0), frame(0, 1), frame(1, 1), frame(2, 1), frame(1, 2)] {
            g.push(&f);
        }
        assert_eq!(g.seq, Some(2));
        let cached: Vec<_> = g.frames.iter().map(|f| (f.header.group_seq, f.header.frame_seq)).collect();
        assert_eq!(cached, [(2, 0), (2, 1)]);
    }

    #[test]
    fn a_group_without_its_keyframe_is_not_cached() {
        let mut g = Group::default();
        g.push(&frame(0, 0));
        g.push(&frame(1, 1));
        assert_eq!(g.seq, None);
        assert!(g.frames.is_empty());
        g.push(&frame(2, 0));
        assert_eq!(g.seq, Some(2));
    }

    #[test]
    fn groups_arriving_out_of_order_are_each_forwarded_whole() {
        let now = Instant::now();
        let mut r = Router::new();
        let (publisher, subscriber) = (ParticipantId::from_u64(1), ParticipantId::from_u64(2));
        let meeting = dark_tower_core::ids::MeetingName::new("m").expect("name");
        r.handle_input(
            now,
            Input::Command(ForwardingCommand::TrackPublished {
                meeting: meeting.clone(),
                publisher,
                track: dark_tower_core::ids::TrackId::from_u64(9),
                alias: TrackAlias(1),
                kind: TrackKind::Video,
                layers: 1,
            }),
        );
        for (session, participant) in [(SessionId(1), publisher), (SessionId(2), subscriber)] {
            r.handle_input(
                now,
                Input::SessionAttached { session, participant, publish: true, subscribe: true },
            );
        }
        r.handle_input(
            now,
            Input::Command(ForwardingCommand::Subscribe {
                meeting,
                subscriber,
                alias: TrackAlias(1),
                max_spatial: None,
            }),
        );
        // Group 1 overtakes group 0; a delta of group 2 arrives without its keyframe.
        let order = [(1, 0), (0, 0), (1, 1), (0, 1), (2, 1), (0, 2)];
        for (g, f) in order {
            r.handle_input(now, Input::Frame { session: SessionId(1), frame: frame(g, f), via: Via::Stream });
        }
        let mut got = Vec::new();
        while let Some(o) = r.poll_output() {
            if let Output::Forward { session: SessionId(2), frame, .. } = o {
                got.push((frame.header.group_seq, frame.header.frame_seq));
            }
        }
        assert_eq!(got, [(1, 0), (0, 0), (1, 1), (0, 1), (0, 2)]);
    }
}
