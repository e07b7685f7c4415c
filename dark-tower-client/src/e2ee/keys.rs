//! Key management: passphrase and raw keys, per-sender derivation, rotation with a grace window.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use dark_tower_core::ids::ParticipantId;
use hkdf::Hkdf;
use sha2::Sha256;

use super::sframe::CipherSuite;

/// PBKDF2 salt used when the application gives none: the ASCII bytes of
/// `"dark-tower/e2ee/v1/passphrase"`. Applications should pass a per-meeting salt (for example
/// the meeting name) so a precomputed dictionary cannot be reused across meetings.
pub const DEFAULT_PBKDF2_SALT: &[u8] = b"dark-tower/e2ee/v1/passphrase";

/// PBKDF2-HMAC-SHA256 iterations used when the application gives none (the OWASP 2023
/// recommendation for this hash).
pub const DEFAULT_PBKDF2_ITERATIONS: u32 = 600_000;

/// How long a replaced key is still accepted for decryption, unless configured otherwise.
pub const DEFAULT_ROTATION_WINDOW: Duration = Duration::from_secs(5);

/// The shortest raw key accepted (128 bits).
pub const MIN_KEY_LEN: usize = 16;

/// Length of a base key and of a sender key (the SHA-256 output length).
const BASE_KEY_LEN: usize = 32;

/// HKDF info prefix for per-sender keys; the participant id follows as a u64, big-endian.
const SENDER_LABEL: &[u8] = b"Dark Tower E2EE 1.0 sender key ";

/// Why a key could not be set.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum KeyError {
    /// Raw keys must have at least [`MIN_KEY_LEN`] bytes.
    #[error("key too short: {len} bytes, at least {MIN_KEY_LEN} needed")]
    KeyTooShort {
        /// The length given.
        len: usize,
    },
    /// The passphrase is empty.
    #[error("empty passphrase")]
    EmptyPassphrase,
    /// PBKDF2 needs at least one iteration.
    #[error("PBKDF2 iterations must be at least 1")]
    ZeroIterations,
}

/// PBKDF2 parameters for turning a passphrase into a base key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PassphraseParams {
    /// The salt; [`DEFAULT_PBKDF2_SALT`] by default.
    pub salt: Vec<u8>,
    /// The iteration count; [`DEFAULT_PBKDF2_ITERATIONS`] by default.
    pub iterations: u32,
}

impl Default for PassphraseParams {
    fn default() -> Self {
        Self { salt: DEFAULT_PBKDF2_SALT.to_vec(), iterations: DEFAULT_PBKDF2_ITERATIONS }
    }
}

/// The base key for a passphrase: PBKDF2-HMAC-SHA256(passphrase as UTF-8, salt, iterations),
/// 32 bytes.
pub fn base_key_from_passphrase(
    passphrase: &str,
    params: &PassphraseParams,
) -> Result<[u8; BASE_KEY_LEN], KeyError> {
    if passphrase.is_empty() {
        return Err(KeyError::EmptyPassphrase);
    }
    if params.iterations == 0 {
        return Err(KeyError::ZeroIterations);
    }
    let mut out = [0u8; BASE_KEY_LEN];
    pbkdf2::pbkdf2_hmac::<Sha256>(passphrase.as_bytes(), &params.salt, params.iterations, &mut out);
    Ok(out)
}

/// The SFrame base key of one sender: HKDF-SHA256 with an empty salt, the shared key as input
/// keying material and `"Dark Tower E2EE 1.0 sender key " || participant id (u64 BE)` as info,
/// 32 bytes. Distinct senders never share a key, so their counters cannot collide.
pub fn sender_base_key(shared: &[u8], sender: ParticipantId) -> [u8; BASE_KEY_LEN] {
    let mut info = Vec::with_capacity(SENDER_LABEL.len() + 8);
    info.extend_from_slice(SENDER_LABEL);
    info.extend_from_slice(&sender.as_u64().to_be_bytes());
    let mut out = [0u8; BASE_KEY_LEN];
    let expanded = Hkdf::<Sha256>::new(Some(&[]), shared).expand(&info, &mut out);
    // HKDF-SHA256 can produce up to 8160 bytes; 32 always fits.
    debug_assert!(expanded.is_ok());
    out
}

