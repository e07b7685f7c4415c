//! Signaling framing: each protobuf message is preceded by its length, a 4-byte big-endian
//! unsigned integer. A length above [`MAX_SIGNAL_MESSAGE`] is an error before any allocation.

use bytes::{Buf, BufMut, Bytes, BytesMut};
use prost::Message;

use crate::error::ErrorCode;
use crate::limits::MAX_SIGNAL_MESSAGE;
use crate::proto::sig;

/// Bytes in the length prefix.
pub const PREFIX_LEN: usize = 4;

/// Why a signaling message could not be framed or decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignalCodecError {
    /// The length prefix (or the message to encode) exceeds the limit.
    #[error("signaling message of {len} bytes exceeds the limit of {max}")]
    TooLarge {
        /// Announced or actual length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// The bytes are not a valid protobuf message of the expected type.
    #[error("malformed signaling message: {0}")]
    Malformed(String),
    /// A valid envelope without a message.
    #[error("signaling envelope carries no message")]
    Empty,
}

impl SignalCodecError {
    /// The wire code for this error.
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::TooLarge { .. } => ErrorCode::MessageTooLarge,
            Self::Malformed(_) | Self::Empty => ErrorCode::Malformed,
        }
    }
}

/// Splits one complete message body off the front of `buf`.
///
/// Returns `Ok(None)` when `buf` does not yet hold a whole message (read more and call again);
/// the prefix is validated against `max` as soon as its 4 bytes are there.
pub fn split_message(buf: &mut BytesMut, max: usize) -> Result<Option<Bytes>, SignalCodecError> {
    if buf.len() < PREFIX_LEN {
        return Ok(None);
    }
    let len = u32::from_be_bytes([buf[0], buf[1], buf[2], buf[3]]) as usize;
    if len > max {
        return Err(SignalCodecError::TooLarge { len, max });
    }
    if buf.len() < PREFIX_LEN + len {
        buf.reserve(PREFIX_LEN + len - buf.len());
        return Ok(None);
    }
    buf.advance(PREFIX_LEN);
    Ok(Some(buf.split_to(len).freeze()))
}

/// Appends `msg` with its length prefix to `out`.
pub fn encode_message<M: Message>(msg: &M, out: &mut impl BufMut) -> Result<(), SignalCodecError> {
    let len = msg.encoded_len();
    if len > MAX_SIGNAL_MESSAGE {
        return Err(SignalCodecError::TooLarge { len, max: MAX_SIGNAL_MESSAGE });
    }
    out.put_u32(len as u32);
    // `encode` fails only when `out` lacks capacity; BytesMut and Vec grow.
    msg.encode(out).map_err(|e| SignalCodecError::Malformed(e.to_string()))
}

/// `msg` as one framed buffer.
pub fn frame<M: Message>(msg: &M) -> Result<Bytes, SignalCodecError> {
    let mut out = BytesMut::with_capacity(PREFIX_LEN + msg.encoded_len());
    encode_message(msg, &mut out)?;
    Ok(out.freeze())
}

/// Decodes a client envelope body (without prefix); an envelope with no message is an error.
pub fn decode_client(body: Bytes) -> Result<sig::ClientMessage, SignalCodecError> {
    let msg = sig::ClientMessage::decode(body).map_err(|e| SignalCodecError::Malformed(e.to_string()))?;
    if msg.message.is_none() {
        return Err(SignalCodecError::Empty);
    }
    Ok(msg)
}

/// Decodes a server envelope body (without prefix); an envelope with no message is an error.
pub fn decode_server(body: Bytes) -> Result<sig::ServerMessage, SignalCodecError> {
    let msg = sig::ServerMessage::decode(body).map_err(|e| SignalCodecError::Malformed(e.to_string()))?;
    if msg.message.is_none() {
        return Err(SignalCodecError::Empty);
    }
    Ok(msg)
}

/// Accumulates bytes read from a stream and yields whole message bodies.
#[derive(Debug, Default)]
pub struct MessageReader {
    buf: BytesMut,
    max: usize,
}

impl MessageReader {
    /// A reader enforcing `max` bytes per message.
    pub fn new(max: usize) -> Self {
        Self { buf: BytesMut::new(), max }
    }

    /// Appends bytes read from the stream.
    pub fn push(&mut self, data: &[u8]) {
        self.buf.extend_from_slice(data);
    }

    /// The next complete message body, if any.
    pub fn next_message(&mut self) -> Result<Option<Bytes>, SignalCodecError> {
        split_message(&mut self.buf, self.max)
    }

    /// Bytes buffered but not yet returned.
    pub fn buffered(&self) -> usize {
        self.buf.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ping(t: u64) -> sig::ClientMessage {
        sig::ClientMessage {
            request_id: 7,
            message: Some(sig::client_message::Message::Ping(sig::Ping { client_time_us: t })),
        }
    }

    #[test]
    fn split_waits_for_whole_message() {
        let framed = frame(&ping(42)).unwrap();
        let mut r = MessageReader::new(MAX_SIGNAL_MESSAGE);
        for b in framed.iter().take(framed.len() - 1) {
            r.push(&[*b]);
            assert_eq!(r.next_message().unwrap(), None);
        }
        r.push(&framed[framed.len() - 1..]);
        let body = r.next_message().unwrap().unwrap();
        assert_eq!(decode_client(body).unwrap(), ping(42));
        assert_eq!(r.buffered(), 0);
    }

    #[test]
    fn oversized_prefix_is_rejected_before_the_body_arrives() {
        let mut buf = BytesMut::from(&((MAX_SIGNAL_MESSAGE as u32) + 1).to_be_bytes()[..]);
        assert_eq!(
            split_message(&mut buf, MAX_SIGNAL_MESSAGE),
            Err(SignalCodecError::TooLarge { len: MAX_SIGNAL_MESSAGE + 1, max: MAX_SIGNAL_MESSAGE })
        );
    }

    #[test]
    fn a_message_type_newer_than_this_build_decodes_as_empty() {
        // request_id 5, then field 99 (a future oneof member) with an empty body. Clients skip
        // such envelopes (proto/README.md §5); servers refuse them.
        let future = Bytes::from_static(&[0x08, 0x05, 0x9a, 0x06, 0x00]);
        assert_eq!(decode_server(future.clone()), Err(SignalCodecError::Empty));
        assert_eq!(decode_client(future), Err(SignalCodecError::Empty));
    }

    #[test]
    fn garbage_and_empty_envelopes_are_malformed() {
        assert!(matches!(
            decode_client(Bytes::from_static(&[0xff, 0xff, 0xff])),
            Err(SignalCodecError::Malformed(_))
        ));
        assert_eq!(decode_client(Bytes::new()), Err(SignalCodecError::Empty));
    }
}
