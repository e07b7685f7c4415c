//! SFrame (RFC 9605): the header codec, the two AES-GCM cipher suites, key derivation and the
//! AEAD step. Pure functions and small value types; the counter discipline lives in
//! [`super::frame::FrameEncryptor`].

use aes_gcm::aead::array::Array;
use aes_gcm::{AeadInOut, Aes128Gcm, Aes256Gcm, KeyInit};
use hkdf::Hkdf;
use sha2::{Sha256, Sha512};

use super::E2eeError;

/// Length of an AES-GCM nonce (`AEAD.Nn` of both suites).
pub const NONCE_LEN: usize = 12;
/// Length of the authentication tag (`AEAD.Nt` of both suites).
pub const TAG_LEN: usize = 16;
/// The longest SFrame header: the config byte, an 8-byte KID and an 8-byte CTR.
pub const MAX_HEADER_LEN: usize = 17;

/// An SFrame cipher suite (RFC 9605 §4.5, the IANA "SFrame Cipher Suites" registry).
///
/// Only the AES-GCM suites are implemented; the AES-CTR-HMAC ones exist for constrained
/// devices and WebCrypto has no constant-time way to build them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum CipherSuite {
    /// `AES_128_GCM_SHA256_128` (0x0004): 16-byte key, HKDF-SHA256. The default.
    #[default]
    Aes128GcmSha256,
    /// `AES_256_GCM_SHA512_128` (0x0005): 32-byte key, HKDF-SHA512.
    Aes256GcmSha512,
}

impl CipherSuite {
    /// The registry value.
    pub const fn id(self) -> u16 {
        match self {
            Self::Aes128GcmSha256 => 0x0004,
            Self::Aes256GcmSha512 => 0x0005,
        }
    }

    /// The suite with registry value `id`, if implemented.
    pub const fn from_id(id: u16) -> Option<Self> {
        match id {
            0x0004 => Some(Self::Aes128GcmSha256),
            0x0005 => Some(Self::Aes256GcmSha512),
            _ => None,
        }
    }

    /// `AEAD.Nk`: the AES key length in bytes.
    pub const fn key_len(self) -> usize {
        match self {
            Self::Aes128GcmSha256 => 16,
            Self::Aes256GcmSha512 => 32,
        }
    }
}

/// The SFrame header (RFC 9605 §4.3): key id and counter.
///
/// Encoded as a config byte `X KKK Y CCC` followed by the KID bytes (when `X` is set) and the
/// CTR bytes (when `Y` is set). A value below 8 fits in the config byte; a larger one is written
/// big-endian in the fewest bytes, and its length minus one goes in the config byte.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SframeHeader {
    /// Key id.
    pub kid: u64,
    /// Counter; never repeats for one key.
    pub ctr: u64,
}

/// Bytes needed to write `v` big-endian without leading zero bytes (at least 1).
fn min_len(v: u64) -> usize {
    let bytes = (64 - v.leading_zeros() as usize).div_ceil(8);
    bytes.max(1)
}

impl SframeHeader {
    /// The length of [`SframeHeader::encode`]'s output.
    pub fn encoded_len(&self) -> usize {
        let part = |v: u64| if v < 8 { 0 } else { min_len(v) };
        1 + part(self.kid) + part(self.ctr)
    }

    /// Appends the header to `out`, in the shortest form.
    pub fn encode(&self, out: &mut Vec<u8>) {
        let mut config = 0u8;
        let mut tail = [0u8; 16];
        let mut n = 0;
        for (value, short_shift, flag) in [(self.kid, 4, 0x80u8), (self.ctr, 0, 0x08u8)] {
            if value < 8 {
                // Lossless: value < 8 fits in three bits.
                config |= (value as u8) << short_shift;
            } else {
                let len = min_len(value);
                // Lossless: len is 1..=8, so len - 1 fits in three bits.
                config |= flag | (((len - 1) as u8) << short_shift);
                tail[n..n + len].copy_from_slice(&value.to_be_bytes()[8 - len..]);
                n += len;
            }
        }
        out.push(config);
        out.extend_from_slice(&tail[..n]);
    }

