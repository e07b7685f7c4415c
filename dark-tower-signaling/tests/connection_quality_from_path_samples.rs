//! Connection quality comes from samples of each participant's path (RTT, packets sent and
//! lost): everyone is told when a level changes, a joiner gets every known level, samples of an
//! old session are ignored, and a dropped connection is `lost`.

mod common;

use std::time::Duration;

use common::{S, Sim, pid, sent_to};
use dark_tower_core::ids::ParticipantId;
use dark_tower_core::proto::sig;
use dark_tower_core::transport::PathStats;
use dark_tower_signaling::meeting::quality::classify;
use dark_tower_signaling::{Command, Effect};

use sig::ConnectionQualityLevel as L;

fn sample(sim: &mut Sim, who: u64, epoch: u64, rtt_ms: u64, sent: u64, lost: u64) -> Vec<Effect> {
    sim.handle(Command::PathSample {
        participant: pid(who),
        epoch,
        stats: PathStats { rtt: Duration::from_millis(rtt_ms), sent_packets: sent, lost_packets: lost },
    })
}

/// The quality updates `to` received, as (participant, level).
fn updates(out: &[Effect], to: ParticipantId) -> Vec<(String, i32)> {
    sent_to(out, to)
        .into_iter()
        .filter_map(|(_, m)| match m {
            S::ConnectionQuality(q) => Some(q.updates),
            _ => None,
        })
        .flatten()
        .map(|u| (u.participant_id, u.quality))
        .collect()
}

#[test]
fn thresholds() {
    assert_eq!(classify(Duration::from_millis(20), 0.0), L::Excellent);
    assert_eq!(classify(Duration::from_millis(99), 0.019), L::Excellent);
    assert_eq!(classify(Duration::from_millis(100), 0.0), L::Good);
    assert_eq!(classify(Duration::from_millis(20), 0.05), L::Good);
    assert_eq!(classify(Duration::from_millis(300), 0.0), L::Poor);
    assert_eq!(classify(Duration::from_millis(20), 0.10), L::Poor);
}

#[test]
fn everyone_hears_of_level_changes_only() {
    let mut sim = Sim::new();
    sim.join(1, false);
    sim.join(2, false);
    let me = pid(1).to_string();
    let out = sample(&mut sim, 1, 1, 20, 100, 0);
    assert_eq!(updates(&out, pid(1)), vec![(me.clone(), L::Excellent as i32)], "itself too");
    assert_eq!(updates(&out, pid(2)), vec![(me.clone(), L::Excellent as i32)]);

    assert!(sample(&mut sim, 1, 1, 25, 200, 1).is_empty(), "same level: silence");

    // 30 of the next 100 packets lost.
    let out = sample(&mut sim, 1, 1, 25, 300, 31);
    assert_eq!(updates(&out, pid(2)), vec![(me.clone(), L::Poor as i32)]);
    let q = sent_to(&out, pid(2))
        .into_iter()
        .find_map(|(_, m)| match m {
            S::ConnectionQuality(q) => q.updates.into_iter().next(),
            _ => None,
        })
        .expect("update");
    assert_eq!(q.rtt_ms, 25);
    assert!((q.loss - 0.30).abs() < 1e-6, "{}", q.loss);

    // Loss stopped, RTT is high-ish.
    let out = sample(&mut sim, 1, 1, 150, 400, 31);
    assert_eq!(updates(&out, pid(2)), vec![(me, L::Good as i32)]);
}

#[test]
fn a_joiner_gets_every_known_level_after_joined() {
    let mut sim = Sim::new();
    sim.join(1, false);
    sample(&mut sim, 1, 1, 20, 10, 0);
    let out = sim.join(2, false);
    let to2 = sent_to(&out, pid(2));
    let joined_at = to2.iter().position(|(_, m)| matches!(m, S::Joined(_))).expect("Joined");
    let quality_at = to2.iter().position(|(_, m)| matches!(m, S::ConnectionQuality(_))).expect("levels");
    assert!(joined_at < quality_at);
    assert_eq!(updates(&out, pid(2)), vec![(pid(1).to_string(), L::Excellent as i32)]);
}

#[test]
fn samples_of_an_old_session_or_a_stranger_are_ignored() {
    let mut sim = Sim::new();
    sim.join(1, false);
    assert!(sample(&mut sim, 1, 999, 20, 10, 0).is_empty());
    assert!(sample(&mut sim, 7, 7, 20, 10, 0).is_empty());
}

#[test]
fn a_dropped_connection_is_lost_until_it_resumes_and_is_sampled() {
    let mut sim = Sim::new();
    sim.join(1, false);
    sim.join(2, false);
    sample(&mut sim, 1, 1, 20, 10, 0);
    let out = sim.drop_connection(pid(1), 1);
    assert_eq!(updates(&out, pid(2)), vec![(pid(1).to_string(), L::Lost as i32)]);
    assert!(sample(&mut sim, 1, 1, 20, 20, 0).is_empty(), "no samples while away");
}
