//! Generated protobuf types of `proto/dark_tower/signaling/v1/signaling.proto`.
//!
//! Messages travel length-prefixed on the signaling stream; see [`crate::codec::signal`].
#![allow(missing_docs, clippy::all)]

/// `dark_tower.signaling.v1`.
pub mod signaling {
    /// Version 1 of the signaling protocol.
    pub mod v1 {
        include!(concat!(env!("OUT_DIR"), "/dark_tower.signaling.v1.rs"));
    }
}

pub use signaling::v1 as sig;
