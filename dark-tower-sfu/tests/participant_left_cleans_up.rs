//! When the controller says a participant left, the router drops its tracks and subscriptions and
//! closes its media session normally; once everyone has left and every session is gone, the
//! router holds nothing and can be dropped.

mod common;

use common::{Sim, audio, closes, forward_sessions, labels_to, pid};
use dark_tower_core::track::TrackKind;
use dark_tower_sfu::Via;

const CAMERA: u32 = 1;
const MIC: u32 = 2;
const OTHER_MIC: u32 = 3;

/// 1 publishes a camera and a microphone, 2 publishes a microphone; 2 and 3 subscribe to 1's
/// tracks, 1 and 3 to 2's microphone. Sessions are numbered like their participants.
fn meeting() -> Sim {
    let mut sim = Sim::new();
    for n in 1..=3 {
        sim.attach(n, pid(n), true);
    }
    sim.publish(pid(1), CAMERA, TrackKind::Video, 1);
    sim.publish(pid(1), MIC, TrackKind::Audio, 1);
    sim.publish(pid(2), OTHER_MIC, TrackKind::Audio, 1);
    for n in [2, 3] {
        sim.subscribe(pid(n), CAMERA, None);
        sim.subscribe(pid(n), MIC, None);
    }
    for n in [1, 3] {
        sim.subscribe(pid(n), OTHER_MIC, None);
    }
    let out = sim.video(1, CAMERA, 0, 1, 0);
    assert_eq!(sorted(forward_sessions(&out)), vec![2, 3]);
    sim
}

fn sorted(mut v: Vec<u64>) -> Vec<u64> {
    v.sort_unstable();
    v
}

#[test]
fn publisher_leaving_closes_its_session_and_removes_its_tracks() {
    let mut sim = meeting();
    let out = sim.left(pid(1));
    assert_eq!(closes(&out), vec![(1, None)]);
    assert_eq!(out.len(), 1, "{out:?}");
    assert_eq!(sim.router.session_count(), 2);

    // Frames still in flight from the closed session go nowhere and close nothing more.
    assert!(sim.video(1, CAMERA, 0, 1, 1).is_empty());
    assert!(sim.frame(1, audio(MIC, 1), Via::Datagram).is_empty());
    // The tracks are gone: subscribing again replays nothing.
    assert!(sim.subscribe(pid(3), CAMERA, None).is_empty());

    // 2's microphone now goes to 3 only.
    let out = sim.frame(2, audio(OTHER_MIC, 1), Via::Datagram);
    assert_eq!(forward_sessions(&out), vec![3]);
    assert!(!sim.router.is_idle());
}

#[test]
fn subscriber_leaving_stops_receiving() {
    let mut sim = meeting();
    let out = sim.left(pid(3));
    assert_eq!(closes(&out), vec![(3, None)]);

    let out = sim.video(1, CAMERA, 0, 1, 1);
    assert_eq!(labels_to(&out, 2), vec![(CAMERA, 0, 1, 1)]);
    assert!(labels_to(&out, 3).is_empty());
    let out = sim.frame(2, audio(OTHER_MIC, 1), Via::Datagram);
    assert_eq!(forward_sessions(&out), vec![1]);

    // Coming back later with a new session does not revive the old subscriptions.
    assert!(sim.attach(33, pid(3), false).is_empty());
    let out = sim.video(1, CAMERA, 0, 1, 2);
    assert_eq!(forward_sessions(&out), vec![2]);
}

#[test]
fn router_is_idle_once_everyone_left_and_sessions_detached() {
    let mut sim = meeting();
    let out = sim.left(pid(1));
    assert_eq!(closes(&out), vec![(1, None)]);
    assert!(sim.detach(1).is_empty());
    assert!(!sim.router.is_idle());

    // 2's session ends first, then the controller notices it left: nothing left to close.
    assert!(sim.detach(2).is_empty());
    assert!(!sim.router.is_idle(), "2 still publishes as far as the controller knows");
    assert!(closes(&sim.left(pid(2))).is_empty());
    assert!(!sim.router.is_idle());

    let out = sim.left(pid(3));
    assert_eq!(closes(&out), vec![(3, None)]);
    assert!(sim.detach(3).is_empty());
    assert_eq!(sim.router.session_count(), 0);
    assert!(sim.router.is_idle());
}

#[test]
fn a_session_without_tracks_is_forgotten_when_it_detaches() {
    let mut sim = Sim::new();
    assert!(sim.router.is_idle());
    sim.attach(1, pid(1), true);
    assert!(!sim.router.is_idle());
    sim.detach(1);
    assert!(sim.router.is_idle());
}
