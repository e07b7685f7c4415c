//! The lobby in the state machine: with it on, a non-moderator's join gets `LobbyWaiting` and no
//! member sees it; moderators get `LobbyUpdated`; admission sends `Joined`; denial closes with
//! `LobbyDenied`; a waiter who disconnects leaves the list.

mod common;

use common::{Sim, grant, pid, sent_to, token, token_with};
use dark_tower_core::ErrorCode;
use dark_tower_core::proto::sig;
use dark_tower_core::store::MeetingSettings;
use dark_tower_core::token::{Grant, Role};
use dark_tower_signaling::{Command, Effect, MeetingConfig};
use sig::client_message::Message as C;
use sig::server_message::Message as S;

fn host_grant() -> Grant {
    Grant { role: Role::Host, ..grant() }
}

fn lobby_sizes(effects: &[Effect], to: u64) -> Vec<usize> {
    sent_to(effects, pid(to))
        .into_iter()
        .filter_map(|(_, m)| match m {
            S::LobbyUpdated(l) => Some(l.waiting.len()),
            _ => None,
        })
        .collect()
}

#[test]
fn waiters_are_admitted_or_denied_by_hosts() {
    let mut sim =
        Sim::with(MeetingSettings { lobby: true, ..MeetingSettings::default() }, MeetingConfig::default());
    let out = sim.join_as(pid(1), token_with("host", host_grant()), true);
    assert!(sent_to(&out, pid(1)).iter().any(|(_, m)| matches!(m, S::Joined(_))), "hosts are not held");

    let out = sim.join_as(pid(2), token("guest"), true);
    let to_guest = sent_to(&out, pid(2));
    assert!(matches!(to_guest.as_slice(), [(_, S::LobbyWaiting(_))]), "{to_guest:?}");
    assert_eq!(lobby_sizes(&out, 1), [1]);
    assert!(!sent_to(&out, pid(1)).iter().any(|(_, m)| matches!(m, S::ParticipantJoined(_))));
    // Messages from a waiter are ignored.
    assert!(sim.send(pid(2), 3, C::Ping(sig::Ping { client_time_us: 1 })).is_empty());

    let admit = |who: u64, admit: bool| {
        C::AdmitParticipant(sig::AdmitParticipant { participant_id: pid(who).to_string(), admit })
    };
    let out = sim.send(pid(1), 4, admit(2, true));
    assert!(sent_to(&out, pid(2)).iter().any(|(_, m)| matches!(m, S::Joined(_))));
    assert!(sent_to(&out, pid(1)).iter().any(|(_, m)| matches!(m, S::ParticipantJoined(_))));
    assert_eq!(lobby_sizes(&out, 1), [0]);

    sim.join_as(pid(3), token("intruder"), true);
    let out = sim.send(pid(1), 5, admit(3, false));
    assert!(out.contains(&Effect::Close {
        participant: pid(3),
        code: Some(ErrorCode::LobbyDenied),
        reason: "a host denied entry".into()
    }));

    // A waiter who disconnects leaves the list; admitting it afterwards finds nobody.
    sim.join_as(pid(4), token("flaky"), true);
    let out = sim.handle(Command::Disconnected {
        participant: pid(4),
        epoch: 4,
        reason: sig::LeaveReason::Disconnected,
    });
    assert_eq!(lobby_sizes(&out, 1), [0]);
    let out = sim.send(pid(1), 6, admit(4, true));
    assert_eq!(common::error_to(&out, pid(1)), Some((6, ErrorCode::NotFound)));
}
