//! SFrame (RFC 9605) cost per frame with `dark-tower-client`'s E2EE module: encrypt and decrypt
//! of frames of the B1 sizes (audio, the three video layers, a top-layer keyframe).

use std::time::Instant;

use dark_tower_client::MediaHeader;
use dark_tower_client::e2ee::{FrameDecryptor, FrameEncryptor, KeyProvider, KeyProviderOptions};
use dark_tower_core::ids::{ParticipantId, TrackAlias};
use serde::Serialize;

/// Cost for one frame size.
#[derive(Debug, Clone, Serialize)]
pub struct SframeCost {
    /// Plaintext bytes.
    pub bytes: usize,
    /// What such a frame is.
    pub what: &'static str,
    /// Nanoseconds per encrypt.
    pub encrypt_ns: f64,
    /// Nanoseconds per decrypt.
    pub decrypt_ns: f64,
    /// Encrypt throughput, MB/s.
    pub encrypt_mb_s: f64,
    /// Decrypt throughput, MB/s.
    pub decrypt_mb_s: f64,
}

/// Measures each size for about `secs` per direction.
pub fn run(secs: f64) -> anyhow::Result<Vec<SframeCost>> {
    let now = std::time::Instant::now();
    let mut keys = KeyProvider::new(KeyProviderOptions::default());
    keys.set_shared_key(now, 0, &[7u8; 16]).map_err(|e| anyhow::anyhow!("{e}"))?;
    let me = ParticipantId::from_u64(0xa11ce);
    let mut enc = FrameEncryptor::new(me);
    let mut dec = FrameDecryptor::new();
    let sizes = [
        (80, "audio"),
        (625, "video layer 0"),
        (2083, "video layer 1"),
        (6250, "video layer 2"),
        (31250, "layer 2 keyframe"),
    ];
    let mut out = Vec::new();
    for (bytes, what) in sizes {
        let header = MediaHeader {
            track_alias: TrackAlias(1),
            spatial_id: 0,
            temporal_id: 0,
            group_seq: 1,
            frame_seq: 2,
            capture_ts_us: 1_700_000_000_000_000,
            keyframe: false,
            discardable: false,
            end_of_group: false,
            audio_level: None,
        };
        let plain = vec![0x42u8; bytes];
        // Warm-up, and one ciphertext to decrypt.
        let ct = enc.encrypt_frame(&keys, &header, &plain)?;
        let mut n = 0u64;
        let start = Instant::now();
        while start.elapsed().as_secs_f64() < secs {
            for _ in 0..64 {
                std::hint::black_box(enc.encrypt_frame(&keys, &header, std::hint::black_box(&plain))?);
            }
            n += 64;
        }
        let encrypt_ns = start.elapsed().as_secs_f64() * 1e9 / n as f64;
        let mut n = 0u64;
        let start = Instant::now();
        while start.elapsed().as_secs_f64() < secs {
            for _ in 0..64 {
                std::hint::black_box(dec.decrypt_frame(
                    now,
                    &keys,
                    me,
                    &header,
                    std::hint::black_box(&ct),
                )?);
            }
            n += 64;
        }
        let decrypt_ns = start.elapsed().as_secs_f64() * 1e9 / n as f64;
        out.push(SframeCost {
            bytes,
            what,
            encrypt_ns,
            decrypt_ns,
            encrypt_mb_s: bytes as f64 / encrypt_ns * 1e3,
            decrypt_mb_s: bytes as f64 / decrypt_ns * 1e3,
        });
    }
    Ok(out)
}
