//! One subscriber on a link far too slow for what it is sent loses whole stale groups and is
//! moved to the lowest layer; the others' latency and reception do not change at all.

mod common;

use std::time::Duration;

use common::net::{LinkSpec, Net};

fn run(with_slow: bool) -> Net {
    let mut net = Net::new(5);
    for n in 10..14 {
        net.subscriber(n, LinkSpec::mbps(8.0));
    }
    if with_slow {
        net.subscriber(20, LinkSpec::mbps(0.25));
    }
    net.run_until(Duration::from_secs(30));
    net
}

#[test]
fn the_others_do_not_notice_a_slow_subscriber() {
    let alone = run(false);
    let with = run(true);
    for n in 10..14 {
        let (a, w) = (alone.received(n), with.received(n));
        assert_eq!(w.dropped, 0, "fast subscriber {n} lost frames");
        assert_eq!(w.undecodable, 0);
        assert_eq!(w.video_frames, a.video_frames, "subscriber {n} received a different number of frames");
        for q in [0.5, 0.99, 1.0] {
            let (la, lw) = (a.latency_quantile(q), w.latency_quantile(q));
            assert!(
                (la - lw).abs() <= 1.0,
                "subscriber {n} latency q{q}: {la} ms alone, {lw} ms with a slow peer"
            );
        }
    }
    let slow = with.received(20);
    assert_eq!(slow.undecodable, 0, "the slow subscriber only ever got decodable sequences");
    assert!(slow.dropped > 0 && slow.abandoned > 0, "it lost whole groups: {} dropped", slow.dropped);
    assert!(slow.share_of_layer(Duration::from_secs(10), 0) > 0.9, "moved to the lowest layer");
    assert!(slow.video_frames > 500, "and still receives video: {}", slow.video_frames);
}