    /// Reads a header from the start of `buf`; returns it and its length in bytes.
    ///
    /// Accepts a non-minimal length (the RFC's readers do); the bytes are authenticated as
    /// they arrived, so a changed encoding fails the AEAD check anyway.
    pub fn decode(buf: &[u8]) -> Result<(Self, usize), E2eeError> {
        let Some(&config) = buf.first() else {
            return Err(E2eeError::MalformedHeader("empty frame"));
        };
        let mut pos = 1;
        let mut read = |extended: bool, bits: u8| -> Result<u64, E2eeError> {
            if !extended {
                return Ok(u64::from(bits));
            }
            let len = usize::from(bits) + 1;
            let bytes =
                buf.get(pos..pos + len).ok_or(E2eeError::MalformedHeader("header longer than the frame"))?;
            pos += len;
            Ok(bytes.iter().fold(0u64, |acc, &b| (acc << 8) | u64::from(b)))
        };
        let kid = read(config & 0x80 != 0, (config >> 4) & 0x07)?;
        let ctr = read(config & 0x08 != 0, config & 0x07)?;
        Ok((Self { kid, ctr }, pos))
    }
}

enum Aead {
    Aes128(Box<Aes128Gcm>),
    Aes256(Box<Aes256Gcm>),
}

/// The key and salt of one KID, derived as in RFC 9605 §4.4.2, ready to seal and open frames.
pub struct SframeKey {
    suite: CipherSuite,
    kid: u64,
    salt: [u8; NONCE_LEN],
    aead: Aead,
}

impl std::fmt::Debug for SframeKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SframeKey")
            .field("suite", &self.suite)
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

/// The derived values of RFC 9605 §4.4.2, exposed for known-answer tests.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct DerivedKeyMaterial {
    /// `sframe_key` (`AEAD.Nk` bytes).
    pub key: Vec<u8>,
    /// `sframe_salt` (`AEAD.Nn` bytes).
    pub salt: [u8; NONCE_LEN],
}

/// The HKDF-Expand labels for `kid`: `sframe_key_label` and `sframe_salt_label` of RFC 9605
/// §4.4.2.
pub fn labels(suite: CipherSuite, kid: u64) -> (Vec<u8>, Vec<u8>) {
    (label("key", kid, suite), label("salt", kid, suite))
}

/// `"SFrame 1.0 Secret key " || KID (u64 BE) || cipher suite (u16 BE)`, and the salt label.
fn label(kind: &str, kid: u64, suite: CipherSuite) -> Vec<u8> {
    let mut l = Vec::with_capacity(32);
    l.extend_from_slice(b"SFrame 1.0 Secret ");
    l.extend_from_slice(kind.as_bytes());
    l.extend_from_slice(b" ");
    l.extend_from_slice(&kid.to_be_bytes());
    l.extend_from_slice(&suite.id().to_be_bytes());
    l
}

/// Derives `sframe_key` and `sframe_salt` for `kid` from `base_key` (RFC 9605 §4.4.2):
/// `sframe_secret = HKDF-Extract("", base_key)`, then HKDF-Expand with the key and salt labels.
pub fn derive_key_material(suite: CipherSuite, kid: u64, base_key: &[u8]) -> DerivedKeyMaterial {
    let mut key = vec![0u8; suite.key_len()];
    let mut salt = [0u8; NONCE_LEN];
    let (key_label, salt_label) = labels(suite, kid);
    // `expand` fails only when asked for more than 255 hash lengths; these are 12 to 32 bytes.
    let expanded = match suite {
        CipherSuite::Aes128GcmSha256 => {
            let hk = Hkdf::<Sha256>::new(Some(&[]), base_key);
            hk.expand(&key_label, &mut key).and_then(|()| hk.expand(&salt_label, &mut salt))
        }
        CipherSuite::Aes256GcmSha512 => {
            let hk = Hkdf::<Sha512>::new(Some(&[]), base_key);
            hk.expand(&key_label, &mut key).and_then(|()| hk.expand(&salt_label, &mut salt))
        }
    };
    debug_assert!(expanded.is_ok(), "HKDF output lengths are far below the limit");
    DerivedKeyMaterial { key, salt }
}

