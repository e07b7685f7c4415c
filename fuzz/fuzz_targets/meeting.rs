//! The meeting state machine under random joins, messages (structured and raw protobuf),
//! disconnects, resumes, path samples, media reports and time: no panic, and the roster never
//! exceeds the limit.
#![no_main]

use std::time::{Duration, SystemTime};

use arbitrary::Arbitrary;
use dark_tower_core::forwarding::MediaReport;
use dark_tower_core::ids::{Identity, MeetingName, ParticipantId};
use dark_tower_core::proto::sig;
use dark_tower_core::store::MeetingSettings;
use dark_tower_core::token::{Grant, Role, VerifiedToken};
use dark_tower_core::transport::PathStats;
use dark_tower_signaling::meeting::ResumeRequest;
use dark_tower_signaling::{Command, Effect, JoinRequest, Meeting, MeetingConfig};
use libfuzzer_sys::fuzz_target;
use prost::Message;
use sig::client_message::Message as C;

#[derive(Arbitrary, Debug)]
struct Input {
    lobby: bool,
    max_participants: u8,
    ops: Vec<Op>,
}

#[derive(Arbitrary, Debug)]
enum Op {
    Join { who: u8, role: u8, hidden: bool, publish: bool, subscribe: bool, version: u8, auto: bool },
    Raw { who: u8, bytes: Vec<u8> },
    Publish { who: u8, source: u8, layers: u8, id: u8 },
    OnTrack { who: u8, track: u8, what: u8, who2: u8 },
    Moderate { who: u8, target: u8, what: u8 },
    Data { who: u8, reliable: bool, len: u16 },
    Disconnect { who: u8, epoch: u8 },
    Resume { who: u8, nonce: u8, epoch: u8, last_seq: u16 },
    Sample { who: u8, epoch: u8, rtt_ms: u16, sent: u16, lost: u16 },
    Levels { levels: Vec<(u8, u8)> },
    Advance { secs: u16 },
    Timeout,
}

