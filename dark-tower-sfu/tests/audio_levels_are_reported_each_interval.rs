//! Audio levels carried in frame headers are reported to the meeting controller once per
//! interval (the loudest level of each publisher), then once empty when everyone fell silent.

mod common;

use std::time::Duration;

use bytes::Bytes;
use common::{Sim, pid};
use dark_tower_core::codec::media::{MediaFrame, MediaHeader};
use dark_tower_core::ids::TrackAlias;
use dark_tower_core::track::TrackKind;
use dark_tower_sfu::router::{Feedback, LEVEL_INTERVAL};
use dark_tower_sfu::{Input, Output, Via};

fn audio(alias: u32, level: u8) -> MediaFrame {
    MediaFrame {
        header: MediaHeader {
            track_alias: TrackAlias(alias),
            spatial_id: 0,
            temporal_id: 0,
            group_seq: 0,
            frame_seq: 0,
            capture_ts_us: 0,
            keyframe: false,
            discardable: false,
            end_of_group: false,
            audio_level: Some(level),
        },
        payload: Bytes::from_static(b"opus"),
    }
}

fn timeout_reports(sim: &mut Sim) -> Vec<Feedback> {
    sim.router.handle_timeout(sim.now);
    let mut out = Vec::new();
    while let Some(o) = sim.router.poll_output() {
        if let Output::Report(f) = o {
            out.push(f);
        }
    }
    out
}

#[test]
fn loudest_level_per_interval_then_one_silent_report() {
    let mut sim = Sim::new();
    assert_eq!(sim.router.poll_timeout(), None, "no timer without audio");
    for (session, who, alias) in [(1, 1, 10), (2, 2, 20)] {
        sim.attach(session, pid(who), true);
        sim.publish(pid(who), alias, TrackKind::Audio, 1);
    }
    let start = sim.now;
    sim.input(Input::Frame {
        session: dark_tower_sfu::SessionId(1),
        frame: audio(10, 50),
        via: Via::Datagram,
    });
    sim.input(Input::Frame {
        session: dark_tower_sfu::SessionId(1),
        frame: audio(10, 30),
        via: Via::Datagram,
    });
    sim.input(Input::Frame {
        session: dark_tower_sfu::SessionId(2),
        frame: audio(20, 90),
        via: Via::Datagram,
    });
    let due = sim.router.poll_timeout().expect("a report is scheduled");
    assert_eq!(due, start + LEVEL_INTERVAL);
    sim.now = due - Duration::from_millis(1);
    assert!(timeout_reports(&mut sim).is_empty(), "not before the interval");
    sim.now = due;
    let mut expected = vec![(pid(1), 30), (pid(2), 90)];
    expected.sort();
    assert_eq!(timeout_reports(&mut sim), [Feedback::AudioLevels(expected)]);
    // Nobody sends audio in the next interval: one empty report, then the timer stops.
    sim.now = sim.router.poll_timeout().expect("next interval");
    assert_eq!(timeout_reports(&mut sim), [Feedback::AudioLevels(vec![])]);
    assert_eq!(sim.router.poll_timeout(), None);
}
