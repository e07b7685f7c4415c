//! On a simulated network (bandwidth limit, 20 ms latency, 1 % loss, reordering between
//! streams), each subscriber settles on the highest layer its link sustains, and never receives a
//! frame its decoder cannot use — across every switch.

mod common;

use std::time::Duration;

use common::net::{LinkSpec, Net};

#[test]
fn each_subscriber_gets_the_layer_its_link_sustains() {
    let mut net = Net::new(7);
    // Layers cost about 0.16, 0.53 and 1.6 Mbit/s (keyframes included), audio 0.04.
    net.subscriber(10, LinkSpec::mbps(10.0));
    net.subscriber(11, LinkSpec::mbps(1.0));
    net.subscriber(12, LinkSpec::mbps(0.35));
    net.run_until(Duration::from_secs(60));

    let settled = Duration::from_secs(20);
    for (n, layer) in [(10, 2), (11, 1), (12, 0)] {
        let got = net.received(n);
        assert_eq!(got.undecodable, 0, "subscriber {n} got undecodable frames");
        let share = got.share_of_layer(settled, layer);
        assert!(share >= 0.75, "subscriber {n} spent {share:.2} of its frames on layer {layer}");
        assert!(got.audio_frames > 2500, "subscriber {n} audio: {}", got.audio_frames);
    }
    // The fast subscriber never lost a frame and kept its latency low.
    let fast = net.received(10);
    assert_eq!(fast.dropped, 0);
    assert!(fast.latency_quantile(0.99) < 100.0, "p99 {} ms", fast.latency_quantile(0.99));
    // Once settled, the slow one's latency is back to the link's own (20 ms + jitter), apart from
    // the brief probes of the layer above.
    let slow = net.received(12);
    let mut late: Vec<_> = slow.latencies_ms.iter().rev().take(300).copied().collect();
    late.sort_by(f64::total_cmp);
    let median = late[late.len() / 2];
    assert!(median < 50.0, "slow subscriber's median latency {median} ms after a minute");
}

#[test]
fn a_link_that_shrinks_and_recovers_moves_the_subscriber_down_and_back_up() {
    let mut net = Net::new(11);
    net.subscriber(10, LinkSpec::mbps(5.0));
    net.run_until(Duration::from_secs(10));
    assert!(net.received(10).share_of_layer(Duration::from_secs(5), 2) > 0.95);

    net.set_link(10, LinkSpec::mbps(0.4));
    net.run_until(Duration::from_secs(30));
    let got = net.received(10);
    assert!(got.share_of_layer(Duration::from_secs(20), 0) > 0.9);

    net.set_link(10, LinkSpec::mbps(5.0));
    net.run_until(Duration::from_secs(90));
    let got = net.received(10);
    assert_eq!(got.undecodable, 0);
    assert!(got.share_of_layer(Duration::from_secs(80), 2) > 0.95, "not back on the top layer");
}

#[test]
fn keyframe_requests_stay_merged_when_many_subscribers_switch_at_once() {
    let mut net = Net::new(3);
    for n in 10..20 {
        net.subscriber(n, LinkSpec::mbps(0.3));
    }
    net.run_until(Duration::from_secs(30));
    // At most one request per layer per 500 ms, however many subscribers wait.
    for layer in 0..3u8 {
        let times: Vec<_> =
            net.keyframe_requests.iter().filter(|(_, l)| *l == layer).map(|(t, _)| *t).collect();
        for w in times.windows(2) {
            assert!(w[1] - w[0] >= Duration::from_millis(500), "layer {layer} requests at {w:?}");
        }
    }
    for n in 10..20 {
        assert_eq!(net.received(n).undecodable, 0);
    }
    // Dynacast: nobody receives the top layer any more, and the publisher was told.
    let (_, last) = net.layers_wanted.last().expect("dynacast reports");
    assert_eq!(last, &vec![0]);
}
