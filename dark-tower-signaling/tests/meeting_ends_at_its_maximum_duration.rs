//! A meeting with a maximum duration ends for everyone when it is reached, even while people are
//! in it; without one, a busy meeting never times out.

mod common;

use std::time::Duration;

use common::{Sim, pid, t0};
use dark_tower_core::ErrorCode;
use dark_tower_core::store::MeetingSettings;
use dark_tower_signaling::{Effect, MeetingConfig, MeetingEvent};

#[test]
fn everyone_is_disconnected_at_the_maximum_duration() {
    let settings = MeetingSettings { max_duration_secs: Some(3600), ..MeetingSettings::default() };
    let mut sim = Sim::with(settings, MeetingConfig::default());
    sim.join(1, true);
    sim.join(2, true);
    assert_eq!(sim.meeting.poll_timeout(), Some(t0() + Duration::from_secs(3600)));
    sim.meeting.handle_timeout(t0() + Duration::from_secs(3599));
    assert!(sim.drain().is_empty());
    sim.meeting.handle_timeout(t0() + Duration::from_secs(3600));
    let out = sim.drain();
    let closes: Vec<_> = out
        .iter()
        .filter_map(|e| match e {
            Effect::Close { participant, code, .. } => Some((*participant, *code)),
            _ => None,
        })
        .collect();
    assert_eq!(closes, [(pid(1), Some(ErrorCode::MeetingEnded)), (pid(2), Some(ErrorCode::MeetingEnded))]);
    assert!(out.contains(&Effect::Event(MeetingEvent::Ended)));
    assert!(sim.meeting.is_ended());
    assert_eq!(sim.meeting.poll_timeout(), None);
}

#[test]
fn without_a_maximum_a_busy_meeting_has_no_timer() {
    let mut sim = Sim::new();
    sim.join(1, true);
    assert_eq!(sim.meeting.poll_timeout(), None);
}
