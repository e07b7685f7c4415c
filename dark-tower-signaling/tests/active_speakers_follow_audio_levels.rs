//! Audio levels reported by the media handler become `ActiveSpeakers` for everyone: speakers
//! above the threshold, loudest first, sent only when the set or order changes. Keyframe requests
//! are relayed to the track's publisher.

mod common;

use common::{Sim, camera, meeting_name, pid, sent_to};
use dark_tower_core::forwarding::MediaReport;
use dark_tower_core::ids::TrackAlias;
use dark_tower_core::proto::sig;
use dark_tower_signaling::Command;
use sig::server_message::Message as S;

fn speakers(effects: &[dark_tower_signaling::Effect], to: u64) -> Option<Vec<String>> {
    sent_to(effects, pid(to)).into_iter().find_map(|(_, m)| match m {
        S::ActiveSpeakers(a) => Some(a.speakers.into_iter().map(|s| s.participant_id).collect()),
        _ => None,
    })
}

fn levels(levels: &[(u64, u8)]) -> Command {
    Command::Media(MediaReport::AudioLevels {
        meeting: meeting_name(),
        levels: levels.iter().map(|(p, l)| (pid(*p), *l)).collect(),
    })
}

#[test]
fn speakers_loudest_first_and_only_on_change() {
    let mut sim = Sim::new();
    for n in 1..=3 {
        sim.join(n, true);
    }
    let out = sim.handle(levels(&[(1, 40), (2, 20), (3, 120)]));
    let expected = vec![pid(2).to_string(), pid(1).to_string()];
    for n in 1..=3 {
        assert_eq!(speakers(&out, n).as_ref(), Some(&expected), "everyone is told, loudest first");
    }
    // Same speakers, same order: nothing new is sent.
    assert!(sim.handle(levels(&[(1, 41), (2, 21)])).is_empty());
    // Everyone falls silent: an empty list once.
    let out = sim.handle(levels(&[]));
    assert_eq!(speakers(&out, 1), Some(vec![]));
    assert!(sim.handle(levels(&[(3, 127)])).is_empty(), "silence below the threshold changes nothing");
}

#[test]
fn keyframe_requests_reach_the_publisher_only() {
    let mut sim = Sim::new();
    sim.join(1, true);
    sim.join(2, true);
    let track = sim.publish_ok(pid(1), camera("cam", 2));
    let out = sim.handle(Command::Media(MediaReport::KeyframeNeeded {
        meeting: meeting_name(),
        publisher: pid(1),
        alias: TrackAlias(track.alias),
        spatial_id: 1,
    }));
    let to_publisher = sent_to(&out, pid(1));
    assert_eq!(to_publisher.len(), 1);
    assert_eq!(
        to_publisher[0].1,
        S::KeyframeRequest(sig::KeyframeRequest { track_id: track.id.clone(), spatial_id: 1 })
    );
    assert!(sent_to(&out, pid(2)).is_empty());
    // A request for a track the participant does not publish is ignored.
    let out = sim.handle(Command::Media(MediaReport::KeyframeNeeded {
        meeting: meeting_name(),
        publisher: pid(2),
        alias: TrackAlias(track.alias),
        spatial_id: 0,
    }));
    assert!(out.is_empty());
}
