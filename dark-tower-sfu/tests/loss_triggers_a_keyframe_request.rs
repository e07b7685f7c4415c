//! A subscriber whose egress dropped frames (its groups were abandoned) waits for a keyframe to
//! recover: the router asks the publisher for one at once, merged with other requests.

mod common;

use std::time::Duration;

use common::{Sim, pid};
use dark_tower_core::track::TrackKind;
use dark_tower_sfu::router::Feedback;
use dark_tower_sfu::{Input, LinkReport, Output, SessionId};

fn report(dropped: u64, sent: u64) -> LinkReport {
    LinkReport {
        sent_bytes: sent,
        dropped_frames: dropped,
        queued_frames: 0,
        queued_bytes: 0,
        rtt: Duration::from_millis(30),
    }
}

fn keyframe_requests(out: &[Output]) -> Vec<u8> {
    out.iter()
        .filter_map(|o| match o {
            Output::Report(Feedback::KeyframeNeeded { spatial_id, .. }) => Some(*spatial_id),
            _ => None,
        })
        .collect()
}

#[test]
fn drops_lead_to_a_keyframe_request_for_the_layer_received() {
    let mut sim = Sim::new();
    sim.attach(1, pid(1), true);
    sim.publish(pid(1), 7, TrackKind::Video, 3);
    sim.attach(2, pid(2), false);
    sim.subscribe(pid(2), 7, Some(1));
    sim.video(1, 7, 1, 1, 0);
    sim.advance(Duration::from_secs(1));
    let link = |d, s| Input::Link { session: SessionId(2), report: report(d, s) };
    assert!(keyframe_requests(&sim.input(link(0, 10_000))).is_empty(), "no loss, no request");
    sim.advance(Duration::from_millis(250));
    assert!(keyframe_requests(&sim.input(link(0, 20_000))).is_empty());
    sim.advance(Duration::from_millis(250));
    // Frames dropped since the last report: a keyframe of layer 1 (what it receives, as far as
    // its link now allows) is asked for.
    let asked = keyframe_requests(&sim.input(link(5, 30_000)));
    assert_eq!(asked.len(), 1, "{asked:?}");
    assert!(asked[0] <= 1);
    // More drops 100 ms later: merged into the request just made.
    sim.advance(Duration::from_millis(100));
    assert!(keyframe_requests(&sim.input(link(9, 31_000))).is_empty());
}
