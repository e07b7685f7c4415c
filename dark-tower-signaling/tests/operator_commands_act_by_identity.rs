//! The operator's commands (the server's REST API) act on a meeting by identity, like a host's
//! moderation but from no participant: every session of the identity is affected, failures
//! change nothing, and an ended meeting refuses them.

mod common;

use common::{Sim, camera, closes, events, forwards, mic, pid, sent_to, token};
use dark_tower_core::ErrorCode;
use dark_tower_core::forwarding::ForwardingCommand;
use dark_tower_core::ids::{Identity, TrackId};
use dark_tower_core::token::Role;
use dark_tower_core::track::TrackSource;
use dark_tower_signaling::meeting::{AdminCommand, AdminReply, GrantUpdate};
use dark_tower_signaling::{Effect, MeetingEvent};

use common::S;

fn who(s: &str) -> Identity {
    Identity::new(s).expect("identity")
}

fn admin(sim: &mut Sim, command: AdminCommand) -> (Result<AdminReply, ErrorCode>, Vec<Effect>) {
    let r = sim.meeting.handle_admin(sim.now, command).map_err(|e| e.code);
    (r, sim.drain())
}

#[test]
fn roster_lists_members_with_their_tracks() {
    let mut sim = Sim::new();
    sim.join_as(pid(1), token("ann"), true);
    sim.join_as(pid(2), token("bob"), true);
    let track = sim.publish_ok(pid(1), mic("mic"));
    let (reply, effects) = admin(&mut sim, AdminCommand::Roster);
    assert!(effects.is_empty(), "a roster changes nothing: {effects:?}");
    let Ok(AdminReply::Roster(r)) = reply else { panic!("roster: {reply:?}") };
    assert_eq!(r.iter().map(|p| p.identity.as_str()).collect::<Vec<_>>(), ["ann", "bob"]);
    assert_eq!(r[0].id, pid(1));
    assert_eq!(r[0].tracks.len(), 1);
    assert_eq!(r[0].tracks[0].id.to_string(), track.id);
    assert_eq!(r[0].tracks[0].source, TrackSource::Microphone);
    assert!(!r[0].tracks[0].muted);
    assert!(r[1].tracks.is_empty());
}

#[test]
fn remove_closes_every_session_of_the_identity() {
    let mut sim = Sim::new();
    sim.join_as(pid(1), token("ann"), true);
    sim.join_as(pid(2), token("ann"), true); // a second device
    sim.join_as(pid(3), token("bob"), true);
    let (reply, effects) = admin(&mut sim, AdminCommand::Remove { identity: who("ann") });
    assert_eq!(reply, Ok(AdminReply::Done));
    assert_eq!(closes(&effects), [(pid(1), Some(ErrorCode::Removed)), (pid(2), Some(ErrorCode::Removed))]);
    let left: Vec<_> = events(&effects)
        .into_iter()
        .filter_map(|e| match e {
            MeetingEvent::ParticipantLeft { participant } => Some(participant),
            _ => None,
        })
        .collect();
    assert_eq!(left, [pid(1), pid(2)]);
    let (reply, effects) = admin(&mut sim, AdminCommand::Remove { identity: who("ann") });
    assert_eq!(reply, Err(ErrorCode::NotFound));
    assert!(effects.is_empty());
    assert_eq!(sim.meeting.participant_count(), 1);
}

