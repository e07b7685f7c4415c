//! SFrame applied to media frames: which header bytes are authenticated, how the KID is built,
//! and the per-sender encryptor and per-receiver decryptor.

use std::collections::HashMap;
use std::ops::Range;
use std::time::Instant;

use bytes::BytesMut;
use dark_tower_core::codec::media::{HEADER_LEN, MediaHeader};
use dark_tower_core::ids::ParticipantId;

use super::E2eeError;
use super::keys::{KeyProvider, sender_base_key};
use super::sframe::{SframeHeader, SframeKey};

/// The byte ranges of the 28-byte media header (proto/MEDIA.md §1) that are authenticated as
/// SFrame metadata: `version` and `flags` (0..2), `layer` and `audio_level` (6..8) and
/// `capture_ts_us` (20..28). Left out, because a forwarder may rewrite them: `track_alias`
/// (2..6), `group_seq` (8..16) and `frame_seq` (16..20).
pub const AUTHENTICATED_HEADER_RANGES: [Range<usize>; 3] = [0..2, 6..8, 20..28];

/// Length of [`media_metadata`].
const METADATA_LEN: usize = 12;

/// How many low bits of the KID carry the key index; the bits above carry the sender's
/// session tag (see [`sender_kid`]).
pub const KEY_INDEX_BITS: u32 = 8;

/// The SFrame metadata of a media frame: the [`AUTHENTICATED_HEADER_RANGES`] of the header's
/// canonical encoding, concatenated (12 bytes). Computed from the decoded header, so byte 7 is
/// `0x00` whenever the `AUDIO_LEVEL` flag is clear, whatever the sender wrote there.
pub fn media_metadata(header: &MediaHeader) -> [u8; METADATA_LEN] {
    let mut encoded = BytesMut::with_capacity(HEADER_LEN);
    header.encode(&mut encoded);
    let mut out = [0u8; METADATA_LEN];
    let mut n = 0;
    for range in AUTHENTICATED_HEADER_RANGES {
        let part = &encoded[range];
        out[n..n + part.len()].copy_from_slice(part);
        n += part.len();
    }
    out
}

/// The SFrame KID a sender uses: `session_tag << 8 | key_index`.
///
/// The session tag is 32 random bits chosen once per [`FrameEncryptor`]. Because RFC 9605
/// derives a distinct key and salt for every KID, a sender that restarts with the same
/// participant id and key (a resumed session, a reloaded page, a server that reassigns ids) gets
/// fresh keys instead of reusing nonces from counter 0.
pub const fn sender_kid(session_tag: u32, key_index: u8) -> u64 {
    ((session_tag as u64) << KEY_INDEX_BITS) | key_index as u64
}

/// The key index of a KID, or `None` for a KID no Dark Tower sender produces (above 40 bits).
pub const fn key_index_of(kid: u64) -> Option<u8> {
    if kid >> (32 + KEY_INDEX_BITS) != 0 {
        return None;
    }
    // Lossless: masked to 8 bits.
    Some((kid & 0xff) as u8)
}

/// Encrypts the local participant's media frames. One per local participant, shared by all of
/// its tracks: it owns the SFrame counter, which increases with every frame and never repeats.
pub struct FrameEncryptor {
    local: ParticipantId,
    session_tag: u32,
    next_ctr: Option<u64>,
    cached: Option<(u8, Vec<u8>, SframeKey)>,
}

impl std::fmt::Debug for FrameEncryptor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FrameEncryptor")
            .field("local", &self.local)
            .field("next_ctr", &self.next_ctr)
            .finish()
    }
}

impl FrameEncryptor {
    /// An encryptor for `local`'s frames, with a random session tag and the counter at 0.
    pub fn new(local: ParticipantId) -> Self {
        Self::with_state(local, rand::random(), 0)
    }

    /// An encryptor with a given session tag and next counter, for known-answer tests and vector
    /// generation. Reusing a (tag, counter) pair with the same key reveals plaintext: use
    /// [`FrameEncryptor::new`] in applications.
    #[doc(hidden)]
    pub fn with_state(local: ParticipantId, session_tag: u32, next_ctr: u64) -> Self {
        Self { local, session_tag, next_ctr: Some(next_ctr), cached: None }
    }

    /// The participant whose frames this encrypts.
    pub fn local(&self) -> ParticipantId {
        self.local
    }

