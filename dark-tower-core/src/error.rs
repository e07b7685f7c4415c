//! The error taxonomy: every error the system reports to a peer carries an [`ErrorCode`], and
//! every code belongs to a [`Fault`] (who is at fault). [`ErrorCode::spec`] is the one place where
//! codes map to wire numbers, REST names and HTTP statuses.

use crate::proto::sig;

/// Who is at fault for an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// The peer sent something it must not (malformed, too large, out of order).
    Peer,
    /// The peer lacks valid credentials or permission.
    Unauthorized,
    /// The peer speaks a version or feature we do not.
    Incompatible,
    /// The thing asked for does not exist (any more).
    NotFound,
    /// A limit was reached; retrying later may work.
    ResourceExhausted,
    /// Our bug or an internal failure.
    Internal,
}

/// A typed error code, shared by signaling (`Error`, `Disconnect`), WebTransport session close
/// codes and REST responses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorCode {
    /// Undecodable message or frame.
    Malformed,
    /// A message or frame above the protocol limit.
    MessageTooLarge,
    /// A valid message in the wrong state (e.g. publish before join).
    ProtocolViolation,
    /// A track id or alias that does not exist or is not the sender's.
    UnknownTrack,
    /// A track the sender already published.
    DuplicateTrack,
    /// Something with that name exists already (a live meeting of the same name).
    AlreadyExists,
    /// A token that does not verify.
    InvalidToken,
    /// A token past its `exp` (or before its `nbf`).
    TokenExpired,
    /// The grant does not allow this.
    PermissionDenied,
    /// A token for another meeting.
    MeetingMismatch,
    /// A moderator removed the participant.
    Removed,
    /// The meeting is locked.
    MeetingLocked,
    /// A moderator denied entry from the lobby.
    LobbyDenied,
    /// An unsupported protocol version.
    UnsupportedVersion,
    /// A request that is well-formed but invalid (bad field values).
    InvalidRequest,
    /// No such meeting, and it may not be created implicitly.
    MeetingNotFound,
    /// The meeting has ended.
    MeetingEnded,
    /// Some other thing was not found.
    NotFound,
    /// Resuming was refused: the participant has left (grace period over) or the token is stale.
    ResumeFailed,
    /// Too many requests.
    RateLimited,
    /// The meeting holds its maximum number of participants.
    MeetingFull,
    /// The participant publishes its maximum number of tracks.
    TooManyTracks,
    /// An internal error.
    Internal,
    /// The server is shutting down.
    ShuttingDown,
    /// The server did not answer within its time limit.
    Timeout,
}

/// Everything the wire knows about one code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CodeSpec {
    /// Wire number: the protobuf `ErrorCode` value and the WebTransport session close code.
    pub wire: u32,
    /// snake_case name: the REST `error.code`.
    pub name: &'static str,
    /// HTTP status for REST responses.
    pub http_status: u16,
    /// Who is at fault.
    pub fault: Fault,
}

impl ErrorCode {
    /// Every code, for reverse lookups and tests.
    pub const ALL: [ErrorCode; 25] = [
        Self::Malformed,
        Self::MessageTooLarge,
        Self::ProtocolViolation,
        Self::UnknownTrack,
        Self::DuplicateTrack,
        Self::AlreadyExists,
        Self::InvalidToken,
        Self::TokenExpired,
        Self::PermissionDenied,
        Self::MeetingMismatch,
        Self::Removed,
        Self::MeetingLocked,
        Self::LobbyDenied,
        Self::UnsupportedVersion,
        Self::InvalidRequest,
        Self::MeetingNotFound,
        Self::MeetingEnded,
        Self::NotFound,
        Self::ResumeFailed,
        Self::RateLimited,
        Self::MeetingFull,
        Self::TooManyTracks,
        Self::Internal,
        Self::ShuttingDown,
        Self::Timeout,
    ];

