//! EdDSA (Ed25519) access tokens: a server signs with its own private key and publishes the
//! public keys as a JSON Web Key Set, so anyone can verify its tokens without sharing a secret.
//!
//! The JWT header's `kid` names the key; `iss` is the server's issuer name. Verification takes
//! the set of keys currently accepted (the active one and those still within their overlap
//! after a rotation).

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header};

use crate::ids::Identity;
use crate::token::{
    AccessClaims, Role, TOKEN_AUDIENCE, TokenBuilder, TokenError, VerifiedToken, check_times, map_jwt_error,
    validation,
};

/// PKCS#8 v1 prefix of an Ed25519 private key (RFC 8410): the DER that `jsonwebtoken` takes
/// is this followed by the 32-byte seed.
const PKCS8_PREFIX: [u8; 16] =
    [0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20];

/// One Ed25519 signing key with its id.
#[derive(Clone, PartialEq, Eq)]
pub struct Ed25519Key {
    kid: String,
    seed: [u8; 32],
    public: [u8; 32],
}

impl fmt::Debug for Ed25519Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Ed25519Key").field("kid", &self.kid).finish_non_exhaustive()
    }
}

impl Ed25519Key {
    /// A fresh random key; its id is derived from the public key.
    pub fn generate() -> Self {
        let seed: [u8; 32] = rand::random();
        let public = ed25519_dalek::SigningKey::from_bytes(&seed).verifying_key().to_bytes();
        let kid = format!("ed-{}", hex::encode(&public[..6]));
        Self { kid, seed, public }
    }

    /// The key with private seed `seed` and id `kid`.
    pub fn from_seed(kid: impl Into<String>, seed: [u8; 32]) -> Self {
        let public = ed25519_dalek::SigningKey::from_bytes(&seed).verifying_key().to_bytes();
        Self { kid: kid.into(), seed, public }
    }

    /// Key id (the JWT `kid`).
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The private seed; keep it secret.
    pub fn seed(&self) -> &[u8; 32] {
        &self.seed
    }

    /// The public key as a JWK (`kty` OKP, `crv` Ed25519).
    pub fn jwk(&self) -> serde_json::Value {
        serde_json::json!({
            "kty": "OKP",
            "crv": "Ed25519",
            "x": URL_SAFE_NO_PAD.encode(self.public),
            "kid": self.kid,
            "alg": "EdDSA",
            "use": "sig",
        })
    }

    fn encoding_key(&self) -> EncodingKey {
        let mut der = Vec::with_capacity(48);
        der.extend_from_slice(&PKCS8_PREFIX);
        der.extend_from_slice(&self.seed);
        EncodingKey::from_ed_der(&der)
    }

    fn decoding_key(&self) -> DecodingKey {
        DecodingKey::from_ed_der(&self.public)
    }

    /// Signs the token `builder` describes at `now`, with `issuer` as `iss`.
    pub fn sign(&self, builder: &TokenBuilder, issuer: &str, now: SystemTime) -> Result<String, TokenError> {
        let claims = builder.claims_for_issuer(issuer, now)?;
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(self.kid.clone());
        jsonwebtoken::encode(&header, &claims, &self.encoding_key())
            .map_err(|e| TokenError::Signing(e.to_string()))
    }
}

/// A JWKS document (`{"keys": [...]}`) of `keys`.
pub fn jwks<'a>(keys: impl IntoIterator<Item = &'a Ed25519Key>) -> serde_json::Value {
    serde_json::json!({ "keys": keys.into_iter().map(Ed25519Key::jwk).collect::<Vec<_>>() })
}

/// Verifies an EdDSA access token at `now`: the key named by `kid` must be among those `keys`
/// returns, `iss` must be `issuer`, `aud`, `exp` and `nbf` (with bounded skew) must hold.
pub fn verify_eddsa_token<'a>(
    token: &str,
    keys: impl Fn(&str) -> Option<&'a Ed25519Key>,
    issuer: &str,
    leeway: Duration,
    now: SystemTime,
) -> Result<VerifiedToken, TokenError> {
    let header = jsonwebtoken::decode_header(token).map_err(map_jwt_error)?;
    if header.alg != Algorithm::EdDSA {
        return Err(TokenError::Invalid("unsupported algorithm".into()));
    }
    let kid = header.kid.ok_or_else(|| TokenError::Invalid("missing kid".into()))?;
    let key = keys(&kid).ok_or_else(|| TokenError::Invalid("unknown signing key".into()))?;
    let mut v = validation(TOKEN_AUDIENCE);
    v.algorithms = vec![Algorithm::EdDSA];
    v.set_issuer(&[issuer]);
    let data = jsonwebtoken::decode::<AccessClaims>(token, &key.decoding_key(), &v).map_err(map_jwt_error)?;
    let c = data.claims;
    check_times(c.exp, c.nbf, now)?;
    let expires_at = UNIX_EPOCH + Duration::from_secs(c.exp);
    if expires_at + leeway < now {
        return Err(TokenError::Expired);
    }
    let identity = Identity::new(c.sub).map_err(|e| TokenError::Invalid(e.to_string()))?;
    let mut grant = c.grant;
    if grant.role == Role::Viewer {
        grant.can_publish = false;
    }
    Ok(VerifiedToken { identity, name: c.name, grant, expires_at, key_id: kid })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signs_verifies_and_refuses() {
        let now = UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        let key = Ed25519Key::generate();
        let t = key.sign(&TokenBuilder::new("alice").meeting("m1"), "srv", now).unwrap();
        let lookup = |kid: &str| (kid == key.kid()).then_some(&key);
        let v = verify_eddsa_token(&t, lookup, "srv", Duration::ZERO, now).unwrap();
        assert_eq!(v.identity.as_str(), "alice");
        assert_eq!(v.key_id, key.kid());
        assert!(matches!(
            verify_eddsa_token(&t, lookup, "other", Duration::ZERO, now),
            Err(TokenError::Invalid(_))
        ));
        let other = Ed25519Key::from_seed(key.kid(), [7; 32]);
        let forged = other.sign(&TokenBuilder::new("eve"), "srv", now).unwrap();
        assert!(matches!(
            verify_eddsa_token(&forged, lookup, "srv", Duration::ZERO, now),
            Err(TokenError::Invalid(_))
        ));
        let late = now + crate::token::DEFAULT_TTL + Duration::from_secs(31);
        assert_eq!(verify_eddsa_token(&t, lookup, "srv", Duration::ZERO, late), Err(TokenError::Expired));
        // The JWK verifies the token through jsonwebtoken's own JWK support.
        let jwk: jsonwebtoken::jwk::Jwk = serde_json::from_value(key.jwk()).unwrap();
        let dk = DecodingKey::from_jwk(&jwk).unwrap();
        let mut val = validation(TOKEN_AUDIENCE);
        val.algorithms = vec![Algorithm::EdDSA];
        assert!(jsonwebtoken::decode::<AccessClaims>(&t, &dk, &val).is_ok());
    }
}
