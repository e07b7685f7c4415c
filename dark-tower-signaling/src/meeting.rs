//! The sans-IO state machine of one meeting.
//!
//! Call order: [`Meeting::handle`] with the current time and a [`Command`], then drain
//! [`Meeting::poll_effect`] until `None`. Effects are ordered: a [`Effect::Forward`] that enables
//! media always precedes the message that tells a client about it, so a client acting on an
//! acknowledgement finds the media handler ready.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use dark_tower_core::error::{ErrorCode, WireError};
use dark_tower_core::forwarding::ForwardingCommand;
use dark_tower_core::ids::{Identity, MeetingName, ParticipantId, TrackAlias, TrackId};
use dark_tower_core::limits::{
    MAX_DATAGRAM_FRAME, MAX_MEDIA_FRAME, MAX_SIGNAL_MESSAGE, MAX_SIMULCAST_LAYERS, MAX_TRACKS_PER_PARTICIPANT,
};
use dark_tower_core::proto::sig;
use dark_tower_core::store::MeetingSettings;
use dark_tower_core::token::{Grant, Role, VerifiedToken};
use dark_tower_core::{PROTOCOL_VERSION, PROTOCOL_VERSIONS};

use sig::client_message::Message as C;
use sig::server_message::Message as S;

pub mod admin;
mod interaction;
mod lobby;
pub mod metadata;
mod publishing;
pub mod quality;
pub mod rate;
pub mod resume;
pub mod subscription;

pub use resume::ResumeRequest;

pub use admin::{AdminCommand, AdminReply, GrantUpdate, ParticipantSnapshot, TrackSnapshot};

/// Tunables of a meeting.
#[derive(Debug, Clone)]
pub struct MeetingConfig {
    /// Most tracks one participant may publish.
    pub max_tracks_per_participant: usize,
    /// Signaling messages per participant.
    pub rate_limit: rate::RateLimit,
    /// How long a participant whose connection dropped may resume before it leaves (zero: it
    /// leaves at once).
    pub resume_grace: Duration,
}

impl Default for MeetingConfig {
    fn default() -> Self {
        Self {
            max_tracks_per_participant: MAX_TRACKS_PER_PARTICIPANT,
            rate_limit: rate::RateLimit::default(),
            resume_grace: Duration::from_secs(20),
        }
    }
}

/// A participant asking to join, already authenticated by the driver.
#[derive(Debug, Clone)]
pub struct JoinRequest {
    /// The id the driver assigned to this session.
    pub participant: ParticipantId,
    /// The verified access token.
    pub token: VerifiedToken,
    /// The client's `Join` message.
    pub join: sig::Join,
    /// Where its media session goes (URL, ticket, certificate hashes).
    pub media: sig::MediaEndpoint,
    /// The `request_id` of the client's `Join` envelope, echoed in `Joined`.
    pub request_id: u32,
    /// Identifies the signaling session: a `Disconnected` from an older session is ignored.
    pub epoch: u64,
    /// The secret the resume token carries (checked on `Resume`).
    pub resume_nonce: u64,
    /// The resume token handed to the client in `Joined`.
    pub resume_token: String,
}

/// An input to the meeting.
#[derive(Debug, Clone)]
pub enum Command {
    /// A participant joins.
    Join(Box<JoinRequest>),
    /// A participant sent a message (after its join).
    Message {
        /// Who sent it.
        participant: ParticipantId,
        /// What.
        message: Box<sig::ClientMessage>,
    },
    /// A report from the media handler (audio levels, keyframe requests).
    Media(dark_tower_core::forwarding::MediaReport),
    /// A participant's session ended without `Leave`.
    Disconnected {
        /// Who.
        participant: ParticipantId,
        /// Which of its sessions (see [`JoinRequest::epoch`]).
        epoch: u64,
        /// Why.
        reason: sig::LeaveReason,
    },
    /// A sample of a participant's connection path, for connection quality.
    PathSample {
        /// Whose.
        participant: ParticipantId,
        /// Which of its sessions.
        epoch: u64,
        /// The counters now.
        stats: dark_tower_core::transport::PathStats,
    },
}

