//! A joiner receives `Joined` with itself and everyone already present (with their tracks); those
//! already present are told with `ParticipantJoined`. Hidden participants are neither announced
//! nor listed.

mod common;

use common::{S, Sim, camera, grant, joined, mic, other_ids, pid, sent_to, token_with};
use dark_tower_core::proto::sig;
use dark_tower_core::token::{Grant, Role};
use dark_tower_signaling::{Effect, MeetingEvent};

#[test]
fn first_joiner_gets_itself_and_an_empty_roster() {
    let mut sim = Sim::new();
    sim.advance(std::time::Duration::from_secs(3));
    let out = sim.join(1, false);

    assert_eq!(
        out[0],
        Effect::Event(MeetingEvent::ParticipantJoined {
            participant: pid(1),
            identity: common::token("user1").identity,
        })
    );
    let sends: Vec<_> = out.iter().filter(|e| matches!(e, Effect::Send { .. })).collect();
    assert_eq!(sends.len(), 1, "only the joiner hears about it: {out:?}");

    let j = joined(&out, pid(1));
    assert_eq!(sent_to(&out, pid(1))[0].0, common::JOIN_REQUEST_ID, "Joined echoes the Join's request id");
    let me = j.participant.as_ref().expect("Joined names the joiner");
    assert_eq!(me.id, pid(1).to_string());
    assert_eq!(me.identity, "user1");
    assert_eq!(me.name, "user1 (display)");
    assert_eq!(me.role, sig::Role::Participant as i32);
    assert!(me.tracks.is_empty());
    assert_eq!(me.joined_at_us, 1_700_000_003_000_000);
    assert!(j.others.is_empty());
    let info = j.meeting.as_ref().expect("meeting info");
    assert_eq!(info.name, common::MEETING);
    assert_eq!(info.created_at_us, 1_700_000_000_000_000);
    assert_eq!(j.media, Some(common::endpoint(1)));
    assert_eq!(j.protocol_version, dark_tower_core::PROTOCOL_VERSION);
    assert_eq!(j.server_time_us, 1_700_000_003_000_000);
    assert_eq!(sim.meeting.participant_count(), 1);
}

#[test]
fn second_joiner_sees_the_first_with_its_tracks_and_the_first_is_told() {
    let mut sim = Sim::new();
    sim.join(1, false);
    let cam = sim.publish_ok(pid(1), camera("cam", 3));
    let mic = sim.publish_ok(pid(1), mic("mic"));

    let host = Grant { role: Role::Host, ..grant() };
    let out = sim.join_as(pid(2), token_with("bob", host), false);
    let j = joined(&out, pid(2));
    assert_eq!(other_ids(&j), vec![pid(1).to_string()]);
    let first = &j.others[0];
    assert_eq!(first.identity, "user1");
    assert_eq!(first.tracks, vec![cam.clone(), mic.clone()], "published tracks, in order");
    assert_eq!(first.joined_at_us, 1_700_000_000_000_000);

    let told = sent_to(&out, pid(1));
    assert_eq!(told.len(), 1, "{out:?}");
    let (rid, S::ParticipantJoined(pj)) = &told[0] else {
        panic!("expected ParticipantJoined, got {told:?}");
    };
    assert_eq!(*rid, 0);
    let p = pj.participant.as_ref().expect("the joiner");
    assert_eq!(p.id, pid(2).to_string());
    assert_eq!(p.identity, "bob");
    assert_eq!(p.role, sig::Role::Host as i32);
    assert_eq!(Some(p), j.participant.as_ref(), "others see the joiner as it sees itself");

    assert!(common::events(&out).contains(&MeetingEvent::ParticipantJoined {
        participant: pid(2),
        identity: token_with("bob", grant()).identity,
    }));
    assert_eq!(sim.meeting.participant_count(), 2);
}

#[test]
fn hidden_participant_is_neither_announced_nor_listed() {
    let mut sim = Sim::new();
    sim.join(1, false);
    sim.join(2, false);

    let recorder = Grant { hidden: true, can_publish: false, ..grant() };
    let out = sim.join_as(pid(3), token_with("recorder", recorder), true);
    // The hidden participant itself sees everyone.
    let j = joined(&out, pid(3));
    assert_eq!(other_ids(&j), vec![pid(1).to_string(), pid(2).to_string()]);
    assert!(sent_to(&out, pid(1)).is_empty(), "not announced: {out:?}");
    assert!(sent_to(&out, pid(2)).is_empty(), "not announced: {out:?}");

    // Nor is it listed to later joiners.
    let out = sim.join(4, false);
    let j = joined(&out, pid(4));
    assert_eq!(other_ids(&j), vec![pid(1).to_string(), pid(2).to_string()]);
    // ... but later joiners are announced to it.
    let told = sent_to(&out, pid(3));
    assert!(
        matches!(told.as_slice(), [(0, S::ParticipantJoined(_))]),
        "the hidden participant still hears about joins: {told:?}"
    );
    assert_eq!(sim.meeting.participant_count(), 4);
}