fuzz_target!(|input: Input| {
    let name = MeetingName::new("fuzz").expect("valid name");
    let max = u32::from(input.max_participants % 6) + 1;
    let settings = MeetingSettings {
        max_participants: max,
        lobby: input.lobby,
        max_duration_secs: Some(3600),
        ..MeetingSettings::default()
    };
    let mut now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
    let mut meeting = Meeting::new(name.clone(), settings, MeetingConfig::default(), now);
    let pid = |n: u8| ParticipantId::from_u64(u64::from(n % 8) + 1);
    let mut tracks: Vec<String> = Vec::new();
    for op in input.ops {
        let cmd = match op {
            Op::Join { who, role, hidden, publish, subscribe, version, auto } => {
                let role = [Role::Host, Role::Participant, Role::Guest, Role::Viewer][usize::from(role % 4)];
                let grant = Grant {
                    meeting: Some(name.clone()),
                    role,
                    can_publish: publish,
                    can_subscribe: subscribe,
                    hidden,
                    ..Grant::default()
                };
                let token = VerifiedToken {
                    identity: Identity::new(format!("user{who}")).expect("valid identity"),
                    name: String::new(),
                    grant,
                    expires_at: now + Duration::from_secs(3600),
                    key_id: "fuzz".into(),
                };
                Command::Join(Box::new(JoinRequest {
                    participant: pid(who),
                    token,
                    join: sig::Join { protocol_version: u32::from(version % 3), client: None, auto_subscribe: auto },
                    media: sig::MediaEndpoint::default(),
                    request_id: 1,
                    epoch: u64::from(who % 8),
                    resume_nonce: u64::from(who % 8),
                    resume_token: String::new(),
                }))
            }
            Op::Raw { who, bytes } => match sig::ClientMessage::decode(bytes.as_slice()) {
                Ok(m) => Command::Message { participant: pid(who), message: Box::new(m) },
                Err(_) => continue,
            },
            Op::Publish { who, source, layers, id } => {
                let source = i32::from(source % 6);
                let kind = if source == 1 || source == 3 { 2 } else { 1 };
                let layers = (0..u32::from(layers % 5))
                    .map(|i| sig::SimulcastLayer { spatial_id: i, ..Default::default() })
                    .collect();
                message(pid(who), C::PublishTrack(sig::PublishTrack {
                    client_track_id: format!("t{id}"),
                    kind,
                    source,
                    codec: "vp8".into(),
                    layers,
                    name: String::new(),
                    encrypted: id % 2 == 0,
                }))
            }
            Op::OnTrack { who, track, what, who2 } => {
                let track_id = tracks.get(usize::from(track)).cloned().unwrap_or_else(|| format!("TR_{track:016x}"));
                let m = match what % 5 {
                    0 => C::Subscribe(sig::Subscribe { track_id, max_spatial_id: Some(u32::from(who2 % 4)) }),
                    1 => C::Unsubscribe(sig::Unsubscribe { track_id }),
                    2 => C::UnpublishTrack(sig::UnpublishTrack { track_id }),
                    3 => C::SetTrackMuted(sig::SetTrackMuted { track_id, muted: who2 % 2 == 0 }),
                    _ => C::MuteParticipantTrack(sig::MuteParticipantTrack {
                        participant_id: pid(who2).to_string(),
                        track_id,
                    }),
                };
                message(pid(who), m)
            }
            Op::Moderate { who, target, what } => {
                let participant_id = pid(target).to_string();
                let m = match what % 6 {
                    0 => C::RemoveParticipant(sig::RemoveParticipant { participant_id, reason: String::new() }),
                    1 => C::SetMeetingLocked(sig::SetMeetingLocked { locked: target % 2 == 0 }),
                    2 => C::SetLobby(sig::SetLobby { enabled: target % 2 == 0 }),
                    3 => C::AdmitParticipant(sig::AdmitParticipant { participant_id, admit: what % 2 == 0 }),
                    4 => C::UpdateParticipant(sig::UpdateParticipant {
                        participant_id,
                        role: i32::from(what % 5),
                        permissions: Some(sig::Permissions { can_publish: what % 2 == 0, ..Default::default() }),
                        name: (what % 3 == 0).then(|| "renamed".into()),
                        metadata: (what % 7 == 0).then(|| "x".repeat(usize::from(what) * 100)),
                    }),
                    _ => C::EndMeeting(sig::EndMeeting { reason: String::new() }),
                };
                message(pid(who), m)
            }
            Op::Data { who, reliable, len } => message(
                pid(who),
                C::SendData(sig::SendData {
                    topic: "t".into(),
                    payload: vec![0u8; usize::from(len)].into(),
                    reliable,
                    destination_participant_ids: vec![],
                }),
            ),
            Op::Disconnect { who, epoch } => Command::Disconnected {
                participant: pid(who),
                epoch: u64::from(epoch % 8),
                reason: sig::LeaveReason::Disconnected,
            },
            Op::Resume { who, nonce, epoch, last_seq } => {
                let req = ResumeRequest {
                    participant: pid(who),
                    nonce: u64::from(nonce % 8),
                    epoch: u64::from(epoch),
                    resume: sig::Resume { protocol_version: 1, last_seq: u64::from(last_seq), client: None },
                    media: sig::MediaEndpoint::default(),
                    request_id: 3,
                };
                let _ = meeting.resume(now, req);
                drain(&mut meeting, &mut tracks);
                continue;
            }
            Op::Sample { who, epoch, rtt_ms, sent, lost } => Command::PathSample {
                participant: pid(who),
                epoch: u64::from(epoch % 8),
                stats: PathStats {
                    rtt: Duration::from_millis(u64::from(rtt_ms)),
                    sent_packets: u64::from(sent),
                    lost_packets: u64::from(lost),
                },
            },
            Op::Levels { levels } => Command::Media(MediaReport::AudioLevels {
                meeting: name.clone(),
                levels: levels.into_iter().map(|(p, l)| (pid(p), l % 128)).collect(),
            }),
            Op::Advance { secs } => {
                now += Duration::from_secs(u64::from(secs));
                continue;
            }
            Op::Timeout => {
                meeting.handle_timeout(now);
                drain(&mut meeting, &mut tracks);
                continue;
            }
        };
        meeting.handle(now, cmd);
        drain(&mut meeting, &mut tracks);
        assert!(meeting.participant_count() <= max as usize, "roster above the limit");
    }
});

fn message(participant: ParticipantId, m: C) -> Command {
    Command::Message { participant, message: Box::new(sig::ClientMessage { request_id: 7, message: Some(m) }) }
}

/// Drains effects, remembering acknowledged track ids so later operations can name them.
fn drain(meeting: &mut Meeting, tracks: &mut Vec<String>) {
    while let Some(e) = meeting.poll_effect() {
        if let Effect::Send { message, .. } = e
            && let Some(sig::server_message::Message::PublishTrackAck(a)) = message.message
            && let Some(t) = a.track
        {
            tracks.push(t.id);
        }
    }
}
