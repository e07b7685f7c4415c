//! # dark-tower-signaling — the meeting controller
//!
//! Owns meeting state — roster, tracks, subscriptions — and tells the media handler what to
//! forward. Two layers:
//! - [`meeting::Meeting`]: the sans-IO state machine of one meeting. Call
//!   [`Meeting::handle`](meeting::Meeting::handle)`(now, command)`, then drain
//!   [`Meeting::poll_effect`](meeting::Meeting::poll_effect) until `None`; ask
//!   [`Meeting::poll_timeout`](meeting::Meeting::poll_timeout) when to call
//!   [`Meeting::handle_timeout`](meeting::Meeting::handle_timeout). It never reads a clock or
//!   touches the network.
//! - [`driver::MeetingController`]: the tokio driver. One actor task per meeting owns a
//!   `Meeting`; one task per signaling session reads length-prefixed protobuf messages
//!   (`proto/dark_tower/signaling/v1/signaling.proto`) from any
//!   [`dark_tower_core::transport::Session`].
//!
//! See `docs/SIGNALING.md` for the protocol, message by message.

pub mod driver;
pub mod meeting;

pub use driver::{JoinObserver, McConfig, MeetingController};
pub use meeting::{Command, Effect, JoinRequest, Meeting, MeetingConfig, MeetingEvent};
