//! The development API key: generated once per data directory and kept in
//! `<data dir>/dev-api-key.json`, so tokens minted by `token create` keep working across restarts.

use std::io;
use std::path::Path;

use dark_tower_core::token::ApiKey;
use serde::{Deserialize, Serialize};

/// File name inside the data directory.
pub const FILE: &str = "dev-api-key.json";

#[derive(Serialize, Deserialize)]
struct Stored {
    api_key: String,
    api_secret: String,
}

/// Loads the development key of `data_dir`, creating the directory and the key if needed.
pub fn load_or_create(data_dir: &Path) -> io::Result<ApiKey> {
    let path = data_dir.join(FILE);
    match std::fs::read(&path) {
        Ok(bytes) => {
            let s: Stored = serde_json::from_slice(&bytes).map_err(|e| {
                io::Error::new(io::ErrorKind::InvalidData, format!("{}: {e}", path.display()))
            })?;
            let key = ApiKey::new(s.api_key, s.api_secret);
            key.validate().map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
            Ok(key)
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            std::fs::create_dir_all(data_dir)?;
            let key = ApiKey::generate();
            let s = Stored { api_key: key.key.clone(), api_secret: key.secret.expose().to_owned() };
            let json = serde_json::to_vec_pretty(&s).map_err(io::Error::other)?;
            write_private(&path, &json)?;
            Ok(key)
        }
        Err(e) => Err(e),
    }
}

#[cfg(unix)]
fn write_private(path: &Path, data: &[u8]) -> io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path)?;
    f.write_all(data)
}

#[cfg(not(unix))]
fn write_private(path: &Path, data: &[u8]) -> io::Result<()> {
    std::fs::write(path, data)
}