/// Something the meeting tells the outside world.
#[derive(Debug, Clone, PartialEq)]
pub enum MeetingEvent {
    /// A participant joined.
    ParticipantJoined {
        /// Who.
        participant: ParticipantId,
        /// Their identity.
        identity: Identity,
    },
    /// A participant left.
    ParticipantLeft {
        /// Who.
        participant: ParticipantId,
    },
    /// A track was published.
    TrackPublished {
        /// By whom.
        participant: ParticipantId,
        /// Which.
        track: TrackId,
    },
    /// A track was unpublished.
    TrackUnpublished {
        /// By whom.
        participant: ParticipantId,
        /// Which.
        track: TrackId,
    },
    /// The meeting ended (empty past its timeout).
    Ended,
}

/// An output of the meeting, for the driver to carry out in order.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// Send a message to one participant.
    Send {
        /// To whom.
        to: ParticipantId,
        /// What.
        message: Box<sig::ServerMessage>,
    },
    /// Send a message to one participant as a signaling-session datagram (best effort).
    SendDatagram {
        /// To whom.
        to: ParticipantId,
        /// What (unframed `ServerMessage`).
        message: Box<sig::ServerMessage>,
    },
    /// Tell the media handler.
    Forward(ForwardingCommand),
    /// End a participant's session (after sending `Disconnect` if `code` is set).
    Close {
        /// Whose.
        participant: ParticipantId,
        /// Why, if an error.
        code: Option<ErrorCode>,
        /// Human-readable reason.
        reason: String,
    },
    /// For stores and webhooks.
    Event(MeetingEvent),
}

#[derive(Debug)]
struct Member {
    identity: Identity,
    name: String,
    metadata: String,
    /// Video codecs it can decode (from its Join), bounded.
    video_decoders: Vec<String>,
    grant: Grant,
    joined_at: SystemTime,
    auto_subscribe: bool,
    tracks: Vec<TrackId>,
    client_track_ids: HashMap<String, TrackId>,
    subscriptions: HashSet<TrackId>,
    /// Subscriptions paused by the subscriber (kept, but not forwarded).
    paused: HashSet<TrackId>,
    bucket: rate::Bucket,
    epoch: u64,
    resume_nonce: u64,
    /// Since when its connection is gone (it is reconnecting).
    away_since: Option<SystemTime>,
    /// Its reliable messages, numbered, kept for resending after a resume.
    log: resume::Log,
    quality: quality::Quality,
}

#[derive(Debug)]
struct TrackEntry {
    owner: ParticipantId,
    track: sig::Track,
}

/// The state of one meeting. See the module docs for the call order.
#[derive(Debug)]
pub struct Meeting {
    name: MeetingName,
    settings: MeetingSettings,
    created_at: SystemTime,
    config: MeetingConfig,
    members: BTreeMap<ParticipantId, Member>,
    tracks: BTreeMap<TrackId, TrackEntry>,
    next_alias: u32,
    effects: VecDeque<Effect>,
    empty_since: Option<SystemTime>,
    ended: bool,
    locked: bool,
    lobby: bool,
    waiting: BTreeMap<ParticipantId, JoinRequest>,
    active_speakers: Vec<ParticipantId>,
}

fn micros(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).map(|d| d.as_micros() as u64).unwrap_or(0)
}

fn role_to_proto(r: Role) -> i32 {
    (match r {
        Role::Host => sig::Role::Host,
        Role::Participant => sig::Role::Participant,
        Role::Guest => sig::Role::Guest,
        Role::Viewer => sig::Role::Viewer,
    }) as i32
}

/// Most decodable codecs kept per participant, and the longest name.
const MAX_VIDEO_DECODERS: usize = 8;
const MAX_CODEC_NAME: usize = 16;

/// The decodable video codecs a client announced, bounded (longer lists and names are cut, not
/// refused: the list is advisory).
fn video_decoders(client: Option<&sig::ClientInfo>) -> Vec<String> {
    let Some(c) = client else { return Vec::new() };
    let mut v: Vec<String> = c
        .video_decoders
        .iter()
        .filter(|n| !n.is_empty() && n.len() <= MAX_CODEC_NAME)
        .take(MAX_VIDEO_DECODERS)
        .cloned()
        .collect();
    v.dedup();
    v
}

fn server(request_id: u32, message: S) -> sig::ServerMessage {
    sig::ServerMessage { request_id, seq: 0, message: Some(message) }
}

impl Meeting {
    /// A new, empty meeting created at `now`.
    /// Counts the meeting as empty since `t` (instead of since its creation): for a meeting
    /// reopened after a server restart, whose empty timeout starts over.
    pub fn empty_since(mut self, t: SystemTime) -> Self {
        if self.members.is_empty() {
            self.empty_since = Some(t);
        }
        self
    }

