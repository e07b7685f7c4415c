//! The RFC 9605 Appendix C test vectors (`proto/vectors/sframe/rfc9605.json`, see the README
//! there): header encodings and the AES-GCM suites' key derivation and encryption. The
//! TypeScript client checks the same file (`client-js/test/sframe_rfc9605_vectors.test.ts`).

#![allow(clippy::unwrap_used)] // test helpers outside #[test] functions

use dark_tower_client::e2ee::sframe::{
    CipherSuite, NONCE_LEN, SframeHeader, SframeKey, derive_key_material, labels,
};
use serde_json::Value;

const VECTORS: &str = include_str!("../../proto/vectors/sframe/rfc9605.json");

fn vectors() -> Value {
    serde_json::from_str(VECTORS).unwrap()
}

fn hex_of(v: &Value, key: &str) -> Vec<u8> {
    hex::decode(v[key].as_str().unwrap_or_else(|| panic!("{key} missing"))).unwrap()
}

fn u64_of(v: &Value, key: &str) -> u64 {
    v[key].as_u64().unwrap_or_else(|| panic!("{key} missing or not a u64"))
}

#[test]
fn header_vectors_encode_and_decode() {
    let v = vectors();
    let cases = v["header"].as_array().unwrap();
    assert_eq!(cases.len(), 289, "17 KIDs x 17 CTRs");
    for case in cases {
        let header = SframeHeader { kid: u64_of(case, "kid"), ctr: u64_of(case, "ctr") };
        let expected = hex_of(case, "encoded");
        let mut out = Vec::new();
        header.encode(&mut out);
        assert_eq!(out, expected, "{header:?}");
        assert_eq!(header.encoded_len(), expected.len());
        // Trailing bytes (the ciphertext) are not part of the header.
        let mut with_body = expected.clone();
        with_body.extend_from_slice(b"body");
        assert_eq!(SframeHeader::decode(&with_body).unwrap(), (header, expected.len()));
    }
}

#[test]
fn aes_gcm_suites_derive_and_encrypt_as_the_rfc() {
    let v = vectors();
    let mut checked = Vec::new();
    for case in v["sframe"].as_array().unwrap() {
        let id = u16::try_from(u64_of(case, "cipher_suite")).unwrap();
        let Some(suite) = CipherSuite::from_id(id) else {
            // 1-3 are the AES-CTR-HMAC suites, which this implementation does not offer.
            assert!((1..=3).contains(&id), "unexpected suite {id}");
            continue;
        };
        let (kid, ctr) = (u64_of(case, "kid"), u64_of(case, "ctr"));
        let base_key = hex_of(case, "base_key");

        let (key_label, salt_label) = labels(suite, kid);
        assert_eq!(key_label, hex_of(case, "sframe_key_label"));
        assert_eq!(salt_label, hex_of(case, "sframe_salt_label"));

        let material = derive_key_material(suite, kid, &base_key);
        assert_eq!(material.key, hex_of(case, "sframe_key"), "suite {id} key");
        assert_eq!(material.salt.to_vec(), hex_of(case, "sframe_salt"), "suite {id} salt");

        let key = SframeKey::derive(suite, kid, &base_key);
        let nonce: [u8; NONCE_LEN] = key.nonce(ctr);
        assert_eq!(nonce.to_vec(), hex_of(case, "nonce"));

        let metadata = hex_of(case, "metadata");
        let mut aad = Vec::new();
        SframeHeader { kid, ctr }.encode(&mut aad);
        aad.extend_from_slice(&metadata);
        assert_eq!(aad, hex_of(case, "aad"));

        let plaintext = hex_of(case, "pt");
        let ciphertext = hex_of(case, "ct");
        assert_eq!(key.seal(ctr, &metadata, &plaintext).unwrap(), ciphertext, "suite {id} seal");

        let (header, len) = SframeHeader::decode(&ciphertext).unwrap();
        assert_eq!(header, SframeHeader { kid, ctr });
        assert_eq!(key.open(header, len, &metadata, &ciphertext).unwrap(), plaintext);
        checked.push(id);
    }
    assert_eq!(checked, [4, 5], "both AES-GCM suites are in the file");
}
