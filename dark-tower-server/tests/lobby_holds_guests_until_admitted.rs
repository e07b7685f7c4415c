//! With the lobby on, non-moderators wait until a host admits or denies them; moderators see who
//! is waiting; turning the lobby off admits everyone waiting.

mod common;

use common::{TestServer, wait_for};
use dark_tower_client::{ClientError, ConnectOptions, ParticipantId, Role, Room, RoomEvent};
use dark_tower_core::ErrorCode;

async fn waiting(host: &mut Room, n: usize) -> Vec<ParticipantId> {
    wait_for(host, |e| match e {
        RoomEvent::LobbyUpdated(w) if w.len() == n => Some(w.iter().map(|p| p.id).collect()),
        _ => None,
    })
    .await
}

fn knock(t: &TestServer, identity: &str) -> tokio::task::JoinHandle<Result<Room, ClientError>> {
    let (url, token) = (t.url.clone(), t.token("m", identity));
    tokio::spawn(async move { dark_tower_client::connect(&url, &token, ConnectOptions::default()).await })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admit_deny_and_open_the_doors() {
    let t = TestServer::start().await;
    let mut host = t.join_as("m", "host", Role::Host).await;
    host.set_lobby(true).await.expect("lobby on");

    let guest = knock(&t, "guest");
    let ids = waiting(&mut host, 1).await;
    host.admit(ids[0], true).await.expect("admitted");
    let guest = guest.await.expect("task").expect("the guest gets in once admitted");
    assert_eq!(guest.local_participant().id, ids[0]);
    assert!(guest.remote_participants().iter().any(|p| p.identity == "host"));

    let intruder = knock(&t, "intruder");
    let ids = waiting(&mut host, 1).await;
    host.admit(ids[0], false).await.expect("denied");
    let err = intruder.await.expect("task").expect_err("denied entry");
    assert!(matches!(err, ClientError::Server { code: ErrorCode::LobbyDenied, .. }), "{err:?}");

    // A co-host is not held; it is told who is waiting.
    let a = knock(&t, "a");
    let b = knock(&t, "b");
    waiting(&mut host, 2).await;
    let mut cohost = t.join_as("m", "cohost", Role::Host).await;
    waiting(&mut cohost, 2).await;
    // Turning the lobby off admits everyone waiting.
    host.set_lobby(false).await.expect("lobby off");
    for g in [a, b] {
        g.await.expect("task").expect("admitted when the lobby closed");
    }
    // A guest can't admit anyone.
    let err = guest.admit(ids[0], true).await.expect_err("not a host");
    assert_eq!(err.code(), Some(ErrorCode::PermissionDenied));
}
