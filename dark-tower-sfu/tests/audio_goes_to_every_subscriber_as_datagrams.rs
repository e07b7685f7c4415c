//! Audio frames that arrive as datagrams go out as datagrams to every subscriber of the track, and
//! to nobody else: not back to the publisher, not to participants that did not subscribe or have
//! unsubscribed.

mod common;

use common::{Sim, audio, forward_sessions, forwarded_to, pid};
use dark_tower_core::track::TrackKind;
use dark_tower_sfu::Via;

const ALIAS: u32 = 11;
const PUB: u64 = 10;
const A: u64 = 20;
const B: u64 = 30;
const C: u64 = 40;

/// Publisher 1 publishes a microphone; 2 and 3 subscribe; 4 is present but does not subscribe.
fn meeting() -> Sim {
    let mut sim = Sim::new();
    sim.attach(PUB, pid(1), true);
    sim.attach(A, pid(2), true);
    sim.attach(B, pid(3), false);
    sim.attach(C, pid(4), true);
    assert!(sim.publish(pid(1), ALIAS, TrackKind::Audio, 1).is_empty());
    assert!(sim.subscribe(pid(2), ALIAS, None).is_empty(), "audio is not cached");
    assert!(sim.subscribe(pid(3), ALIAS, None).is_empty(), "audio is not cached");
    sim
}

#[test]
fn datagram_audio_reaches_every_subscriber_as_datagrams() {
    let mut sim = meeting();
    for n in 0..3 {
        let sent = audio(ALIAS, n);
        let out = sim.frame(PUB, sent.clone(), Via::Datagram);
        let mut to = forward_sessions(&out);
        to.sort_unstable();
        assert_eq!(to, vec![A, B], "exactly one copy per subscriber: {out:?}");
        for session in [A, B] {
            let got = forwarded_to(&out, session);
            assert_eq!(got, vec![(sent.clone(), Via::Datagram)]);
        }
        assert!(forwarded_to(&out, PUB).is_empty(), "never echoed to the publisher");
        assert!(forwarded_to(&out, C).is_empty(), "not subscribed");
    }
    let stats = sim.router.stats();
    assert_eq!(stats.frames_in, 3);
    assert_eq!(stats.frames_out, 6);
}

#[test]
fn audio_is_not_held_back_for_keyframes() {
    let mut sim = meeting();
    // Every audio frame is decodable alone, whatever its header says about groups.
    let mut f = audio(ALIAS, 9);
    f.header.keyframe = false;
    f.header.frame_seq = 5;
    let out = sim.frame(PUB, f.clone(), Via::Datagram);
    assert_eq!(forwarded_to(&out, A), vec![(f.clone(), Via::Datagram)]);
    assert_eq!(forwarded_to(&out, B), vec![(f, Via::Datagram)]);
}

#[test]
fn audio_that_came_on_a_stream_stays_on_a_stream() {
    let mut sim = meeting();
    // Frames too large for a datagram fall back to a stream; they are forwarded the same way.
    let f = audio(ALIAS, 1);
    let out = sim.frame(PUB, f.clone(), Via::Stream);
    assert_eq!(forwarded_to(&out, A), vec![(f.clone(), Via::Stream)]);
    assert_eq!(forwarded_to(&out, B), vec![(f, Via::Stream)]);
}

#[test]
fn unsubscribe_stops_the_audio() {
    let mut sim = meeting();
    assert!(sim.unsubscribe(pid(2), ALIAS).is_empty());
    let out = sim.frame(PUB, audio(ALIAS, 1), Via::Datagram);
    assert_eq!(forward_sessions(&out), vec![B]);

    assert!(sim.unsubscribe(pid(3), ALIAS).is_empty());
    let out = sim.frame(PUB, audio(ALIAS, 2), Via::Datagram);
    assert!(out.is_empty(), "no subscriber left: {out:?}");

    // Subscribing again resumes with the next frame.
    sim.subscribe(pid(4), ALIAS, None);
    let f = audio(ALIAS, 3);
    let out = sim.frame(PUB, f.clone(), Via::Datagram);
    assert_eq!(forward_sessions(&out), vec![C]);
    assert_eq!(forwarded_to(&out, C), vec![(f, Via::Datagram)]);
}
