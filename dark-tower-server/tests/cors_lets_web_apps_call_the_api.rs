//! Browsers on other origins may call the HTTP API: any origin in development (the default),
//! only the configured ones otherwise.

mod common;

use common::TestServer;
use dark_tower_server::{ServerBuilder, ServerConfig, ServerError};

async fn preflight(t: &TestServer, origin: &str) -> reqwest::Response {
    reqwest::Client::new()
        .request(reqwest::Method::OPTIONS, format!("{}/v1/join", t.url))
        .header("Origin", origin)
        .header("Access-Control-Request-Method", "POST")
        .header("Access-Control-Request-Headers", "authorization,content-type")
        .send()
        .await
        .expect("preflight")
}

fn allow_origin(r: &reqwest::Response) -> Option<String> {
    r.headers().get("access-control-allow-origin").and_then(|v| v.to_str().ok()).map(str::to_owned)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn any_origin_by_default() {
    let t = TestServer::start().await;
    let r = preflight(&t, "https://app.example").await;
    assert!(r.status().is_success());
    assert_eq!(allow_origin(&r).as_deref(), Some("*"));
    let headers =
        r.headers().get("access-control-allow-headers").and_then(|v| v.to_str().ok()).unwrap_or_default();
    assert!(headers.to_ascii_lowercase().contains("authorization"), "{headers}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_configured_origins_when_listed() {
    let t = TestServer::start_with(|c| c.cors_origins = vec!["https://app.example".into()]).await;
    assert_eq!(
        allow_origin(&preflight(&t, "https://app.example").await).as_deref(),
        Some("https://app.example")
    );
    assert_eq!(allow_origin(&preflight(&t, "https://evil.example").await), None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invalid_origin_is_a_clear_startup_error() {
    let dir = std::env::temp_dir().join(format!("dark-tower-cors-{}", std::process::id()));
    let config = ServerConfig { cors_origins: vec!["bad\norigin".into()], ..ServerConfig::ephemeral(&dir) };
    let err = ServerBuilder::new(config).start().await.err().expect("refused");
    assert!(matches!(&err, ServerError::Config(m) if m.contains("CORS")), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}
