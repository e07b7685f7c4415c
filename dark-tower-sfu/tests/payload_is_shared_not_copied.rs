//! Fan-out shares the received payload buffer: every forwarded copy of a frame points at the same
//! memory as the frame that came in, for live video, audio and the cached replay alike.

mod common;

use bytes::Bytes;
use common::{Sim, frame, pid};
use dark_tower_core::track::TrackKind;
use dark_tower_sfu::{Output, Via};

const PUB: u64 = 100;
const SUBSCRIBERS: u64 = 5;

fn payload(len: usize, fill: u8) -> Bytes {
    // A heap buffer, so equal pointers mean the very same allocation.
    Bytes::from(vec![fill; len])
}

/// Checks that `outputs` are `n` forwards of a payload sharing `original`'s memory.
fn assert_shared(outputs: &[Output], original: &Bytes, n: usize) {
    assert_eq!(outputs.len(), n, "{outputs:?}");
    for o in outputs {
        let Output::Forward { frame, .. } = o else {
            panic!("expected only forwards, got {o:?}");
        };
        assert_eq!(frame.payload.len(), original.len());
        assert_eq!(frame.payload.as_ptr(), original.as_ptr(), "payload was copied instead of shared");
    }
}

fn with_subscribers(kind: TrackKind, alias: u32) -> Sim {
    let mut sim = Sim::new();
    sim.attach(PUB, pid(1), true);
    sim.publish(pid(1), alias, kind, 1);
    for n in 0..SUBSCRIBERS {
        sim.attach(n, pid(10 + n), false);
        sim.subscribe(pid(10 + n), alias, None);
    }
    sim
}

#[test]
fn video_fan_out_shares_the_payload() {
    let mut sim = with_subscribers(TrackKind::Video, 1);
    let key = payload(64 * 1024, 0xAB);
    let out = sim.frame(PUB, frame(1, 0, 1, 0, true, key.clone()), Via::Stream);
    assert_shared(&out, &key, SUBSCRIBERS as usize);

    let delta = payload(8 * 1024, 0xCD);
    let out = sim.frame(PUB, frame(1, 0, 1, 1, false, delta.clone()), Via::Stream);
    assert_shared(&out, &delta, SUBSCRIBERS as usize);

    let stats = sim.router.stats();
    assert_eq!(stats.frames_out, 2 * SUBSCRIBERS);
    assert_eq!(stats.bytes_out, (64 + 8) * 1024 * SUBSCRIBERS);

    // A late subscriber's replay from the cache shares the same buffers too.
    sim.attach(99, pid(99), false);
    let out = sim.subscribe(pid(99), 1, None);
    assert_eq!(out.len(), 2);
    assert_shared(&out[..1], &key, 1);
    assert_shared(&out[1..], &delta, 1);
}

#[test]
fn audio_fan_out_shares_the_payload() {
    let mut sim = with_subscribers(TrackKind::Audio, 2);
    let opus = payload(160, 0x11);
    let out = sim.frame(PUB, frame(2, 0, 7, 0, true, opus.clone()), Via::Datagram);
    assert_shared(&out, &opus, SUBSCRIBERS as usize);
}

#[test]
fn a_payload_sliced_from_a_larger_buffer_is_still_shared() {
    // Frames decoded from a stream are slices of the received buffer, after the header.
    let mut sim = with_subscribers(TrackKind::Video, 3);
    let received = payload(4096, 0x5A);
    let slice = received.slice(28..);
    let out = sim.frame(PUB, frame(3, 0, 1, 0, true, slice.clone()), Via::Stream);
    assert_shared(&out, &slice, SUBSCRIBERS as usize);
    let Some(Output::Forward { frame, .. }) = out.first() else {
        panic!("expected a forward");
    };
    assert_eq!(frame.payload.as_ptr(), received[28..].as_ptr());
}
