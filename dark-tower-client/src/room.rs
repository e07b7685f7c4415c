//! Joining a meeting and following it.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use dark_tower_core::PROTOCOL_VERSION;
use dark_tower_core::codec::signal::MessageReader;
use dark_tower_core::error::ErrorCode;
use dark_tower_core::ids::{ParticipantId, TrackAlias, TrackId};
use dark_tower_core::limits::MAX_SIGNAL_MESSAGE;
use dark_tower_core::proto::sig;
use dark_tower_core::token::Role;
use dark_tower_core::transport::wt::{self, ConnectError, Liveness, WtSession};
use dark_tower_core::transport::{Session, TransportError};
use sig::client_message::Message as C;
use sig::server_message::Message as S;
use tokio::sync::mpsc;

use crate::ClientError;
use crate::e2ee::{RoomE2ee, SharedKeyProvider};
use crate::link::{Link, LinkCell};
use crate::local_track::{LocalTrack, TrackOptions};
use crate::reconnect::{self, Reading, Resumption};
use crate::signal::{self, Signal};
pub use crate::types::{ParticipantInfo, RemoteFrame, RoomEvent, TrackInfo};

/// How to join.
#[derive(Debug, Clone)]
pub struct ConnectOptions {
    /// Receive every track in the meeting without asking.
    pub auto_subscribe: bool,
    /// Free text sent to the server (bot name, OS).
    pub client_detail: String,
    /// Protocol version to speak (tests use this to check negotiation).
    pub protocol_version: u32,
    /// How long `connect` waits in a lobby for a host to admit this participant.
    pub lobby_wait: Duration,
    /// Resume automatically when the connection drops (within the server's grace period).
    pub reconnect: bool,
    /// How fast a dead connection is noticed (keep-alive and idle timeout).
    pub liveness: Liveness,
    /// End-to-end encryption (docs/E2EE.md): with a key provider, every frame this room's
    /// tracks send is encrypted and every frame it receives is decrypted; frames that do not
    /// decrypt become [`RoomEvent::EncryptionError`]. Keep a clone to set and rotate keys.
    pub e2ee: Option<SharedKeyProvider>,
}

impl Default for ConnectOptions {
    fn default() -> Self {
        Self {
            auto_subscribe: true,
            client_detail: String::new(),
            protocol_version: PROTOCOL_VERSION,
            lobby_wait: Duration::from_secs(600),
            reconnect: true,
            liveness: Liveness::default(),
            e2ee: None,
        }
    }
}

#[derive(Default)]
struct Roster {
    participants: HashMap<ParticipantId, ParticipantInfo>,
    aliases: HashMap<TrackAlias, (ParticipantId, TrackId)>,
}

/// State shared by the room and its background tasks.
pub(crate) struct Shared {
    roster: Mutex<Roster>,
    events: mpsc::UnboundedSender<RoomEvent>,
    disconnected: AtomicBool,
    /// Set when the room was connected with [`ConnectOptions::e2ee`].
    pub(crate) e2ee: Option<Arc<RoomE2ee>>,
}

impl Shared {
    pub(crate) fn emit(&self, e: RoomEvent) {
        if self.disconnected.load(Ordering::SeqCst) {
            return;
        }
        if matches!(e, RoomEvent::Disconnected { .. }) {
            self.disconnected.store(true, Ordering::SeqCst);
        }
        let _ = self.events.send(e);
    }

    pub(crate) fn is_disconnected(&self) -> bool {
        self.disconnected.load(Ordering::SeqCst)
    }

    pub(crate) fn lookup(&self, alias: TrackAlias) -> (Option<ParticipantId>, Option<TrackId>) {
        self.roster
            .lock()
            .ok()
            .and_then(|r| r.aliases.get(&alias).copied())
            .map_or((None, None), |(p, t)| (Some(p), Some(t)))
    }

