//! Client errors, sorted by who is at fault.

use dark_tower_core::ErrorCode;

/// Why a client operation failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClientError {
    /// The server URL is not a valid http(s) URL.
    #[error("invalid server url: {0}")]
    InvalidUrl(String),
    /// `POST /v1/join` answered with an error.
    #[error("join refused ({status}): {code}: {message}")]
    JoinRefused {
        /// HTTP status.
        status: u16,
        /// Error code from the body.
        code: ErrorCode,
        /// Message from the body.
        message: String,
    },
    /// The WebTransport session was refused before it was accepted (bad credentials).
    #[error("session rejected by the server")]
    SessionRejected,
    /// The server ended the session with a typed error.
    #[error("server error {code}: {message}")]
    Server {
        /// Error code.
        code: ErrorCode,
        /// Message.
        message: String,
    },
    /// The server could not be reached or the connection was lost.
    #[error("connection: {0}")]
    Connection(String),
    /// The server sent something this client does not understand.
    #[error("protocol: {0}")]
    Protocol(String),
    /// The server did not answer in time.
    #[error("timed out waiting for the server")]
    Timeout,
    /// A message above a protocol limit, refused before sending.
    #[error("{size} bytes is above the limit of {max}")]
    TooLarge {
        /// Size of what was to be sent.
        size: usize,
        /// The limit.
        max: usize,
    },
    /// The media connection was replaced (after a reconnect): the next video frame of this layer
    /// must be a keyframe. The frame was not sent.
    #[error("a keyframe is needed after the media connection was replaced")]
    KeyframeRequired,
    /// A frame could not be encrypted (end-to-end encryption is on).
    #[error("e2ee: {0}")]
    Encryption(#[from] crate::e2ee::E2eeError),
    /// The operation is invalid in the current state (e.g. a delta frame before any keyframe).
    #[error("invalid use: {0}")]
    InvalidUse(String),
}

impl ClientError {
    /// The error code, if the server sent one.
    pub fn code(&self) -> Option<ErrorCode> {
        match self {
            Self::JoinRefused { code, .. } | Self::Server { code, .. } => Some(*code),
            Self::TooLarge { .. } => Some(ErrorCode::MessageTooLarge),
            _ => None,
        }
    }
}
