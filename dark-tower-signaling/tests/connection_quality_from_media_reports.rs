//! The media handler's reports of how media reaches a subscriber count in its connection quality:
//! frames dropped because its link cannot keep up, or a link holding it below the layers it
//! wants, lower the level even when the signaling path looks perfect; the worse source wins.

mod common;

use std::time::Duration;

use common::{S, Sim, meeting_name, pid, sent_to};
use dark_tower_core::forwarding::MediaReport;
use dark_tower_core::ids::ParticipantId;
use dark_tower_core::proto::sig;
use dark_tower_core::transport::PathStats;
use dark_tower_signaling::meeting::quality::classify_media;
use dark_tower_signaling::{Command, Effect};

use sig::ConnectionQualityLevel as L;

fn media(sim: &mut Sim, who: u64, loss: f32, constrained: bool) -> Vec<Effect> {
    sim.handle(Command::Media(MediaReport::SubscriberLink {
        meeting: meeting_name(),
        participant: pid(who),
        rtt: Duration::from_millis(20),
        throughput_bps: 500_000,
        loss,
        constrained,
    }))
}

fn levels(out: &[Effect], to: ParticipantId) -> Vec<(i32, f32)> {
    sent_to(out, to)
        .into_iter()
        .filter_map(|(_, m)| match m {
            S::ConnectionQuality(q) => Some(q.updates),
            _ => None,
        })
        .flatten()
        .map(|u| (u.quality, u.loss))
        .collect()
}

#[test]
fn media_thresholds() {
    assert_eq!(classify_media(0.0, false), L::Excellent);
    assert_eq!(classify_media(0.0, true), L::Good, "held to lower layers");
    assert_eq!(classify_media(0.05, false), L::Good);
    assert_eq!(classify_media(0.10, false), L::Poor);
}

#[test]
fn the_worse_of_path_and_media_is_everyones_view() {
    let mut sim = Sim::new();
    sim.join(1, false);
    sim.join(2, false);
    let out = sim.handle(Command::PathSample {
        participant: pid(1),
        epoch: 1,
        stats: PathStats { rtt: Duration::from_millis(20), sent_packets: 100, lost_packets: 0 },
    });
    assert_eq!(levels(&out, pid(2)), vec![(L::Excellent as i32, 0.0)]);

    // Its media link drops 30 % of what it is sent: poor, with that loss, for everyone.
    let out = media(&mut sim, 1, 0.3, true);
    assert_eq!(levels(&out, pid(2)), vec![(L::Poor as i32, 0.3)]);
    assert_eq!(levels(&out, pid(1)), vec![(L::Poor as i32, 0.3)]);

    // Recovering, but still held below the layers it wants: good.
    let out = media(&mut sim, 1, 0.0, true);
    assert_eq!(levels(&out, pid(2)), vec![(L::Good as i32, 0.0)]);
    // Same again: silence.
    assert!(levels(&media(&mut sim, 1, 0.0, true), pid(2)).is_empty());
    // Unconstrained: excellent again.
    assert_eq!(levels(&media(&mut sim, 1, 0.0, false), pid(2)), vec![(L::Excellent as i32, 0.0)]);
    // A report about someone not in the meeting changes nothing.
    assert!(media(&mut sim, 9, 0.5, true).is_empty());
}
