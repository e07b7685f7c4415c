//! Access tokens (JWT) and media tickets.
//!
//! An access token names an identity (`sub`), a meeting and a [`Grant`]. Tokens are signed with
//! HS256 by an [`ApiKey`]: the JWT header's `kid` and the `iss` claim are the API key's id, `aud`
//! is [`TOKEN_AUDIENCE`]. See `proto/README.md` for the full contract.

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use crate::error::ErrorCode;
use crate::ids::{Identity, MeetingName, ParticipantId};
pub use crate::track::TrackSource;

/// The `aud` of every access token.
pub const TOKEN_AUDIENCE: &str = "dark-tower";
/// The `aud` of media tickets.
pub const TICKET_AUDIENCE: &str = "dark-tower-media";
/// The `aud` of resume tokens.
pub const RESUME_AUDIENCE: &str = "dark-tower-resume";
/// Clock skew tolerated on `exp` and `nbf`.
pub const LEEWAY: Duration = Duration::from_secs(30);
/// Default lifetime of a minted access token.
pub const DEFAULT_TTL: Duration = Duration::from_secs(6 * 3600);

/// Why a token was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// Not a JWT, bad signature, unknown key, wrong `aud` or `iss`, bad claims.
    #[error("invalid token: {0}")]
    Invalid(String),
    /// `exp` has passed.
    #[error("token expired")]
    Expired,
    /// `nbf` is in the future.
    #[error("token not yet valid")]
    NotYetValid,
    /// Could not sign.
    #[error("cannot sign token: {0}")]
    Signing(String),
}

impl TokenError {
    /// The wire code for this error.
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::Invalid(_) => ErrorCode::InvalidToken,
            Self::Expired | Self::NotYetValid => ErrorCode::TokenExpired,
            Self::Signing(_) => ErrorCode::Internal,
        }
    }
}

/// A participant's role in a meeting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Moderates the meeting.
    Host,
    /// A regular participant.
    #[default]
    Participant,
    /// A guest (may be held in a lobby).
    Guest,
    /// Receives only.
    Viewer,
}

fn yes() -> bool {
    true
}

/// What a token allows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Grant {
    /// The meeting this token is for. `None` only for admin tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub meeting: Option<MeetingName>,
    /// Role in the meeting.
    #[serde(default)]
    pub role: Role,
    /// May publish tracks (forced off for viewers).
    #[serde(default = "yes")]
    pub can_publish: bool,
    /// Sources it may publish; empty means all.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub can_publish_sources: Vec<TrackSource>,
    /// May subscribe to tracks.
    #[serde(default = "yes")]
    pub can_subscribe: bool,
    /// May send data messages.
    #[serde(default = "yes")]
    pub can_publish_data: bool,
    /// Invisible to other participants (recorders, bots).
    #[serde(default)]
    pub hidden: bool,
    /// Server administration (REST API); not a meeting permission.
    #[serde(default)]
    pub admin: bool,
}

impl Default for Grant {
    fn default() -> Self {
        Self {
            meeting: None,
            role: Role::Participant,
            can_publish: true,
            can_publish_sources: Vec::new(),
            can_subscribe: true,
            can_publish_data: true,
            hidden: false,
            admin: false,
        }
    }
}

impl Grant {
    /// Whether publishing from `source` is allowed.
    pub fn may_publish(&self, source: TrackSource) -> bool {
        self.can_publish
            && self.role != Role::Viewer
            && (self.can_publish_sources.is_empty() || self.can_publish_sources.contains(&source))
    }
}

/// The claims of an access token, as signed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessClaims {
    /// Issuer: the API key id.
    pub iss: String,
    /// Subject: the identity.
    pub sub: String,
    /// Audience: [`TOKEN_AUDIENCE`].
    pub aud: String,
    /// Expiry, seconds since the epoch.
    pub exp: u64,
    /// Not before, seconds since the epoch.
    pub nbf: u64,
    /// Issued at, seconds since the epoch.
    pub iat: u64,
    /// Unique token id.
    pub jti: String,
    /// Display name.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
    /// Permissions.
    #[serde(default)]
    pub grant: Grant,
}

/// A secret string whose `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret.
    pub fn new(s: impl Into<String>) -> Self {
        Self(s.into())
    }
    /// The secret itself; do not log it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

/// What a [`Secret`] serializes as: configuration printed or logged never shows secrets.
pub const REDACTED: &str = "<redacted>";

impl Serialize for Secret {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(REDACTED)
    }
}

impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d).map(Secret)
    }
}