    /// A meeting created at `now`, empty.
    pub fn new(name: MeetingName, settings: MeetingSettings, config: MeetingConfig, now: SystemTime) -> Self {
        let lobby = settings.lobby;
        Self {
            name,
            settings,
            created_at: now,
            config,
            members: BTreeMap::new(),
            tracks: BTreeMap::new(),
            next_alias: 1,
            effects: VecDeque::new(),
            empty_since: Some(now),
            ended: false,
            locked: false,
            lobby,
            waiting: BTreeMap::new(),
            active_speakers: Vec::new(),
        }
    }

    /// The meeting's name.
    pub fn name(&self) -> &MeetingName {
        &self.name
    }

    /// Participants present.
    pub fn participant_count(&self) -> usize {
        self.members.len()
    }

    /// Whether the meeting has ended; it accepts no more joins.
    pub fn is_ended(&self) -> bool {
        self.ended
    }

    /// The next effect, if any. Drain after every call to `handle` or `handle_timeout`.
    pub fn poll_effect(&mut self) -> Option<Effect> {
        self.effects.pop_front()
    }

    /// When [`Meeting::handle_timeout`] must next be called, if ever.
    pub fn poll_timeout(&self) -> Option<SystemTime> {
        if self.ended {
            return None;
        }
        let empty =
            self.empty_since.map(|t| t + Duration::from_secs(self.settings.empty_timeout_secs.into()));
        let max = self.settings.max_duration_secs.map(|s| self.created_at + Duration::from_secs(s.into()));
        [empty, max, self.away_deadline()].into_iter().flatten().min()
    }

    /// Advances timers to `now`: an empty meeting past its empty timeout ends; a meeting past its
    /// maximum duration ends for everyone (`Disconnect{meeting_ended}`).
    pub fn handle_timeout(&mut self, now: SystemTime) {
        if self.ended {
            return;
        }
        self.expire_away(now);
        let over = self
            .settings
            .max_duration_secs
            .is_some_and(|s| now >= self.created_at + Duration::from_secs(s.into()));
        let empty_expired = self
            .empty_since
            .is_some_and(|t| now >= t + Duration::from_secs(self.settings.empty_timeout_secs.into()))
            && self.members.is_empty();
        if over {
            self.end(now);
        } else if empty_expired {
            self.ended = true;
            self.effects.push_back(Effect::Event(MeetingEvent::Ended));
        }
    }

    /// Feeds one command at time `now`.
    pub fn handle(&mut self, now: SystemTime, command: Command) {
        match command {
            Command::Join(req) => self.join(now, *req),
            Command::Message { participant, message } => {
                let Some(m) = self.members.get_mut(&participant) else { return };
                match m.bucket.take(now) {
                    rate::Verdict::Allow => self.message(now, participant, *message),
                    rate::Verdict::Refuse { reply } => {
                        if reply {
                            let rid = message.request_id;
                            self.error(
                                participant,
                                rid,
                                ErrorCode::RateLimited,
                                "too many signaling messages",
                            );
                        }
                    }
                    rate::Verdict::Disconnect => self.remove(
                        now,
                        participant,
                        sig::LeaveReason::ProtocolError,
                        Some(ErrorCode::RateLimited),
                    ),
                }
            }
            Command::Disconnected { participant, epoch, reason } => {
                if self.waiting.get(&participant).is_some_and(|r| r.epoch == epoch) {
                    self.waiting.remove(&participant);
                    self.effects.push_back(Effect::Close {
                        participant,
                        code: None,
                        reason: "left the lobby".into(),
                    });
                    self.lobby_updated(None);
                } else {
                    self.connection_lost(now, participant, epoch, reason);
                }
            }
            Command::PathSample { participant, epoch, stats } => self.path_sample(participant, epoch, stats),
            Command::Media(report) => self.media_report(report),
        }
    }

    /// Sends `message` to `to`. A member's messages are numbered and logged for resending after
    /// a resume; an away member gets them on its return.
    fn send(&mut self, to: ParticipantId, request_id: u32, message: S) {
        let mut message = Box::new(server(request_id, message));
        if let Some(m) = self.members.get_mut(&to) {
            m.log.record(&mut message);
            if m.away_since.is_some() {
                return;
            }
        }
        self.effects.push_back(Effect::Send { to, message });
    }

