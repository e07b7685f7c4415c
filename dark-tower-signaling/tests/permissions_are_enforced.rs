//! The grant decides what a participant may do: a viewer cannot publish, `can_publish_sources`
//! limits the sources, `can_subscribe = false` refuses subscriptions. A refusal is a
//! `PERMISSION_DENIED` reply to the request and nothing else: no forwarding, no broadcast.

mod common;

use common::{C, S, Sim, assert_only_error, camera, grant, joined, mic, pid, token_with};
use dark_tower_core::error::ErrorCode;
use dark_tower_core::proto::sig;
use dark_tower_core::token::{Grant, Role};
use dark_tower_core::track::TrackSource;

/// The roster as a fresh observer sees it: (participant id, its track ids).
fn roster(sim: &mut Sim, observer: u64) -> Vec<(String, Vec<String>)> {
    let out = sim.join(observer, false);
    let j = joined(&out, pid(observer));
    j.others.iter().map(|p| (p.id.clone(), p.tracks.iter().map(|t| t.id.clone()).collect())).collect()
}

#[test]
fn viewer_cannot_publish() {
    let mut sim = Sim::new();
    sim.join(1, true);
    // Even with can_publish left on, the viewer role forbids publishing.
    let viewer = Grant { role: Role::Viewer, can_publish: true, ..grant() };
    sim.join_as(pid(2), token_with("viewer", viewer), true);

    let out = sim.send(pid(2), 41, C::PublishTrack(camera("cam", 1)));
    assert_only_error(&out, pid(2), 41, ErrorCode::PermissionDenied);
    let out = sim.send(pid(2), 42, C::PublishTrack(mic("mic")));
    assert_only_error(&out, pid(2), 42, ErrorCode::PermissionDenied);

    // The viewer can still receive.
    let t = sim.publish_ok(pid(1), mic("mic"));
    let out = sim.subscribe(pid(2), 43, &t.id, None);
    assert!(matches!(common::reply(&out, pid(2)), Some((43, S::SubscribeAck(_)))));

    let r = roster(&mut sim, 9);
    assert_eq!(r, vec![(pid(1).to_string(), vec![t.id.clone()]), (pid(2).to_string(), vec![]),]);
}

#[test]
fn can_publish_false_forbids_publishing() {
    let mut sim = Sim::new();
    let muted = Grant { can_publish: false, ..grant() };
    sim.join_as(pid(1), token_with("muted", muted), false);
    let out = sim.send(pid(1), 5, C::PublishTrack(mic("mic")));
    assert_only_error(&out, pid(1), 5, ErrorCode::PermissionDenied);
}

#[test]
fn publish_sources_are_restricted_to_the_grant() {
    let mut sim = Sim::new();
    sim.join(1, true);
    let audio_only = Grant { can_publish_sources: vec![TrackSource::Microphone], ..grant() };
    sim.join_as(pid(2), token_with("caller", audio_only), false);

    for (rid, source) in [(1, TrackSource::Camera), (2, TrackSource::Screen), (3, TrackSource::ScreenAudio)] {
        let layers = u32::from(source == TrackSource::Camera || source == TrackSource::Screen);
        let out = sim.send(pid(2), rid, C::PublishTrack(common::publish(&format!("t{rid}"), source, layers)));
        assert_only_error(&out, pid(2), rid, ErrorCode::PermissionDenied);
    }
    let t = sim.publish_ok(pid(2), mic("mic"));
    assert_eq!(t.source, sig::TrackSource::Microphone as i32);

    let r = roster(&mut sim, 9);
    assert_eq!(r, vec![(pid(1).to_string(), vec![]), (pid(2).to_string(), vec![t.id.clone()]),]);
}

#[test]
fn hidden_participant_cannot_publish() {
    let mut sim = Sim::new();
    sim.join(1, true);
    let hidden = Grant { hidden: true, ..grant() };
    sim.join_as(pid(2), token_with("bot", hidden), false);
    let out = sim.send(pid(2), 8, C::PublishTrack(mic("mic")));
    assert_only_error(&out, pid(2), 8, ErrorCode::PermissionDenied);
}

#[test]
fn cannot_subscribe_without_can_subscribe() {
    let mut sim = Sim::new();
    sim.join(1, false);
    let cam = sim.publish_ok(pid(1), camera("cam", 2));
    let publish_only = Grant { can_subscribe: false, ..grant() };
    // Auto-subscribe is silently skipped for it at join...
    let out = sim.join_as(pid(2), token_with("ingest", publish_only), true);
    assert!(common::forwards(&out).is_empty(), "{out:?}");

    // ...and an explicit subscription is refused.
    let out = sim.subscribe(pid(2), 77, &cam.id, Some(0));
    assert_only_error(&out, pid(2), 77, ErrorCode::PermissionDenied);
    let out = sim.subscribe(pid(2), 78, &cam.id, None);
    assert_only_error(&out, pid(2), 78, ErrorCode::PermissionDenied);

    // It may still publish, and others subscribe to it as usual.
    let own = sim.publish_ok(pid(2), mic("mic"));
    let out = sim.subscribe(pid(1), 3, &own.id, None);
    assert_eq!(common::forwards(&out).len(), 1);
    assert!(matches!(common::reply(&out, pid(1)), Some((3, S::SubscribeAck(_)))));
}