impl SframeKey {
    /// Derives the key for `kid` from `base_key` (RFC 9605 §4.4.2).
    pub fn derive(suite: CipherSuite, kid: u64, base_key: &[u8]) -> Self {
        let material = derive_key_material(suite, kid, base_key);
        Self::from_material(suite, kid, &material)
    }

    fn from_material(suite: CipherSuite, kid: u64, m: &DerivedKeyMaterial) -> Self {
        let aead = match suite {
            CipherSuite::Aes128GcmSha256 => {
                Aead::Aes128(Box::new(Aes128Gcm::new(&Array::from(key_array::<16>(&m.key)))))
            }
            CipherSuite::Aes256GcmSha512 => {
                Aead::Aes256(Box::new(Aes256Gcm::new(&Array::from(key_array::<32>(&m.key)))))
            }
        };
        Self { suite, kid, salt: m.salt, aead }
    }

    /// The key id this key belongs to.
    pub fn kid(&self) -> u64 {
        self.kid
    }

    /// The cipher suite.
    pub fn suite(&self) -> CipherSuite {
        self.suite
    }

    /// The nonce for counter `ctr`: `sframe_salt XOR` the counter, left-padded to 12 bytes.
    pub fn nonce(&self, ctr: u64) -> [u8; NONCE_LEN] {
        let mut nonce = self.salt;
        for (n, c) in nonce[NONCE_LEN - 8..].iter_mut().zip(ctr.to_be_bytes()) {
            *n ^= c;
        }
        nonce
    }

    /// Encrypts `plaintext` with counter `ctr` (RFC 9605 §4.4.3) and returns the SFrame
    /// ciphertext: header, encrypted payload, tag. The AAD is the header followed by `metadata`.
    ///
    /// The caller guarantees that `ctr` was never used with this key before.
    pub fn seal(&self, ctr: u64, metadata: &[u8], plaintext: &[u8]) -> Result<Vec<u8>, E2eeError> {
        let header = SframeHeader { kid: self.kid, ctr };
        let mut out = Vec::with_capacity(header.encoded_len() + metadata.len() + plaintext.len() + TAG_LEN);
        header.encode(&mut out);
        let header_len = out.len();
        // Build the AAD in the output buffer, then replace the metadata by the ciphertext.
        out.extend_from_slice(metadata);
        let aad_len = out.len();
        out.extend_from_slice(plaintext);
        let nonce = Array::from(self.nonce(ctr));
        let (aad, body) = out.split_at_mut(aad_len);
        let tag = match &self.aead {
            Aead::Aes128(c) => c.encrypt_inout_detached(&nonce, aad, body.into()),
            Aead::Aes256(c) => c.encrypt_inout_detached(&nonce, aad, body.into()),
        }
        .map_err(|_| E2eeError::FrameTooLarge)?;
        out.drain(header_len..aad_len);
        out.extend_from_slice(&tag);
        Ok(out)
    }

    /// Decrypts an SFrame ciphertext whose header was already read as `header` (of
    /// `header_len` bytes) and whose KID is this key's. Checks the tag over the header and
    /// `metadata`.
    pub fn open(
        &self,
        header: SframeHeader,
        header_len: usize,
        metadata: &[u8],
        sframe: &[u8],
    ) -> Result<Vec<u8>, E2eeError> {
        if header.kid != self.kid {
            return Err(E2eeError::UnknownKeyId { kid: header.kid });
        }
        let body_len = sframe
            .len()
            .checked_sub(header_len + TAG_LEN)
            .ok_or(E2eeError::MalformedHeader("frame shorter than its header and tag"))?;
        let (header_bytes, rest) = sframe.split_at(header_len);
        let (ciphertext, tag) = rest.split_at(body_len);
        let mut aad = Vec::with_capacity(header_len + metadata.len());
        aad.extend_from_slice(header_bytes);
        aad.extend_from_slice(metadata);
        let mut plaintext = ciphertext.to_vec();
        let nonce = Array::from(self.nonce(header.ctr));
        let tag = Array::from(key_array::<TAG_LEN>(tag));
        match &self.aead {
            Aead::Aes128(c) => c.decrypt_inout_detached(&nonce, &aad, plaintext.as_mut_slice().into(), &tag),
            Aead::Aes256(c) => c.decrypt_inout_detached(&nonce, &aad, plaintext.as_mut_slice().into(), &tag),
        }
        .map_err(|_| E2eeError::AuthenticationFailed)?;
        Ok(plaintext)
    }
}

