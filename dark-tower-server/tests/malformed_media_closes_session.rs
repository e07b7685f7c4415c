//! Bad media from a publisher — garbage on a stream, a frame above the limit, a frame for a track
//! it never published — closes its media session with a typed code and a counted reason; garbage
//! datagrams are dropped and counted. Nobody else is affected.

mod common;

use std::sync::atomic::Ordering;
use std::time::Duration;

use bytes::Bytes;
use common::{TestServer, closed_code, meeting_still_works};
use dark_tower_core::ErrorCode;
use dark_tower_core::codec::media::{MediaFrame, MediaHeader, STREAM_TYPE_GROUP};
use dark_tower_core::ids::TrackAlias;
use dark_tower_core::limits::MAX_MEDIA_FRAME;
use dark_tower_core::transport::{SendStream, Session};

async fn send_stream(session: &impl Session, bytes: &[u8]) {
    let mut s = session.open_uni().await.expect("open");
    s.write_all(bytes).await.expect("write");
    let _ = s.finish();
}

fn frame(alias: u32) -> MediaFrame {
    MediaFrame {
        header: MediaHeader {
            track_alias: TrackAlias(alias),
            spatial_id: 0,
            temporal_id: 0,
            group_seq: 0,
            frame_seq: 0,
            capture_ts_us: 0,
            keyframe: true,
            discardable: false,
            end_of_group: false,
            audio_level: None,
        },
        payload: Bytes::from_static(b"hello"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbage_stream_closes_with_malformed() {
    let t = TestServer::start().await;
    let bystander = t.join("m", "bystander").await;
    // A stream that ends inside a frame.
    let truncated = t.join("m", "mallory").await;
    send_stream(&truncated.media_session(), &[STREAM_TYPE_GROUP, 0, 0, 0, 40, 9, 9, 9]).await;
    assert_eq!(closed_code(&truncated.media_session()).await, Some(ErrorCode::Malformed.wire()));
    // A frame whose header has an unknown version.
    let versioned = t.join("m", "mallory2").await;
    let mut wire = vec![STREAM_TYPE_GROUP];
    wire.extend_from_slice(&40u32.to_be_bytes());
    wire.extend_from_slice(&[0x07; 40]);
    send_stream(&versioned.media_session(), &wire).await;
    assert_eq!(closed_code(&versioned.media_session()).await, Some(ErrorCode::UnsupportedVersion.wire()));
    assert!(t.server.media.counters().sessions_closed_for_errors.load(Ordering::Relaxed) >= 2);
    meeting_still_works(&t, "m", &bystander).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_stream_type_closes_with_malformed() {
    let t = TestServer::start().await;
    let mallory = t.join("m", "mallory").await;
    send_stream(&mallory.media_session(), &[0x7f, 1, 2, 3]).await;
    assert_eq!(closed_code(&mallory.media_session()).await, Some(ErrorCode::Malformed.wire()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_frame_closes_with_message_too_large() {
    let t = TestServer::start().await;
    let bystander = t.join("m", "bystander").await;
    let mallory = t.join("m", "mallory").await;
    let mut wire = vec![STREAM_TYPE_GROUP];
    wire.extend_from_slice(&(MAX_MEDIA_FRAME as u32 + 1).to_be_bytes());
    send_stream(&mallory.media_session(), &wire).await;
    assert_eq!(closed_code(&mallory.media_session()).await, Some(ErrorCode::MessageTooLarge.wire()));
    meeting_still_works(&t, "m", &bystander).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn frame_for_a_track_never_published_closes_with_unknown_track() {
    let t = TestServer::start().await;
    let bystander = t.join("m", "bystander").await;
    let mallory = t.join("m", "mallory").await;
    let f = frame(4242);
    let mut wire = vec![STREAM_TYPE_GROUP];
    wire.extend_from_slice(&f.stream_prefix());
    wire.extend_from_slice(&f.payload);
    send_stream(&mallory.media_session(), &wire).await;
    assert_eq!(closed_code(&mallory.media_session()).await, Some(ErrorCode::UnknownTrack.wire()));
    assert!(t.server.media.counters().dropped_unknown_track.load(Ordering::Relaxed) >= 1);
    let metrics = reqwest::get(format!("http://{}/metrics", t.server.admin)).await.expect("scrape");
    let body = metrics.text().await.expect("body");
    let line = body
        .lines()
        .find(|l| l.starts_with("dark_tower_media_frames_dropped_by_reason_total{reason=\"unknown_track\"}"))
        .unwrap_or_else(|| panic!("no per-reason drop counter in:\n{body}"));
    let value: f64 = line.rsplit(' ').next().and_then(|v| v.parse().ok()).expect("a value");
    assert!(value >= 1.0, "{line}");
    meeting_still_works(&t, "m", &bystander).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbage_datagrams_are_dropped_and_counted() {
    let t = TestServer::start().await;
    let mallory = t.join("m", "mallory").await;
    let counters = t.server.media.counters();
    // Datagrams may be lost even on loopback: send until one is counted, waiting on the counter.
    let counted = async {
        loop {
            let changed = counters.changed.notified();
            if counters.bad_datagrams.load(Ordering::Relaxed) > 0 {
                return;
            }
            mallory.media_session().send_datagram(Bytes::from_static(b"\x09garbage")).expect("datagram");
            let _ = tokio::time::timeout(Duration::from_millis(100), changed).await;
        }
    };
    tokio::time::timeout(Duration::from_secs(20), counted).await.expect("garbage datagrams are counted");
    // The session stays open: a ping over signaling and media session are both alive.
    mallory.ping().await.expect("still connected");
    assert!(mallory.media_session().max_datagram_size().is_some());
}
