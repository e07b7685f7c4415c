//! The server signs tokens with its own Ed25519 key: `POST /v1/tokens` mints EdDSA tokens that
//! join, `/.well-known/jwks.json` publishes the key so a third party verifies them with nothing
//! but that document, and after `POST /v1/signing-keys/rotate` a token signed before the
//! rotation still joins while new tokens carry the new key. Forged EdDSA tokens and tokens of
//! unknown keys are refused with the right codes.

mod common;

use std::time::SystemTime;

use common::{TestServer, status_json};
use dark_tower_client::ConnectOptions;
use dark_tower_core::eddsa::Ed25519Key;
use dark_tower_core::token::TokenBuilder;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use reqwest::Method;
use serde_json::json;

async fn mint(t: &TestServer, identity: &str) -> String {
    let (status, body) = status_json(
        t.api(Method::POST, "/v1/tokens")
            .json(&json!({ "identity": identity, "meeting": "keys", "ttl_secs": 3600 }))
            .send()
            .await
            .expect("request"),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    body["token"].as_str().expect("token").to_owned()
}

async fn jwks(t: &TestServer) -> JwkSet {
    let r = reqwest::get(format!("{}/.well-known/jwks.json", t.url)).await.expect("jwks request");
    assert_eq!(r.status(), 200, "the JWKS needs no token");
    r.json().await.expect("a JWK set")
}

/// Verifies `token` the way an outside service would: only with the published JWKS.
fn verify_with(set: &JwkSet, token: &str) -> Result<String, String> {
    let header = jsonwebtoken::decode_header(token).map_err(|e| e.to_string())?;
    assert_eq!(header.alg, Algorithm::EdDSA);
    let kid = header.kid.ok_or("no kid")?;
    let jwk = set.find(&kid).ok_or("kid not published")?;
    let key = DecodingKey::from_jwk(jwk).map_err(|e| e.to_string())?;
    let mut v = Validation::new(Algorithm::EdDSA);
    v.set_audience(&["dark-tower"]);
    v.set_issuer(&["dark-tower-server"]);
    jsonwebtoken::decode::<serde_json::Value>(token, &key, &v).map_err(|e| e.to_string())?;
    Ok(kid)
}

async fn join(
    t: &TestServer,
    token: &str,
) -> Result<dark_tower_client::Room, dark_tower_client::ClientError> {
    dark_tower_client::connect(&t.url, token, ConnectOptions::default()).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn minted_eddsa_tokens_verify_with_the_jwks_and_survive_a_rotation() {
    let t = TestServer::start().await;
    let before = mint(&t, "ann").await;
    let set = jwks(&t).await;
    assert_eq!(set.keys.len(), 1);
    let old_kid = verify_with(&set, &before).expect("the JWKS verifies a minted token");
    join(&t, &before).await.expect("an EdDSA token joins").leave().await;

    let (status, rotated) =
        status_json(t.api(Method::POST, "/v1/signing-keys/rotate").send().await.expect("rotate")).await;
    assert_eq!(status, 200, "{rotated}");
    let new_kid = rotated["active"].as_str().expect("active").to_owned();
    assert_ne!(new_kid, old_kid);
    assert_eq!(rotated["published"], json!([new_kid, old_kid]));

    let after = mint(&t, "bob").await;
    let set = jwks(&t).await;
    assert_eq!(set.keys.len(), 2, "the old key stays published for the overlap");
    assert_eq!(verify_with(&set, &after).expect("new token verifies"), new_kid);
    assert_eq!(verify_with(&set, &before).expect("old token still verifies"), old_kid);
    let ann = join(&t, &before).await.expect("a token signed before the rotation still joins");
    let bob = join(&t, &after).await.expect("a token signed after the rotation joins");
    ann.leave().await;
    bob.leave().await;

    // Only admins rotate.
    let user = t.token("keys", "mallory");
    let r = reqwest::Client::new()
        .post(format!("{}/v1/signing-keys/rotate", t.url))
        .bearer_auth(user)
        .send()
        .await
        .expect("request");
    assert_eq!(status_json(r).await.0, 403);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_eddsa_tokens_are_refused() {
    let t = TestServer::start().await;
    let set = jwks(&t).await;
    let kid = set.keys[0].common.key_id.clone().expect("kid");
    let now = SystemTime::now();
    let b = TokenBuilder::new("eve").meeting("keys");
    // Same kid, another key: a forgery.
    let forged = Ed25519Key::from_seed(kid, [9; 32]).sign(&b, "dark-tower-server", now).expect("sign");
    // A key the server does not know.
    let stranger = Ed25519Key::generate().sign(&b, "dark-tower-server", now).expect("sign");
    let cases = [(forged, "invalid_token"), (stranger, "invalid_token")];
    for (token, code) in cases {
        let r = reqwest::Client::new()
            .post(format!("{}/v1/join", t.url))
            .bearer_auth(&token)
            .json(&json!({ "protocol_version": 1 }))
            .send()
            .await
            .expect("request");
        let (status, body) = status_json(r).await;
        assert_eq!((status, body["error"]["code"].as_str()), (401, Some(code)), "{body}");
    }
    // Expiry of EdDSA tokens is checked on an injected clock in `dark_tower_core::eddsa`'s unit
    // test (no waiting here); expired HS256 tokens through the server: `bad_tokens_refused.rs`.
}
