//! Cross-implementation vectors of Dark Tower's use of SFrame (`proto/vectors/sframe/media_frames.json`):
//! passphrase → base key, base key → per-sender key, and whole media frames encrypted with the
//! header bytes of `docs/E2EE.md` as metadata. Produced by this implementation, reviewed and
//! committed; the TypeScript client must reproduce every byte
//! (`client-js/test/e2ee_media_frame_vectors.test.ts`).
//!
//! ```text
//! DT_REGENERATE_VECTORS=1 cargo test -p dark-tower-client --test e2ee_media_frame_vectors -- --ignored
//! ```

#![allow(clippy::unwrap_used)] // test helpers outside #[test] functions

use std::time::Instant;

use dark_tower_client::e2ee::{
    CipherSuite, E2eeError, FrameDecryptor, FrameEncryptor, KeyProvider, KeyProviderOptions,
    PassphraseParams, base_key_from_passphrase, media_metadata, sender_base_key, sender_kid,
};
use dark_tower_client::{MediaHeader, ParticipantId, TrackAlias};
use serde_json::{Value, json};

const PATH: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../proto/vectors/sframe/media_frames.json");

fn load() -> Value {
    serde_json::from_str(&std::fs::read_to_string(PATH).unwrap()).unwrap()
}

fn hex_of(v: &Value, key: &str) -> Vec<u8> {
    hex::decode(v[key].as_str().unwrap_or_else(|| panic!("{key} missing"))).unwrap()
}

fn str_of<'a>(v: &'a Value, key: &str) -> &'a str {
    v[key].as_str().unwrap_or_else(|| panic!("{key} missing"))
}

fn u64_of(v: &Value, key: &str) -> u64 {
    v[key].as_u64().unwrap_or_else(|| panic!("{key} missing"))
}

fn dec_of(v: &Value, key: &str) -> u64 {
    str_of(v, key).parse().unwrap()
}

fn header_to_json(h: &MediaHeader) -> Value {
    json!({
        "track_alias": h.track_alias.0,
        "spatial_id": h.spatial_id,
        "temporal_id": h.temporal_id,
        "group_seq": h.group_seq.to_string(),
        "frame_seq": h.frame_seq,
        "capture_ts_us": h.capture_ts_us.to_string(),
        "keyframe": h.keyframe,
        "discardable": h.discardable,
        "end_of_group": h.end_of_group,
        "audio_level": h.audio_level,
    })
}

fn header_from_json(v: &Value) -> MediaHeader {
    let small = |k: &str| u8::try_from(u64_of(v, k)).unwrap();
    MediaHeader {
        track_alias: TrackAlias(u32::try_from(u64_of(v, "track_alias")).unwrap()),
        spatial_id: small("spatial_id"),
        temporal_id: small("temporal_id"),
        group_seq: dec_of(v, "group_seq"),
        frame_seq: u32::try_from(u64_of(v, "frame_seq")).unwrap(),
        capture_ts_us: dec_of(v, "capture_ts_us"),
        keyframe: v["keyframe"].as_bool().unwrap(),
        discardable: v["discardable"].as_bool().unwrap(),
        end_of_group: v["end_of_group"].as_bool().unwrap(),
        audio_level: v["audio_level"].as_u64().map(|l| u8::try_from(l).unwrap()),
    }
}

fn suite_of(v: &Value) -> CipherSuite {
    CipherSuite::from_id(u16::try_from(u64_of(v, "cipher_suite")).unwrap()).unwrap()
}

/// The shared key of a frame case: raw, or from a passphrase with the default parameters.
fn shared_key_of(case: &Value) -> Vec<u8> {
    match case["passphrase"].as_str() {
        Some(p) => base_key_from_passphrase(p, &PassphraseParams::default()).unwrap().to_vec(),
        None => hex_of(case, "shared_key_hex"),
    }
}

#[test]
fn passphrases_give_the_recorded_base_keys() {
    let v = load();
    let cases = v["passphrases"].as_array().unwrap();
    assert!(cases.len() >= 3);
    for c in cases {
        let params = PassphraseParams {
            salt: hex_of(c, "salt_hex"),
            iterations: u32::try_from(u64_of(c, "iterations")).unwrap(),
        };
        let key = base_key_from_passphrase(str_of(c, "passphrase"), &params).unwrap();
        assert_eq!(key.to_vec(), hex_of(c, "base_key_hex"), "{c}");
    }
}

#[test]
fn sender_keys_match() {
    let v = load();
    let cases = v["sender_keys"].as_array().unwrap();
    assert!(cases.len() >= 3);
    for c in cases {
        let sender: ParticipantId = str_of(c, "participant").parse().unwrap();
        let key = sender_base_key(&hex_of(c, "shared_key_hex"), sender);
        assert_eq!(key.to_vec(), hex_of(c, "sender_key_hex"), "{c}");
    }
}