    fn add_participant(&self, p: ParticipantInfo) {
        if let Ok(mut r) = self.roster.lock() {
            for t in &p.tracks {
                r.aliases.insert(t.alias, (p.id, t.id));
            }
            r.participants.insert(p.id, p);
        }
    }

    pub(crate) fn handle(&self, msg: S) {
        match msg {
            S::ParticipantJoined(j) => {
                if let Some(p) = j.participant.as_ref().and_then(ParticipantInfo::from_proto) {
                    self.add_participant(p.clone());
                    self.emit(RoomEvent::ParticipantJoined(p));
                }
            }
            S::ParticipantLeft(l) => {
                let Ok(id) = l.participant_id.parse::<ParticipantId>() else {
                    return;
                };
                if let Ok(mut r) = self.roster.lock()
                    && let Some(p) = r.participants.remove(&id)
                {
                    for t in p.tracks {
                        r.aliases.remove(&t.alias);
                    }
                }
                let reason = sig::LeaveReason::try_from(l.reason).unwrap_or(sig::LeaveReason::Unspecified);
                self.emit(RoomEvent::ParticipantLeft { participant: id, reason });
            }
            S::TrackPublished(t) => {
                let Ok(pid) = t.participant_id.parse::<ParticipantId>() else {
                    return;
                };
                let Some(track) = t.track.as_ref().and_then(TrackInfo::from_proto) else {
                    return;
                };
                if let Ok(mut r) = self.roster.lock() {
                    r.aliases.insert(track.alias, (pid, track.id));
                    if let Some(p) = r.participants.get_mut(&pid) {
                        p.tracks.push(track.clone());
                    }
                }
                self.emit(RoomEvent::TrackPublished { participant: pid, track });
            }
            S::TrackUnpublished(t) => {
                let (Ok(pid), Ok(tid)) =
                    (t.participant_id.parse::<ParticipantId>(), t.track_id.parse::<TrackId>())
                else {
                    return;
                };
                if let Ok(mut r) = self.roster.lock() {
                    r.aliases.retain(|_, (_, id)| *id != tid);
                    if let Some(p) = r.participants.get_mut(&pid) {
                        p.tracks.retain(|x| x.id != tid);
                    }
                }
                self.emit(RoomEvent::TrackUnpublished { participant: pid, track: tid });
            }
            S::TrackMuted(m) => {
                let (Ok(pid), Ok(tid)) =
                    (m.participant_id.parse::<ParticipantId>(), m.track_id.parse::<TrackId>())
                else {
                    return;
                };
                self.emit(RoomEvent::TrackMuted {
                    participant: pid,
                    track: tid,
                    muted: m.muted,
                    by: m.by_participant_id.parse().ok(),
                });
            }
            S::DataReceived(d) => self.emit(RoomEvent::DataReceived {
                from: d.from_participant_id.parse().ok(),
                topic: d.topic,
                payload: d.payload,
                reliable: d.reliable,
            }),
            S::ParticipantUpdated(u) => {
                if let Some(p) = u.participant.as_ref().and_then(ParticipantInfo::from_proto) {
                    if let Ok(mut r) = self.roster.lock()
                        && let Some(existing) = r.participants.get_mut(&p.id)
                    {
                        existing.role = p.role;
                        existing.permissions = p.permissions.clone();
                        existing.reconnecting = p.reconnecting;
                        existing.name = p.name.clone();
                        existing.metadata = p.metadata.clone();
                    }
                    self.emit(RoomEvent::ParticipantUpdated(p));
                }
            }
            S::MeetingUpdated(m) => {
                let m = m.meeting.unwrap_or_default();
                self.emit(RoomEvent::MeetingUpdated { locked: m.locked, lobby: m.lobby })
            }
            S::LobbyUpdated(l) => self.emit(RoomEvent::LobbyUpdated(
                l.waiting.iter().filter_map(ParticipantInfo::from_proto).collect(),
            )),
            S::ActiveSpeakers(a) => self.emit(RoomEvent::ActiveSpeakersChanged(
                a.speakers.iter().filter_map(|s| Some((s.participant_id.parse().ok()?, s.level))).collect(),
            )),
            S::SubscribedLayers(l) => {
                if let Ok(track) = l.track_id.parse() {
                    let layers = l.spatial_ids.iter().filter_map(|s| u8::try_from(*s).ok()).collect();
                    self.emit(RoomEvent::LayersWanted { track, layers });
                }
            }
            S::KeyframeRequest(k) => {
                if let (Ok(track), Ok(spatial_id)) = (k.track_id.parse(), u8::try_from(k.spatial_id)) {
                    self.emit(RoomEvent::KeyframeRequested { track, spatial_id });
                }
            }
            S::ConnectionQuality(q) => {
                for u in q.updates {
                    if let Ok(participant) = u.participant_id.parse() {
                        self.emit(RoomEvent::ConnectionQualityChanged {
                            participant,
                            quality: sig::ConnectionQualityLevel::try_from(u.quality)
                                .unwrap_or(sig::ConnectionQualityLevel::Unspecified),
                            rtt_ms: u.rtt_ms,
                            loss: u.loss,
                        });
                    }
                }
            }
            S::Error(e) => self.emit(RoomEvent::Error {
                code: ErrorCode::from_proto(e.code).unwrap_or(ErrorCode::Internal),
                message: e.message,
            }),
            S::Disconnect(d) => {
                self.emit(RoomEvent::Disconnected { code: ErrorCode::from_proto(d.code), reason: d.message })
            }
            // Replies whose request was abandoned, and messages only valid at join time.
            S::Joined(_)
            | S::Resumed(_)
            | S::LobbyWaiting(_)
            | S::PublishTrackAck(_)
            | S::SubscribeAck(_)
            | S::Pong(_)
            | S::Ack(_) => {}
        }
    }
}

