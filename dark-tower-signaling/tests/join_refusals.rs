//! A join the meeting cannot accept closes the joiner's session with a typed code and changes
//! nothing: a full meeting, a token for another meeting, an unsupported protocol version.

mod common;

use common::{Sim, grant, join_message, pid, sent_to, token, token_with};
use dark_tower_core::error::ErrorCode;
use dark_tower_core::ids::MeetingName;
use dark_tower_core::store::MeetingSettings;
use dark_tower_core::token::Grant;
use dark_tower_signaling::{Effect, JoinRequest, MeetingConfig};

/// Asserts `out` is exactly one close of `who` with `code`.
fn assert_refused(out: &[Effect], who: u64, code: ErrorCode) {
    assert_eq!(common::closes(out), vec![(pid(who), Some(code))], "{out:?}");
    assert_eq!(out.len(), 1, "refused, and nothing else: {out:?}");
}

fn request(n: u64, token: dark_tower_core::token::VerifiedToken, version: u32) -> JoinRequest {
    let mut join = join_message(true);
    join.protocol_version = version;
    JoinRequest {
        participant: pid(n),
        token,
        join,
        media: common::endpoint(n),
        request_id: 1,
        epoch: n,
        resume_nonce: n,
        resume_token: String::new(),
    }
}

#[test]
fn third_joiner_of_a_two_seat_meeting_is_refused_as_full() {
    let mut sim = Sim::with(
        MeetingSettings { max_participants: 2, ..MeetingSettings::default() },
        MeetingConfig::default(),
    );
    sim.join(1, true);
    sim.join(2, true);
    let out = sim.join(3, true);
    assert_refused(&out, 3, ErrorCode::MeetingFull);
    assert_eq!(sim.meeting.participant_count(), 2);

    // A seat frees up when someone leaves.
    sim.leave(pid(1));
    let out = sim.join(3, true);
    let j = common::joined(&out, pid(3));
    assert_eq!(common::other_ids(&j), vec![pid(2).to_string()]);
    assert!(common::closes(&out).is_empty());
    let out = sim.join(4, true);
    assert_refused(&out, 4, ErrorCode::MeetingFull);
}

#[test]
fn token_for_another_meeting_is_refused_as_mismatch() {
    let mut sim = Sim::new();
    sim.join(1, true);
    let elsewhere = Grant { meeting: Some(MeetingName::new("other").expect("valid")), ..grant() };
    let out = sim.join_request(request(2, token_with("user2", elsewhere), 1));
    assert_refused(&out, 2, ErrorCode::MeetingMismatch);

    // A token naming no meeting at all (an admin token) does not join either.
    let admin = Grant { meeting: None, admin: true, ..grant() };
    let out = sim.join_request(request(3, token_with("admin", admin), 1));
    assert_refused(&out, 3, ErrorCode::MeetingMismatch);

    assert_eq!(sim.meeting.participant_count(), 1);
    assert!(sent_to(&out, pid(1)).is_empty());
}

#[test]
fn unsupported_protocol_version_is_refused() {
    let mut sim = Sim::new();
    sim.join(1, true);
    for (n, version) in [(2, 99), (3, 0), (4, dark_tower_core::PROTOCOL_VERSION + 1)] {
        let out = sim.join_request(request(n, token(&format!("user{n}")), version));
        assert_refused(&out, n, ErrorCode::UnsupportedVersion);
    }
    assert_eq!(sim.meeting.participant_count(), 1);

    // Refused joiners are not members: the next joiner sees only 1.
    let out = sim.join(5, false);
    assert_eq!(common::other_ids(&common::joined(&out, pid(5))), vec![pid(1).to_string()]);
}
