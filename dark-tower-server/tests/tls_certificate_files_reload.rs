//! Production TLS: the WebTransport endpoint serves the certificate from the configured PEM
//! files (and tells clients there is nothing to pin), picks up new files on `reload_tls` and
//! when the files change on disk, without a restart and without dropping sessions.

mod common;

use std::path::Path;
use std::time::Duration;

use common::TestServer;
use dark_tower_core::transport::{Session, wt};
use serde_json::json;
use wtransport::Identity;

/// Writes a fresh self-signed certificate and key to `dir`; returns its SHA-256 (hex).
fn write_identity(dir: &Path) -> String {
    let id = Identity::self_signed(["localhost", "127.0.0.1"]).expect("self-signed");
    let chain: String = id.certificate_chain().as_slice().iter().map(|c| c.to_pem()).collect();
    // Write to temporary names and rename, as a certificate manager does.
    std::fs::write(dir.join("cert.pem.tmp"), chain).expect("write cert");
    std::fs::write(dir.join("key.pem.tmp"), id.private_key().to_secret_pem()).expect("write key");
    std::fs::rename(dir.join("key.pem.tmp"), dir.join("key.pem")).expect("rename key");
    std::fs::rename(dir.join("cert.pem.tmp"), dir.join("cert.pem")).expect("rename cert");
    dark_tower_server::tls::certificate_sha256(&id)
}

async fn handshake(t: &TestServer, pin: &str) -> bool {
    let url = t.signal_url("tls", &t.token("tls", "probe"));
    wt::connect(&url, &[pin.to_owned()]).await.is_ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_configured_certificate_is_served_and_reloaded() {
    let dir = std::env::temp_dir().join(format!("dark-tower-tls-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let a = write_identity(&dir);
    let t = TestServer::start_with(|c| {
        c.tls.cert = Some(dir.join("cert.pem"));
        c.tls.key = Some(dir.join("key.pem"));
        c.tls.watch_interval = Duration::from_millis(200);
    })
    .await;
    assert_eq!(t.server.certificate_sha256, a);
    assert!(handshake(&t, &a).await, "the endpoint serves the certificate from the files");
    let joined = reqwest::Client::new()
        .post(format!("{}/v1/join", t.url))
        .bearer_auth(t.token("tls", "ann"))
        .json(&json!({ "protocol_version": 1 }))
        .send()
        .await
        .expect("join")
        .json::<serde_json::Value>()
        .await
        .expect("json");
    assert_eq!(joined["certificate_sha256"], json!([]), "a configured certificate is not pinned");

    // An explicit reload (what SIGHUP does).
    let keep = wt::connect(&t.signal_url("tls", &t.token("tls", "stays")), std::slice::from_ref(&a))
        .await
        .expect("session");
    let b = write_identity(&dir);
    assert_eq!(t.server.reload_tls().await.expect("reload"), b);
    assert!(handshake(&t, &b).await, "new connections get the new certificate");
    assert!(!handshake(&t, &a).await, "the old certificate is no longer served");
    assert!(
        tokio::time::timeout(Duration::from_millis(300), keep.closed()).await.is_err(),
        "an established session survives the reload"
    );

    // Changed files are noticed without being asked.
    let c = write_identity(&dir);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    while !handshake(&t, &c).await {
        assert!(tokio::time::Instant::now() < deadline, "the changed files were never picked up");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // Broken files, or a key that does not belong to the certificate, are refused and the
    // current certificate stays.
    let other = Identity::self_signed(["localhost"]).expect("self-signed");
    std::fs::write(dir.join("key.pem"), other.private_key().to_secret_pem()).expect("write");
    let err = t.server.reload_tls().await.expect_err("a mismatched key is refused");
    assert!(err.to_string().contains("does not fit"), "{err}");
    std::fs::write(dir.join("cert.pem"), "not a certificate").expect("write");
    assert!(t.server.reload_tls().await.is_err());
    assert!(handshake(&t, &c).await, "a failed reload keeps the working certificate");
    let _ = std::fs::remove_dir_all(&dir);
}