/// A joined meeting. Events arrive through [`Room::next_event`].
pub struct Room {
    meeting: String,
    e2ee_required: bool,
    local: ParticipantInfo,
    signal: Signal,
    link: Arc<LinkCell>,
    shared: Arc<Shared>,
    events: mpsc::UnboundedReceiver<RoomEvent>,
    max_datagram_frame: usize,
}

impl std::fmt::Debug for Room {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Room")
            .field("meeting", &self.meeting)
            .field("local", &self.local.id)
            .finish_non_exhaustive()
    }
}

#[derive(serde::Deserialize)]
struct JoinResponse {
    signal_url: String,
    certificate_sha256: Vec<String>,
}

#[derive(serde::Deserialize)]
struct ErrorBody {
    error: ErrorDetail,
}

#[derive(serde::Deserialize)]
struct ErrorDetail {
    code: String,
    message: String,
}

fn connect_error(e: ConnectError) -> ClientError {
    match e {
        ConnectError::Rejected => ClientError::SessionRejected,
        other => ClientError::Connection(other.to_string()),
    }
}

fn closed_error(e: TransportError) -> ClientError {
    match e {
        TransportError::ClosedByPeer { code, reason } => match ErrorCode::from_wire(code) {
            Some(code) => ClientError::Server { code, message: reason },
            None => ClientError::Connection(reason),
        },
        other => ClientError::Connection(other.to_string()),
    }
}

