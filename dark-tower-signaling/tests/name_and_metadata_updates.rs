//! A participant changes its own display name and metadata (`SetMetadata`), a moderator changes
//! anyone's (`UpdateParticipant`); everyone hears `ParticipantUpdated`, joiners see the new
//! values, oversized values are refused and change nothing.

mod common;

use common::{C, S, Sim, grant, pid, sent_to, token_with};
use dark_tower_core::error::ErrorCode;
use dark_tower_core::proto::sig;
use dark_tower_core::token::{Grant, Role};
use dark_tower_signaling::meeting::metadata::{MAX_METADATA, MAX_NAME};

fn set(name: Option<&str>, metadata: Option<String>) -> C {
    C::SetMetadata(sig::SetMetadata { name: name.map(str::to_owned), metadata })
}

fn updated(out: &[dark_tower_signaling::Effect], to: u64) -> Vec<sig::Participant> {
    sent_to(out, pid(to))
        .into_iter()
        .filter_map(|(_, m)| match m {
            S::ParticipantUpdated(u) => u.participant,
            _ => None,
        })
        .collect()
}

#[test]
fn own_name_and_metadata_reach_everyone_and_later_joiners() {
    let mut sim = Sim::new();
    sim.join(1, false);
    sim.join(2, false);
    let out = sim.send(pid(1), 4, set(Some("Alice B."), Some(r#"{"hand":"raised"}"#.into())));
    assert!(sent_to(&out, pid(1)).iter().any(|(rid, m)| *rid == 4 && matches!(m, S::Ack(_))), "{out:?}");
    let seen = updated(&out, 2);
    assert_eq!(seen.len(), 1, "{out:?}");
    assert_eq!(seen[0].name, "Alice B.");
    assert_eq!(seen[0].metadata, r#"{"hand":"raised"}"#);

    // Only the metadata: the name stays.
    let out = sim.send(pid(1), 5, set(None, Some(String::new())));
    let seen = updated(&out, 2);
    assert_eq!((seen[0].name.as_str(), seen[0].metadata.as_str()), ("Alice B.", ""));

    let j = common::joined(&sim.join(3, false), pid(3));
    let alice = j.others.iter().find(|p| p.id == pid(1).to_string()).expect("alice listed");
    assert_eq!(alice.name, "Alice B.");
}

#[test]
fn a_moderator_renames_someone_else() {
    let mut sim = Sim::new();
    sim.join_as(pid(1), token_with("host", Grant { role: Role::Host, ..grant() }), false);
    sim.join(2, false);
    let out = sim.send(
        pid(1),
        6,
        C::UpdateParticipant(sig::UpdateParticipant {
            participant_id: pid(2).to_string(),
            role: 0,
            permissions: None,
            name: Some("Guest of honour".into()),
            metadata: Some("vip".into()),
        }),
    );
    let seen = updated(&out, 2);
    assert_eq!((seen[0].name.as_str(), seen[0].metadata.as_str()), ("Guest of honour", "vip"));
    // Not a moderator: refused.
    let out = sim.send(
        pid(2),
        7,
        C::UpdateParticipant(sig::UpdateParticipant {
            participant_id: pid(1).to_string(),
            role: 0,
            permissions: None,
            name: Some("pwned".into()),
            metadata: None,
        }),
    );
    common::assert_only_error(&out, pid(2), 7, ErrorCode::PermissionDenied);
}

#[test]
fn oversized_values_are_refused_and_change_nothing() {
    let mut sim = Sim::new();
    sim.join(1, false);
    sim.join(2, false);
    let out = sim.send(pid(1), 8, set(Some(&"n".repeat(MAX_NAME + 1)), None));
    common::assert_only_error(&out, pid(1), 8, ErrorCode::InvalidRequest);
    let out = sim.send(pid(1), 9, set(None, Some("m".repeat(MAX_METADATA + 1))));
    common::assert_only_error(&out, pid(1), 9, ErrorCode::MessageTooLarge);
    let j = common::joined(&sim.join(3, false), pid(3));
    let p1 = j.others.iter().find(|p| p.id == pid(1).to_string()).expect("listed");
    assert_eq!(p1.name, "user1 (display)");
    assert!(p1.metadata.is_empty());
}
