//! A meeting nobody is in ends `empty_timeout_secs` after it became empty (or was created empty);
//! a join in the meantime cancels the countdown. An ended meeting refuses joins.

mod common;

use std::time::Duration;

use common::{Sim, pid, t0};
use dark_tower_core::error::ErrorCode;
use dark_tower_core::store::MeetingSettings;
use dark_tower_signaling::{Effect, MeetingConfig, MeetingEvent};

const SECS: Duration = Duration::from_secs(1);

fn sim() -> Sim {
    Sim::with(
        MeetingSettings { empty_timeout_secs: 60, ..MeetingSettings::default() },
        MeetingConfig::default(),
    )
}

/// Calls `handle_timeout(at)` and returns what it produced.
fn timeout(sim: &mut Sim, at: std::time::SystemTime) -> Vec<Effect> {
    sim.meeting.handle_timeout(at);
    sim.drain()
}

#[test]
fn created_empty_the_meeting_ends_after_the_timeout() {
    let mut sim = sim();
    assert_eq!(sim.meeting.poll_timeout(), Some(t0() + 60 * SECS));
    assert!(timeout(&mut sim, t0() + 59 * SECS).is_empty());
    assert!(!sim.meeting.is_ended());
    assert_eq!(timeout(&mut sim, t0() + 60 * SECS), vec![Effect::Event(MeetingEvent::Ended)]);
    assert!(sim.meeting.is_ended());
}

#[test]
fn ends_60_s_after_the_last_participant_left() {
    let mut sim = sim();
    sim.advance(10 * SECS);
    sim.join(1, false);
    assert_eq!(sim.meeting.poll_timeout(), None, "a join clears the countdown");
    // A stale timer firing while someone is in does nothing.
    assert!(timeout(&mut sim, t0() + 100 * SECS).is_empty());
    assert!(!sim.meeting.is_ended());

    sim.join(2, false);
    sim.now = t0() + 150 * SECS;
    sim.leave(pid(1));
    assert_eq!(sim.meeting.poll_timeout(), None, "2 is still in");

    let t = t0() + 200 * SECS;
    sim.now = t;
    sim.leave(pid(2));
    assert_eq!(sim.meeting.poll_timeout(), Some(t + 60 * SECS));

    assert!(timeout(&mut sim, t + 59 * SECS).is_empty());
    assert!(!sim.meeting.is_ended());
    assert_eq!(sim.meeting.poll_timeout(), Some(t + 60 * SECS));

    assert_eq!(timeout(&mut sim, t + 60 * SECS), vec![Effect::Event(MeetingEvent::Ended)]);
    assert!(sim.meeting.is_ended());
    assert_eq!(sim.meeting.poll_timeout(), None);
    assert!(timeout(&mut sim, t + 120 * SECS).is_empty(), "ends once");

    sim.now = t + 61 * SECS;
    let out = sim.join(3, false);
    assert_eq!(common::closes(&out), vec![(pid(3), Some(ErrorCode::MeetingEnded))]);
    assert_eq!(out.len(), 1, "refused, nothing else: {out:?}");
    assert_eq!(sim.meeting.participant_count(), 0);
}

#[test]
fn a_disconnect_starts_the_countdown_once_the_resume_grace_is_over() {
    let mut sim = sim();
    sim.join(1, false);
    let t = t0() + 30 * SECS;
    sim.now = t;
    sim.drop_connection(pid(1), 1);
    let grace = dark_tower_signaling::MeetingConfig::default().resume_grace;
    assert_eq!(sim.meeting.poll_timeout(), Some(t + grace), "first the grace period");
    timeout(&mut sim, t + grace);
    assert_eq!(sim.meeting.participant_count(), 0);
    assert_eq!(sim.meeting.poll_timeout(), Some(t + grace + 60 * SECS));
}

#[test]
fn joining_during_the_countdown_restarts_it_from_the_next_empty_moment() {
    let mut sim = sim();
    sim.join(1, false);
    let t = t0() + 20 * SECS;
    sim.now = t;
    sim.leave(pid(1));
    assert_eq!(sim.meeting.poll_timeout(), Some(t + 60 * SECS));

    sim.now = t + 30 * SECS;
    sim.join(2, false);
    assert_eq!(sim.meeting.poll_timeout(), None);
    // The old deadline passes with someone in: nothing happens.
    assert!(timeout(&mut sim, t + 60 * SECS).is_empty());

    let t2 = t + 50 * SECS;
    sim.now = t2;
    sim.leave(pid(2));
    assert_eq!(sim.meeting.poll_timeout(), Some(t2 + 60 * SECS));
    assert!(timeout(&mut sim, t + 60 * SECS).is_empty(), "the old deadline no longer counts");
    assert!(timeout(&mut sim, t2 + 59 * SECS).is_empty());
    assert_eq!(timeout(&mut sim, t2 + 60 * SECS), vec![Effect::Event(MeetingEvent::Ended)]);
}