/// Asks the server where to go (`POST /v1/join`).
async fn join_http(server_url: &str, token: &str, version: u32) -> Result<JoinResponse, ClientError> {
    let base = url::Url::parse(server_url).map_err(|e| ClientError::InvalidUrl(e.to_string()))?;
    if !matches!(base.scheme(), "http" | "https") {
        return Err(ClientError::InvalidUrl("expected http or https".into()));
    }
    let url = base.join("/v1/join").map_err(|e| ClientError::InvalidUrl(e.to_string()))?;
    let resp = reqwest::Client::new()
        .post(url)
        .bearer_auth(token)
        .json(&serde_json::json!({ "protocol_version": version }))
        .timeout(Duration::from_secs(10))
        .send()
        .await
        .map_err(|e| ClientError::Connection(e.to_string()))?;
    let status = resp.status();
    let body = resp.bytes().await.map_err(|e| ClientError::Connection(e.to_string()))?;
    if !status.is_success() {
        let (code, message) = match serde_json::from_slice::<ErrorBody>(&body) {
            Ok(b) => (ErrorCode::from_name(&b.error.code).unwrap_or(ErrorCode::Internal), b.error.message),
            Err(_) => (ErrorCode::Internal, String::from_utf8_lossy(&body).into_owned()),
        };
        return Err(ClientError::JoinRefused { status: status.as_u16(), code, message });
    }
    serde_json::from_slice(&body).map_err(|e| ClientError::Protocol(format!("join response: {e}")))
}

/// Joins the meeting named by `token` on the server at `server_url` (e.g. `http://127.0.0.1:8080`).
pub async fn connect(server_url: &str, token: &str, options: ConnectOptions) -> Result<Room, ClientError> {
    let join = join_http(server_url, token, options.protocol_version).await?;
    let signal_url = format!("{}?access_token={}", join.signal_url, token);
    let signal_session = wt::connect_with(&signal_url, &join.certificate_sha256, options.liveness)
        .await
        .map_err(connect_error)?;
    let (mut send, mut recv) =
        signal_session.open_bi().await.map_err(|e| ClientError::Connection(e.to_string()))?;
    let hello = sig::ClientMessage {
        request_id: 0,
        message: Some(C::Join(sig::Join {
            protocol_version: options.protocol_version,
            client: Some(sig::ClientInfo {
                sdk: "dark-tower-client".into(),
                version: env!("CARGO_PKG_VERSION").into(),
                detail: options.client_detail.clone(),
                // The SDK does not decode: publishers treat it as VP8 only.
                video_decoders: Vec::new(),
            }),
            auto_subscribe: options.auto_subscribe,
        })),
    };
    signal::write_message(&mut send, &hello).await?;
    let mut reader = MessageReader::new(MAX_SIGNAL_MESSAGE);
    let mut wait = signal::REQUEST_TIMEOUT;
    let mut first: Option<sig::ServerMessage> = None;
    loop {
        let msg = tokio::time::timeout(wait, signal::read_message(&mut recv, &mut reader))
            .await
            .map_err(|_| ClientError::Timeout)?
            .map_err(|e| ClientError::Protocol(e.to_string()))?;
        match msg.as_ref().and_then(|m| m.message.as_ref()) {
            // Held in the lobby: Joined comes when a host admits us.
            Some(S::LobbyWaiting(_)) => wait = options.lobby_wait,
            _ => {
                first = msg.or(first);
                break;
            }
        }
    }
    let joined_seq = first.as_ref().map_or(0, |m| m.seq);
    let joined = match first.and_then(|m| m.message) {
        Some(S::Joined(j)) => j,
        Some(S::Disconnect(d)) => {
            return Err(ClientError::Server {
                code: ErrorCode::from_proto(d.code).unwrap_or(ErrorCode::Internal),
                message: d.message,
            });
        }
        Some(other) => return Err(ClientError::Protocol(format!("expected Joined, got {other:?}"))),
        None => return Err(closed_error(signal_session.closed().await)),
    };
    let local = joined
        .participant
        .as_ref()
        .and_then(ParticipantInfo::from_proto)
        .ok_or_else(|| ClientError::Protocol("Joined without a valid participant".into()))?;
    let media_ep =
        joined.media.clone().ok_or_else(|| ClientError::Protocol("Joined without media".into()))?;
    let media_url = format!("{}?ticket={}", media_ep.url, media_ep.ticket);
    let media = wt::connect_with(&media_url, &media_ep.certificate_sha256, options.liveness)
        .await
        .map_err(connect_error)?;

    let (events_tx, events) = mpsc::unbounded_channel();
    let shared = Arc::new(Shared {
        roster: Mutex::default(),
        events: events_tx,
        disconnected: AtomicBool::new(false),
        e2ee: options.e2ee.clone().map(|keys| Arc::new(RoomE2ee::new(keys, local.id))),
    });
    for p in joined.others.iter().filter_map(ParticipantInfo::from_proto) {
        shared.add_participant(p);
    }
    let (signal, pending, outgoing) = Signal::new();
    signal::spawn_writer(Arc::clone(&outgoing), send, reconnect::closed(signal_session.clone()));
    reconnect::spawn_datagrams(signal_session.clone(), Arc::clone(&shared));
    let resumption = (options.reconnect && joined.resume_grace_ms > 0 && !joined.resume_token.is_empty())
        .then(|| Resumption {
            signal_url: join.signal_url.clone(),
            certificate_sha256: join.certificate_sha256.clone(),
            token: joined.resume_token.clone(),
            grace: Duration::from_millis(joined.resume_grace_ms.into()),
            protocol_version: options.protocol_version,
            detail: options.client_detail.clone(),
            liveness: options.liveness,
        });
    let link = LinkCell::new(Link { signal_session, media: media.clone(), generation: 0 });
    let reading = Reading { recv, reader, last_seq: joined_seq };
    tokio::spawn(reconnect::follow(
        Arc::clone(&shared),
        Arc::clone(&link),
        pending,
        outgoing,
        reading,
        resumption,
    ));
    crate::media::spawn_receivers(media.clone(), Arc::clone(&shared));
    let max_datagram_frame = joined
        .limits
        .as_ref()
        .map_or(dark_tower_core::limits::MAX_DATAGRAM_FRAME, |l| l.max_datagram_frame_bytes as usize);
    let e2ee_required = joined.meeting.as_ref().is_some_and(|m| m.e2ee_required);
    Ok(Room {
        e2ee_required,
        meeting: joined.meeting.map(|m| m.name).unwrap_or_default(),
        local,
        signal,
        link,
        shared,
        events,
        max_datagram_frame,
    })
}

