//! A subscriber that arrives in the middle of a group of pictures starts at once from the cached
//! keyframe of its layer instead of waiting for the next one; without a cached keyframe it waits.

mod common;

use common::{Sim, forward_sessions, labels_to, pid};
use dark_tower_core::ids::TrackAlias;
use dark_tower_core::track::TrackKind;
use dark_tower_sfu::Output;
use dark_tower_sfu::Via;
use dark_tower_sfu::router::Feedback;

const PUB: u64 = 1;
const ALIAS: u32 = 7;

/// A publisher with a three-layer video track that has sent a keyframe and three deltas on each
/// layer (group 1), before anyone subscribed.
fn publishing() -> Sim {
    let mut sim = Sim::new();
    assert!(sim.attach(PUB, pid(1), true).is_empty());
    // Publishing forwards nothing (dynacast reports that nobody watches yet).
    assert!(forward_sessions(&sim.publish(pid(1), ALIAS, TrackKind::Video, 3)).is_empty());
    for seq in 0..4 {
        for layer in 0..3 {
            let out = sim.video(PUB, ALIAS, layer, 1, seq);
            assert!(out.is_empty(), "nobody subscribed yet, got {out:?}");
        }
    }
    assert_eq!(sim.router.stats().frames_in, 12);
    sim
}

fn group(layer: u8, g: u64, frames: u32) -> Vec<(u32, u8, u64, u32)> {
    (0..frames).map(|f| (ALIAS, layer, g, f)).collect()
}

#[test]
fn late_subscriber_gets_the_top_layer_group_from_its_keyframe() {
    let mut sim = publishing();
    assert!(sim.attach(2, pid(2), false).is_empty());
    let out = sim.subscribe(pid(2), ALIAS, None);
    assert_eq!(labels_to(&out, 2), group(2, 1, 4), "cached group of layer 2, keyframe first");
    assert_eq!(
        out.iter().filter(|o| matches!(o, Output::Forward { .. })).count(),
        4,
        "only forwards to the new subscriber: {out:?}"
    );
    for (f, via) in common::forwarded_to(&out, 2) {
        assert_eq!(via, Via::Stream);
        assert_eq!(f.payload, common::video(ALIAS, 2, 1, f.header.frame_seq).payload);
    }
    assert!(common::forwarded_to(&out, 2)[0].0.header.keyframe);
    assert_eq!(sim.router.stats().frames_out, 4);

    // Then it follows the live stream of that layer only.
    let mut live = Vec::new();
    for layer in 0..3 {
        live.extend(sim.video(PUB, ALIAS, layer, 1, 4));
    }
    assert_eq!(labels_to(&live, 2), vec![(ALIAS, 2, 1, 4)]);
    assert_eq!(live.len(), 1);
}

#[test]
fn late_subscriber_with_max_spatial_0_gets_layer_0() {
    let mut sim = publishing();
    assert!(sim.attach(2, pid(2), false).is_empty());
    let out = sim.subscribe(pid(2), ALIAS, Some(0));
    assert_eq!(labels_to(&out, 2), group(0, 1, 4));
    assert_eq!(out.iter().filter(|o| matches!(o, Output::Forward { .. })).count(), 4);

    let mut live = Vec::new();
    for layer in 0..3 {
        live.extend(sim.video(PUB, ALIAS, layer, 1, 4));
    }
    assert_eq!(labels_to(&live, 2), vec![(ALIAS, 0, 1, 4)]);
    assert_eq!(live.len(), 1);
}

#[test]
fn subscription_made_before_the_session_attaches_starts_on_attach() {
    let mut sim = publishing();
    // The controller subscribes the participant before its media session is open: nothing is
    // forwarded yet, and the cached group makes a keyframe request unnecessary.
    let out = sim.subscribe(pid(2), ALIAS, Some(1));
    assert!(forward_sessions(&out).is_empty());
    let out = sim.attach(2, pid(2), false);
    assert_eq!(labels_to(&out, 2), group(1, 1, 4));
    assert_eq!(out.iter().filter(|o| matches!(o, Output::Forward { .. })).count(), 4);
}

#[test]
fn each_late_subscriber_gets_its_own_replay() {
    let mut sim = publishing();
    sim.attach(2, pid(2), false);
    sim.attach(3, pid(3), false);
    let first = sim.subscribe(pid(2), ALIAS, None);
    assert_eq!(labels_to(&first, 2), group(2, 1, 4));
    // A second subscriber replays the same cache; the first is not sent the group again.
    let second = sim.subscribe(pid(3), ALIAS, None);
    assert_eq!(labels_to(&second, 3), group(2, 1, 4));
    assert!(labels_to(&second, 2).is_empty());
}

#[test]
fn without_a_cached_keyframe_the_subscriber_waits_for_the_next_one() {
    let mut sim = Sim::new();
    sim.attach(PUB, pid(1), true);
    sim.publish(pid(1), ALIAS, TrackKind::Video, 3);
    // The first frames the router sees are deltas in the middle of group 5: its keyframe was
    // never seen, so the group cannot start anyone.
    for seq in 3..6 {
        for layer in 0..3 {
            assert!(sim.video(PUB, ALIAS, layer, 5, seq).is_empty());
        }
    }
    sim.attach(2, pid(2), false);
    sim.attach(3, pid(3), false);
    // Nothing decodable to replay: no forwards, and the publisher is asked for a keyframe of
    // each wanted layer.
    for (who, max, layer) in [(2, None, 2), (3, Some(0), 0)] {
        let out = sim.subscribe(pid(who), ALIAS, max);
        assert!(forward_sessions(&out).is_empty(), "nothing decodable to replay");
        let keyframe_requests: Vec<_> =
            out.iter().filter(|o| matches!(o, Output::Report(Feedback::KeyframeNeeded { .. }))).collect();
        assert_eq!(
            keyframe_requests,
            vec![&Output::Report(Feedback::KeyframeNeeded {
                publisher: pid(1),
                alias: TrackAlias(ALIAS),
                spatial_id: layer
            })]
        );
    }

    // More deltas of the same group still go to nobody.
    for layer in 0..3 {
        assert!(sim.video(PUB, ALIAS, layer, 5, 6).is_empty());
    }
    assert_eq!(sim.router.stats().frames_out, 0);

    // The next keyframe of each subscriber's layer starts it.
    let mut out = Vec::new();
    for seq in 0..2 {
        for layer in 0..3 {
            out.extend(sim.video(PUB, ALIAS, layer, 6, seq));
        }
    }
    assert_eq!(labels_to(&out, 2), group(2, 6, 2));
    assert_eq!(labels_to(&out, 3), group(0, 6, 2));
    assert_eq!(out.iter().filter(|o| matches!(o, Output::Forward { .. })).count(), 4);
}

#[test]
fn late_delta_of_the_group_before_the_cached_one_is_not_forwarded() {
    let mut sim = publishing();
    // Group 2 of layer 2 starts while frame 4 of group 1 is still in flight on its own stream.
    sim.video(PUB, ALIAS, 2, 2, 0);
    sim.attach(2, pid(2), false);
    assert_eq!(labels_to(&sim.subscribe(pid(2), ALIAS, None), 2), group(2, 2, 1));
    let late = sim.video(PUB, ALIAS, 2, 1, 4);
    assert!(
        labels_to(&late, 2).is_empty(),
        "the subscriber started at group 2 and never had group 1's keyframe: {late:?}"
    );
    assert_eq!(labels_to(&sim.video(PUB, ALIAS, 2, 2, 1), 2), vec![(ALIAS, 2, 2, 1)]);
}
