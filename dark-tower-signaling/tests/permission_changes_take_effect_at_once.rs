//! A moderator's permission change is enforced at once: tracks of sources no longer allowed are
//! unpublished (others keep theirs), revoked subscribing ends every subscription, and only
//! moderators may do it.

mod common;

use common::{Sim, camera, error_to, forwards, grant, mic, pid, token, token_with};
use dark_tower_core::ErrorCode;
use dark_tower_core::forwarding::ForwardingCommand;
use dark_tower_core::proto::sig;
use dark_tower_core::token::Role;
use sig::client_message::Message as C;

fn update(participant: u64, permissions: Option<sig::Permissions>, role: sig::Role) -> C {
    C::UpdateParticipant(sig::UpdateParticipant {
        participant_id: pid(participant).to_string(),
        role: role as i32,
        permissions,
        name: None,
        metadata: None,
    })
}

#[test]
fn revoked_sources_unpublish_only_those_tracks() {
    let mut sim = Sim::new();
    sim.join_as(
        pid(1),
        token_with("host", dark_tower_core::token::Grant { role: Role::Host, ..grant() }),
        true,
    );
    sim.join_as(pid(2), token("bob"), true);
    let cam = sim.publish_ok(pid(2), camera("cam", 1));
    let mic_track = sim.publish_ok(pid(2), mic("mic"));
    let mic_only = sig::Permissions {
        can_publish: true,
        can_publish_sources: vec![sig::TrackSource::Microphone as i32],
        can_subscribe: true,
        can_publish_data: true,
    };
    let out = sim.send(pid(1), 5, update(2, Some(mic_only), sig::Role::Unspecified));
    let unpublished: Vec<_> = forwards(&out)
        .into_iter()
        .filter_map(|f| match f {
            ForwardingCommand::TrackUnpublished { alias, .. } => Some(alias.0),
            _ => None,
        })
        .collect();
    assert_eq!(unpublished, [cam.alias], "the camera goes, the microphone stays");
    assert_ne!(cam.alias, mic_track.alias);
    // Bob may no longer publish a camera, but still a microphone.
    let out = sim.send(pid(2), 6, C::PublishTrack(camera("cam2", 1)));
    assert_eq!(error_to(&out, pid(2)), Some((6, ErrorCode::PermissionDenied)));
}

#[test]
fn revoked_subscribing_ends_subscriptions_and_non_hosts_cannot_update() {
    let mut sim = Sim::new();
    sim.join_as(
        pid(1),
        token_with("host", dark_tower_core::token::Grant { role: Role::Host, ..grant() }),
        true,
    );
    sim.join_as(pid(2), token("bob"), true);
    sim.join_as(pid(3), token("cyd"), true);
    let cam = sim.publish_ok(pid(1), camera("cam", 1));
    // Bob, not a host, cannot change anyone.
    let out = sim.send(pid(2), 7, update(3, None, sig::Role::Viewer));
    assert_eq!(error_to(&out, pid(2)), Some((7, ErrorCode::PermissionDenied)));
    let no_subscribe = sig::Permissions {
        can_publish: true,
        can_publish_sources: vec![],
        can_subscribe: false,
        can_publish_data: true,
    };
    let out = sim.send(pid(1), 8, update(3, Some(no_subscribe), sig::Role::Unspecified));
    let unsubscribed: Vec<_> = forwards(&out)
        .into_iter()
        .filter_map(|f| match f {
            ForwardingCommand::Unsubscribe { subscriber, alias, .. } => Some((subscriber, alias.0)),
            _ => None,
        })
        .collect();
    assert_eq!(unsubscribed, [(pid(3), cam.alias)]);
}