/// An API key and its HS256 secret (the LiveKit model).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKey {
    /// Public key id: the token's `kid` and `iss`.
    pub key: String,
    /// Shared secret, at least 32 bytes.
    pub secret: Secret,
}

impl ApiKey {
    /// Shortest accepted secret.
    pub const MIN_SECRET_LEN: usize = 32;

    /// A key; see [`ApiKey::validate`].
    pub fn new(key: impl Into<String>, secret: impl Into<String>) -> Self {
        Self { key: key.into(), secret: Secret::new(secret) }
    }

    /// A random key (for development mode).
    pub fn generate() -> Self {
        let key: [u8; 6] = rand::random();
        let secret: [u8; 24] = rand::random();
        Self::new(format!("API{}", hex::encode(key)), hex::encode(secret))
    }

    /// Checks the key id is non-empty and the secret long enough.
    pub fn validate(&self) -> Result<(), String> {
        if self.key.is_empty() || self.key.len() > 128 {
            return Err("api key id must be 1-128 characters".into());
        }
        if self.secret.expose().len() < Self::MIN_SECRET_LEN {
            return Err(format!("api secret for {} must be at least 32 bytes", self.key));
        }
        Ok(())
    }
}

/// Seconds since the epoch.
pub fn unix_secs(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

/// Builds and signs access tokens.
#[derive(Debug, Clone)]
pub struct TokenBuilder {
    identity: String,
    name: String,
    meeting: Option<String>,
    grant: Grant,
    ttl: Duration,
    not_before: Option<SystemTime>,
}

impl TokenBuilder {
    /// A token for `identity` with the default grant (participant, may publish and subscribe).
    pub fn new(identity: impl Into<String>) -> Self {
        Self {
            identity: identity.into(),
            name: String::new(),
            meeting: None,
            grant: Grant::default(),
            ttl: DEFAULT_TTL,
            not_before: None,
        }
    }

    /// Restricts the token to a meeting (validated when signing).
    pub fn meeting(mut self, meeting: impl Into<String>) -> Self {
        self.meeting = Some(meeting.into());
        self
    }

    /// Display name.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }

    /// Replaces the whole grant (the meeting set with [`TokenBuilder::meeting`] wins).
    pub fn grant(mut self, grant: Grant) -> Self {
        self.grant = grant;
        self
    }

    /// Role; a viewer cannot publish.
    pub fn role(mut self, role: Role) -> Self {
        self.grant.role = role;
        if role == Role::Viewer {
            self.grant.can_publish = false;
        }
        self
    }

    /// Server administration grant.
    pub fn admin(mut self, admin: bool) -> Self {
        self.grant.admin = admin;
        self
    }

    /// Lifetime from the signing time.
    pub fn ttl(mut self, ttl: Duration) -> Self {
        self.ttl = ttl;
        self
    }

    /// Not valid before this time (default: the signing time).
    pub fn not_before(mut self, t: SystemTime) -> Self {
        self.not_before = Some(t);
        self
    }

    /// The claims as they would be signed at `now` with `key`.
    pub fn claims(&self, key: &ApiKey, now: SystemTime) -> Result<AccessClaims, TokenError> {
        self.claims_for_issuer(&key.key, now)
    }

    /// The claims as they would be signed at `now` by `issuer` (the `iss` claim).
    pub fn claims_for_issuer(&self, issuer: &str, now: SystemTime) -> Result<AccessClaims, TokenError> {
        Identity::new(self.identity.clone()).map_err(|e| TokenError::Signing(e.to_string()))?;
        let mut grant = self.grant.clone();
        if let Some(m) = &self.meeting {
            grant.meeting =
                Some(MeetingName::new(m.clone()).map_err(|e| TokenError::Signing(e.to_string()))?);
        }
        let jti: [u8; 12] = rand::random();
        Ok(AccessClaims {
            iss: issuer.to_owned(),
            sub: self.identity.clone(),
            aud: TOKEN_AUDIENCE.to_owned(),
            exp: unix_secs(now + self.ttl),
            nbf: unix_secs(self.not_before.unwrap_or(now)),
            iat: unix_secs(now),
            jti: hex::encode(jti),
            name: self.name.clone(),
            grant,
        })
    }

    /// Signs with `key` (HS256) at time `now`.
    pub fn sign(&self, key: &ApiKey, now: SystemTime) -> Result<String, TokenError> {
        sign_claims(&self.claims(key, now)?, key)
    }
}

/// Signs `claims` with `key` (HS256, `kid` = key id).
pub fn sign_claims(claims: &AccessClaims, key: &ApiKey) -> Result<String, TokenError> {
    let mut header = Header::new(Algorithm::HS256);
    header.kid = Some(key.key.clone());
    jsonwebtoken::encode(&header, claims, &EncodingKey::from_secret(key.secret.expose().as_bytes()))
        .map_err(|e| TokenError::Signing(e.to_string()))
}

pub(crate) fn validation(audience: &str) -> Validation {
    let mut v = Validation::new(Algorithm::HS256);
    v.set_audience(&[audience]);
    // Time claims are checked by `check_times` against an injected clock.
    v.validate_exp = false;
    v.validate_nbf = false;
    v.required_spec_claims = ["exp", "aud", "sub"].iter().map(|s| s.to_string()).collect();
    v
}

pub(crate) fn map_jwt_error(e: jsonwebtoken::errors::Error) -> TokenError {
    use jsonwebtoken::errors::ErrorKind;
    match e.kind() {
        ErrorKind::ExpiredSignature => TokenError::Expired,
        ErrorKind::ImmatureSignature => TokenError::NotYetValid,
        ErrorKind::InvalidAudience => TokenError::Invalid("wrong audience".into()),
        ErrorKind::InvalidIssuer => TokenError::Invalid("wrong issuer".into()),
        ErrorKind::InvalidSignature => TokenError::Invalid("bad signature".into()),
        ErrorKind::InvalidAlgorithm | ErrorKind::InvalidAlgorithmName => {
            TokenError::Invalid("unsupported algorithm".into())
        }
        ErrorKind::MissingRequiredClaim(claim) => TokenError::Invalid(format!("missing claim {claim}")),
        ErrorKind::InvalidToken | ErrorKind::Base64(_) | ErrorKind::Json(_) | ErrorKind::Utf8(_) => {
            TokenError::Invalid("malformed token (not a JWT)".into())
        }
        _ => TokenError::Invalid("invalid token".into()),
    }
}

pub(crate) fn check_times(exp: u64, nbf: u64, now: SystemTime) -> Result<(), TokenError> {
    let now = unix_secs(now);
    if exp.saturating_add(LEEWAY.as_secs()) < now {
        return Err(TokenError::Expired);
    }
    if nbf > now.saturating_add(LEEWAY.as_secs()) {
        return Err(TokenError::NotYetValid);
    }
    Ok(())
}

/// The signature algorithms access tokens may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenAlgorithm {
    /// HMAC-SHA256 with an API key's secret.
    Hs256,
    /// Ed25519 with a server's signing key ([`crate::eddsa`]).
    EdDsa,
}