/// Options of a [`KeyProvider`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KeyProviderOptions {
    /// The SFrame cipher suite; every participant of a meeting must use the same.
    pub cipher_suite: CipherSuite,
    /// How long a replaced key is still accepted for decryption.
    pub rotation_window: Duration,
}

impl Default for KeyProviderOptions {
    fn default() -> Self {
        Self { cipher_suite: CipherSuite::default(), rotation_window: DEFAULT_ROTATION_WINDOW }
    }
}

#[derive(Clone)]
struct Entry {
    index: u8,
    key: Vec<u8>,
}

/// The keys of one scope (the shared keys, or one participant's): the current key and the
/// replaced ones still inside their rotation window.
#[derive(Clone, Default)]
struct KeyRing {
    current: Option<Entry>,
    retired: Vec<(Entry, Instant)>,
}

impl KeyRing {
    fn set(&mut self, now: Instant, window: Duration, index: u8, key: Vec<u8>) {
        self.retired.retain(|(e, until)| e.index != index && now < *until);
        if let Some(old) = self.current.take()
            && old.index != index
        {
            self.retired.push((old, now + window));
        }
        self.current = Some(Entry { index, key });
    }

    /// The key with `index` and, for a retired one, until when it is accepted.
    fn find(&self, now: Instant, index: u8) -> Option<(&[u8], Option<Instant>)> {
        if let Some(e) = self.current.as_ref().filter(|e| e.index == index) {
            return Some((&e.key, None));
        }
        self.retired
            .iter()
            .find(|(e, until)| e.index == index && now < *until)
            .map(|(e, until)| (e.key.as_slice(), Some(*until)))
    }
}

/// A sender's key for one key index, ready for SFrame key derivation.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct SenderKey {
    /// The key index (the low 8 bits of the SFrame KID).
    pub index: u8,
    /// [`sender_base_key`] of the shared or participant key.
    pub base_key: [u8; BASE_KEY_LEN],
    /// For a retired key, the end of its rotation window.
    pub valid_until: Option<Instant>,
}

impl std::fmt::Debug for SenderKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SenderKey")
            .field("index", &self.index)
            .field("valid_until", &self.valid_until)
            .finish()
    }
}

/// The keys of a meeting as seen by one client.
///
/// A key is either shared by everyone (a passphrase or a raw key the application distributes)
/// or set for one participant; a participant's own key takes precedence over the shared key
/// with the same index. Either way the key is never used directly: each sender encrypts with
/// [`sender_base_key`] of it and its participant id.
///
/// **Rotation.** Setting a key with a new index makes it the sending key at once and keeps the
/// previous key for decryption until `now + rotation_window`. Setting a key with the index in
/// use replaces it at once (frames in flight under the old key then fail): rotate to a new
/// index. Indexes wrap around 255 → 0.
pub struct KeyProvider {
    options: KeyProviderOptions,
    shared: KeyRing,
    participants: HashMap<ParticipantId, KeyRing>,
    generation: u64,
}

impl std::fmt::Debug for KeyProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyProvider")
            .field("options", &self.options)
            .field("shared_index", &self.shared.current.as_ref().map(|e| e.index))
            .field("participants", &self.participants.len())
            .finish_non_exhaustive()
    }
}

fn check_key(key: &[u8]) -> Result<(), KeyError> {
    if key.len() < MIN_KEY_LEN {
        return Err(KeyError::KeyTooShort { len: key.len() });
    }
    Ok(())
}

impl KeyProvider {
    /// An empty provider: nothing can be sent or received until a key is set.
    pub fn new(options: KeyProviderOptions) -> Self {
        Self { options, shared: KeyRing::default(), participants: HashMap::new(), generation: 0 }
    }

    /// The options.
    pub fn options(&self) -> KeyProviderOptions {
        self.options
    }

    /// The cipher suite.
    pub fn cipher_suite(&self) -> CipherSuite {
        self.options.cipher_suite
    }

    /// Bumped by every change; [`super::FrameEncryptor`] and [`super::FrameDecryptor`] drop
    /// their derived keys when it moves.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// Sets the shared raw key with `index` (at least [`MIN_KEY_LEN`] bytes), rotating as
    /// described on the type.
    pub fn set_shared_key(&mut self, now: Instant, index: u8, key: &[u8]) -> Result<(), KeyError> {
        check_key(key)?;
        self.shared.set(now, self.options.rotation_window, index, key.to_vec());
        self.generation += 1;
        Ok(())
    }

