//! A participant that leaves (with `Leave`) or disconnects (without a resume grace period) is
//! removed: the media handler is told,
//! the others get `ParticipantLeft` with the reason, its session is closed normally, its tracks
//! vanish from the roster, and meeting events record it all.

mod common;

use common::{C, S, Sim, camera, grant, joined, mic, pid, sent_to, token_with};
use dark_tower_core::forwarding::ForwardingCommand;
use dark_tower_core::ids::TrackId;
use dark_tower_core::proto::sig;
use dark_tower_core::store::MeetingSettings;
use dark_tower_core::token::Grant;
use dark_tower_signaling::{Command, Effect, MeetingConfig, MeetingEvent};

fn track_id(t: &sig::Track) -> TrackId {
    t.id.parse().expect("server track ids parse")
}

/// 1 publishes a camera and a microphone, 2 a microphone; 3 watches. Everyone auto-subscribes.
fn meeting() -> (Sim, [sig::Track; 3]) {
    meeting_with(MeetingConfig::default())
}

fn meeting_with(config: MeetingConfig) -> (Sim, [sig::Track; 3]) {
    let mut sim = Sim::with(MeetingSettings::default(), config);
    for n in 1..=3 {
        sim.join(n, true);
    }
    let cam = sim.publish_ok(pid(1), camera("cam", 2));
    let mic1 = sim.publish_ok(pid(1), mic("mic"));
    let mic2 = sim.publish_ok(pid(2), mic("mic"));
    (sim, [cam, mic1, mic2])
}

/// Checks that `who` was removed with `reason`, as seen by `others`.
fn assert_removed(out: &[Effect], who: u64, reason: sig::LeaveReason, others: &[u64]) {
    assert!(
        common::forwards(out).contains(&ForwardingCommand::ParticipantLeft {
            meeting: common::meeting_name(),
            participant: pid(who),
        }),
        "media handler told: {out:?}"
    );
    for &o in others {
        let told = sent_to(out, pid(o));
        assert_eq!(told.len(), 1, "{o} is told once: {out:?}");
        let (rid, S::ParticipantLeft(pl)) = &told[0] else {
            panic!("expected ParticipantLeft, got {told:?}");
        };
        assert_eq!(*rid, 0);
        assert_eq!(pl.participant_id, pid(who).to_string());
        assert_eq!(pl.reason, reason as i32);
    }
    assert!(sent_to(out, pid(who)).is_empty(), "the leaver is not sent its own departure");
    assert_eq!(common::closes(out), vec![(pid(who), None)], "normal close: {out:?}");
    // The media handler hears of it before the session is closed.
    let fwd =
        out.iter().position(|e| matches!(e, Effect::Forward(ForwardingCommand::ParticipantLeft { .. })));
    let close = out.iter().position(|e| matches!(e, Effect::Close { .. }));
    assert!(fwd < close, "{out:?}");
}

#[test]
fn leave_is_announced_with_reason_left_and_closes_normally() {
    let (mut sim, [cam, mic1, _]) = meeting();
    let out = sim.leave(pid(1));
    assert_removed(&out, 1, sig::LeaveReason::Left, &[2, 3]);

    let mut events = common::events(&out);
    events.sort_by_key(|e| format!("{e:?}"));
    let mut want = vec![
        MeetingEvent::TrackUnpublished { participant: pid(1), track: track_id(&cam) },
        MeetingEvent::TrackUnpublished { participant: pid(1), track: track_id(&mic1) },
        MeetingEvent::ParticipantLeft { participant: pid(1) },
    ];
    want.sort_by_key(|e| format!("{e:?}"));
    assert_eq!(events, want);
    assert_eq!(sim.meeting.participant_count(), 2);
}

