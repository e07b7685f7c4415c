//! Over real WebTransport, through a UDP relay that cuts one client off as a network outage
//! would: the others see it reconnecting (not leaving); it resumes as the same participant once
//! the network is back — even after its access token expired — gets the reliable data sent to it
//! meanwhile exactly once and in order, and its video flows again. A client that never comes back
//! leaves with reason timeout when the grace period ends.

mod common;
#[path = "common/udp_proxy.rs"]
mod udp_proxy;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use common::{TestServer, wait_for};
use dark_tower_client::{
    ClientError, ConnectOptions, LeaveReason, OutgoingFrame, ParticipantId, Room, RoomEvent, TrackOptions,
    TrackSource, synthetic,
};
use dark_tower_core::token::TokenBuilder;
use dark_tower_core::transport::wt::Liveness;
use udp_proxy::UdpProxy;

const MEETING: &str = "flaky-network";

fn now_us() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_micros() as u64).unwrap_or(0)
}

/// A server reached through `proxy`, noticing dead connections after 1 s.
async fn server(proxy: &UdpProxy, grace: Duration) -> TestServer {
    let port = proxy.addr.port();
    let t = TestServer::start_with(|c| {
        c.public_port = Some(port);
        c.idle_timeout = Duration::from_secs(1);
        c.resume_grace = grace;
        c.token_leeway = Duration::ZERO;
    })
    .await;
    proxy.forward_to(t.server.webtransport[0]);
    t
}

fn quick(reconnect: bool) -> ConnectOptions {
    ConnectOptions {
        reconnect,
        liveness: Liveness {
            keep_alive: Duration::from_millis(300),
            idle_timeout: Duration::from_millis(1500),
        },
        ..ConnectOptions::default()
    }
}

async fn join(t: &TestServer, identity: &str, ttl: Duration, options: ConnectOptions) -> (Room, String) {
    let token = TokenBuilder::new(identity)
        .meeting(MEETING)
        .name(identity)
        .ttl(ttl)
        .sign(&t.key, SystemTime::now())
        .expect("sign");
    let room = dark_tower_client::connect(&t.url, &token, options).await.expect("join");
    (room, token)
}

/// Publishes a synthetic camera at 30 fps until the task is aborted, restarting each group with
/// a keyframe whenever the client asks (after a reconnect).
async fn publish_camera(room: &Room) -> tokio::task::JoinHandle<()> {
    let mut track =
        room.publish_track(TrackOptions::new(TrackSource::Camera, "synthetic")).await.expect("publish");
    tokio::spawn(async move {
        let mut force_key = true;
        for n in 0u64.. {
            tokio::time::sleep(Duration::from_millis(33)).await;
            let key = force_key || n % 30 == 0;
            let frame = OutgoingFrame {
                spatial_id: 0,
                temporal_id: 0,
                keyframe: key,
                discardable: false,
                capture_ts_us: now_us(),
                audio_level: None,
                payload: synthetic::payload(7, n, now_us(), if key { 3000 } else { 600 }),
            };
            match track.send(frame).await {
                Ok(_) => force_key = false,
                Err(ClientError::KeyframeRequired | ClientError::Connection(_)) => force_key = true,
                Err(e) => panic!("publishing failed: {e}"),
            }
        }
    })
}