    fn error(&mut self, to: ParticipantId, request_id: u32, code: ErrorCode, message: impl Into<String>) {
        let e = WireError::new(code, message);
        self.send(to, request_id, S::Error(e.to_proto()));
    }

    fn refuse(&mut self, participant: ParticipantId, code: ErrorCode, reason: &str) {
        self.effects.push_back(Effect::Close { participant, code: Some(code), reason: reason.into() });
    }

    /// Sends `message` to each of `to`. Their resume logs share one copy of it (a broadcast
    /// kept once per recipient made the meeting's logs grow as N²).
    fn send_each(&mut self, to: impl IntoIterator<Item = ParticipantId>, message: S) {
        let shared = std::sync::Arc::new(server(0, message));
        for p in to {
            let Some(m) = self.members.get_mut(&p) else { continue };
            let seq = m.log.record_shared(&shared);
            if m.away_since.is_some() {
                continue;
            }
            let message = Box::new(sig::ServerMessage { seq, ..(*shared).clone() });
            self.effects.push_back(Effect::Send { to: p, message });
        }
    }

    /// Sends `message` to every member except `except`.
    fn broadcast(&mut self, except: ParticipantId, message: S) {
        let to: Vec<_> = self.members.keys().copied().filter(|p| *p != except).collect();
        self.send_each(to, message);
    }

    fn info(&self) -> sig::MeetingInfo {
        sig::MeetingInfo {
            name: self.name.as_str().to_owned(),
            created_at_us: micros(self.created_at),
            locked: self.locked,
            lobby: self.lobby,
            e2ee_required: self.settings.e2ee_required,
        }
    }

    fn participant_proto(&self, id: ParticipantId, m: &Member) -> sig::Participant {
        sig::Participant {
            id: id.to_string(),
            identity: m.identity.as_str().to_owned(),
            name: m.name.clone(),
            role: role_to_proto(m.grant.role),
            tracks: m.tracks.iter().filter_map(|t| self.tracks.get(t)).map(|e| e.track.clone()).collect(),
            joined_at_us: micros(m.joined_at),
            permissions: Some(sig::Permissions {
                can_publish: m.grant.can_publish,
                can_publish_sources: m.grant.can_publish_sources.iter().map(|s| s.to_proto()).collect(),
                can_subscribe: m.grant.can_subscribe,
                can_publish_data: m.grant.can_publish_data,
            }),
            reconnecting: m.away_since.is_some(),
            metadata: m.metadata.clone(),
            video_decoders: m.video_decoders.clone(),
        }
    }

    fn join(&mut self, now: SystemTime, req: JoinRequest) {
        let id = req.participant;
        if self.members.contains_key(&id) {
            return;
        }
        if self.ended {
            return self.refuse(id, ErrorCode::MeetingEnded, "the meeting has ended");
        }
        if !PROTOCOL_VERSIONS.contains(&req.join.protocol_version) {
            let msg = format!(
                "protocol version {} is not supported; supported: {}..={}",
                req.join.protocol_version,
                PROTOCOL_VERSIONS.start(),
                PROTOCOL_VERSIONS.end()
            );
            return self.refuse(id, ErrorCode::UnsupportedVersion, &msg);
        }
        if req.token.grant.meeting.as_ref() != Some(&self.name) {
            return self.refuse(id, ErrorCode::MeetingMismatch, "the token is for another meeting");
        }
        let moderator = req.token.grant.role == Role::Host || req.token.grant.admin;
        if self.locked && !moderator {
            return self.refuse(id, ErrorCode::MeetingLocked, "the meeting is locked");
        }
        if self.lobby && !moderator {
            return self.hold_in_lobby(req);
        }
        self.admit(now, req);
        if moderator {
            self.lobby_updated(Some(id));
        }
    }

