//! End-to-end encryption of media payloads with SFrame (RFC 9605).
//!
//! The server forwards media it cannot read: each publisher encrypts the payload of every media
//! frame with a key derived for it alone, and every subscriber that holds the meeting's key
//! decrypts it. The 28-byte media frame header stays readable so the SFU can route, and the
//! header fields the SFU never changes are authenticated. The design, the threat model and the
//! exact authenticated bytes are in `docs/E2EE.md`.
//!
//! Three pieces, all sans-IO (time is an argument, nothing reads the clock):
//!
//! - [`KeyProvider`]: the keys. A shared passphrase ([`KeyProvider::set_shared_passphrase`],
//!   PBKDF2-SHA256), a shared raw key ([`KeyProvider::set_shared_key`]) or per-participant keys
//!   ([`KeyProvider::set_participant_key`]). Each key has an index (0–255); setting a key with a
//!   new index rotates: the new key is used for sending at once, the previous one is still
//!   accepted for decryption for [`KeyProviderOptions::rotation_window`].
//! - [`FrameEncryptor`]: one per local participant; owns the SFrame counter, which never repeats.
//! - [`FrameDecryptor`]: caches derived keys per sender and key id.
//!
//! A [`crate::Room`] does all of this itself when connected with
//! [`ConnectOptions::e2ee`](crate::ConnectOptions::e2ee) set: every frame its tracks send is
//! encrypted, every frame it receives is decrypted, and a frame that does not decrypt becomes a
//! [`RoomEvent::EncryptionError`](crate::RoomEvent::EncryptionError) instead of a
//! [`RoomEvent::Frame`](crate::RoomEvent::Frame).
//!
//! ```
//! use std::time::Instant;
//! use dark_tower_client::e2ee::{FrameDecryptor, FrameEncryptor, KeyProvider, KeyProviderOptions};
//! use dark_tower_client::{MediaHeader, ParticipantId, TrackAlias};
//!
//! let now = Instant::now();
//! let alice = ParticipantId::from_u64(1);
//! let mut keys = KeyProvider::new(KeyProviderOptions::default());
//! keys.set_shared_key(now, 0, b"a 16+ byte key shared out of band").unwrap();
//!
//! let header = MediaHeader {
//!     track_alias: TrackAlias(7), spatial_id: 0, temporal_id: 0, group_seq: 0, frame_seq: 0,
//!     capture_ts_us: 1_700_000_000_000_000, keyframe: true, discardable: false,
//!     end_of_group: false, audio_level: None,
//! };
//! let mut encryptor = FrameEncryptor::new(alice);
//! let sealed = encryptor.encrypt_frame(&keys, &header, b"encoded video").unwrap();
//!
//! let mut decryptor = FrameDecryptor::new();
//! let plain = decryptor.decrypt_frame(now, &keys, alice, &header, &sealed).unwrap();
//! assert_eq!(plain, b"encoded video");
//! ```

mod frame;
mod keys;
mod room;
pub mod sframe;

pub use frame::{
    AUTHENTICATED_HEADER_RANGES, FrameDecryptor, FrameEncryptor, KEY_INDEX_BITS, key_index_of,
    media_metadata, sender_kid,
};
pub use keys::{
    DEFAULT_PBKDF2_ITERATIONS, DEFAULT_PBKDF2_SALT, DEFAULT_ROTATION_WINDOW, KeyError, KeyProvider,
    KeyProviderOptions, MIN_KEY_LEN, PassphraseParams, base_key_from_passphrase, sender_base_key,
};
pub(crate) use room::RoomE2ee;
pub use room::SharedKeyProvider;
pub use sframe::{CipherSuite, SframeHeader, SframeKey};

/// Why a frame could not be encrypted or decrypted.
///
/// Sorted by who is at fault: the sender or the network ([`MalformedHeader`](Self::MalformedHeader)),
/// a key we do not have ([`UnknownKeyId`](Self::UnknownKeyId), [`NoSendingKey`](Self::NoSendingKey)),
/// a wrong key or tampering ([`AuthenticationFailed`](Self::AuthenticationFailed)), an exhausted
/// resource ([`CounterExhausted`](Self::CounterExhausted), [`FrameTooLarge`](Self::FrameTooLarge)).
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum E2eeError {
    /// The SFrame header is truncated or the frame is shorter than header and tag.
    #[error("malformed SFrame: {0}")]
    MalformedHeader(&'static str),
    /// No key is known for this key id from this sender (not set, never shared with us, or
    /// retired after its rotation window).
    #[error("no key for key id {kid:#x}")]
    UnknownKeyId {
        /// The SFrame key id of the frame.
        kid: u64,
    },
    /// The tag did not verify: a wrong key, or the frame or its authenticated header bytes were
    /// changed on the way.
    #[error("frame authentication failed (wrong key or tampered frame)")]
    AuthenticationFailed,
    /// Every counter value of this sender was used; encrypting more would repeat a nonce.
    #[error("SFrame counter exhausted; a new sender is needed")]
    CounterExhausted,
    /// The frame's track alias names no known participant, so there is no sender key to try
    /// (a frame that raced ahead of the signaling that announced its track).
    #[error("frame from an unknown sender")]
    UnknownSender,
    /// No key is set for sending.
    #[error("no key set for sending")]
    NoSendingKey,
    /// The payload is longer than AES-GCM can encrypt under one nonce.
    #[error("frame too large for AES-GCM")]
    FrameTooLarge,
}