#[test]
fn media_frames_encrypt_and_decrypt_exactly() {
    let v = load();
    let cases = v["frames"].as_array().unwrap();
    assert!(cases.len() >= 5);
    let now = Instant::now();
    for c in cases {
        let name = str_of(c, "name");
        let sender: ParticipantId = str_of(c, "sender").parse().unwrap();
        let index = u8::try_from(u64_of(c, "key_index")).unwrap();
        let tag = u32::try_from(u64_of(c, "session_tag")).unwrap();
        let header = header_from_json(&c["header"]);
        let mut keys =
            KeyProvider::new(KeyProviderOptions { cipher_suite: suite_of(c), ..Default::default() });
        keys.set_shared_key(now, index, &shared_key_of(c)).unwrap();

        assert_eq!(media_metadata(&header).to_vec(), hex_of(c, "metadata_hex"), "{name}");
        assert_eq!(sender_kid(tag, index), u64_of(c, "kid"), "{name}");

        let mut enc = FrameEncryptor::with_state(sender, tag, u64_of(c, "ctr"));
        let payload = hex_of(c, "payload_hex");
        let sealed = enc.encrypt_frame(&keys, &header, &payload).unwrap();
        assert_eq!(hex::encode(&sealed), str_of(c, "sframe_hex"), "{name}");

        let mut dec = FrameDecryptor::new();
        let rewritten = header_from_json(&c["sfu_rewritten_header"]);
        assert_eq!(dec.decrypt_frame(now, &keys, sender, &header, &sealed).unwrap(), payload, "{name}");
        assert_eq!(dec.decrypt_frame(now, &keys, sender, &rewritten, &sealed).unwrap(), payload, "{name}");
        let tampered = MediaHeader { keyframe: !header.keyframe, ..header };
        assert_eq!(
            dec.decrypt_frame(now, &keys, sender, &tampered, &sealed),
            Err(E2eeError::AuthenticationFailed),
            "{name}"
        );
    }
}

fn base_header() -> MediaHeader {
    MediaHeader {
        track_alias: TrackAlias(7),
        spatial_id: 0,
        temporal_id: 0,
        group_seq: 0,
        frame_seq: 0,
        capture_ts_us: 1_700_000_000_000_000,
        keyframe: false,
        discardable: false,
        end_of_group: false,
        audio_level: None,
    }
}

struct FrameDef {
    name: &'static str,
    suite: CipherSuite,
    passphrase: Option<&'static str>,
    shared_key: &'static [u8],
    sender: u64,
    key_index: u8,
    session_tag: u32,
    ctr: u64,
    header: MediaHeader,
    payload: Vec<u8>,
}

fn frame_defs() -> Vec<FrameDef> {
    let k16: &[u8] = b"0123456789abcdef";
    let k32: &[u8] = b"dark tower e2ee vectors key 32 b";
    vec![
        FrameDef {
            name: "audio_with_level_first_frame",
            suite: CipherSuite::Aes128GcmSha256,
            passphrase: None,
            shared_key: k16,
            sender: 0x0000_0000_dead_beef,
            key_index: 0,
            session_tag: 0x0102_0304,
            ctr: 0,
            header: MediaHeader {
                track_alias: TrackAlias(3),
                frame_seq: 120,
                audio_level: Some(42),
                ..base_header()
            },
            payload: vec![0xfc, 0xff, 0xfe, 0x01, 0x02],
        },
        FrameDef {
            name: "video_keyframe_two_byte_counter",
            suite: CipherSuite::Aes128GcmSha256,
            passphrase: None,
            shared_key: k32,
            sender: 0x1234_5678_9abc_def0,
            key_index: 5,
            session_tag: 0xdead_beef,
            ctr: 300,
            header: MediaHeader {
                spatial_id: 2,
                group_seq: 5,
                keyframe: true,
                end_of_group: true,
                ..base_header()
            },
            payload: vec![0x10, 0x02, 0x00, 0x9d, 0x01, 0x2a, 0x00, 0x05, 0xd0, 0x02],
        },
        FrameDef {
            name: "aes256_delta_frame_large_counter",
            suite: CipherSuite::Aes256GcmSha512,
            passphrase: None,
            shared_key: k32,
            sender: u64::MAX,
            key_index: 255,
            session_tag: 0,
            ctr: (1 << 40) + 7,
            header: MediaHeader {
                track_alias: TrackAlias(u32::MAX),
                spatial_id: 1,
                temporal_id: 3,
                group_seq: u64::MAX,
                frame_seq: u32::MAX,
                capture_ts_us: u64::MAX,
                discardable: true,
                ..base_header()
            },
            payload: (0..=255u8).collect(),
        },
        FrameDef {
            name: "empty_payload",
            suite: CipherSuite::Aes128GcmSha256,
            passphrase: None,
            shared_key: k16,
            sender: 1,
            key_index: 1,
            session_tag: 0xffff_ffff,
            ctr: 7,
            header: base_header(),
            payload: vec![],
        },
        FrameDef {
            name: "passphrase_default_params",
            suite: CipherSuite::Aes128GcmSha256,
            passphrase: Some("correct horse battery staple"),
            shared_key: &[],
            sender: 0x00c0_ffee,
            key_index: 2,
            session_tag: 0x00ab_cdef,
            ctr: 65_536,
            header: MediaHeader { temporal_id: 1, frame_seq: 3, group_seq: 9, ..base_header() },
            payload: b"plaintext marker".to_vec(),
        },
    ]
}