    /// Encrypts a frame's payload: returns the SFrame ciphertext (SFrame header, encrypted
    /// payload, 16-byte tag) that replaces the payload after `header`, which stays as it is.
    pub fn encrypt_frame(
        &mut self,
        keys: &KeyProvider,
        header: &MediaHeader,
        payload: &[u8],
    ) -> Result<Vec<u8>, E2eeError> {
        let ctr = self.next_ctr.ok_or(E2eeError::CounterExhausted)?;
        // Deriving the sending key costs two HKDFs: done only when the key set for this sender
        // changes, not per frame (compared as the raw key and its index).
        let (index, raw) = keys.sending_entry(self.local).ok_or(E2eeError::NoSendingKey)?;
        let key = match &self.cached {
            Some((i, r, key)) if *i == index && r.as_slice() == raw => key,
            _ => {
                let base_key = sender_base_key(raw, self.local);
                let kid = sender_kid(self.session_tag, index);
                let key = SframeKey::derive(keys.cipher_suite(), kid, &base_key);
                &self.cached.insert((index, raw.to_vec(), key)).2
            }
        };
        let sealed = key.seal(ctr, &media_metadata(header), payload)?;
        self.next_ctr = ctr.checked_add(1);
        Ok(sealed)
    }
}

struct Cached {
    generation: u64,
    valid_until: Option<Instant>,
    key: SframeKey,
}

/// Derived keys kept per decryptor; when full, the cache starts over.
const MAX_CACHED_KEYS: usize = 256;

/// Decrypts remote participants' frames. Keeps the keys it derived per (sender, KID) until the
/// [`KeyProvider`] changes.
#[derive(Default)]
pub struct FrameDecryptor {
    cache: HashMap<(ParticipantId, u64), Cached>,
}

impl std::fmt::Debug for FrameDecryptor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FrameDecryptor").field("cached_keys", &self.cache.len()).finish()
    }
}

impl FrameDecryptor {
    /// An empty decryptor.
    pub fn new() -> Self {
        Self::default()
    }

