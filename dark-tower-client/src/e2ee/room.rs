//! E2EE inside a [`crate::Room`]: the room encrypts what its tracks send and decrypts what it
//! receives with the keys of a [`SharedKeyProvider`] the application keeps a handle to.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Instant;

use dark_tower_core::codec::media::MediaHeader;
use dark_tower_core::ids::ParticipantId;

use super::{E2eeError, FrameDecryptor, FrameEncryptor, KeyProvider};

/// The key provider a room and the application share: the application sets and rotates keys
/// (`keys.lock()`), the room encrypts and decrypts with whatever is set at the time.
pub type SharedKeyProvider = Arc<Mutex<KeyProvider>>;

/// Locks, recovering from a panic in another holder: the guarded values are replaced whole by
/// each operation, so they are never left half-updated.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// One room's E2EE state: its keys, the local participant's encryptor (shared by all its
/// tracks, so the counter is per sender), and the decryptor for everyone else.
pub(crate) struct RoomE2ee {
    keys: SharedKeyProvider,
    encryptor: Mutex<FrameEncryptor>,
    decryptor: Mutex<FrameDecryptor>,
}

impl RoomE2ee {
    pub(crate) fn new(keys: SharedKeyProvider, local: ParticipantId) -> Self {
        Self {
            keys,
            encryptor: Mutex::new(FrameEncryptor::new(local)),
            decryptor: Mutex::new(FrameDecryptor::new()),
        }
    }

    pub(crate) fn encrypt(&self, header: &MediaHeader, payload: &[u8]) -> Result<Vec<u8>, E2eeError> {
        let keys = lock(&self.keys);
        lock(&self.encryptor).encrypt_frame(&keys, header, payload)
    }

    pub(crate) fn decrypt(
        &self,
        sender: ParticipantId,
        header: &MediaHeader,
        ciphertext: &[u8],
    ) -> Result<Vec<u8>, E2eeError> {
        let keys = lock(&self.keys);
        lock(&self.decryptor).decrypt_frame(Instant::now(), &keys, sender, header, ciphertext)
    }
}
