//! A publisher may stop sending a layer someone receives (its uplink adaptation drops the top
//! layer under congestion). The subscriber then falls back at once to the highest layer still
//! arriving — from that layer's cached group, so it never waits or sees an undecodable frame — and
//! goes back up at the paused layer's next keyframe when it returns.

mod common;

use std::time::Duration;

use common::{Label, Sim, labels_to, pid};
use dark_tower_core::track::TrackKind;
use dark_tower_sfu::router::LAYER_IDLE;

const PUB: u64 = 1;
const SUB: u64 = 2;
const ALIAS: u32 = 4;

/// Sends frame `seq` of `group` on each of `layers`, 33 ms apart in all; returns what SUB got.
fn frame_on(sim: &mut Sim, layers: &[u8], group: u64, seq: u32) -> Vec<Label> {
    let mut out = Vec::new();
    for &l in layers {
        out.extend(sim.video(PUB, ALIAS, l, group, seq));
    }
    sim.advance(Duration::from_millis(33));
    labels_to(&out, SUB)
}

#[test]
fn the_subscriber_follows_the_layers_that_arrive() {
    let mut sim = Sim::new();
    sim.attach(PUB, pid(1), true);
    sim.publish(pid(1), ALIAS, TrackKind::Video, 3);
    sim.attach(SUB, pid(2), false);
    sim.subscribe(pid(2), ALIAS, None);
    // All three layers: the top one is forwarded.
    for seq in 0..5 {
        assert_eq!(frame_on(&mut sim, &[0, 1, 2], 1, seq), vec![(ALIAS, 2, 1, seq)]);
    }
    // The publisher stops layer 2. Until it counts as paused, nothing else is sent.
    let mut seq = 5;
    let stopped = sim.now;
    let first = loop {
        let got = frame_on(&mut sim, &[0, 1], 1, seq);
        seq += 1;
        let waited = sim.now - stopped;
        if !got.is_empty() {
            assert!(waited >= LAYER_IDLE, "fell back too early: {waited:?}");
            break got;
        }
        assert!(waited < LAYER_IDLE + Duration::from_millis(200), "no fallback after {waited:?}");
    };
    // Layer 1's current group from its keyframe, through the frame just sent: decodable at once.
    let expected: Vec<Label> = (0..seq).map(|f| (ALIAS, 1, 1, f)).collect();
    assert_eq!(first, expected);
    assert_eq!(frame_on(&mut sim, &[0, 1], 1, seq), vec![(ALIAS, 1, 1, seq)]);

    // Layer 2 comes back with a keyframe of a new group: the subscriber goes back up there (layer
    // 1's keyframe, sent just before, still reached it: a decodable sequence either way).
    assert_eq!(frame_on(&mut sim, &[0, 1, 2], 2, 0), vec![(ALIAS, 1, 2, 0), (ALIAS, 2, 2, 0)]);
    assert_eq!(frame_on(&mut sim, &[0, 1, 2], 2, 1), vec![(ALIAS, 2, 2, 1)]);
}

#[test]
fn a_new_subscriber_starts_on_the_highest_layer_that_arrives() {
    let mut sim = Sim::new();
    sim.attach(PUB, pid(1), true);
    sim.publish(pid(1), ALIAS, TrackKind::Video, 3);
    // Only layers 0 and 1 are being sent (dynacast: nobody wanted the top one), for longer than
    // a layer may take to appear.
    let frames = 40;
    for seq in 0..frames {
        frame_on(&mut sim, &[0, 1], 1, seq);
    }
    sim.attach(SUB, pid(2), false);
    let out = sim.subscribe(pid(2), ALIAS, None);
    let expected: Vec<Label> = (0..frames).map(|f| (ALIAS, 1, 1, f)).collect();
    assert_eq!(labels_to(&out, SUB), expected);
}
