//! # dark-tower-core
//!
//! The vocabulary every Dark Tower crate shares, and nothing else: typed ids, the error taxonomy
//! with its single wire-code mapping, the pure wire codecs (signaling framing, media frame header),
//! access tokens, and the small traits an embedding application implements (authentication,
//! storage, node registry, event bus, webhooks, media forwarding, transport).
//!
//! The crate has no runtime and opens no sockets. The optional `wtransport` feature adds
//! [`transport::wt`], the WebTransport adapter behind the [`transport`] traits; the reference server
//! and the Rust client enable it, protocol code never names it.
//!
//! ```
//! use dark_tower_core::token::{ApiKey, TokenBuilder};
//! use dark_tower_core::auth::{Authenticator, ApiKeyAuthenticator};
//! use std::time::{Duration, SystemTime};
//!
//! let key = ApiKey::new("APIdev", "a-secret-of-at-least-32-bytes-long!!");
//! let token = TokenBuilder::new("alice")
//!     .meeting("standup")
//!     .name("Alice")
//!     .ttl(Duration::from_secs(600))
//!     .sign(&key, SystemTime::now())
//!     .unwrap();
//! let auth = ApiKeyAuthenticator::new([key]);
//! let verified = auth.verify(&token, SystemTime::now()).unwrap();
//! assert_eq!(verified.identity.as_str(), "alice");
//! assert_eq!(verified.grant.meeting.unwrap().as_str(), "standup");
//! ```
//!
//! Design notes live in `docs/ARCHITECTURE.md` and the wire formats in `proto/`.

pub mod auth;
pub mod codec;
pub mod eddsa;
pub mod error;
pub mod events;
pub mod forwarding;
pub mod ids;
pub mod limits;
pub mod proto;
pub mod registry;
pub mod store;
pub mod token;
pub mod track;
pub mod transport;
pub mod webhook;

pub use error::{ErrorCode, Fault};
pub use ids::{Identity, MeetingName, ParticipantId, TrackAlias, TrackId};

/// Signaling protocol versions this build speaks (inclusive range).
pub const PROTOCOL_VERSIONS: std::ops::RangeInclusive<u32> = 1..=1;

/// The current protocol version.
pub const PROTOCOL_VERSION: u32 = 1;
