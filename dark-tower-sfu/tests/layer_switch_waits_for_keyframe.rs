//! A subscriber that changes its wanted spatial layer keeps receiving the old layer until a keyframe
//! of the new one arrives, then only the new one: it never sees a delta it cannot decode.

mod common;

use common::{Label, Sim, labels_to, pid};
use dark_tower_core::track::TrackKind;

const PUB: u64 = 1;
const SUB: u64 = 2;
const ALIAS: u32 = 3;

/// Sends frame `seq` of group `group` on every layer, lowest first; returns what `SUB` received.
fn all_layers(sim: &mut Sim, group: u64, seq: u32) -> Vec<Label> {
    let mut out = Vec::new();
    for layer in 0..3 {
        out.extend(sim.video(PUB, ALIAS, layer, group, seq));
    }
    labels_to(&out, SUB)
}

/// A subscriber receiving layer 2 of a three-layer track, in the middle of group 1.
fn on_top_layer() -> Sim {
    let mut sim = Sim::new();
    sim.attach(PUB, pid(1), true);
    sim.publish(pid(1), ALIAS, TrackKind::Video, 3);
    sim.attach(SUB, pid(2), false);
    assert!(labels_to(&sim.subscribe(pid(2), ALIAS, None), SUB).is_empty(), "nothing cached yet");
    assert_eq!(all_layers(&mut sim, 1, 0), vec![(ALIAS, 2, 1, 0)]);
    assert_eq!(all_layers(&mut sim, 1, 1), vec![(ALIAS, 2, 1, 1)]);
    sim
}

#[test]
fn switching_down_waits_for_a_layer_0_keyframe() {
    let mut sim = on_top_layer();
    let out = sim.subscribe(pid(2), ALIAS, Some(0));
    assert!(labels_to(&out, SUB).is_empty(), "no replay while a layer is being forwarded: {out:?}");

    // Deltas of layer 0's current group are not decodable for this subscriber: it stays on layer 2.
    assert_eq!(all_layers(&mut sim, 1, 2), vec![(ALIAS, 2, 1, 2)]);
    assert_eq!(all_layers(&mut sim, 1, 3), vec![(ALIAS, 2, 1, 3)]);

    // Layer 0 starts a new group: the switch happens on its keyframe.
    let out = sim.video(PUB, ALIAS, 0, 2, 0);
    assert_eq!(labels_to(&out, SUB), vec![(ALIAS, 0, 2, 0)]);
    assert!(common::forwarded_to(&out, SUB)[0].0.header.keyframe);

    // From now on only layer 0, even across a keyframe of layer 2.
    assert!(labels_to(&sim.video(PUB, ALIAS, 1, 1, 4), SUB).is_empty());
    assert!(labels_to(&sim.video(PUB, ALIAS, 2, 1, 4), SUB).is_empty());
    assert_eq!(labels_to(&sim.video(PUB, ALIAS, 0, 2, 1), SUB), vec![(ALIAS, 0, 2, 1)]);
    assert_eq!(all_layers(&mut sim, 3, 0), vec![(ALIAS, 0, 3, 0)]);
    assert_eq!(all_layers(&mut sim, 3, 1), vec![(ALIAS, 0, 3, 1)]);
}

#[test]
fn switching_up_waits_for_a_top_layer_keyframe() {
    let mut sim = on_top_layer();
    sim.subscribe(pid(2), ALIAS, Some(0));
    assert_eq!(all_layers(&mut sim, 2, 0), vec![(ALIAS, 0, 2, 0)]);
    assert_eq!(all_layers(&mut sim, 2, 1), vec![(ALIAS, 0, 2, 1)]);

    // Back to the highest layer: layer 2's group 2 is cached, but the subscriber is mid-stream on
    // layer 0, so it waits for the next layer-2 keyframe and is not sent layer-2 deltas meanwhile.
    let out = sim.subscribe(pid(2), ALIAS, None);
    assert!(labels_to(&out, SUB).is_empty(), "{out:?}");
    assert_eq!(all_layers(&mut sim, 2, 2), vec![(ALIAS, 0, 2, 2)]);

    // A keyframe of layer 1 is not the target either.
    assert!(labels_to(&sim.video(PUB, ALIAS, 1, 3, 0), SUB).is_empty());
    assert_eq!(labels_to(&sim.video(PUB, ALIAS, 0, 2, 3), SUB), vec![(ALIAS, 0, 2, 3)]);

    assert_eq!(labels_to(&sim.video(PUB, ALIAS, 2, 3, 0), SUB), vec![(ALIAS, 2, 3, 0)]);
    assert!(labels_to(&sim.video(PUB, ALIAS, 0, 2, 4), SUB).is_empty());
    assert_eq!(labels_to(&sim.video(PUB, ALIAS, 2, 3, 1), SUB), vec![(ALIAS, 2, 3, 1)]);
}

#[test]
fn max_spatial_above_the_published_layers_means_the_top_one() {
    let mut sim = Sim::new();
    sim.attach(PUB, pid(1), true);
    sim.publish(pid(1), ALIAS, TrackKind::Video, 2);
    sim.attach(SUB, pid(2), false);
    sim.subscribe(pid(2), ALIAS, Some(2));
    let mut out = Vec::new();
    for layer in 0..2 {
        out.extend(sim.video(PUB, ALIAS, layer, 1, 0));
    }
    assert_eq!(labels_to(&out, SUB), vec![(ALIAS, 1, 1, 0)]);
}

#[test]
fn late_delta_of_an_older_group_of_the_new_layer_is_not_forwarded() {
    let mut sim = on_top_layer();
    sim.subscribe(pid(2), ALIAS, Some(0));
    // Layer 0 group 2 opens while a frame of layer 0 group 1 is still in flight on its own stream.
    assert_eq!(labels_to(&sim.video(PUB, ALIAS, 0, 2, 0), SUB), vec![(ALIAS, 0, 2, 0)]);
    let late = sim.video(PUB, ALIAS, 0, 1, 2);
    assert!(
        labels_to(&late, SUB).is_empty(),
        "the subscriber never had the keyframe of layer 0 group 1: {late:?}"
    );
    assert_eq!(labels_to(&sim.video(PUB, ALIAS, 0, 2, 1), SUB), vec![(ALIAS, 0, 2, 1)]);
}
