//! Groups travel on separate streams, so a later group may overtake an earlier one. Each group
//! whose keyframe the subscriber received is forwarded whole, in whatever order it comes; a delta
//! of a group whose keyframe it never got is not forwarded.

mod common;

use common::{Sim, labels_to, pid};
use dark_tower_core::track::TrackKind;

#[test]
fn groups_arriving_out_of_order_are_each_forwarded_whole() {
    let mut sim = Sim::new();
    sim.attach(1, pid(1), true);
    sim.publish(pid(1), 1, TrackKind::Video, 1);
    sim.attach(2, pid(2), false);
    sim.subscribe(pid(2), 1, None);
    // Group 1 overtakes group 0; a delta of group 2 arrives without its keyframe.
    let mut got = Vec::new();
    for (g, f) in [(1, 0), (0, 0), (1, 1), (0, 1), (2, 1), (0, 2)] {
        got.extend(labels_to(&sim.video(1, 1, 0, g, f), 2));
    }
    let order: Vec<(u64, u32)> = got.iter().map(|l| (l.2, l.3)).collect();
    assert_eq!(order, [(1, 0), (0, 0), (1, 1), (0, 1), (0, 2)]);
}
