//! Synthetic media payloads that carry their own proof of integrity: a sequence number, the
//! capture time, and a body derived from a seed, so a receiver can check every byte without
//! knowing the sender's state. Used by the `bot` example, the tests and the load generator.
//!
//! Layout (big-endian): `"DTSY"` | seed u64 | seq u64 | capture_us u64 | body_len u32 | body |
//! FNV-1a 64 of everything before.

use bytes::{BufMut, Bytes, BytesMut};

const MAGIC: &[u8; 4] = b"DTSY";
const FIXED: usize = 4 + 8 + 8 + 8 + 4 + 8;

/// The smallest synthetic payload.
pub const MIN_LEN: usize = FIXED;

/// What a verified payload says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Synthetic {
    /// The sender's seed (one per track and layer).
    pub seed: u64,
    /// Sequence number within the seed.
    pub seq: u64,
    /// Capture time, microseconds since the epoch.
    pub capture_us: u64,
}

/// Why a payload failed verification.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SyntheticError {
    /// Not a synthetic payload, or truncated.
    #[error("not a synthetic payload")]
    NotSynthetic,
    /// The checksum does not match.
    #[error("checksum mismatch")]
    Checksum,
    /// The body differs from what the seed and sequence produce.
    #[error("body differs from the expected bytes")]
    Body,
}

fn fnv1a(data: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in data {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

fn body_byte(state: &mut u64) -> u8 {
    // xorshift64*
    *state ^= *state >> 12;
    *state ^= *state << 25;
    *state ^= *state >> 27;
    (state.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 56) as u8
}

fn body_state(seed: u64, seq: u64) -> u64 {
    (seed ^ seq.rotate_left(32) ^ 0x9e37_79b9_7f4a_7c15) | 1
}

/// A payload of `len` bytes in total (at least [`MIN_LEN`]).
pub fn payload(seed: u64, seq: u64, capture_us: u64, len: usize) -> Bytes {
    let body_len = len.saturating_sub(FIXED);
    let mut out = BytesMut::with_capacity(FIXED + body_len);
    out.put_slice(MAGIC);
    out.put_u64(seed);
    out.put_u64(seq);
    out.put_u64(capture_us);
    out.put_u32(body_len as u32);
    let mut state = body_state(seed, seq);
    for _ in 0..body_len {
        out.put_u8(body_byte(&mut state));
    }
    let sum = fnv1a(&out);
    out.put_u64(sum);
    out.freeze()
}

/// Verifies every byte of a payload made by [`payload`].
pub fn verify(p: &[u8]) -> Result<Synthetic, SyntheticError> {
    if p.len() < FIXED || &p[..4] != MAGIC {
        return Err(SyntheticError::NotSynthetic);
    }
    let u64_at = |i: usize| u64::from_be_bytes(p[i..i + 8].try_into().unwrap_or([0; 8]));
    let seed = u64_at(4);
    let seq = u64_at(12);
    let capture_us = u64_at(20);
    let body_len = u32::from_be_bytes(p[28..32].try_into().unwrap_or([0; 4])) as usize;
    if p.len() != FIXED + body_len {
        return Err(SyntheticError::NotSynthetic);
    }
    let (data, sum) = p.split_at(p.len() - 8);
    if fnv1a(data) != u64::from_be_bytes(sum.try_into().unwrap_or([0; 8])) {
        return Err(SyntheticError::Checksum);
    }
    let mut state = body_state(seed, seq);
    if data[32..].iter().any(|b| *b != body_byte(&mut state)) {
        return Err(SyntheticError::Body);
    }
    Ok(Synthetic { seed, seq, capture_us })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_corruption() {
        let p = payload(7, 42, 1234, 500);
        assert_eq!(p.len(), 500);
        assert_eq!(verify(&p), Ok(Synthetic { seed: 7, seq: 42, capture_us: 1234 }));
        let mut bad = p.to_vec();
        bad[100] ^= 1;
        assert!(verify(&bad).is_err());
        assert_eq!(verify(b"nope"), Err(SyntheticError::NotSynthetic));
        assert!(verify(&payload(1, 2, 3, 0)).is_ok());
    }
}