/// Copies a slice of known length `N` into an array (callers pass exactly `N` bytes; a shorter
/// slice is zero-padded, which cannot happen with the fixed suite lengths).
fn key_array<const N: usize>(bytes: &[u8]) -> [u8; N] {
    let mut a = [0u8; N];
    let n = bytes.len().min(N);
    a[..n].copy_from_slice(&bytes[..n]);
    a
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_lengths_are_minimal() {
        let cases =
            [(0u64, 0u64, 1usize), (7, 7, 1), (8, 0, 2), (0, 8, 2), (255, 256, 4), (u64::MAX, u64::MAX, 17)];
        for (kid, ctr, len) in cases {
            let h = SframeHeader { kid, ctr };
            let mut out = Vec::new();
            h.encode(&mut out);
            assert_eq!(out.len(), len, "{h:?}");
            assert_eq!(h.encoded_len(), len);
            assert_eq!(SframeHeader::decode(&out).unwrap(), (h, len));
        }
    }

    #[test]
    fn truncated_headers_are_rejected() {
        assert!(matches!(SframeHeader::decode(&[]), Err(E2eeError::MalformedHeader(_))));
        // X set with a 2-byte KID, only one byte present.
        assert!(matches!(SframeHeader::decode(&[0x90, 0x01]), Err(E2eeError::MalformedHeader(_))));
        // Y set with a 1-byte CTR, none present.
        assert!(matches!(SframeHeader::decode(&[0x08]), Err(E2eeError::MalformedHeader(_))));
    }

    #[test]
    fn non_minimal_lengths_decode() {
        // KID 1 written in two bytes, CTR 0 in one byte.
        let (h, len) = SframeHeader::decode(&[0x98, 0x00, 0x01, 0x00]).unwrap();
        assert_eq!((h, len), (SframeHeader { kid: 1, ctr: 0 }, 4));
    }

    #[test]
    fn seal_then_open_and_tamper() {
        for suite in [CipherSuite::Aes128GcmSha256, CipherSuite::Aes256GcmSha512] {
            let key = SframeKey::derive(suite, 300, b"0123456789abcdef");
            let sealed = key.seal(9, b"meta", b"hello").unwrap();
            let (h, len) = SframeHeader::decode(&sealed).unwrap();
            assert_eq!(h, SframeHeader { kid: 300, ctr: 9 });
            assert_eq!(sealed.len(), len + 5 + TAG_LEN);
            assert_eq!(key.open(h, len, b"meta", &sealed).unwrap(), b"hello");
            assert!(matches!(key.open(h, len, b"metb", &sealed), Err(E2eeError::AuthenticationFailed)));
            let mut flipped = sealed.clone();
            *flipped.last_mut().unwrap() ^= 1;
            assert!(matches!(key.open(h, len, b"meta", &flipped), Err(E2eeError::AuthenticationFailed)));
            assert!(matches!(
                key.open(h, len, b"meta", &sealed[..len + 3]),
                Err(E2eeError::MalformedHeader(_))
            ));
            let other = SframeKey::derive(suite, 301, b"0123456789abcdef");
            assert!(matches!(
                other.open(h, len, b"meta", &sealed),
                Err(E2eeError::UnknownKeyId { kid: 300 })
            ));
        }
    }
}