    /// Decrypts the payload of a frame that `sender` published (the publisher of the track the
    /// header's alias names). `ciphertext` is the frame's payload; `now` decides whether a
    /// rotated-out key is still accepted.
    pub fn decrypt_frame(
        &mut self,
        now: Instant,
        keys: &KeyProvider,
        sender: ParticipantId,
        header: &MediaHeader,
        ciphertext: &[u8],
    ) -> Result<Vec<u8>, E2eeError> {
        let (sframe_header, header_len) = SframeHeader::decode(ciphertext)?;
        let kid = sframe_header.kid;
        let generation = keys.generation();
        let fresh = self
            .cache
            .get(&(sender, kid))
            .is_some_and(|c| c.generation == generation && c.valid_until.is_none_or(|until| now < until));
        if !fresh {
            let index = key_index_of(kid).ok_or(E2eeError::UnknownKeyId { kid })?;
            let Some(found) = keys.receiving_key(now, sender, index) else {
                self.cache.remove(&(sender, kid));
                return Err(E2eeError::UnknownKeyId { kid });
            };
            if self.cache.len() >= MAX_CACHED_KEYS {
                self.cache.clear();
            }
            let key = SframeKey::derive(keys.cipher_suite(), kid, &found.base_key);
            self.cache.insert((sender, kid), Cached { generation, valid_until: found.valid_until, key });
        }
        let cached = self.cache.get(&(sender, kid)).ok_or(E2eeError::UnknownKeyId { kid })?;
        cached.key.open(sframe_header, header_len, &media_metadata(header), ciphertext)
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use dark_tower_core::ids::TrackAlias;

    use super::*;
    use crate::e2ee::KeyProviderOptions;
    use crate::e2ee::sframe::TAG_LEN as TAG_LEN_FOR_TESTS;

    const ALICE: ParticipantId = ParticipantId::from_u64(0xa11ce);
    const BOB: ParticipantId = ParticipantId::from_u64(0xb0b);
    const KEY: &[u8] = b"sixteen byte key and then some";

    fn header() -> MediaHeader {
        MediaHeader {
            track_alias: TrackAlias(7),
            spatial_id: 1,
            temporal_id: 2,
            group_seq: 5,
            frame_seq: 3,
            capture_ts_us: 1_700_000_000_000_000,
            keyframe: false,
            discardable: true,
            end_of_group: false,
            audio_level: None,
        }
    }

    fn keys(now: Instant) -> KeyProvider {
        let mut k = KeyProvider::new(KeyProviderOptions {
            rotation_window: Duration::from_secs(2),
            ..Default::default()
        });
        k.set_shared_key(now, 0, KEY).unwrap();
        k
    }

    #[test]
    fn metadata_is_the_unrewritten_header_bytes() {
        let h = MediaHeader { audio_level: Some(42), ..header() };
        let m = media_metadata(&h);
        assert_eq!(m, [0x01, 0x0a, 0x12, 42, 0x00, 0x06, 0x0a, 0x24, 0x18, 0x1e, 0x40, 0x00]);
        let rewritten = MediaHeader { track_alias: TrackAlias(99), group_seq: 1, frame_seq: 1000, ..h };
        assert_eq!(media_metadata(&rewritten), m);
        for changed in [
            MediaHeader { keyframe: true, ..h },
            MediaHeader { spatial_id: 0, ..h },
            MediaHeader { temporal_id: 0, ..h },
            MediaHeader { audio_level: Some(41), ..h },
            MediaHeader { capture_ts_us: h.capture_ts_us + 1, ..h },
        ] {
            assert_ne!(media_metadata(&changed), m, "{changed:?}");
        }
    }

    #[test]
    fn round_trip_survives_sfu_rewrites_but_not_tampering() {
        let t0 = Instant::now();
        let k = keys(t0);
        let mut enc = FrameEncryptor::new(ALICE);
        let sealed = enc.encrypt_frame(&k, &header(), b"payload").unwrap();
        assert_eq!(sealed.len(), SframeHeader::decode(&sealed).unwrap().1 + 7 + TAG_LEN_FOR_TESTS);
        let mut dec = FrameDecryptor::new();
        let moved = MediaHeader { track_alias: TrackAlias(1234), group_seq: 77, frame_seq: 0, ..header() };
        assert_eq!(dec.decrypt_frame(t0, &k, ALICE, &moved, &sealed).unwrap(), b"payload");
        let flagged = MediaHeader { keyframe: true, ..header() };
        assert_eq!(dec.decrypt_frame(t0, &k, ALICE, &flagged, &sealed), Err(E2eeError::AuthenticationFailed));
        // Claiming another sender published it: Bob's key differs.
        assert_eq!(dec.decrypt_frame(t0, &k, BOB, &header(), &sealed), Err(E2eeError::AuthenticationFailed));
    }

    #[test]
    fn the_sending_key_is_derived_once_and_follows_a_new_key() {
        let t0 = Instant::now();
        let mut k = keys(t0);
        let mut enc = FrameEncryptor::with_state(ALICE, 5, 0);
        let first = enc.encrypt_frame(&k, &header(), b"x").unwrap();
        let cached = enc.cached.as_ref().map(|(i, r, _)| (*i, r.clone()));
        enc.encrypt_frame(&k, &header(), b"x").unwrap();
        assert_eq!(enc.cached.as_ref().map(|(i, r, _)| (*i, r.clone())), cached, "same key: kept");
        // A new key (index 1): the next frame uses it, and only a holder of it decrypts.
        k.set_shared_key(t0, 1, b"another sixteen-byte key!").unwrap();
        let second = enc.encrypt_frame(&k, &header(), b"x").unwrap();
        assert_eq!(SframeHeader::decode(&first).unwrap().0.kid, sender_kid(5, 0));
        assert_eq!(SframeHeader::decode(&second).unwrap().0.kid, sender_kid(5, 1));
        let mut dec = FrameDecryptor::new();
        assert_eq!(dec.decrypt_frame(t0, &k, ALICE, &header(), &second).unwrap(), b"x");
        assert!(dec.decrypt_frame(t0, &keys(t0), ALICE, &header(), &second).is_err());
    }

    #[test]
    fn counters_increase_and_kid_carries_tag_and_index() {
        let t0 = Instant::now();
        let k = keys(t0);
        let mut enc = FrameEncryptor::with_state(ALICE, 0xdead_beef, 0);
        for expected in 0..20u64 {
            let sealed = enc.encrypt_frame(&k, &header(), b"x").unwrap();
            let (h, _) = SframeHeader::decode(&sealed).unwrap();
            assert_eq!(h, SframeHeader { kid: sender_kid(0xdead_beef, 0), ctr: expected });
        }
    }

    #[test]
    fn counter_exhaustion_is_an_error_not_a_wrap() {
        let t0 = Instant::now();
        let k = keys(t0);
        let mut enc = FrameEncryptor::with_state(ALICE, 1, u64::MAX);
        let last = enc.encrypt_frame(&k, &header(), b"x").unwrap();
        assert_eq!(SframeHeader::decode(&last).unwrap().0.ctr, u64::MAX);
        assert_eq!(enc.encrypt_frame(&k, &header(), b"x"), Err(E2eeError::CounterExhausted));
        assert_eq!(enc.encrypt_frame(&k, &header(), b"x"), Err(E2eeError::CounterExhausted));
    }

    #[test]
    fn restarted_senders_use_different_keys() {
        let t0 = Instant::now();
        let k = keys(t0);
        let a = FrameEncryptor::with_state(ALICE, 1, 0).encrypt_frame(&k, &header(), b"same").unwrap();
        let b = FrameEncryptor::with_state(ALICE, 2, 0).encrypt_frame(&k, &header(), b"same").unwrap();
        let (ha, la) = SframeHeader::decode(&a).unwrap();
        let (hb, lb) = SframeHeader::decode(&b).unwrap();
        assert_eq!((ha.ctr, hb.ctr), (0, 0));
        assert_ne!(a[la..], b[lb..], "same counter, different KID: different key stream");
    }

    #[test]
    fn no_key_and_unknown_kid() {
        let t0 = Instant::now();
        let empty = KeyProvider::new(KeyProviderOptions::default());
        let mut enc = FrameEncryptor::with_state(ALICE, 1, 0);
        assert_eq!(enc.encrypt_frame(&empty, &header(), b"x"), Err(E2eeError::NoSendingKey));
        let k = keys(t0);
        let sealed = enc.encrypt_frame(&k, &header(), b"x").unwrap();
        let mut dec = FrameDecryptor::new();
        assert_eq!(
            dec.decrypt_frame(t0, &empty, ALICE, &header(), &sealed),
            Err(E2eeError::UnknownKeyId { kid: 0x100 })
        );
        // A KID wider than 40 bits is never produced by a Dark Tower sender.
        let foreign = SframeKey::derive(k.cipher_suite(), 1 << 40, KEY)
            .seal(0, &media_metadata(&header()), b"x")
            .unwrap();
        assert_eq!(
            dec.decrypt_frame(t0, &k, ALICE, &header(), &foreign),
            Err(E2eeError::UnknownKeyId { kid: 1 << 40 })
        );
        assert!(matches!(
            dec.decrypt_frame(t0, &k, ALICE, &header(), &[]),
            Err(E2eeError::MalformedHeader(_))
        ));
    }

    #[test]
    fn rotation_window_on_the_receiving_side() {
        let t0 = Instant::now();
        let mut k = keys(t0);
        let mut enc = FrameEncryptor::with_state(ALICE, 9, 0);
        let mut dec = FrameDecryptor::new();
        let before = enc.encrypt_frame(&k, &header(), b"old key").unwrap();
        assert_eq!(dec.decrypt_frame(t0, &k, ALICE, &header(), &before).unwrap(), b"old key");

        let t1 = t0 + Duration::from_secs(60);
        k.set_shared_key(t1, 1, b"the next key, also long enough").unwrap();
        let after = enc.encrypt_frame(&k, &header(), b"new key").unwrap();
        assert_eq!(SframeHeader::decode(&after).unwrap().0, SframeHeader { kid: sender_kid(9, 1), ctr: 1 });
        // A late frame under the old key still decrypts inside the window, from the cache too.
        let late = t1 + Duration::from_millis(1999);
        assert_eq!(dec.decrypt_frame(late, &k, ALICE, &header(), &before).unwrap(), b"old key");
        assert_eq!(dec.decrypt_frame(late, &k, ALICE, &header(), &after).unwrap(), b"new key");
        assert_eq!(dec.decrypt_frame(late, &k, ALICE, &header(), &before).unwrap(), b"old key");
        // After the window the old key is gone, even though the decryptor had it cached.
        let gone = t1 + Duration::from_secs(2);
        assert_eq!(
            dec.decrypt_frame(gone, &k, ALICE, &header(), &before),
            Err(E2eeError::UnknownKeyId { kid: sender_kid(9, 0) })
        );
        assert_eq!(dec.decrypt_frame(gone, &k, ALICE, &header(), &after).unwrap(), b"new key");
    }

    #[test]
    fn wrong_shared_key_fails_authentication() {
        let t0 = Instant::now();
        let k = keys(t0);
        let mut other = KeyProvider::new(KeyProviderOptions::default());
        other.set_shared_key(t0, 0, b"a different key, same index 0").unwrap();
        let sealed = FrameEncryptor::new(ALICE).encrypt_frame(&k, &header(), b"secret").unwrap();
        let mut dec = FrameDecryptor::new();
        assert_eq!(
            dec.decrypt_frame(t0, &other, ALICE, &header(), &sealed),
            Err(E2eeError::AuthenticationFailed)
        );
    }
}