    /// Makes the participant a member: `Joined` to it, `ParticipantJoined` to the others.
    fn admit(&mut self, now: SystemTime, req: JoinRequest) {
        let id = req.participant;
        if self.members.len() >= self.settings.max_participants as usize {
            return self.refuse(id, ErrorCode::MeetingFull, "the meeting is full");
        }
        let member = Member {
            identity: req.token.identity.clone(),
            name: req.token.name.clone(),
            metadata: String::new(),
            video_decoders: video_decoders(req.join.client.as_ref()),
            grant: req.token.grant.clone(),
            joined_at: now,
            auto_subscribe: req.join.auto_subscribe,
            tracks: Vec::new(),
            client_track_ids: HashMap::new(),
            subscriptions: HashSet::new(),
            paused: HashSet::new(),
            bucket: rate::Bucket::new(self.config.rate_limit, now),
            epoch: req.epoch,
            resume_nonce: req.resume_nonce,
            away_since: None,
            log: resume::Log::default(),
            quality: quality::Quality::default(),
        };
        let hidden = member.grant.hidden;
        let me = self.participant_proto(id, &member);
        let others = self
            .members
            .iter()
            .filter(|(_, m)| !m.grant.hidden)
            .map(|(pid, m)| self.participant_proto(*pid, m))
            .collect();
        self.members.insert(id, member);
        self.empty_since = None;
        self.effects.push_back(Effect::Event(MeetingEvent::ParticipantJoined {
            participant: id,
            identity: req.token.identity,
        }));
        let joined = sig::Joined {
            participant: Some(me.clone()),
            others,
            meeting: Some(self.info()),
            media: Some(req.media),
            server_time_us: micros(now),
            limits: Some(sig::Limits {
                max_signal_message_bytes: MAX_SIGNAL_MESSAGE as u32,
                max_media_frame_bytes: MAX_MEDIA_FRAME as u32,
                max_tracks_per_participant: self.config.max_tracks_per_participant as u32,
                max_datagram_frame_bytes: MAX_DATAGRAM_FRAME as u32,
            }),
            protocol_version: PROTOCOL_VERSION,
            resume_token: req.resume_token,
            resume_grace_ms: u32::try_from(self.config.resume_grace.as_millis()).unwrap_or(u32::MAX),
        };
        // Subscriptions first, so media is flowing by the time the client reads Joined.
        if req.join.auto_subscribe {
            let existing: Vec<TrackId> = self.tracks.keys().copied().collect();
            for t in existing {
                // Without subscribe permission the participant is simply not subscribed.
                let _ = self.subscribe(id, t, None);
            }
        }
        self.send(id, req.request_id, S::Joined(joined));
        self.send_quality_snapshot(id);
        if !hidden {
            self.broadcast(id, S::ParticipantJoined(sig::ParticipantJoined { participant: Some(me) }));
        }
    }

    /// Subscribes `who` to `track` if permitted; returns the error code otherwise.
    fn subscribe(
        &mut self,
        who: ParticipantId,
        track: TrackId,
        max_spatial: Option<u8>,
    ) -> Result<(), ErrorCode> {
        let Some(entry) = self.tracks.get(&track) else {
            return Err(ErrorCode::UnknownTrack);
        };
        if entry.owner == who {
            return Err(ErrorCode::InvalidRequest);
        }
        let alias = TrackAlias(entry.track.alias);
        let Some(m) = self.members.get_mut(&who) else {
            return Err(ErrorCode::ProtocolViolation);
        };
        if !m.grant.can_subscribe {
            return Err(ErrorCode::PermissionDenied);
        }
        m.subscriptions.insert(track);
        m.paused.remove(&track);
        self.effects.push_back(Effect::Forward(ForwardingCommand::Subscribe {
            meeting: self.name.clone(),
            subscriber: who,
            alias,
            max_spatial,
        }));
        Ok(())
    }