fn now_us() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_micros() as u64).unwrap_or(0)
}

impl Room {
    /// The meeting's name.
    pub fn meeting(&self) -> &str {
        &self.meeting
    }

    /// Whether the meeting requires end-to-end encryption: its tracks can only be published
    /// with [`ConnectOptions::e2ee`] set, and receiving needs the meeting's key.
    pub fn e2ee_required(&self) -> bool {
        self.e2ee_required
    }

    /// This participant.
    pub fn local_participant(&self) -> &ParticipantInfo {
        &self.local
    }

    /// Everyone else now present, with their tracks.
    pub fn remote_participants(&self) -> Vec<ParticipantInfo> {
        self.shared.roster.lock().map(|r| r.participants.values().cloned().collect()).unwrap_or_default()
    }

    /// The next event; `None` after [`RoomEvent::Disconnected`] was returned.
    pub async fn next_event(&mut self) -> Option<RoomEvent> {
        self.events.recv().await
    }

    /// Publishes a track; frames are sent through the returned [`LocalTrack`].
    pub async fn publish_track(&self, options: TrackOptions) -> Result<LocalTrack, ClientError> {
        let mut request = options.to_proto();
        request.encrypted = self.shared.e2ee.is_some();
        let reply = self.signal.request(C::PublishTrack(request)).await?;
        let S::PublishTrackAck(ack) = reply else {
            return Err(ClientError::Protocol("expected PublishTrackAck".into()));
        };
        let info = ack
            .track
            .as_ref()
            .and_then(TrackInfo::from_proto)
            .ok_or_else(|| ClientError::Protocol("ack without a valid track".into()))?;
        Ok(LocalTrack::new(info, Arc::clone(&self.link), self.max_datagram_frame, self.shared.e2ee.clone()))
    }

