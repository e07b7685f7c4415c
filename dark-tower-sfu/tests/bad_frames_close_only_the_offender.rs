//! A session that sends a frame it has no right to send is closed with a typed code, and only that
//! session: everyone else keeps receiving. A late frame of a track its sender just unpublished is
//! not misbehaviour and is dropped quietly.

mod common;

use common::{Sim, audio, closes, forward_sessions, labels_to, pid};
use dark_tower_core::error::ErrorCode;
use dark_tower_core::track::TrackKind;
use dark_tower_sfu::{RouterStats, Via};

const PUB: u64 = 1;
const SUB_A: u64 = 2;
const SUB_B: u64 = 3;
const ROGUE: u64 = 4;

const CAMERA: u32 = 1;
const MIC: u32 = 2;

/// Participant 1 publishes a two-layer camera and a microphone; 2 and 3 subscribe to both; 4 is a
/// participant whose session may publish but who published nothing.
fn meeting() -> Sim {
    let mut sim = Sim::new();
    sim.attach(PUB, pid(1), true);
    sim.publish(pid(1), CAMERA, TrackKind::Video, 2);
    sim.publish(pid(1), MIC, TrackKind::Audio, 1);
    for (session, p) in [(SUB_A, pid(2)), (SUB_B, pid(3))] {
        sim.attach(session, p, false);
        sim.subscribe(p, CAMERA, Some(0));
        sim.subscribe(p, MIC, None);
    }
    sim.attach(ROGUE, pid(4), true);
    sim
}

/// The legitimate publisher still reaches both subscribers.
fn assert_subscribers_still_served(sim: &mut Sim, group: u64) {
    let out = sim.video(PUB, CAMERA, 0, group, 0);
    assert_eq!(labels_to(&out, SUB_A), vec![(CAMERA, 0, group, 0)]);
    assert_eq!(labels_to(&out, SUB_B), vec![(CAMERA, 0, group, 0)]);
    assert!(closes(&out).is_empty());
    let out = sim.frame(PUB, audio(MIC, group), Via::Datagram);
    let mut to = forward_sessions(&out);
    to.sort_unstable();
    assert_eq!(to, vec![SUB_A, SUB_B]);
}

#[test]
fn frame_for_a_track_never_published_by_the_sender_closes_it_with_unknown_track() {
    let mut sim = meeting();
    assert_subscribers_still_served(&mut sim, 1);
    let before = sim.router.stats();

    // An alias nobody published.
    let out = sim.video(ROGUE, 99, 0, 1, 0);
    assert_eq!(closes(&out), vec![(ROGUE, Some(ErrorCode::UnknownTrack))]);
    assert_eq!(out.len(), 1, "nothing forwarded: {out:?}");
    assert_eq!(sim.router.stats().dropped_unknown_track, 1);
    assert_eq!(sim.router.stats().frames_in, before.frames_in);
    sim.detach(ROGUE);

    // Someone else's alias, from a newer session of the same participant: spoofing is refused too.
    sim.attach(ROGUE + 10, pid(4), true);
    let out = sim.video(ROGUE + 10, CAMERA, 0, 1, 1);
    assert_eq!(closes(&out), vec![(ROGUE + 10, Some(ErrorCode::UnknownTrack))]);
    assert!(forward_sessions(&out).is_empty());
    sim.detach(ROGUE + 10);

    let stats = sim.router.stats();
    assert_eq!(stats, RouterStats { dropped_unknown_track: 2, ..before });
    assert_subscribers_still_served(&mut sim, 2);
}

#[test]
fn frame_for_an_unpublished_layer_is_a_protocol_violation() {
    let mut sim = meeting();
    // The camera has layers 0 and 1.
    let out = sim.video(PUB, CAMERA, 2, 1, 0);
    assert_eq!(closes(&out), vec![(PUB, Some(ErrorCode::ProtocolViolation))]);
    assert_eq!(out.len(), 1, "{out:?}");
    let stats = sim.router.stats();
    assert_eq!(stats.dropped_bad_layer, 1);
    assert_eq!(stats.frames_in, 0);
    assert_eq!(stats.frames_out, 0);
}

#[test]
fn audio_on_a_layer_above_0_is_a_protocol_violation() {
    let mut sim = meeting();
    let mut f = audio(MIC, 1);
    f.header.spatial_id = 1;
    let out = sim.frame(PUB, f, Via::Datagram);
    assert_eq!(closes(&out), vec![(PUB, Some(ErrorCode::ProtocolViolation))]);
    assert!(forward_sessions(&out).is_empty());
    assert_eq!(sim.router.stats().dropped_bad_layer, 1);
}

#[test]
fn frame_from_a_session_that_may_not_publish_is_permission_denied() {
    let mut sim = meeting();
    // The same participant reconnects with a receive-only ticket: the newer session replaces the
    // old one, and even frames of its own track are refused on it.
    let out = sim.attach(50, pid(1), false);
    assert_eq!(closes(&out), vec![(PUB, None)], "older session replaced");
    let out = sim.video(50, CAMERA, 0, 1, 0);
    assert_eq!(closes(&out), vec![(50, Some(ErrorCode::PermissionDenied))]);
    assert!(forward_sessions(&out).is_empty());

    // A subscriber's receive-only session likewise.
    let out = sim.frame(SUB_A, audio(MIC, 1), Via::Datagram);
    assert_eq!(closes(&out), vec![(SUB_A, Some(ErrorCode::PermissionDenied))]);
    assert!(forward_sessions(&out).is_empty());

    let stats = sim.router.stats();
    assert_eq!(stats.dropped_not_allowed, 2);
    assert_eq!(stats.frames_in, 0);
}

#[test]
fn late_frame_of_an_unpublished_track_is_dropped_quietly() {
    let mut sim = meeting();
    assert_subscribers_still_served(&mut sim, 1);
    assert!(sim.unpublish(CAMERA).is_empty());

    // Frames already in flight when the track was unpublished.
    let out = sim.video(PUB, CAMERA, 0, 1, 1);
    assert!(out.is_empty(), "no close, no forward: {out:?}");
    let out = sim.video(PUB, CAMERA, 1, 1, 1);
    assert!(out.is_empty(), "no close, no forward: {out:?}");
    let stats = sim.router.stats();
    assert_eq!(stats.dropped_stale_track, 2);
    assert_eq!(stats.dropped_unknown_track, 0);
    assert_eq!(stats.dropped_bad_layer, 0);

    // The publisher's session is still open and its other track still flows.
    let out = sim.frame(PUB, audio(MIC, 5), Via::Datagram);
    assert_eq!(forward_sessions(&out).len(), 2);
    assert!(closes(&out).is_empty());
}