/// Without a resume grace period a dropped connection is a departure at once (with one, see
/// `resume_after_dropped_connection.rs`).
#[test]
fn disconnect_without_resume_grace_is_announced_with_reason_disconnected() {
    let (mut sim, [_, _, mic2]) =
        meeting_with(MeetingConfig { resume_grace: std::time::Duration::ZERO, ..MeetingConfig::default() });
    let out = sim.handle(Command::Disconnected {
        participant: pid(2),
        epoch: 2,
        reason: sig::LeaveReason::Disconnected,
    });
    assert_removed(&out, 2, sig::LeaveReason::Disconnected, &[1, 3]);
    assert_eq!(
        common::events(&out),
        vec![
            MeetingEvent::TrackUnpublished { participant: pid(2), track: track_id(&mic2) },
            MeetingEvent::ParticipantLeft { participant: pid(2) },
        ]
    );
}

#[test]
fn departed_tracks_disappear_from_a_later_joiners_roster() {
    let (mut sim, [cam, _, mic2]) = meeting();
    sim.leave(pid(1));
    let out = sim.join(4, true);
    let j = joined(&out, pid(4));
    let roster: Vec<_> = j
        .others
        .iter()
        .map(|p| (p.id.clone(), p.tracks.iter().map(|t| t.id.clone()).collect::<Vec<_>>()))
        .collect();
    assert_eq!(roster, vec![(pid(2).to_string(), vec![mic2.id.clone()]), (pid(3).to_string(), vec![]),]);
    // Auto-subscription covers only the tracks still there.
    assert_eq!(
        common::forwards(&out),
        vec![ForwardingCommand::Subscribe {
            meeting: common::meeting_name(),
            subscriber: pid(4),
            alias: dark_tower_core::ids::TrackAlias(mic2.alias),
            max_spatial: None,
        }]
    );
    // The departed participant's tracks can no longer be subscribed to.
    let out = sim.subscribe(pid(4), 5, &cam.id, None);
    common::assert_only_error(&out, pid(4), 5, dark_tower_core::error::ErrorCode::UnknownTrack);
}

#[test]
fn events_trace_the_meeting() {
    let mut sim = Sim::new();
    let out = sim.join(1, false);
    assert_eq!(
        common::events(&out),
        vec![MeetingEvent::ParticipantJoined {
            participant: pid(1),
            identity: common::token("user1").identity,
        }]
    );
    let out = sim.send(pid(1), 1, C::PublishTrack(mic("mic")));
    let t = common::reply(&out, pid(1))
        .and_then(|(_, m)| match m {
            S::PublishTrackAck(a) => a.track,
            _ => None,
        })
        .expect("acknowledged");
    assert_eq!(
        common::events(&out),
        vec![MeetingEvent::TrackPublished { participant: pid(1), track: track_id(&t) }]
    );
    let out = sim.send(pid(1), 2, C::UnpublishTrack(sig::UnpublishTrack { track_id: t.id.clone() }));
    assert_eq!(
        common::events(&out),
        vec![MeetingEvent::TrackUnpublished { participant: pid(1), track: track_id(&t) }]
    );
    let out = sim.leave(pid(1));
    assert_eq!(common::events(&out), vec![MeetingEvent::ParticipantLeft { participant: pid(1) }]);
}

#[test]
fn nothing_more_happens_after_leaving() {
    let (mut sim, [cam, ..]) = meeting();
    sim.leave(pid(3));
    // The transport closing afterwards is not a second departure.
    let out = sim.handle(Command::Disconnected {
        participant: pid(3),
        epoch: 3,
        reason: sig::LeaveReason::Disconnected,
    });
    assert!(out.is_empty(), "{out:?}");
    // Nor are late messages acted upon.
    assert!(sim.subscribe(pid(3), 1, &cam.id, None).is_empty());
    assert!(sim.leave(pid(3)).is_empty());
}

#[test]
fn hidden_participant_leaves_unannounced() {
    let mut sim = Sim::new();
    sim.join(1, false);
    let hidden = Grant { hidden: true, ..grant() };
    sim.join_as(pid(2), token_with("recorder", hidden), true);
    let out = sim.leave(pid(2));
    assert!(sent_to(&out, pid(1)).is_empty(), "{out:?}");
    assert_eq!(common::closes(&out), vec![(pid(2), None)]);
    assert!(common::forwards(&out).contains(&ForwardingCommand::ParticipantLeft {
        meeting: common::meeting_name(),
        participant: pid(2),
    }));
}