    /// Stops publishing a track.
    pub fn unpublish_track(&self, track: &TrackInfo) -> Result<(), ClientError> {
        self.signal.send(C::UnpublishTrack(sig::UnpublishTrack { track_id: track.id.to_string() }))
    }

    /// Subscribes to a track (not needed with `auto_subscribe`). `max_spatial` caps the layer.
    pub async fn subscribe(&self, track: TrackId, max_spatial: Option<u8>) -> Result<(), ClientError> {
        let msg = sig::Subscribe { track_id: track.to_string(), max_spatial_id: max_spatial.map(u32::from) };
        match self.signal.request(C::Subscribe(msg)).await? {
            S::SubscribeAck(_) => Ok(()),
            _ => Err(ClientError::Protocol("expected SubscribeAck".into())),
        }
    }

    /// Changes how a subscribed track is received: layer, render size (adaptive stream), paused.
    pub async fn update_subscription(
        &self,
        track: TrackId,
        settings: crate::types::SubscriptionSettings,
    ) -> Result<(), ClientError> {
        let msg = sig::UpdateSubscription {
            track_id: track.to_string(),
            max_spatial_id: settings.max_spatial.map(u32::from),
            max_width: settings.max_size.map(|(w, _)| w),
            max_height: settings.max_size.map(|(_, h)| h),
            paused: settings.paused,
        };
        self.expect_ack(C::UpdateSubscription(msg)).await
    }

    /// Stops receiving a track.
    pub fn unsubscribe(&self, track: TrackId) -> Result<(), ClientError> {
        self.signal.send(C::Unsubscribe(sig::Unsubscribe { track_id: track.to_string() }))
    }

    /// Mutes or unmutes one of this participant's tracks; everyone else sees `TrackMuted`.
    pub async fn set_track_muted(&self, track: TrackId, muted: bool) -> Result<(), ClientError> {
        let msg = sig::SetTrackMuted { track_id: track.to_string(), muted };
        self.expect_ack(C::SetTrackMuted(msg)).await
    }

    /// Sends a data message to everyone else (`to` empty) or to the listed participants.
    /// Reliable messages (up to 64 KiB) arrive in order and are acknowledged; best-effort ones
    /// (up to 1 KiB) go as one datagram and may be lost.
    pub async fn send_data(
        &self,
        topic: &str,
        payload: Bytes,
        reliable: bool,
        to: &[ParticipantId],
    ) -> Result<(), ClientError> {
        let msg = sig::SendData {
            topic: topic.to_owned(),
            payload,
            reliable,
            destination_participant_ids: to.iter().map(|p| p.to_string()).collect(),
        };
        if reliable {
            return self.expect_ack(C::SendData(msg)).await;
        }
        let max = dark_tower_core::limits::MAX_UNRELIABLE_DATA;
        if msg.payload.len() > max {
            return Err(ClientError::TooLarge { size: msg.payload.len(), max });
        }
        let envelope = sig::ClientMessage { request_id: 0, message: Some(C::SendData(msg)) };
        self.link
            .get()
            .signal_session
            .send_datagram(prost::Message::encode_to_vec(&envelope).into())
            .map_err(|e| ClientError::Connection(e.to_string()))
    }

    /// Moderation: mutes another participant's track (host or admin only).
    pub async fn mute_participant_track(
        &self,
        participant: ParticipantId,
        track: TrackId,
    ) -> Result<(), ClientError> {
        let msg = sig::MuteParticipantTrack {
            participant_id: participant.to_string(),
            track_id: track.to_string(),
        };
        self.expect_ack(C::MuteParticipantTrack(msg)).await
    }

    /// Moderation: removes a participant from the meeting (host or admin only).
    pub async fn remove_participant(
        &self,
        participant: ParticipantId,
        reason: &str,
    ) -> Result<(), ClientError> {
        let msg =
            sig::RemoveParticipant { participant_id: participant.to_string(), reason: reason.to_owned() };
        self.expect_ack(C::RemoveParticipant(msg)).await
    }

