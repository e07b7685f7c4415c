//! A participant flooding the signaling stream is answered with `rate_limited` and, if it keeps
//! on, disconnected with that code; the meeting and the others are unaffected.

mod common;

use common::{TestServer, meeting_still_works};
use dark_tower_core::ErrorCode;
use dark_tower_core::codec::signal;
use dark_tower_core::proto::sig;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flood_is_refused_then_disconnected() {
    let t = TestServer::start().await;
    let bystander = t.join("m", "bystander").await;
    let mut raw = t.raw_signal("m", "flooder").await;
    raw.send_join(1).await;
    let mut burst = Vec::new();
    for i in 0..2000u32 {
        let ping = sig::ClientMessage {
            request_id: i + 1,
            message: Some(sig::client_message::Message::Ping(sig::Ping { client_time_us: u64::from(i) })),
        };
        burst.extend_from_slice(&signal::frame(&ping).expect("frame"));
    }
    raw.send_raw(&burst).await;
    let (msgs, code) = raw.until_closed().await;
    assert_eq!(code, Some(ErrorCode::RateLimited.wire()));
    let pongs =
        msgs.iter().filter(|m| matches!(m.message, Some(sig::server_message::Message::Pong(_)))).count();
    let limited = msgs
        .iter()
        .filter(|m| matches!(&m.message, Some(sig::server_message::Message::Error(e)) if ErrorCode::from_proto(e.code) == Some(ErrorCode::RateLimited)))
        .count();
    assert!((100..200).contains(&pongs), "the burst allowance is served: {pongs} pongs");
    assert!((1..=10).contains(&limited), "a few errors, not one per flooded message: {limited}");
    meeting_still_works(&t, "m", &bystander).await;
}