    /// Sets the shared key from a passphrase ([`base_key_from_passphrase`]). Slow on purpose
    /// (PBKDF2): call it off any latency-sensitive task.
    pub fn set_shared_passphrase(
        &mut self,
        now: Instant,
        index: u8,
        passphrase: &str,
        params: &PassphraseParams,
    ) -> Result<(), KeyError> {
        let key = base_key_from_passphrase(passphrase, params)?;
        self.set_shared_key(now, index, &key)
    }

    /// Sets `participant`'s own key with `index`, for sending (when it is the local participant)
    /// and for decrypting its frames. Rotates like the shared key, per participant.
    pub fn set_participant_key(
        &mut self,
        now: Instant,
        participant: ParticipantId,
        index: u8,
        key: &[u8],
    ) -> Result<(), KeyError> {
        check_key(key)?;
        let window = self.options.rotation_window;
        self.participants.entry(participant).or_default().set(now, window, index, key.to_vec());
        self.generation += 1;
        Ok(())
    }

    /// Forgets every key set for `participant` (for example when it leaves); the shared key
    /// applies to it again.
    pub fn remove_participant_key(&mut self, participant: ParticipantId) {
        if self.participants.remove(&participant).is_some() {
            self.generation += 1;
        }
    }

    /// The key `sender` encrypts with now: its own current key if one is set, else the shared
    /// current key.
    #[cfg(test)]
    pub(crate) fn sending_key(&self, sender: ParticipantId) -> Option<SenderKey> {
        let entry = self
            .participants
            .get(&sender)
            .and_then(|r| r.current.as_ref())
            .or(self.shared.current.as_ref())?;
        Some(SenderKey {
            index: entry.index,
            base_key: sender_base_key(&entry.key, sender),
            valid_until: None,
        })
    }

    /// The raw key `sender` encrypts with now and its index, before per-sender derivation.
    pub(crate) fn sending_entry(&self, sender: ParticipantId) -> Option<(u8, &[u8])> {
        let entry = self
            .participants
            .get(&sender)
            .and_then(|r| r.current.as_ref())
            .or(self.shared.current.as_ref())?;
        Some((entry.index, &entry.key))
    }