    /// Moderation: ends the meeting for everyone (host or admin only).
    pub async fn end_meeting(&self, reason: &str) -> Result<(), ClientError> {
        self.expect_ack(C::EndMeeting(sig::EndMeeting { reason: reason.to_owned() })).await
    }

    /// Moderation: locks or unlocks the meeting to new participants (host or admin only).
    pub async fn set_meeting_locked(&self, locked: bool) -> Result<(), ClientError> {
        self.expect_ack(C::SetMeetingLocked(sig::SetMeetingLocked { locked })).await
    }

    /// Moderation: changes a participant's role and/or permissions (host or admin only).
    /// Revoked publishing unpublishes its tracks at once.
    pub async fn update_participant(
        &self,
        participant: ParticipantId,
        role: Option<Role>,
        permissions: Option<sig::Permissions>,
    ) -> Result<(), ClientError> {
        let role = match role {
            None => sig::Role::Unspecified,
            Some(Role::Host) => sig::Role::Host,
            Some(Role::Participant) => sig::Role::Participant,
            Some(Role::Guest) => sig::Role::Guest,
            Some(Role::Viewer) => sig::Role::Viewer,
        };
        let msg = sig::UpdateParticipant {
            participant_id: participant.to_string(),
            role: role as i32,
            permissions,
            name: None,
            metadata: None,
        };
        self.expect_ack(C::UpdateParticipant(msg)).await
    }

    /// Changes this participant's display name and/or metadata (at most 256 and 16384 bytes);
    /// everyone gets [`RoomEvent::ParticipantUpdated`].
    pub async fn set_metadata(&self, name: Option<&str>, metadata: Option<&str>) -> Result<(), ClientError> {
        let msg = sig::SetMetadata { name: name.map(str::to_owned), metadata: metadata.map(str::to_owned) };
        self.expect_ack(C::SetMetadata(msg)).await
    }

    /// Moderation: turns the lobby on or off (off admits everyone waiting).
    pub async fn set_lobby(&self, enabled: bool) -> Result<(), ClientError> {
        self.expect_ack(C::SetLobby(sig::SetLobby { enabled })).await
    }

    /// Moderation: admits (or denies) a participant waiting in the lobby.
    pub async fn admit(&self, participant: ParticipantId, admit: bool) -> Result<(), ClientError> {
        self.expect_ack(C::AdmitParticipant(sig::AdmitParticipant {
            participant_id: participant.to_string(),
            admit,
        }))
        .await
    }

    async fn expect_ack(&self, message: C) -> Result<(), ClientError> {
        match self.signal.request(message).await? {
            S::Ack(_) => Ok(()),
            other => Err(ClientError::Protocol(format!("expected Ack, got {other:?}"))),
        }
    }

    /// Measures the signaling round trip.
    pub async fn ping(&self) -> Result<Duration, ClientError> {
        let start = std::time::Instant::now();
        match self.signal.request(C::Ping(sig::Ping { client_time_us: now_us() })).await? {
            S::Pong(_) => Ok(start.elapsed()),
            _ => Err(ClientError::Protocol("expected Pong".into())),
        }
    }

    /// Leaves the meeting and closes both sessions.
    pub async fn leave(self) {
        let _ = self.signal.send(C::Leave(sig::Leave { reason: "leave".into() }));
        let link = self.link.get();
        // The server closes the session once it has processed Leave.
        let _ = tokio::time::timeout(Duration::from_secs(2), link.signal_session.closed()).await;
        link.signal_session.close(0, "leave");
        link.media.close(0, "leave");
    }

    /// Closes both connections without `Leave`, as a crashing client would: no resume from
    /// this side; the server keeps the participant for its grace period.
    pub fn abort(&self) {
        let link = self.link.get();
        link.signal_session.close(0, "abort");
        link.media.close(0, "abort");
    }

    /// The current media session, for tests that need to send malformed media.
    pub fn media_session(&self) -> WtSession {
        self.link.get().media.clone()
    }
}