    fn message(&mut self, now: SystemTime, from: ParticipantId, message: sig::ClientMessage) {
        let rid = message.request_id;
        let Some(body) = message.message else {
            return self.error(from, rid, ErrorCode::Malformed, "empty envelope");
        };
        match body {
            C::Join(_) | C::Resume(_) => {
                self.error(from, rid, ErrorCode::ProtocolViolation, "already joined")
            }
            C::Leave(_) => self.remove(now, from, sig::LeaveReason::Left, None),
            C::PublishTrack(p) => self.publish(from, rid, p),
            C::UnpublishTrack(u) => match u.track_id.parse::<TrackId>() {
                Ok(t) if self.tracks.get(&t).is_some_and(|e| e.owner == from) => self.unpublish(from, t),
                _ => self.error(from, rid, ErrorCode::UnknownTrack, "no such track of yours"),
            },
            C::Subscribe(s) => {
                let Ok(track) = s.track_id.parse::<TrackId>() else {
                    return self.error(from, rid, ErrorCode::UnknownTrack, "no such track");
                };
                let max = match s.max_spatial_id {
                    Some(v) if v as usize >= MAX_SIMULCAST_LAYERS => {
                        return self.error(from, rid, ErrorCode::InvalidRequest, "max_spatial_id above 2");
                    }
                    v => v.map(|v| v as u8),
                };
                match self.subscribe(from, track, max) {
                    Ok(()) => {
                        self.send(from, rid, S::SubscribeAck(sig::SubscribeAck { track_id: s.track_id }))
                    }
                    Err(code) => self.error(from, rid, code, "cannot subscribe to this track"),
                }
            }
            C::Unsubscribe(u) => {
                let track = u.track_id.parse::<TrackId>().ok();
                let Some((track, entry)) = track.and_then(|t| self.tracks.get(&t).map(|e| (t, e))) else {
                    return self.error(from, rid, ErrorCode::UnknownTrack, "no such track");
                };
                let alias = TrackAlias(entry.track.alias);
                if let Some(m) = self.members.get_mut(&from) {
                    m.subscriptions.remove(&track);
                    m.paused.remove(&track);
                }
                self.effects.push_back(Effect::Forward(ForwardingCommand::Unsubscribe {
                    meeting: self.name.clone(),
                    subscriber: from,
                    alias,
                }));
            }
            C::UpdateSubscription(u) => self.update_subscription(from, rid, u),
            C::SetMetadata(m) => self.set_own_metadata(from, rid, m),
            C::SetTrackMuted(m) => self.set_muted(from, rid, &m.track_id, m.muted, None),
            C::SendData(d) => self.data(from, rid, d),
            C::MuteParticipantTrack(m) => {
                if !self.is_moderator(from) {
                    return self.error(from, rid, ErrorCode::PermissionDenied, "only hosts may moderate");
                }
                match m.participant_id.parse::<ParticipantId>() {
                    Ok(target) if self.members.contains_key(&target) => {
                        self.set_muted(target, rid, &m.track_id, true, Some(from))
                    }
                    _ => self.error(from, rid, ErrorCode::NotFound, "no such participant"),
                }
            }
            C::RemoveParticipant(r) => {
                if !self.is_moderator(from) {
                    return self.error(from, rid, ErrorCode::PermissionDenied, "only hosts may moderate");
                }
                match r.participant_id.parse::<ParticipantId>() {
                    Ok(target) if self.members.contains_key(&target) => {
                        self.send(from, rid, S::Ack(sig::Ack {}));
                        self.remove(now, target, sig::LeaveReason::Removed, Some(ErrorCode::Removed));
                    }
                    _ => self.error(from, rid, ErrorCode::NotFound, "no such participant"),
                }
            }
            C::EndMeeting(_) => {
                if !self.is_moderator(from) {
                    return self.error(from, rid, ErrorCode::PermissionDenied, "only hosts may moderate");
                }
                self.send(from, rid, S::Ack(sig::Ack {}));
                self.end(now);
            }
            C::SetMeetingLocked(l) => self.set_locked(from, rid, l.locked),
            C::SetLobby(l) => self.set_lobby(now, from, rid, l.enabled),
            C::AdmitParticipant(a) => self.admit_from_lobby(now, from, rid, a),
            C::UpdateParticipant(u) => self.update_participant(from, rid, u),
            C::Ping(p) => self.send(
                from,
                rid,
                S::Pong(sig::Pong { client_time_us: p.client_time_us, server_time_us: micros(now) }),
            ),
        }
    }

    fn remove(
        &mut self,
        now: SystemTime,
        who: ParticipantId,
        reason: sig::LeaveReason,
        code: Option<ErrorCode>,
    ) {
        let Some(member) = self.members.remove(&who) else {
            return;
        };
        for t in &member.tracks {
            self.tracks.remove(t);
            self.effects
                .push_back(Effect::Event(MeetingEvent::TrackUnpublished { participant: who, track: *t }));
        }
        for m in self.members.values_mut() {
            m.subscriptions.retain(|t| !member.tracks.contains(t));
        }
        self.effects.push_back(Effect::Forward(ForwardingCommand::ParticipantLeft {
            meeting: self.name.clone(),
            participant: who,
        }));
        self.effects.push_back(Effect::Event(MeetingEvent::ParticipantLeft { participant: who }));
        if !member.grant.hidden {
            self.broadcast(
                who,
                S::ParticipantLeft(sig::ParticipantLeft {
                    participant_id: who.to_string(),
                    reason: reason as i32,
                }),
            );
        }
        self.effects.push_back(Effect::Close { participant: who, code, reason: "left".into() });
        if self.members.is_empty() {
            self.empty_since = Some(now);
        }
    }
}
