//! The SFU router under random sequences of commands, sessions, frames and timeouts: no panic,
//! and frames only ever go to sessions that are attached.
#![no_main]

use std::collections::HashSet;
use std::time::{Duration, Instant};

use arbitrary::Arbitrary;
use bytes::Bytes;
use dark_tower_core::codec::media::{MediaFrame, MediaHeader};
use dark_tower_core::forwarding::ForwardingCommand;
use dark_tower_core::ids::{MeetingName, ParticipantId, TrackAlias, TrackId};
use dark_tower_core::track::TrackKind;
use dark_tower_sfu::{Input, LinkReport, Output, Router, SessionId, Via};
use libfuzzer_sys::fuzz_target;

#[derive(Arbitrary, Debug)]
enum Op {
    Publish { who: u8, alias: u8, video: bool, layers: u8 },
    Unpublish { alias: u8 },
    Subscribe { who: u8, alias: u8, max: Option<u8> },
    Unsubscribe { who: u8, alias: u8 },
    Left { who: u8 },
    Attach { session: u8, who: u8, publish: bool, relay: bool },
    Link { session: u8, sent: u32, dropped: u16, queued: u32, rtt_ms: u16 },
    Detach { session: u8 },
    Frame { session: u8, alias: u8, layer: u8, temporal: u8, group: u8, seq: u8, key: bool, level: Option<u8>, datagram: bool, len: u8 },
    Advance { ms: u16 },
    Timeout,
}

fuzz_target!(|ops: Vec<Op>| {
    if std::env::var_os("FUZZ_DEBUG").is_some() {
        eprintln!("{ops:#?}");
    }
    let meeting = MeetingName::new("fuzz").expect("valid name");
    let pid = |n: u8| ParticipantId::from_u64(u64::from(n % 8));
    let alias = |n: u8| TrackAlias(u32::from(n % 8));
    let mut now = Instant::now();
    let mut router = Router::new();
    let mut attached: HashSet<SessionId> = HashSet::new();
    for op in ops {
        let input = match op {
            Op::Publish { who, alias: a, video, layers } => Input::Command(ForwardingCommand::TrackPublished {
                meeting: meeting.clone(),
                publisher: pid(who),
                track: TrackId::from_u64(u64::from(a)),
                alias: alias(a),
                kind: if video { TrackKind::Video } else { TrackKind::Audio },
                layers: layers % 5,
            }),
            Op::Unpublish { alias: a } => {
                Input::Command(ForwardingCommand::TrackUnpublished { meeting: meeting.clone(), alias: alias(a) })
            }
            Op::Subscribe { who, alias: a, max } => Input::Command(ForwardingCommand::Subscribe {
                meeting: meeting.clone(),
                subscriber: pid(who),
                alias: alias(a),
                max_spatial: max.map(|m| m % 4),
            }),
            Op::Unsubscribe { who, alias: a } => Input::Command(ForwardingCommand::Unsubscribe {
                meeting: meeting.clone(),
                subscriber: pid(who),
                alias: alias(a),
            }),
            Op::Left { who } => {
                Input::Command(ForwardingCommand::ParticipantLeft { meeting: meeting.clone(), participant: pid(who) })
            }
            Op::Attach { session, who, publish, relay } => {
                attached.insert(SessionId(u64::from(session % 8)));
                Input::SessionAttached { session: SessionId(u64::from(session % 8)), participant: pid(who), publish, subscribe: true, relay }
            }
            Op::Link { session, sent, dropped, queued, rtt_ms } => Input::Link {
                session: SessionId(u64::from(session % 8)),
                report: LinkReport {
                    sent_bytes: u64::from(sent),
                    dropped_frames: u64::from(dropped),
                    queued_frames: queued % 512,
                    queued_bytes: u64::from(queued),
                    rtt: Duration::from_millis(u64::from(rtt_ms)),
                },
            },
            Op::Detach { session } => {
                attached.remove(&SessionId(u64::from(session % 8)));
                Input::SessionDetached { session: SessionId(u64::from(session % 8)) }
            }
            Op::Frame { session, alias: a, layer, temporal, group, seq, key, level, datagram, len } => Input::Frame {
                session: SessionId(u64::from(session % 8)),
                frame: MediaFrame {
                    header: MediaHeader {
                        track_alias: alias(a),
                        spatial_id: layer % 4,
                        temporal_id: temporal % 4,
                        group_seq: u64::from(group % 6),
                        frame_seq: u32::from(seq % 6),
                        capture_ts_us: 0,
                        keyframe: key,
                        discardable: false,
                        end_of_group: false,
                        audio_level: level.map(|l| l % 128),
                    },
                    payload: Bytes::from(vec![0u8; usize::from(len)]),
                },
                via: if datagram { Via::Datagram } else { Via::Stream },
            },
            Op::Advance { ms } => {
                now += Duration::from_millis(u64::from(ms));
                continue;
            }
            Op::Timeout => {
                router.handle_timeout(now);
                drain(&mut router, &mut attached);
                continue;
            }
        };
        router.handle_input(now, input);
        drain(&mut router, &mut attached);
    }
});

fn drain(router: &mut Router, attached: &mut HashSet<SessionId>) {
    while let Some(out) = router.poll_output() {
        match out {
            Output::Forward { session, .. } => assert!(attached.contains(&session), "frame to a detached session"),
            Output::CloseSession { session, .. } => {
                attached.remove(&session);
            }
            Output::Report(_) => {}
        }
    }
}
