//! # dark-tower-client — the Rust client SDK
//!
//! Joins a meeting on a Dark Tower server, publishes tracks and receives everyone else's media.
//! Used by bots, recorders, native apps, the examples, the tests and the load generator.
//!
//! ```no_run
//! # async fn run() -> Result<(), dark_tower_client::ClientError> {
//! use dark_tower_client::{connect, ConnectOptions, RoomEvent};
//!
//! let mut room = connect("http://127.0.0.1:8080", "<access token>", ConnectOptions::default()).await?;
//! while let Some(event) = room.next_event().await {
//!     match event {
//!         RoomEvent::ParticipantJoined(p) => println!("{} joined", p.identity),
//!         RoomEvent::Frame(f) => println!("{} bytes from {:?}", f.payload.len(), f.participant),
//!         RoomEvent::Disconnected { .. } => break,
//!         _ => {}
//!     }
//! }
//! # Ok(()) }
//! ```
//!
//! The flow follows DESIGN §4: `POST /v1/join`, a signaling WebTransport session to the meeting
//! controller, then a media session to the media handler with the ticket from `Joined`. When the
//! connection drops the room resumes on its own (`RoomEvent::Reconnecting` / `Reconnected`) within
//! the server's grace period; see `docs/SIGNALING.md`.

pub mod e2ee;
mod error;
mod link;
mod local_track;
mod media;
mod reconnect;
mod room;
mod signal;
pub mod synthetic;
mod types;

pub use error::ClientError;
pub use local_track::{LocalTrack, OutgoingFrame, TrackOptions};
pub use room::{ConnectOptions, ParticipantInfo, RemoteFrame, Room, RoomEvent, TrackInfo, connect};
pub use types::{ConnectionQuality, SubscriptionSettings};

pub use dark_tower_core::ErrorCode;
pub use dark_tower_core::codec::media::MediaHeader;
pub use dark_tower_core::ids::{ParticipantId, TrackAlias, TrackId};
pub use dark_tower_core::proto::sig::{LeaveReason, Permissions, SimulcastLayer};
pub use dark_tower_core::token::Role;
pub use dark_tower_core::track::{TrackKind, TrackSource};
