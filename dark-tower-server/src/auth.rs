//! The server's built-in authentication: HS256 tokens signed with configured API keys, and
//! EdDSA tokens signed with the server's own Ed25519 keys ([`SigningKeys`]).

use std::sync::Arc;
use std::time::SystemTime;

use dark_tower_core::auth::{ApiKeyAuthenticator, Authenticator};
use dark_tower_core::token::{TokenAlgorithm, TokenError, VerifiedToken, token_algorithm};

use crate::signing_keys::SigningKeys;

/// Verifies a token with the API keys or the signing keys, by the algorithm its header names.
#[derive(Debug)]
pub struct ServerAuthenticator {
    api_keys: ApiKeyAuthenticator,
    signing: Arc<SigningKeys>,
}

impl ServerAuthenticator {
    /// Accepts HS256 tokens of `api_keys` and EdDSA tokens of `signing`.
    pub fn new(api_keys: ApiKeyAuthenticator, signing: Arc<SigningKeys>) -> Self {
        Self { api_keys, signing }
    }
}

impl Authenticator for ServerAuthenticator {
    fn verify(&self, token: &str, now: SystemTime) -> Result<VerifiedToken, TokenError> {
        match token_algorithm(token)? {
            TokenAlgorithm::Hs256 => self.api_keys.verify(token, now),
            TokenAlgorithm::EdDsa => self.signing.verify(token, now),
        }
    }
}
