//! Shared helpers for the meeting tests: a [`Meeting`] driven by hand with a virtual clock,
//! verified tokens built directly, and readers for the effects it produces.
#![allow(dead_code)]

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use dark_tower_core::error::ErrorCode;
use dark_tower_core::forwarding::ForwardingCommand;
use dark_tower_core::ids::{Identity, MeetingName, ParticipantId};
use dark_tower_core::proto::sig;
use dark_tower_core::store::MeetingSettings;
use dark_tower_core::token::{Grant, VerifiedToken};
use dark_tower_core::track::TrackSource;
use dark_tower_signaling::{Command, Effect, JoinRequest, Meeting, MeetingConfig, MeetingEvent};

pub use sig::client_message::Message as C;
pub use sig::server_message::Message as S;

pub const MEETING: &str = "standup";

/// The `request_id` of every `Join` envelope sent by [`Sim::join_as`].
pub const JOIN_REQUEST_ID: u32 = 1;

pub fn meeting_name() -> MeetingName {
    MeetingName::new(MEETING).expect("valid meeting name")
}

/// Participant number `n`.
pub fn pid(n: u64) -> ParticipantId {
    ParticipantId::from_u64(n)
}

/// The virtual epoch: a fixed wall-clock time.
pub fn t0() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_700_000_000)
}

/// The default grant for this meeting.
pub fn grant() -> Grant {
    Grant { meeting: Some(meeting_name()), ..Grant::default() }
}

/// A verified token for `identity` with `grant`.
pub fn token_with(identity: &str, grant: Grant) -> VerifiedToken {
    VerifiedToken {
        identity: Identity::new(identity).expect("valid identity"),
        name: format!("{identity} (display)"),
        grant,
        expires_at: t0() + Duration::from_secs(6 * 3600),
        key_id: "APItest".into(),
    }
}

pub fn token(identity: &str) -> VerifiedToken {
    token_with(identity, grant())
}

/// The resume nonce [`Sim::join_as`] gives `participant`.
pub fn nonce(participant: ParticipantId) -> u64 {
    participant.as_u64() * 1000 + 7
}

/// A dummy media endpoint; the meeting passes it through in `Joined`.
pub fn endpoint(n: u64) -> sig::MediaEndpoint {
    sig::MediaEndpoint {
        url: "https://127.0.0.1:4433/v1/media".into(),
        ticket: format!("ticket-{n}"),
        certificate_sha256: vec!["00".repeat(32)],
    }
}

pub fn join_message(auto_subscribe: bool) -> sig::Join {
    sig::Join {
        protocol_version: dark_tower_core::PROTOCOL_VERSION,
        client: Some(sig::ClientInfo {
            sdk: "test".into(),
            version: "0".into(),
            detail: String::new(),
            video_decoders: Vec::new(),
        }),
        auto_subscribe,
    }
}

/// A meeting and the virtual time at which commands are fed.
pub struct Sim {
    pub meeting: Meeting,
    pub now: SystemTime,
}

impl Sim {
    pub fn new() -> Self {
        Self::with(MeetingSettings::default(), MeetingConfig::default())
    }

    pub fn with(settings: MeetingSettings, config: MeetingConfig) -> Self {
        let now = t0();
        Self { meeting: Meeting::new(meeting_name(), settings, config, now), now }
    }

    pub fn advance(&mut self, by: Duration) {
        self.now += by;
    }

    /// Every effect queued so far, in order.
    pub fn drain(&mut self) -> Vec<Effect> {
        let mut out = Vec::new();
        while let Some(e) = self.meeting.poll_effect() {
            out.push(e);
        }
        out
    }

    /// Feeds one command and drains what it caused.
    pub fn handle(&mut self, command: Command) -> Vec<Effect> {
        self.meeting.handle(self.now, command);
        let out = self.drain();
        self.advance(Duration::from_millis(10));
        out
    }

    pub fn join_request(&mut self, req: JoinRequest) -> Vec<Effect> {
        self.handle(Command::Join(Box::new(req)))
    }

    /// `participant` joins with `token`.
    pub fn join_as(
        &mut self,
        participant: ParticipantId,
        token: VerifiedToken,
        auto_subscribe: bool,
    ) -> Vec<Effect> {
        self.join_request(JoinRequest {
            participant,
            token,
            join: join_message(auto_subscribe),
            media: endpoint(participant.as_u64()),
            request_id: JOIN_REQUEST_ID,
            epoch: participant.as_u64(),
            resume_nonce: nonce(participant),
            resume_token: format!("resume-{participant}"),
        })
    }

    /// The connection of `participant`'s session `epoch` (its number at join) drops.
    pub fn drop_connection(&mut self, participant: ParticipantId, epoch: u64) -> Vec<Effect> {
        self.handle(Command::Disconnected { participant, epoch, reason: sig::LeaveReason::Disconnected })
    }

    /// Participant `n` joins as `user{n}` with the default grant.
    pub fn join(&mut self, n: u64, auto_subscribe: bool) -> Vec<Effect> {
        self.join_as(pid(n), token(&format!("user{n}")), auto_subscribe)
    }

    /// `from` sends `message` with `request_id`.
    pub fn send(&mut self, from: ParticipantId, request_id: u32, message: C) -> Vec<Effect> {
        self.handle(Command::Message {
            participant: from,
            message: Box::new(sig::ClientMessage { request_id, message: Some(message) }),
        })
    }

