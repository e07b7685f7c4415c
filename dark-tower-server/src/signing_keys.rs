//! The server's own Ed25519 token-signing keys: kept in the data directory
//! (`signing-keys.json`, mode 0600), published at `/.well-known/jwks.json`, rotated with an
//! overlap so tokens signed before a rotation stay valid until they expire.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::RwLock;
use std::time::{Duration, SystemTime};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use dark_tower_core::auth::TokenIssuer;
use dark_tower_core::eddsa::{self, Ed25519Key};
use dark_tower_core::token::{TokenBuilder, TokenError, VerifiedToken, unix_secs};
use serde::{Deserialize, Serialize};

/// File name in the data directory.
pub const FILE: &str = "signing-keys.json";

#[derive(Debug, Clone, Serialize, Deserialize)]
struct StoredKey {
    kid: String,
    /// Base64 of the 32-byte private seed.
    seed: String,
    /// When a rotation replaced it; it is accepted until `retired + overlap`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    retired: Option<u64>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct KeyFile {
    keys: Vec<StoredKey>,
}

#[derive(Debug, Clone)]
struct Entry {
    key: Ed25519Key,
    retired: Option<u64>,
}

/// What a rotation left in place.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rotation {
    /// The key that signs from now on.
    pub active: String,
    /// Every key accepted and published (the active one first).
    pub published: Vec<String>,
}

/// The server's signing keys; verifies and mints EdDSA tokens.
#[derive(Debug)]
pub struct SigningKeys {
    path: PathBuf,
    issuer: String,
    overlap: Duration,
    leeway: Duration,
    /// The active key is the last one; earlier ones are retired.
    entries: RwLock<Vec<Entry>>,
}