/// Which algorithm `token`'s header names (nothing is verified yet).
pub fn token_algorithm(token: &str) -> Result<TokenAlgorithm, TokenError> {
    match jsonwebtoken::decode_header(token).map_err(map_jwt_error)?.alg {
        Algorithm::HS256 => Ok(TokenAlgorithm::Hs256),
        Algorithm::EdDSA => Ok(TokenAlgorithm::EdDsa),
        _ => Err(TokenError::Invalid("unsupported algorithm".into())),
    }
}

/// A verified access token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedToken {
    /// Who.
    pub identity: Identity,
    /// Display name (may be empty).
    pub name: String,
    /// What they may do.
    pub grant: Grant,
    /// When the token expires.
    pub expires_at: SystemTime,
    /// The API key that signed it.
    pub key_id: String,
}

/// Verifies an HS256 access token signed by one of `keys` at time `now`.
pub fn verify_access_token<'a>(
    token: &str,
    keys: impl Fn(&str) -> Option<&'a ApiKey>,
    now: SystemTime,
) -> Result<VerifiedToken, TokenError> {
    let header = jsonwebtoken::decode_header(token).map_err(map_jwt_error)?;
    if header.alg != Algorithm::HS256 {
        return Err(TokenError::Invalid("unsupported algorithm".into()));
    }
    let kid = header.kid.ok_or_else(|| TokenError::Invalid("missing kid".into()))?;
    let key = keys(&kid).ok_or_else(|| TokenError::Invalid("unknown api key".into()))?;
    let mut v = validation(TOKEN_AUDIENCE);
    v.set_issuer(&[kid.as_str()]);
    let data = jsonwebtoken::decode::<AccessClaims>(
        token,
        &DecodingKey::from_secret(key.secret.expose().as_bytes()),
        &v,
    )
    .map_err(map_jwt_error)?;
    let c = data.claims;
    check_times(c.exp, c.nbf, now)?;
    let identity = Identity::new(c.sub).map_err(|e| TokenError::Invalid(e.to_string()))?;
    let mut grant = c.grant;
    if grant.role == Role::Viewer {
        grant.can_publish = false;
    }
    Ok(VerifiedToken {
        identity,
        name: c.name,
        grant,
        expires_at: UNIX_EPOCH + Duration::from_secs(c.exp),
        key_id: kid,
    })
}

