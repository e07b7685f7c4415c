//! Over real WebTransport, with one subscriber behind a 400 kbit/s bottleneck (a UDP proxy with a
//! drop-tail queue): the media handler sees its egress back up, gives up stale groups, and moves
//! it to the lowest layer, where it keeps receiving decodable video; a subscriber on a clear path
//! stays on the top layer and loses nothing.

mod common;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::time::Duration;

use bytes::Bytes;
use common::media_node::{AUDIO, VIDEO, frame, frame_clock, meeting, node, receive};
use common::throttle::throttle;
use dark_tower_core::codec::media::{MediaFrame, STREAM_TYPE_GROUP};
use dark_tower_core::transport::wt::WtSession;
use dark_tower_core::transport::{SendStream, Session};
use tokio::sync::mpsc;

/// Delta frame sizes per layer at 30 fps: about 150 kbit/s, 500 kbit/s and 1.5 Mbit/s; a keyframe
/// every 2 s at five times the size.
const LAYER_BYTES: [usize; 3] = [625, 2083, 6250];

async fn publish_realistic(session: WtSession) {
    let mut streams: Vec<Option<dark_tower_core::transport::wt::WtSend>> = vec![None, None, None];
    let mut clock = frame_clock(Duration::from_millis(33));
    for n in 0u64.. {
        let (group, seq) = (n / 60, (n % 60) as u32);
        for layer in 0..3u8 {
            let l = layer as usize;
            if seq == 0 {
                if let Some(mut old) = streams[l].take() {
                    let _ = old.finish();
                }
                let mut s = session.open_uni().await.expect("open");
                s.write_all(&[STREAM_TYPE_GROUP]).await.expect("type");
                streams[l] = Some(s);
            }
            let mut f = frame(VIDEO, layer, group, seq);
            let size = if seq == 0 { LAYER_BYTES[l] * 5 } else { LAYER_BYTES[l] };
            f.payload = Bytes::from(vec![layer; size]);
            let s = streams[l].as_mut().expect("stream");
            s.write_all(&f.stream_prefix()).await.expect("prefix");
            s.write_all(&f.payload).await.expect("payload");
        }
        let _ = session.send_datagram(frame(AUDIO, 0, n, 0).encode());
        clock.tick().await;
    }
}

/// What a decoder could use of the video received: per layer, frames that were a keyframe or
/// the next frame of the group being decoded; and anything else.
#[derive(Default, Debug)]
struct Decoded {
    by_layer: [u64; 3],
    undecodable: u64,
    decoding: HashMap<u8, (u64, u32)>,
}

impl Decoded {
    fn take(&mut self, f: &MediaFrame) {
        let h = f.header;
        if h.track_alias != VIDEO {
            return;
        }
        let next = self.decoding.get(&h.spatial_id).copied();
        if next.is_some_and(|(g, _)| h.group_seq < g) {
            return; // a late frame of a group left behind: skipped
        }
        if h.keyframe || next == Some((h.group_seq, h.frame_seq)) {
            self.decoding.insert(h.spatial_id, (h.group_seq, h.frame_seq + 1));
            self.by_layer[h.spatial_id as usize] += 1;
        } else {
            self.undecodable += 1;
        }
    }
}

fn drain(rx: &mut mpsc::UnboundedReceiver<MediaFrame>, d: &mut Decoded) {
    while let Ok(f) = rx.try_recv() {
        d.take(&f);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_slow_subscriber_goes_down_a_layer_and_the_fast_one_stays_on_top() {
    let a = node().await;
    a.publish_tracks().await;
    let upstream: SocketAddr = format!("127.0.0.1:{}", a.port).parse().expect("addr");
    let bottleneck = throttle(upstream, 400_000).await;
    let slow_url = format!("https://127.0.0.1:{}/media/3/false", bottleneck.port);
    let slow_session = dark_tower_core::transport::wt::connect(&slow_url, std::slice::from_ref(&a.hash))
        .await
        .expect("connect through the bottleneck");
    let mut fast = receive(a.connect("/media/2/false").await);
    let mut slow = receive(slow_session);
    for who in [2, 3] {
        a.subscribe(who, VIDEO, None).await;
        a.subscribe(who, AUDIO, None).await;
    }
    let publisher = tokio::spawn(publish_realistic(a.connect("/media/1/true").await));

    let (mut f, mut s) = (Decoded::default(), Decoded::default());
    let mut tick = tokio::time::interval(Duration::from_millis(250));
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    let capped_at = loop {
        tick.tick().await;
        drain(&mut fast, &mut f);
        drain(&mut slow, &mut s);
        let stats = a.mh.meeting_stats(&meeting()).await.expect("stats");
        let cap = stats
            .subscriptions
            .iter()
            .find(|x| x.subscriber == common::media_node::pid(3) && x.alias == VIDEO)
            .and_then(|x| x.link_cap);
        if cap == Some(0) {
            break s.by_layer[0];
        }
        assert!(tokio::time::Instant::now() < deadline, "never moved down; stats: {stats:?}");
    };
    // After the move: layer-0 video keeps coming, decodable.
    while s.by_layer[0] < capped_at + 30 {
        tick.tick().await;
        drain(&mut slow, &mut s);
        drain(&mut fast, &mut f);
        assert!(tokio::time::Instant::now() < deadline, "slow subscriber starved after the move: {s:?}");
    }
    let stats = a.mh.meeting_stats(&meeting()).await.expect("stats");
    let fast_link =
        stats.subscribers.iter().find(|x| x.participant == common::media_node::pid(2)).expect("fast");
    assert_eq!(fast_link.dropped_frames, 0, "the fast subscriber lost nothing: {fast_link:?}");
    let fast_sub = stats
        .subscriptions
        .iter()
        .find(|x| x.subscriber == common::media_node::pid(2) && x.alias == VIDEO)
        .expect("fast subscription");
    assert_eq!((fast_sub.layer, fast_sub.link_cap), (Some(2), None));
    assert_eq!(f.undecodable, 0);
    assert_eq!(s.undecodable, 0, "the slow subscriber never got an undecodable sequence");
    assert!(f.by_layer[2] > 100 && f.by_layer[0] == 0, "fast: {f:?}");
    let c = a.mh.counters();
    assert!(c.layer_downgrades.load(Ordering::Relaxed) >= 1);
    publisher.abort();
}