    /// The single mapping of codes to the wire.
    pub const fn spec(self) -> CodeSpec {
        use ErrorCode as C;
        use Fault as F;
        let (wire, name, http_status, fault) = match self {
            C::Malformed => (1, "malformed", 400, F::Peer),
            C::MessageTooLarge => (2, "message_too_large", 413, F::Peer),
            C::ProtocolViolation => (3, "protocol_violation", 400, F::Peer),
            C::UnknownTrack => (4, "unknown_track", 404, F::Peer),
            C::DuplicateTrack => (5, "duplicate_track", 409, F::Peer),
            C::AlreadyExists => (6, "already_exists", 409, F::Peer),
            C::InvalidToken => (10, "invalid_token", 401, F::Unauthorized),
            C::TokenExpired => (11, "token_expired", 401, F::Unauthorized),
            C::PermissionDenied => (12, "permission_denied", 403, F::Unauthorized),
            C::MeetingMismatch => (13, "meeting_mismatch", 403, F::Unauthorized),
            C::Removed => (14, "removed", 403, F::Unauthorized),
            C::MeetingLocked => (15, "meeting_locked", 403, F::Unauthorized),
            C::LobbyDenied => (16, "lobby_denied", 403, F::Unauthorized),
            C::UnsupportedVersion => (20, "unsupported_version", 400, F::Incompatible),
            C::InvalidRequest => (21, "invalid_request", 400, F::Incompatible),
            C::MeetingNotFound => (30, "meeting_not_found", 404, F::NotFound),
            C::MeetingEnded => (31, "meeting_ended", 410, F::NotFound),
            C::NotFound => (32, "not_found", 404, F::NotFound),
            C::ResumeFailed => (33, "resume_failed", 410, F::NotFound),
            C::RateLimited => (40, "rate_limited", 429, F::ResourceExhausted),
            C::MeetingFull => (41, "meeting_full", 409, F::ResourceExhausted),
            C::TooManyTracks => (42, "too_many_tracks", 409, F::ResourceExhausted),
            C::Internal => (50, "internal", 500, F::Internal),
            C::ShuttingDown => (51, "shutting_down", 503, F::Internal),
            C::Timeout => (52, "timeout", 503, F::Internal),
        };
        CodeSpec { wire, name, http_status, fault }
    }

    /// The wire number.
    pub const fn wire(self) -> u32 {
        self.spec().wire
    }

    /// The REST name.
    pub const fn name(self) -> &'static str {
        self.spec().name
    }

    /// The code with wire number `wire`, if any.
    pub fn from_wire(wire: u32) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.wire() == wire)
    }

    /// The code with REST name `name`, if any.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.name() == name)
    }

    /// As the generated protobuf enum.
    pub fn to_proto(self) -> sig::ErrorCode {
        // The numbers are the same by construction (checked by a test), so the fallback never happens.
        sig::ErrorCode::try_from(self.wire() as i32).unwrap_or(sig::ErrorCode::Internal)
    }

    /// From the generated protobuf enum value; unknown values map to `None`.
    pub fn from_proto(v: i32) -> Option<Self> {
        u32::try_from(v).ok().and_then(Self::from_wire)
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// An error as a peer sees it: a code and a human-readable message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct WireError {
    /// The typed code.
    pub code: ErrorCode,
    /// Human-readable detail; never contains secrets.
    pub message: String,
}

impl WireError {
    /// A new error.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self { code, message: message.into() }
    }

    /// As the protobuf `Error` message.
    pub fn to_proto(&self) -> sig::Error {
        sig::Error { code: self.code.to_proto() as i32, message: self.message.clone() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_numbers_are_unique_and_match_the_proto_enum() {
        for (i, a) in ErrorCode::ALL.iter().enumerate() {
            for b in &ErrorCode::ALL[i + 1..] {
                assert_ne!(a.wire(), b.wire());
                assert_ne!(a.name(), b.name());
            }
            let p = sig::ErrorCode::try_from(a.wire() as i32).expect("code in proto enum");
            assert_eq!(p.as_str_name(), format!("ERROR_CODE_{}", a.name().to_uppercase()));
            assert_eq!(ErrorCode::from_wire(a.wire()), Some(*a));
            assert_eq!(ErrorCode::from_name(a.name()), Some(*a));
        }
    }
}
