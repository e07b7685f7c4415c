//! Configuration layers: defaults < TOML file < environment < command-line flags.

use std::net::SocketAddr;
use std::path::PathBuf;

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::Serialize;

use super::{LogFormat, ServerConfig, StoreKind};

/// Prefix of the environment variables read; `__` separates nested keys:
/// `DARK_TOWER__STORE__URL` is `store.url`, `DARK_TOWER__HTTP_LIMITS__BURST` is
/// `http_limits.burst`.
pub const ENV_PREFIX: &str = "DARK_TOWER__";

/// Why the configuration could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The named file does not exist or cannot be read.
    #[error("config file {path}: {source}")]
    File {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A layer holds a value of the wrong type, an unknown key, or bad TOML.
    #[error("{0}")]
    Parse(String),
    /// The values do not work together.
    #[error("invalid configuration:\n  {}", .0.join("\n  "))]
    Invalid(Vec<String>),
}

/// The top layer: values given on the command line (only those set are applied).
#[derive(Debug, Clone, Default, Serialize)]
pub struct Overrides {
    /// `http`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub http: Option<SocketAddr>,
    /// `admin`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub admin: Option<SocketAddr>,
    /// `webtransport` (also makes every address required).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub webtransport: Option<Vec<SocketAddr>>,
    /// `webtransport_all_required`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub webtransport_all_required: Option<bool>,
    /// `data_dir`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_dir: Option<PathBuf>,
    /// `store`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub store: Option<StoreOverride>,
    /// `auto_create_meetings`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auto_create_meetings: Option<bool>,
    /// `public_host`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub public_host: Option<String>,
    /// `public_port`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub public_port: Option<u16>,
    /// `cors_origins`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cors_origins: Option<Vec<String>>,
    /// `resume_grace`, as a duration string.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resume_grace: Option<String>,
    /// `log_format`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_format: Option<LogFormat>,
}

/// `[store]` from flags; the URL is a plain string here (a [`Secret`] would serialize
/// redacted).
///
/// [`Secret`]: dark_tower_core::token::Secret
#[derive(Debug, Clone, Default, Serialize)]
pub struct StoreOverride {
    /// `store.kind`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<StoreKind>,
    /// `store.url`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

/// Loads the configuration: defaults, then each of `files` in order (each must exist), then
/// the `DARK_TOWER__…` environment variables, then `flags`; then validates it.
pub fn load(files: &[PathBuf], flags: &Overrides) -> Result<ServerConfig, ConfigError> {
    let mut figment = Figment::from(Serialized::defaults(ServerConfig::default()));
    for path in files {
        // Toml::file ignores a missing file; a named one must exist.
        std::fs::metadata(path).map_err(|source| ConfigError::File { path: path.to_owned(), source })?;
        figment = figment.merge(Toml::file_exact(path));
    }
    let config: ServerConfig = figment
        .merge(Env::prefixed(ENV_PREFIX).split("__"))
        .merge(Serialized::defaults(flags))
        .extract()
        .map_err(|e| ConfigError::Parse(describe(e)))?;
    config.validate().map_err(ConfigError::Invalid)?;
    Ok(config)
}

/// Every error of the extraction, each with the key and the layer it came from.
fn describe(e: figment::Error) -> String {
    e.into_iter().map(|e| e.to_string()).collect::<Vec<_>>().join("\n")
}