/// Claims of a media ticket: the MC's permission for one participant to open a media session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TicketClaims {
    /// [`TICKET_AUDIENCE`].
    pub aud: String,
    /// The meeting.
    pub meeting: MeetingName,
    /// The participant.
    pub pid: ParticipantId,
    /// May publish media.
    pub publish: bool,
    /// May receive media.
    pub subscribe: bool,
    /// Expiry, seconds since the epoch.
    pub exp: u64,
}

/// Claims of a resume token: lets the holder continue as participant `pid` of `meeting` after a
/// dropped connection. The meeting controller accepts it only while that participant is still in
/// the meeting and `nonce` matches the one it issued, so it is worthless once the participant left.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResumeClaims {
    /// [`RESUME_AUDIENCE`].
    pub aud: String,
    /// The meeting.
    pub meeting: MeetingName,
    /// The participant.
    pub pid: ParticipantId,
    /// Random per participant session, checked by the meeting.
    pub nonce: u64,
    /// Expiry, seconds since the epoch (an outer bound; the meeting decides).
    pub exp: u64,
}

/// Signs and verifies media tickets (and resume tokens) with a node-internal secret shared by
/// MC and MH.
#[derive(Debug, Clone)]
pub struct TicketKey {
    secret: Secret,
}

impl TicketKey {
    /// How long a ticket is valid to open a media session.
    pub const TTL: Duration = Duration::from_secs(120);

    /// A key from a secret (at least 32 bytes).
    pub fn new(secret: impl Into<String>) -> Self {
        Self { secret: Secret::new(secret) }
    }

    /// A random key.
    pub fn generate() -> Self {
        let s: [u8; 32] = rand::random();
        Self::new(hex::encode(s))
    }

    /// Signs a ticket valid for [`TicketKey::TTL`] from `now`.
    pub fn sign(
        &self,
        meeting: &MeetingName,
        pid: ParticipantId,
        publish: bool,
        subscribe: bool,
        now: SystemTime,
    ) -> Result<String, TokenError> {
        let claims = TicketClaims {
            aud: TICKET_AUDIENCE.to_owned(),
            meeting: meeting.clone(),
            pid,
            publish,
            subscribe,
            exp: unix_secs(now + Self::TTL),
        };
        jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &EncodingKey::from_secret(self.secret.expose().as_bytes()),
        )
        .map_err(|e| TokenError::Signing(e.to_string()))
    }

    /// How long a resume token is valid at most (the meeting's grace period decides first).
    pub const RESUME_TTL: Duration = Duration::from_secs(7 * 24 * 3600);

    /// Signs a resume token for participant `pid` of `meeting`.
    pub fn sign_resume(
        &self,
        meeting: &MeetingName,
        pid: ParticipantId,
        nonce: u64,
        now: SystemTime,
    ) -> Result<String, TokenError> {
        let claims = ResumeClaims {
            aud: RESUME_AUDIENCE.to_owned(),
            meeting: meeting.clone(),
            pid,
            nonce,
            exp: unix_secs(now + Self::RESUME_TTL),
        };
        jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &EncodingKey::from_secret(self.secret.expose().as_bytes()),
        )
        .map_err(|e| TokenError::Signing(e.to_string()))
    }

    /// Verifies a resume token at time `now` (signature, audience, expiry).
    pub fn verify_resume(&self, token: &str, now: SystemTime) -> Result<ResumeClaims, TokenError> {
        let mut v = validation(RESUME_AUDIENCE);
        v.required_spec_claims = ["exp", "aud"].iter().map(|s| s.to_string()).collect();
        let data = jsonwebtoken::decode::<ResumeClaims>(
            token,
            &DecodingKey::from_secret(self.secret.expose().as_bytes()),
            &v,
        )
        .map_err(map_jwt_error)?;
        check_times(data.claims.exp, 0, now)?;
        Ok(data.claims)
    }

    /// Verifies a ticket at time `now`.
    pub fn verify(&self, ticket: &str, now: SystemTime) -> Result<TicketClaims, TokenError> {
        let mut v = validation(TICKET_AUDIENCE);
        v.required_spec_claims = ["exp", "aud"].iter().map(|s| s.to_string()).collect();
        let data = jsonwebtoken::decode::<TicketClaims>(
            ticket,
            &DecodingKey::from_secret(self.secret.expose().as_bytes()),
            &v,
        )
        .map_err(map_jwt_error)?;
        check_times(data.claims.exp, 0, now)?;
        Ok(data.claims)
    }
}
