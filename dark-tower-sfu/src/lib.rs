//! # dark-tower-sfu — the media handler
//!
//! A selective forwarding unit: publishers send encoded frames, the SFU forwards each to every
//! subscriber of the track, never decoding (the payload may be end-to-end encrypted). It reads only
//! the media frame header of `proto/MEDIA.md`.
//!
//! Two layers, as in quinn:
//! - [`router::Router`]: the sans-IO core for one meeting. Feed it with
//!   [`Router::handle_input`](router::Router::handle_input)`(now, input)`, then drain
//!   [`Router::poll_output`](router::Router::poll_output) until it returns `None` — after every input.
//!   It never reads a clock, opens a socket or spawns a task.
//! - [`driver::MediaHandler`]: the tokio driver. One actor task per meeting owns a `Router`; one
//!   task per media session reads frames and one writes them, over any
//!   [`dark_tower_core::transport::Session`].
//!
//! The meeting controller tells the SFU what to forward through
//! [`dark_tower_core::forwarding::MediaForwarding`], which [`driver::MediaHandler`] implements.
//! See `docs/SFU.md` for the forwarding model.

pub mod driver;
pub mod egress_policy;
pub mod router;

pub use driver::{MediaHandler, MediaHandlerConfig, MeetingStats};
pub use router::{
    Input, LinkReport, Output, Router, RouterStats, SessionId, SubscriberStats, SubscriptionStats,
    TrackStats, Via,
};