    /// The key of `sender` with `index` that a frame may be decrypted with at `now`: the
    /// participant's key with that index, else the shared one; current, or retired and still
    /// inside its rotation window.
    pub(crate) fn receiving_key(&self, now: Instant, sender: ParticipantId, index: u8) -> Option<SenderKey> {
        let (key, valid_until) = self
            .participants
            .get(&sender)
            .and_then(|r| r.find(now, index))
            .or_else(|| self.shared.find(now, index))?;
        Some(SenderKey { index, base_key: sender_base_key(key, sender), valid_until })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const K1: &[u8] = b"key number one, 32 bytes long!!!";
    const K2: &[u8] = b"key number two, 32 bytes long!!!";
    const K3: &[u8] = b"key number three, longer than 16";
    const ALICE: ParticipantId = ParticipantId::from_u64(0xa11ce);
    const BOB: ParticipantId = ParticipantId::from_u64(0xb0b);

    fn provider() -> KeyProvider {
        KeyProvider::new(KeyProviderOptions { rotation_window: Duration::from_secs(3), ..Default::default() })
    }

    #[test]
    fn short_keys_and_empty_passphrases_are_refused() {
        let mut p = provider();
        let t0 = Instant::now();
        assert_eq!(p.set_shared_key(t0, 0, &[0; 15]), Err(KeyError::KeyTooShort { len: 15 }));
        assert_eq!(p.set_participant_key(t0, ALICE, 0, b""), Err(KeyError::KeyTooShort { len: 0 }));
        assert_eq!(
            p.set_shared_passphrase(t0, 0, "", &PassphraseParams::default()),
            Err(KeyError::EmptyPassphrase)
        );
        let zero = PassphraseParams { iterations: 0, ..Default::default() };
        assert_eq!(p.set_shared_passphrase(t0, 0, "x", &zero), Err(KeyError::ZeroIterations));
        assert!(p.sending_key(ALICE).is_none());
        assert_eq!(p.generation(), 0);
    }

    #[test]
    fn senders_get_distinct_keys_from_one_shared_key() {
        let mut p = provider();
        let t0 = Instant::now();
        p.set_shared_key(t0, 4, K1).unwrap();
        let a = p.sending_key(ALICE).unwrap();
        let b = p.sending_key(BOB).unwrap();
        assert_eq!((a.index, b.index), (4, 4));
        assert_ne!(a.base_key, b.base_key);
        assert_eq!(p.receiving_key(t0, ALICE, 4).unwrap().base_key, a.base_key);
        assert!(p.receiving_key(t0, ALICE, 5).is_none());
    }

    #[test]
    fn rotation_keeps_the_old_key_for_the_window_only() {
        let mut p = provider();
        let t0 = Instant::now();
        p.set_shared_key(t0, 0, K1).unwrap();
        let old = p.sending_key(ALICE).unwrap();
        let t1 = t0 + Duration::from_secs(10);
        p.set_shared_key(t1, 1, K2).unwrap();
        let new = p.sending_key(ALICE).unwrap();
        assert_eq!(new.index, 1);
        assert_ne!(new.base_key, old.base_key);
        let during = p.receiving_key(t1 + Duration::from_millis(2999), ALICE, 0).unwrap();
        assert_eq!(during.base_key, old.base_key);
        assert_eq!(during.valid_until, Some(t1 + Duration::from_secs(3)));
        assert!(p.receiving_key(t1 + Duration::from_secs(3), ALICE, 0).is_none());
        assert!(p.receiving_key(t1 + Duration::from_secs(3), ALICE, 1).is_some());
    }

    #[test]
    fn reusing_an_index_replaces_at_once() {
        let mut p = provider();
        let t0 = Instant::now();
        p.set_shared_key(t0, 0, K1).unwrap();
        p.set_shared_key(t0, 1, K2).unwrap();
        // Back to index 0 with another key: the retired K1 under index 0 must not linger.
        p.set_shared_key(t0, 0, K3).unwrap();
        let got = p.receiving_key(t0, BOB, 0).unwrap();
        assert_eq!(got.base_key, sender_base_key(K3, BOB));
        assert_eq!(got.valid_until, None);
        // K2 (index 1) was replaced by a new index, so it stays for the window.
        assert_eq!(p.receiving_key(t0, BOB, 1).unwrap().base_key, sender_base_key(K2, BOB));
    }

    #[test]
    fn participant_keys_override_the_shared_key() {
        let mut p = provider();
        let t0 = Instant::now();
        p.set_shared_key(t0, 0, K1).unwrap();
        p.set_participant_key(t0, ALICE, 0, K2).unwrap();
        assert_eq!(p.sending_key(ALICE).unwrap().base_key, sender_base_key(K2, ALICE));
        assert_eq!(p.sending_key(BOB).unwrap().base_key, sender_base_key(K1, BOB));
        assert_eq!(p.receiving_key(t0, ALICE, 0).unwrap().base_key, sender_base_key(K2, ALICE));
        // An index only the shared ring has falls back to it.
        p.set_shared_key(t0, 7, K3).unwrap();
        assert_eq!(p.receiving_key(t0, ALICE, 7).unwrap().base_key, sender_base_key(K3, ALICE));
        let g = p.generation();
        p.remove_participant_key(ALICE);
        assert!(p.generation() > g);
        // Index 0 now falls back to the shared K1, retired by index 7 but inside its window.
        assert_eq!(p.receiving_key(t0, ALICE, 0).unwrap().base_key, sender_base_key(K1, ALICE));
        assert_eq!(p.sending_key(ALICE).unwrap().base_key, sender_base_key(K3, ALICE));
    }

    #[test]
    fn passphrase_uses_pbkdf2_sha256() {
        // RFC 7914 §11 test vector for PBKDF2-HMAC-SHA256 ("passwd", "salt", 1 iteration).
        let params = PassphraseParams { salt: b"salt".to_vec(), iterations: 1 };
        let key = base_key_from_passphrase("passwd", &params).unwrap();
        assert_eq!(
            key.to_vec(),
            [
                0x55, 0xac, 0x04, 0x6e, 0x56, 0xe3, 0x08, 0x9f, 0xec, 0x16, 0x91, 0xc2, 0x25, 0x44, 0xb6,
                0x05, 0xf9, 0x41, 0x85, 0x21, 0x6d, 0xde, 0x04, 0x65, 0xe6, 0x8b, 0x9d, 0x57, 0xc2, 0x0d,
                0xac, 0xbc
            ]
        );
    }
}
