//! Every participant hears the connection quality of the others (and its own), measured by the
//! server from each QUIC path: on loopback, excellent with a round-trip time in milliseconds.

mod common;

use common::{TestServer, wait_for};
use dark_tower_client::{ConnectionQuality, RoomEvent};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn participants_hear_each_others_connection_quality() {
    let t = TestServer::start().await;
    let mut alice = t.join("quality", "alice").await;
    let mut bob = t.join("quality", "bob").await;
    let bob_id = bob.local_participant().id;
    let alice_id = alice.local_participant().id;

    let (quality, rtt_ms) = wait_for(&mut alice, |e| match e {
        RoomEvent::ConnectionQualityChanged { participant, quality, rtt_ms, .. }
            if *participant == bob_id =>
        {
            Some((*quality, *rtt_ms))
        }
        _ => None,
    })
    .await;
    assert_eq!(quality, ConnectionQuality::Excellent);
    assert!(rtt_ms < 100, "loopback round trip {rtt_ms} ms");
    let own = wait_for(&mut bob, |e| match e {
        RoomEvent::ConnectionQualityChanged { participant, quality, .. } if *participant == bob_id => {
            Some(*quality)
        }
        _ => None,
    })
    .await;
    assert_eq!(own, ConnectionQuality::Excellent, "a participant hears its own quality");

    // A late joiner gets the levels known so far right away.
    let mut carol = t.join("quality", "carol").await;
    let known = wait_for(&mut carol, |e| match e {
        RoomEvent::ConnectionQualityChanged { participant, quality, .. } if *participant == alice_id => {
            Some(*quality)
        }
        _ => None,
    })
    .await;
    assert_eq!(known, ConnectionQuality::Excellent);
}