impl SigningKeys {
    /// Loads the keys of `data_dir`, creating the first one if there is none, and forgets keys
    /// retired longer than `overlap` ago.
    pub fn load_or_create(
        data_dir: &Path,
        issuer: impl Into<String>,
        overlap: Duration,
        leeway: Duration,
        now: SystemTime,
    ) -> io::Result<Self> {
        let path = data_dir.join(FILE);
        let file: KeyFile = match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| {
                io::Error::new(io::ErrorKind::InvalidData, format!("{}: {e}", path.display()))
            })?,
            Err(e) if e.kind() == io::ErrorKind::NotFound => KeyFile::default(),
            Err(e) => return Err(e),
        };
        let mut entries = Vec::new();
        for k in file.keys {
            let seed: [u8; 32] =
                STANDARD.decode(&k.seed).ok().and_then(|s| s.try_into().ok()).ok_or_else(|| {
                    io::Error::new(io::ErrorKind::InvalidData, format!("{}: bad seed", path.display()))
                })?;
            entries.push(Entry { key: Ed25519Key::from_seed(k.kid, seed), retired: k.retired });
        }
        let keys = Self { path, issuer: issuer.into(), overlap, leeway, entries: RwLock::new(entries) };
        {
            let mut e = keys.write();
            let before = e.len();
            prune(&mut e, overlap, now);
            if e.last().is_none_or(|last| last.retired.is_some()) {
                e.push(Entry { key: Ed25519Key::generate(), retired: None });
            }
            if e.len() != before || before == 0 {
                keys.save(&e)?;
            }
        }
        Ok(keys)
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Vec<Entry>> {
        self.entries.read().unwrap_or_else(|p| p.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Vec<Entry>> {
        self.entries.write().unwrap_or_else(|p| p.into_inner())
    }

    fn save(&self, entries: &[Entry]) -> io::Result<()> {
        let file = KeyFile {
            keys: entries
                .iter()
                .map(|e| StoredKey {
                    kid: e.key.kid().to_owned(),
                    seed: STANDARD.encode(e.key.seed()),
                    retired: e.retired,
                })
                .collect(),
        };
        let json = serde_json::to_vec_pretty(&file).map_err(io::Error::other)?;
        if let Some(dir) = self.path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let tmp = self.path.with_extension("json.tmp");
        write_private(&tmp, &json)?;
        std::fs::rename(&tmp, &self.path)
    }

    /// The `iss` of the tokens these keys sign.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// Makes a new key the signing key; the previous one stays accepted for the overlap.
    pub fn rotate(&self, now: SystemTime) -> io::Result<Rotation> {
        let mut e = self.write();
        let t = unix_secs(now);
        for entry in e.iter_mut() {
            entry.retired.get_or_insert(t);
        }
        prune(&mut e, self.overlap, now);
        e.push(Entry { key: Ed25519Key::generate(), retired: None });
        self.save(&e)?;
        Ok(rotation(&e))
    }

    /// The active key id and every published one.
    pub fn current(&self, now: SystemTime) -> Rotation {
        let mut e = self.read().clone();
        prune(&mut e, self.overlap, now);
        rotation(&e)
    }

    /// The JWKS document of the keys accepted at `now`.
    pub fn jwks(&self, now: SystemTime) -> serde_json::Value {
        let e = self.read();
        let live: Vec<&Ed25519Key> =
            e.iter().rev().filter(|x| accepted(x, self.overlap, now)).map(|x| &x.key).collect();
        eddsa::jwks(live)
    }

    /// Verifies an EdDSA token signed by an accepted key.
    pub fn verify(&self, token: &str, now: SystemTime) -> Result<VerifiedToken, TokenError> {
        let e = self.read();
        eddsa::verify_eddsa_token(
            token,
            |kid| e.iter().find(|x| x.key.kid() == kid && accepted(x, self.overlap, now)).map(|x| &x.key),
            &self.issuer,
            self.leeway,
            now,
        )
    }
}

impl TokenIssuer for SigningKeys {
    fn issue(&self, builder: &TokenBuilder, now: SystemTime) -> Result<String, TokenError> {
        let e = self.read();
        let active = e.last().ok_or_else(|| TokenError::Signing("no signing key".into()))?;
        active.key.sign(builder, &self.issuer, now)
    }
}

fn accepted(e: &Entry, overlap: Duration, now: SystemTime) -> bool {
    e.retired.is_none_or(|r| r.saturating_add(overlap.as_secs()) >= unix_secs(now))
}

fn prune(entries: &mut Vec<Entry>, overlap: Duration, now: SystemTime) {
    entries.retain(|e| accepted(e, overlap, now));
}

fn rotation(entries: &[Entry]) -> Rotation {
    Rotation {
        active: entries.last().map(|e| e.key.kid().to_owned()).unwrap_or_default(),
        published: entries.iter().rev().map(|e| e.key.kid().to_owned()).collect(),
    }
}

#[cfg(unix)]
fn write_private(path: &Path, bytes: &[u8]) -> io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new().write(true).create(true).truncate(true).mode(0o600).open(path)?;
    f.write_all(bytes)?;
    f.sync_all()
}

#[cfg(not(unix))]
fn write_private(path: &Path, bytes: &[u8]) -> io::Result<()> {
    std::fs::write(path, bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rotation_keeps_old_tokens_valid_for_the_overlap_then_forgets_the_key() {
        let dir = tempfile::tempdir().unwrap();
        let t0 = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        let overlap = Duration::from_secs(3600);
        let keys = SigningKeys::load_or_create(dir.path(), "srv", overlap, Duration::ZERO, t0).unwrap();
        let b = TokenBuilder::new("alice").ttl(Duration::from_secs(7200));
        let old = keys.issue(&b, t0).unwrap();
        let first = keys.current(t0).active;
        let r = keys.rotate(t0).unwrap();
        assert_ne!(r.active, first);
        assert_eq!(r.published, vec![r.active.clone(), first.clone()]);
        assert!(keys.verify(&old, t0 + Duration::from_secs(60)).is_ok());
        let new = keys.issue(&b, t0).unwrap();
        assert_eq!(keys.verify(&new, t0).unwrap().key_id, r.active);
        // Reloaded from the file: the same keys.
        let again = SigningKeys::load_or_create(dir.path(), "srv", overlap, Duration::ZERO, t0).unwrap();
        assert!(again.verify(&old, t0).is_ok());
        assert_eq!(again.current(t0), r);
        // Past the overlap the retired key is neither accepted nor published.
        let later = t0 + overlap + Duration::from_secs(1);
        assert!(matches!(keys.verify(&old, later), Err(TokenError::Invalid(_))));
        assert_eq!(keys.jwks(later)["keys"].as_array().map(Vec::len), Some(1));
    }
}