#[test]
#[ignore = "rewrites proto/vectors/sframe/media_frames.json; run with DT_REGENERATE_VECTORS=1"]
fn regenerate_media_frame_vectors() {
    if std::env::var_os("DT_REGENERATE_VECTORS").is_none() {
        return;
    }
    let now = Instant::now();
    let passphrases: Vec<Value> = [
        ("correct horse battery staple", PassphraseParams::default()),
        ("pässwörd 🔒", PassphraseParams { salt: b"meeting-42".to_vec(), iterations: 1000 }),
        ("x", PassphraseParams { salt: vec![], iterations: 1 }),
    ]
    .into_iter()
    .map(|(p, params)| {
        let key = base_key_from_passphrase(p, &params).unwrap();
        json!({
            "passphrase": p,
            "salt_hex": hex::encode(&params.salt),
            "iterations": params.iterations,
            "base_key_hex": hex::encode(key),
        })
    })
    .collect();
    let sender_keys: Vec<Value> = [
        (&b"0123456789abcdef"[..], 0u64),
        (&b"0123456789abcdef"[..], 1),
        (&b"dark tower e2ee vectors key 32 b"[..], 0x1234_5678_9abc_def0),
        (&b"dark tower e2ee vectors key 32 b"[..], u64::MAX),
    ]
    .into_iter()
    .map(|(shared, id)| {
        let p = ParticipantId::from_u64(id);
        json!({
            "shared_key_hex": hex::encode(shared),
            "participant": p.to_string(),
            "sender_key_hex": hex::encode(sender_base_key(shared, p)),
        })
    })
    .collect();
    let frames: Vec<Value> = frame_defs()
        .into_iter()
        .map(|d| {
            let sender = ParticipantId::from_u64(d.sender);
            let mut keys =
                KeyProvider::new(KeyProviderOptions { cipher_suite: d.suite, ..Default::default() });
            let shared = match d.passphrase {
                Some(p) => base_key_from_passphrase(p, &PassphraseParams::default()).unwrap().to_vec(),
                None => d.shared_key.to_vec(),
            };
            keys.set_shared_key(now, d.key_index, &shared).unwrap();
            let sealed = FrameEncryptor::with_state(sender, d.session_tag, d.ctr)
                .encrypt_frame(&keys, &d.header, &d.payload)
                .unwrap();
            let rewritten = MediaHeader {
                track_alias: TrackAlias(d.header.track_alias.0 ^ 0x00ff_00ff),
                group_seq: d.header.group_seq.wrapping_add(1000),
                frame_seq: d.header.frame_seq.wrapping_add(1),
                ..d.header
            };
            let mut case = json!({
                "name": d.name,
                "cipher_suite": d.suite.id(),
                "sender": sender.to_string(),
                "key_index": d.key_index,
                "session_tag": d.session_tag,
                "kid": sender_kid(d.session_tag, d.key_index),
                "ctr": d.ctr,
                "header": header_to_json(&d.header),
                "sfu_rewritten_header": header_to_json(&rewritten),
                "metadata_hex": hex::encode(media_metadata(&d.header)),
                "payload_hex": hex::encode(&d.payload),
                "sframe_hex": hex::encode(&sealed),
            });
            match d.passphrase {
                Some(p) => case["passphrase"] = json!(p),
                None => case["shared_key_hex"] = json!(hex::encode(d.shared_key)),
            }
            case
        })
        .collect();
    let doc = json!({
        "about": "Dark Tower E2EE vectors (docs/E2EE.md), generated by dark-tower-client/tests/e2ee_media_frame_vectors.rs",
        "passphrases": passphrases,
        "sender_keys": sender_keys,
        "frames": frames,
    });
    std::fs::write(PATH, serde_json::to_string_pretty(&doc).unwrap() + "\n").unwrap();
}