#[test]
fn mute_tells_everyone_including_the_owner() {
    let mut sim = Sim::new();
    sim.join_as(pid(1), token("ann"), true);
    sim.join_as(pid(2), token("bob"), true);
    let track = sim.publish_ok(pid(1), mic("mic"));
    let id: TrackId = track.id.parse().expect("track id");

    // Wrong owner, unknown identity: refused, nothing happens.
    let (reply, effects) = admin(&mut sim, AdminCommand::MuteTrack { identity: who("bob"), track: id });
    assert_eq!((reply, effects.len()), (Err(ErrorCode::UnknownTrack), 0));
    let (reply, effects) = admin(&mut sim, AdminCommand::MuteTrack { identity: who("cyd"), track: id });
    assert_eq!((reply, effects.len()), (Err(ErrorCode::NotFound), 0));

    let (reply, effects) = admin(&mut sim, AdminCommand::MuteTrack { identity: who("ann"), track: id });
    assert_eq!(reply, Ok(AdminReply::Done));
    for p in [pid(1), pid(2)] {
        let muted = sent_to(&effects, p).into_iter().find_map(|(_, m)| match m {
            S::TrackMuted(t) => Some(t),
            _ => None,
        });
        let muted = muted.unwrap_or_else(|| panic!("{p} is told: {effects:?}"));
        assert_eq!(
            (muted.track_id.as_str(), muted.muted, muted.by_participant_id.as_str()),
            (track.id.as_str(), true, "")
        );
    }
    let (Ok(AdminReply::Roster(r)), _) = admin(&mut sim, AdminCommand::Roster) else { panic!("roster") };
    assert!(r[0].tracks[0].muted);
}

#[test]
fn update_changes_only_the_given_fields_and_enforces_them() {
    let mut sim = Sim::new();
    sim.join_as(pid(1), token("ann"), true);
    sim.join_as(pid(2), token("bob"), true);
    let cam = sim.publish_ok(pid(1), camera("cam", 1));
    sim.publish_ok(pid(1), mic("mic"));
    let update = GrantUpdate {
        role: Some(Role::Host),
        can_publish_sources: Some(vec![TrackSource::Microphone]),
        ..GrantUpdate::default()
    };
    let (reply, effects) = admin(&mut sim, AdminCommand::Update { identity: who("ann"), update });
    let Ok(AdminReply::Updated(p)) = reply else { panic!("updated: {reply:?}") };
    assert_eq!(p.len(), 1);
    assert_eq!(p[0].grant.role, Role::Host);
    assert!(p[0].grant.can_subscribe && p[0].grant.can_publish_data, "untouched fields stay");
    assert_eq!(p[0].tracks.len(), 1, "only the microphone is left");
    let unpublished: Vec<_> = forwards(&effects)
        .into_iter()
        .filter_map(|f| match f {
            ForwardingCommand::TrackUnpublished { alias, .. } => Some(alias.0),
            _ => None,
        })
        .collect();
    assert_eq!(unpublished, [cam.alias]);
    for to in [pid(1), pid(2)] {
        assert!(
            sent_to(&effects, to).iter().any(|(_, m)| matches!(m, S::ParticipantUpdated(_))),
            "{to} is told of the update"
        );
    }
    let update = GrantUpdate { can_subscribe: Some(false), ..GrantUpdate::default() };
    let (reply, effects) = admin(&mut sim, AdminCommand::Update { identity: who("cyd"), update });
    assert_eq!((reply, effects.len()), (Err(ErrorCode::NotFound), 0));
}

#[test]
fn end_disconnects_everyone_and_then_everything_is_refused() {
    let mut sim = Sim::new();
    sim.join_as(pid(1), token("ann"), true);
    sim.join_as(pid(2), token("bob"), true);
    let (reply, effects) = admin(&mut sim, AdminCommand::End);
    assert_eq!(reply, Ok(AdminReply::Done));
    assert_eq!(
        closes(&effects),
        [(pid(1), Some(ErrorCode::MeetingEnded)), (pid(2), Some(ErrorCode::MeetingEnded))]
    );
    assert_eq!(events(&effects).last(), Some(&MeetingEvent::Ended));
    assert!(sim.meeting.is_ended());
    let (reply, effects) = admin(&mut sim, AdminCommand::Roster);
    assert_eq!((reply, effects.len()), (Err(ErrorCode::MeetingEnded), 0));
    let (reply, _) = admin(&mut sim, AdminCommand::End);
    assert_eq!(reply, Err(ErrorCode::MeetingEnded));
}
