//! Authentication traits and the API-key implementation.
//!
//! The MC, the MH and the REST API call an [`Authenticator`] before accepting anything. Embedders
//! replace it to plug in their own identity system (see `examples/`).

use std::collections::HashMap;
use std::time::{Duration, SystemTime};

use crate::token::{
    AccessClaims, ApiKey, LEEWAY, TokenBuilder, TokenError, VerifiedToken, sign_claims, verify_access_token,
};

/// Verifies access tokens.
pub trait Authenticator: Send + Sync + 'static {
    /// Verifies `token` at time `now`: signature, audience, issuer, `exp`/`nbf` with bounded skew.
    fn verify(&self, token: &str, now: SystemTime) -> Result<VerifiedToken, TokenError>;
}

/// Mints access tokens.
pub trait TokenIssuer: Send + Sync + 'static {
    /// Signs the token described by `builder` at time `now`.
    fn issue(&self, builder: &TokenBuilder, now: SystemTime) -> Result<String, TokenError>;
}

/// Verifies HS256 tokens signed by any of a set of API keys, and mints with the first one.
#[derive(Debug, Clone)]
pub struct ApiKeyAuthenticator {
    keys: HashMap<String, ApiKey>,
    primary: Option<String>,
    leeway: Duration,
}

impl ApiKeyAuthenticator {
    /// An authenticator accepting tokens signed by `keys`; the first one signs new tokens.
    pub fn new(keys: impl IntoIterator<Item = ApiKey>) -> Self {
        let mut map = HashMap::new();
        let mut primary = None;
        for k in keys {
            primary.get_or_insert_with(|| k.key.clone());
            map.insert(k.key.clone(), k);
        }
        Self { keys: map, primary, leeway: LEEWAY }
    }

    /// Tolerates at most `leeway` of clock skew past a token's `exp` (at most [`LEEWAY`], the
    /// default).
    pub fn with_leeway(mut self, leeway: Duration) -> Self {
        self.leeway = leeway.min(LEEWAY);
        self
    }

    /// The key that signs new tokens.
    pub fn primary(&self) -> Option<&ApiKey> {
        self.primary.as_ref().and_then(|k| self.keys.get(k))
    }
}

impl Authenticator for ApiKeyAuthenticator {
    fn verify(&self, token: &str, now: SystemTime) -> Result<VerifiedToken, TokenError> {
        let v = verify_access_token(token, |kid| self.keys.get(kid), now)?;
        if v.expires_at + self.leeway < now {
            return Err(TokenError::Expired);
        }
        Ok(v)
    }
}

impl TokenIssuer for ApiKeyAuthenticator {
    fn issue(&self, builder: &TokenBuilder, now: SystemTime) -> Result<String, TokenError> {
        let key = self.primary().ok_or_else(|| TokenError::Signing("no api key configured".into()))?;
        let claims: AccessClaims = builder.claims(key, now)?;
        sign_claims(&claims, key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::token::Role;
    use std::time::Duration;

    fn key() -> ApiKey {
        ApiKey::new("APItest", "0123456789abcdef0123456789abcdef")
    }

    #[test]
    fn round_trip_and_rejections() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        let auth = ApiKeyAuthenticator::new([key()]);
        let t = TokenBuilder::new("bob").meeting("m1").role(Role::Viewer).sign(&key(), now).unwrap();
        let v = auth.verify(&t, now).unwrap();
        assert_eq!(v.identity.as_str(), "bob");
        assert!(!v.grant.can_publish);
        assert_eq!(
            auth.verify(&t, now + crate::token::DEFAULT_TTL + Duration::from_secs(31)),
            Err(TokenError::Expired)
        );
        let early =
            TokenBuilder::new("bob").not_before(now + Duration::from_secs(60)).sign(&key(), now).unwrap();
        assert_eq!(auth.verify(&early, now), Err(TokenError::NotYetValid));
        let other = ApiKey::new("APItest", "ffffffffffffffffffffffffffffffff");
        let forged = TokenBuilder::new("eve").sign(&other, now).unwrap();
        assert!(matches!(auth.verify(&forged, now), Err(TokenError::Invalid(_))));
        assert!(matches!(auth.verify("not.a.jwt", now), Err(TokenError::Invalid(_))));
        let unknown = TokenBuilder::new("eve")
            .sign(&ApiKey::new("APIother", "0123456789abcdef0123456789abcdef"), now)
            .unwrap();
        assert!(matches!(auth.verify(&unknown, now), Err(TokenError::Invalid(_))));
        assert!(TokenBuilder::new("x").meeting("bad name").sign(&key(), now).is_err());
    }
}