    /// Publishes and returns the acknowledged track, failing the test if it was refused.
    pub fn publish_ok(&mut self, from: ParticipantId, p: sig::PublishTrack) -> sig::Track {
        let out = self.send(from, 900, C::PublishTrack(p.clone()));
        let ack = reply(&out, from)
            .and_then(|(_, m)| match m {
                S::PublishTrackAck(a) => Some(a),
                _ => None,
            })
            .unwrap_or_else(|| panic!("publish of {} refused: {out:?}", p.client_track_id));
        assert_eq!(ack.client_track_id, p.client_track_id);
        ack.track.expect("ack carries the track")
    }

    pub fn leave(&mut self, from: ParticipantId) -> Vec<Effect> {
        self.send(from, 0, C::Leave(sig::Leave { reason: "bye".into() }))
    }

    pub fn subscribe(
        &mut self,
        from: ParticipantId,
        request_id: u32,
        track_id: &str,
        max: Option<u32>,
    ) -> Vec<Effect> {
        self.send(
            from,
            request_id,
            C::Subscribe(sig::Subscribe { track_id: track_id.into(), max_spatial_id: max }),
        )
    }
}

impl Default for Sim {
    fn default() -> Self {
        Self::new()
    }
}

pub fn layers(n: u32) -> Vec<sig::SimulcastLayer> {
    (0..n)
        .map(|i| sig::SimulcastLayer {
            spatial_id: i,
            width: 320 << i,
            height: 180 << i,
            max_bitrate_bps: 150_000 << i,
            max_framerate: 30,
        })
        .collect()
}

pub fn publish(client_track_id: &str, source: TrackSource, n_layers: u32) -> sig::PublishTrack {
    sig::PublishTrack {
        client_track_id: client_track_id.into(),
        kind: source.kind().to_proto(),
        source: source.to_proto(),
        codec: if source.kind() == dark_tower_core::track::TrackKind::Audio {
            "opus".into()
        } else {
            "vp8".into()
        },
        layers: layers(n_layers),
        name: client_track_id.into(),
        encrypted: false,
    }
}

pub fn camera(client_track_id: &str, n_layers: u32) -> sig::PublishTrack {
    publish(client_track_id, TrackSource::Camera, n_layers)
}

pub fn mic(client_track_id: &str) -> sig::PublishTrack {
    publish(client_track_id, TrackSource::Microphone, 0)
}

/// Messages sent to `to`, with their request ids, in order.
pub fn sent_to(effects: &[Effect], to: ParticipantId) -> Vec<(u32, S)> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::Send { to: t, message } if *t == to => {
                Some((message.request_id, message.message.clone().expect("server messages have a body")))
            }
            _ => None,
        })
        .collect()
}

/// The only message sent to `to`, if exactly one was.
pub fn reply(effects: &[Effect], to: ParticipantId) -> Option<(u32, S)> {
    let mut sent = sent_to(effects, to);
    if sent.len() == 1 { sent.pop() } else { None }
}

/// Who received a message at all.
pub fn recipients(effects: &[Effect]) -> Vec<ParticipantId> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::Send { to, .. } => Some(*to),
            _ => None,
        })
        .collect()
}

/// The `Joined` sent to `to`.
pub fn joined(effects: &[Effect], to: ParticipantId) -> sig::Joined {
    sent_to(effects, to)
        .into_iter()
        .find_map(|(_, m)| match m {
            S::Joined(j) => Some(j),
            _ => None,
        })
        .unwrap_or_else(|| panic!("no Joined for {to}: {effects:?}"))
}

/// Ids of the participants a `Joined` lists as others, in order.
pub fn other_ids(j: &sig::Joined) -> Vec<String> {
    j.others.iter().map(|p| p.id.clone()).collect()
}

/// The error sent to `to`, as (request id, code).
pub fn error_to(effects: &[Effect], to: ParticipantId) -> Option<(u32, ErrorCode)> {
    sent_to(effects, to).into_iter().find_map(|(rid, m)| match m {
        S::Error(e) => Some((rid, ErrorCode::from_proto(e.code).expect("known error code"))),
        _ => None,
    })
}

/// Asserts `effects` are exactly one error reply to `to`, with `request_id` and `code`.
pub fn assert_only_error(effects: &[Effect], to: ParticipantId, request_id: u32, code: ErrorCode) {
    assert_eq!(effects.len(), 1, "expected only an error reply, got {effects:?}");
    assert_eq!(error_to(effects, to), Some((request_id, code)), "{effects:?}");
}

pub fn forwards(effects: &[Effect]) -> Vec<ForwardingCommand> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::Forward(c) => Some(c.clone()),
            _ => None,
        })
        .collect()
}

pub fn events(effects: &[Effect]) -> Vec<MeetingEvent> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::Event(ev) => Some(ev.clone()),
            _ => None,
        })
        .collect()
}

/// The closes among `effects`, as (participant, code).
pub fn closes(effects: &[Effect]) -> Vec<(ParticipantId, Option<ErrorCode>)> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::Close { participant, code, .. } => Some((*participant, *code)),
            _ => None,
        })
        .collect()
}
