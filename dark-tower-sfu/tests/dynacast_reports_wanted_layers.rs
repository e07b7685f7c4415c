//! Dynacast: the router tells each video publisher which of its layers some subscriber wants,
//! whenever that set changes, so unwatched layers need not be encoded.

mod common;

use common::{Sim, pid};
use dark_tower_core::ids::TrackAlias;
use dark_tower_core::track::TrackKind;
use dark_tower_sfu::Output;
use dark_tower_sfu::router::Feedback;

const ALIAS: u32 = 5;

fn wanted(out: &[Output]) -> Vec<Vec<u8>> {
    out.iter()
        .filter_map(|o| match o {
            Output::Report(Feedback::LayersWanted { publisher, alias, layers }) => {
                assert_eq!((*publisher, *alias), (pid(1), TrackAlias(ALIAS)));
                Some(layers.clone())
            }
            _ => None,
        })
        .collect()
}

#[test]
fn wanted_layers_follow_the_subscriptions() {
    let mut sim = Sim::new();
    assert_eq!(
        wanted(&sim.publish(pid(1), ALIAS, TrackKind::Video, 3)),
        [Vec::<u8>::new()],
        "nobody watches yet"
    );
    assert_eq!(wanted(&sim.subscribe(pid(2), ALIAS, None)), [vec![2]]);
    assert!(wanted(&sim.subscribe(pid(3), ALIAS, Some(2))).is_empty(), "unchanged: no report");
    assert_eq!(wanted(&sim.subscribe(pid(4), ALIAS, Some(0))), [vec![0, 2]]);
    assert_eq!(wanted(&sim.unsubscribe(pid(4), ALIAS)), [vec![2]]);
    // A subscriber moving down to layer 1 while another stays on 2.
    assert_eq!(wanted(&sim.subscribe(pid(2), ALIAS, Some(1))), [vec![1, 2]]);
    assert_eq!(wanted(&sim.left(pid(3))), [vec![1]]);
    assert_eq!(wanted(&sim.left(pid(2))), [Vec::<u8>::new()], "nobody watches any more");
}

#[test]
fn audio_tracks_are_not_reported() {
    let mut sim = Sim::new();
    assert!(wanted(&sim.publish(pid(1), ALIAS, TrackKind::Audio, 1)).is_empty());
    assert!(wanted(&sim.subscribe(pid(2), ALIAS, None)).is_empty());
}
