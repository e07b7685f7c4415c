//! Checks of the configuration as a whole, run at start; each problem names its key.

use std::time::Duration;

use dark_tower_core::token::ApiKey;

use super::{ServerConfig, StoreConfig};

pub(super) fn validate(c: &ServerConfig) -> Result<(), Vec<String>> {
    let mut errors = Vec::new();
    let mut check = |ok: bool, msg: String| {
        if !ok {
            errors.push(msg);
        }
    };
    check(!c.webtransport.is_empty(), "webtransport: at least one address is needed".into());
    check(c.public_port != Some(0), "public_port: must be 1-65535".into());
    check(
        c.public_host.as_deref().is_none_or(|h| !h.is_empty() && !h.contains(['/', ' '])),
        "public_host: must be a host name or an IP address".into(),
    );
    check(
        (Duration::from_secs(1)..=Duration::from_secs(600)).contains(&c.idle_timeout),
        "idle_timeout: must be between 1s and 10m".into(),
    );
    check(c.resume_grace <= Duration::from_secs(3600), "resume_grace: at most 1h".into());
    check(c.token_leeway <= dark_tower_core::token::LEEWAY, "token_leeway: at most 30s".into());
    check(c.drain_timeout <= Duration::from_secs(3600), "drain_timeout: at most 1h".into());
    for o in &c.cors_origins {
        check(
            url::Url::parse(o).is_ok_and(|u| matches!(u.scheme(), "http" | "https")) && !o.ends_with('/'),
            format!("cors_origins: {o:?} is not a CORS origin like https://app.example.com"),
        );
    }
    if let StoreConfig::Postgres { url } = &c.store {
        check(
            url::Url::parse(url.expose()).is_ok_and(|u| matches!(u.scheme(), "postgres" | "postgresql")),
            "store.url: must be a postgres:// URL".into(),
        );
    }
    for (i, k) in c.auth.api_keys.iter().enumerate() {
        if let Err(e) = ApiKey::from(k).validate() {
            check(false, format!("auth.api_keys[{i}]: {e}"));
        }
    }
    let mut ids: Vec<&str> = c.auth.api_keys.iter().map(|k| k.key.as_str()).collect();
    ids.sort_unstable();
    check(ids.windows(2).all(|w| w[0] != w[1]), "auth.api_keys: key ids must be unique".into());
    check(!c.auth.issuer.is_empty(), "auth.issuer: must not be empty".into());
    check(
        c.auth.key_overlap >= Duration::from_secs(60),
        "auth.key_overlap: at least 1m (it should cover the longest token lifetime)".into(),
    );
    match (&c.tls.cert, &c.tls.key) {
        (None, None) => {}
        (Some(cert), Some(key)) => {
            check(cert.is_file(), format!("tls.cert: {} is not a readable file", cert.display()));
            check(key.is_file(), format!("tls.key: {} is not a readable file", key.display()));
        }
        _ => check(false, "tls: set both cert and key, or neither".into()),
    }
    check(c.tls.watch_interval >= Duration::from_millis(100), "tls.watch_interval: at least 100ms".into());
    for u in &c.webhooks.urls {
        check(
            url::Url::parse(u).is_ok_and(|u| matches!(u.scheme(), "http" | "https")),
            format!("webhooks.urls: {u:?} is not an http(s) URL"),
        );
    }
    check(
        c.webhooks.urls.is_empty() || c.webhooks.secret.is_some() || !c.auth.api_keys.is_empty(),
        "webhooks.secret: needed to sign webhooks when no auth.api_keys are configured".into(),
    );
    check(c.webhooks.max_attempts >= 1, "webhooks.max_attempts: at least 1".into());
    check(
        c.webhooks.initial_backoff <= c.webhooks.max_backoff,
        "webhooks.initial_backoff: must not exceed webhooks.max_backoff".into(),
    );
    check(!c.webhooks.timeout.is_zero(), "webhooks.timeout: must be positive".into());
    check(
        c.http_limits.requests_per_second == 0 || c.http_limits.burst >= 1,
        "http_limits.burst: at least 1 when requests_per_second is set".into(),
    );
    check(!c.http_limits.request_timeout.is_zero(), "http_limits.request_timeout: must be positive".into());
    if errors.is_empty() { Ok(()) } else { Err(errors) }
}