fn reconnecting(ev: &RoomEvent, who: ParticipantId) -> Option<bool> {
    match ev {
        RoomEvent::ParticipantUpdated(p) if p.id == who => Some(p.reconnecting),
        RoomEvent::ParticipantLeft { participant, reason } if *participant == who => {
            panic!("{who} left ({reason:?}) instead of reconnecting")
        }
        _ => None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_client_resumes_as_itself_and_misses_nothing() {
    let proxy = UdpProxy::bind().await;
    let t = server(&proxy, Duration::from_secs(20)).await;
    let (mut alice, _) = join(&t, "alice", Duration::from_secs(3600), quick(true)).await;
    let mark = proxy.mark();
    // Bob's token expires in 2 s: resuming must not need it.
    let (mut bob, bob_token) = join(&t, "bob", Duration::from_secs(2), quick(true)).await;
    let bob_id = bob.local_participant().id;
    let camera = publish_camera(&bob).await;
    wait_for(&mut alice, |e| matches!(e, RoomEvent::Frame(f) if f.participant == Some(bob_id)).then_some(()))
        .await;

    proxy.cut_since(mark);
    assert!(wait_for(&mut alice, |e| reconnecting(e, bob_id)).await, "alice sees bob reconnecting");
    wait_for(&mut bob, |e| matches!(e, RoomEvent::Reconnecting).then_some(())).await;
    for text in ["while-away-1", "while-away-2", "while-away-3"] {
        alice
            .send_data("chat", Bytes::from(text), true, &[bob_id])
            .await
            .expect("server accepts data for bob");
    }
    // Outlive bob's access token (no leeway on this server): a fresh join is refused now.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let refused = dark_tower_client::connect(&t.url, &bob_token, quick(false)).await.expect_err("expired");
    assert_eq!(refused.code(), Some(dark_tower_core::ErrorCode::TokenExpired), "{refused}");

    proxy.restore();
    wait_for(&mut bob, |e| matches!(e, RoomEvent::Reconnected).then_some(())).await;
    assert!(!wait_for(&mut alice, |e| reconnecting(e, bob_id)).await, "alice sees bob back");
    assert_eq!(bob.local_participant().id, bob_id);

    // What alice sent while bob was away arrives once, in order; then the meeting goes on.
    let mut got = Vec::new();
    while got.len() < 3 {
        let text = wait_for(&mut bob, |e| match e {
            RoomEvent::DataReceived { payload, reliable: true, .. } => {
                Some(String::from_utf8_lossy(payload).into_owned())
            }
            _ => None,
        })
        .await;
        got.push(text);
    }
    assert_eq!(got, ["while-away-1", "while-away-2", "while-away-3"]);
    alice.send_data("chat", Bytes::from("after"), true, &[bob_id]).await.expect("send");
    let next = wait_for(&mut bob, |e| match e {
        RoomEvent::DataReceived { payload, .. } => Some(String::from_utf8_lossy(payload).into_owned()),
        _ => None,
    })
    .await;
    assert_eq!(next, "after", "no duplicate of what was resent");

    // Bob's camera flows to alice again on the new media session, from a keyframe.
    let resumed_at = now_us();
    let first = wait_for(&mut alice, |e| match e {
        RoomEvent::Frame(f) if f.participant == Some(bob_id) && f.header.capture_ts_us > resumed_at => {
            Some(f.header)
        }
        _ => None,
    })
    .await;
    assert!(first.keyframe || first.frame_seq > 0, "{first:?}");
    assert!(alice.remote_participants().iter().any(|p| p.id == bob_id && !p.reconnecting));
    bob.ping().await.expect("bob's signaling works");
    camera.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_never_returns_leaves_with_reason_timeout() {
    let proxy = UdpProxy::bind().await;
    let t = server(&proxy, Duration::from_secs(2)).await;
    let (mut alice, _) = join(&t, "alice", Duration::from_secs(3600), quick(true)).await;
    let mark = proxy.mark();
    let (mut bob, _) = join(&t, "bob", Duration::from_secs(3600), quick(true)).await;
    let bob_id = bob.local_participant().id;

    proxy.cut_since(mark);
    assert!(wait_for(&mut alice, |e| reconnecting(e, bob_id)).await);
    let reason = wait_for(&mut alice, |e| match e {
        RoomEvent::ParticipantLeft { participant, reason } if *participant == bob_id => Some(*reason),
        _ => None,
    })
    .await;
    assert_eq!(reason, LeaveReason::Timeout);
    // Bob gives up once the grace period is over.
    let code = wait_for(&mut bob, |e| match e {
        RoomEvent::Disconnected { code, .. } => Some(*code),
        _ => None,
    })
    .await;
    assert!(code.is_none() || code == Some(dark_tower_core::ErrorCode::ResumeFailed), "{code:?}");
    assert!(alice.remote_participants().iter().all(|p| p.id != bob_id));
}
