//! Subscribers that need a keyframe make the router ask the publisher for one, merged and
//! rate-limited per track and layer.

mod common;

use std::time::Duration;

use common::{Sim, pid};
use dark_tower_core::track::TrackKind;
use dark_tower_sfu::Output;
use dark_tower_sfu::router::{Feedback, KEYFRAME_INTERVAL};

const ALIAS: u32 = 4;

fn requests(out: &[Output]) -> Vec<(u32, u8)> {
    out.iter()
        .filter_map(|o| match o {
            Output::Report(Feedback::KeyframeNeeded { publisher, alias, spatial_id }) => {
                assert_eq!(*publisher, pid(1));
                Some((alias.0, *spatial_id))
            }
            _ => None,
        })
        .collect()
}

#[test]
fn requests_are_merged_within_the_interval_and_per_layer() {
    let mut sim = Sim::new();
    sim.attach(1, pid(1), true);
    sim.publish(pid(1), ALIAS, TrackKind::Video, 3);
    for s in 2..=4 {
        sim.attach(s, pid(s), false);
    }
    assert_eq!(requests(&sim.subscribe(pid(2), ALIAS, None)), [(ALIAS, 2)]);
    // A second subscriber of the same layer within the interval: merged.
    assert!(requests(&sim.subscribe(pid(3), ALIAS, None)).is_empty());
    // Another layer is another request.
    assert_eq!(requests(&sim.subscribe(pid(4), ALIAS, Some(0))), [(ALIAS, 0)]);
    // After the interval, a subscriber still waiting asks again when it resubscribes.
    sim.advance(KEYFRAME_INTERVAL);
    assert_eq!(requests(&sim.subscribe(pid(3), ALIAS, None)), [(ALIAS, 2)]);
    // A keyframe arrives: everyone starts; nobody asks any more.
    let out = sim.video(1, ALIAS, 2, 0, 0);
    assert!(requests(&out).is_empty());
    sim.advance(Duration::from_secs(1));
    assert!(requests(&sim.subscribe(pid(2), ALIAS, None)).is_empty(), "already receiving layer 2");
}

#[test]
fn audio_tracks_never_need_keyframes() {
    let mut sim = Sim::new();
    sim.attach(1, pid(1), true);
    sim.publish(pid(1), ALIAS, TrackKind::Audio, 1);
    sim.attach(2, pid(2), false);
    assert!(requests(&sim.subscribe(pid(2), ALIAS, None)).is_empty());
}
