//! The cascade primitive, with two media handlers over real WebTransport on loopback: handler B
//! subscribes to a publisher's tracks on handler A through a relay session and re-forwards them
//! to its own subscribers — each gets the layer it asked for, audio included, payloads intact —
//! and B's keyframe requests name the remote publisher, for the meeting controller to relay.

mod common;

use std::time::Duration;

use common::media_node::{AUDIO, VIDEO, frame, meeting, node, pid, publish, receive, ticket};
use dark_tower_core::codec::media::MediaFrame;
use dark_tower_core::forwarding::MediaReport;
use dark_tower_core::token::TicketClaims;
use tokio::sync::mpsc;

/// Waits until `rx` delivered 20 video frames and 5 audio frames; checks every video frame is of
/// `layer` and every payload is what the publisher sent for its header.
async fn expect_media(rx: &mut mpsc::UnboundedReceiver<MediaFrame>, layer: u8) {
    let (mut video, mut audio, mut keyframes) = (0, 0, 0);
    while video < 20 || audio < 5 || keyframes == 0 {
        let f = tokio::time::timeout(Duration::from_secs(20), rx.recv())
            .await
            .expect("media arrives")
            .expect("open");
        let h = f.header;
        let expected = frame(h.track_alias, h.spatial_id, h.group_seq, h.frame_seq);
        if h.track_alias == AUDIO {
            assert_eq!(f.payload, frame(AUDIO, 0, h.group_seq, 0).payload);
            audio += 1;
            continue;
        }
        assert_eq!(h.spatial_id, layer, "only the layer asked for: {h:?}");
        assert_eq!(f.payload, expected.payload, "payload intact through two hops");
        keyframes += usize::from(h.keyframe);
        video += 1;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_media_handler_reforwards_a_relayed_track() {
    let (a, b) = (node().await, node().await);
    // The publisher (participant 1) is on A; the meeting controller publishes its tracks on both.
    a.publish_tracks().await;
    b.publish_tracks().await;

    // B opens a relay session to A as participant 100, which A subscribes to both tracks.
    let relay = a.connect("/relay/100").await;
    a.subscribe(100, VIDEO, None).await;
    a.subscribe(100, AUDIO, None).await;
    let b_mh = b.mh.clone();
    tokio::spawn(async move {
        b_mh.serve_relay(relay, TicketClaims { publish: true, ..ticket(100, false) }).await
    });

    // Two subscribers on B: one wants the lowest layer, one the highest.
    let mut low = receive(b.connect("/media/2/false").await);
    let mut high = receive(b.connect("/media/3/false").await);
    for (who, max) in [(2, Some(0)), (3, None)] {
        b.subscribe(who, VIDEO, max).await;
        b.subscribe(who, AUDIO, None).await;
    }

    let publisher = tokio::spawn(publish(a.connect("/media/1/true").await));
    expect_media(&mut low, 0).await;
    expect_media(&mut high, 2).await;

    // A forwards every layer to the relay, and tells the publisher all are wanted.
    let wanted = a.reports.0.lock().expect("lock").iter().rev().find_map(|r| match r {
        MediaReport::LayersWanted { layers, .. } => Some(layers.clone()),
        _ => None,
    });
    assert_eq!(wanted, Some(vec![0, 1, 2]));
    // B's keyframe requests for its subscribers name the publisher on A.
    let asked = b.reports.0.lock().expect("lock").iter().any(|r| {
        matches!(r, MediaReport::KeyframeNeeded { publisher, alias, .. } if *publisher == pid(1) && *alias == VIDEO)
    });
    assert!(asked, "B asks the remote publisher for keyframes");
    let stats = b.mh.meeting_stats(&meeting()).await.expect("B forwards");
    assert!(stats.tracks.iter().all(|t| t.frames > 0), "relayed tracks counted on B: {:?}", stats.tracks);
    publisher.abort();
}
