//! The media frame header (`proto/MEDIA.md`) and media stream framing.
//!
//! A media frame is a fixed 28-byte header followed by the opaque payload. On a unidirectional
//! stream, the stream starts with one stream-type byte ([`STREAM_TYPE_GROUP`]) and then carries
//! frames, each preceded by its length (4-byte big-endian, header included). A datagram carries
//! exactly one frame, without a length prefix.

use bytes::{Buf, BufMut, Bytes, BytesMut};

use crate::error::ErrorCode;
use crate::ids::TrackAlias;
use crate::limits::{MAX_MEDIA_FRAME, MAX_SIMULCAST_LAYERS, MAX_TEMPORAL_LAYERS};

/// The header version this build writes and reads.
pub const VERSION: u8 = 1;
/// Encoded header length.
pub const HEADER_LEN: usize = 28;
/// First byte of a unidirectional media stream: one group of pictures of one layer of one track.
pub const STREAM_TYPE_GROUP: u8 = 0x01;

/// Flag: the frame is a keyframe (starts a group).
pub const FLAG_KEYFRAME: u8 = 0x01;
/// Flag: the frame can be dropped without breaking later frames (upper temporal layer).
pub const FLAG_DISCARDABLE: u8 = 0x02;
/// Flag: the last frame of its group.
pub const FLAG_END_OF_GROUP: u8 = 0x04;
/// Flag: the audio-level byte is meaningful.
pub const FLAG_AUDIO_LEVEL: u8 = 0x08;
const KNOWN_FLAGS: u8 = FLAG_KEYFRAME | FLAG_DISCARDABLE | FLAG_END_OF_GROUP | FLAG_AUDIO_LEVEL;

/// Why a media frame could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MediaCodecError {
    /// Fewer bytes than a header.
    #[error("media frame of {0} bytes is shorter than the 28-byte header")]
    Truncated(usize),
    /// A header version this build does not read.
    #[error("unsupported media header version {0}")]
    UnsupportedVersion(u8),
    /// Reserved flag bits set.
    #[error("reserved media flags set: {0:#04x}")]
    ReservedFlags(u8),
    /// Spatial or temporal layer id out of range.
    #[error("layer out of range: spatial {spatial}, temporal {temporal}")]
    BadLayer {
        /// Spatial id.
        spatial: u8,
        /// Temporal id.
        temporal: u8,
    },
    /// Audio level above 127.
    #[error("audio level {0} above 127")]
    BadAudioLevel(u8),
    /// A frame or length prefix above the limit.
    #[error("media frame of {len} bytes exceeds the limit of {max}")]
    TooLarge {
        /// Announced length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// A stream that does not start with a known stream type.
    #[error("unknown media stream type {0:#04x}")]
    UnknownStreamType(u8),
    /// The stream ended in the middle of a frame.
    #[error("media stream ended inside a frame")]
    UnexpectedEnd,
}

impl MediaCodecError {
    /// The wire code for this error.
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::TooLarge { .. } => ErrorCode::MessageTooLarge,
            Self::UnsupportedVersion(_) => ErrorCode::UnsupportedVersion,
            _ => ErrorCode::Malformed,
        }
    }
}

/// The routing header of a media frame. The SFU reads only this.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MediaHeader {
    /// Track alias from the publish acknowledgement.
    pub track_alias: TrackAlias,
    /// Simulcast layer, 0 (lowest) to 2.
    pub spatial_id: u8,
    /// Temporal layer, 0 (base) to 3.
    pub temporal_id: u8,
    /// Group (group of pictures) sequence number, per track and layer.
    pub group_seq: u64,
    /// Frame index within its group; the keyframe is 0.
    pub frame_seq: u32,
    /// Capture time, microseconds since the Unix epoch on the publisher's clock.
    pub capture_ts_us: u64,
    /// The frame is a keyframe.
    pub keyframe: bool,
    /// The frame may be dropped without breaking decodability.
    pub discardable: bool,
    /// The last frame of its group.
    pub end_of_group: bool,
    /// Audio level, 0 (loudest) to 127 (silence), -dBov as in RFC 6464.
    pub audio_level: Option<u8>,
}

impl MediaHeader {
    /// Checks the fields fit the wire format (what [`MediaHeader::decode`] would accept);
    /// senders call it before [`MediaHeader::encode`], which does not check.
    pub fn validate(&self) -> Result<(), MediaCodecError> {
        if self.spatial_id as usize >= MAX_SIMULCAST_LAYERS || self.temporal_id >= MAX_TEMPORAL_LAYERS {
            return Err(MediaCodecError::BadLayer { spatial: self.spatial_id, temporal: self.temporal_id });
        }
        match self.audio_level {
            Some(l) if l > 127 => Err(MediaCodecError::BadAudioLevel(l)),
            _ => Ok(()),
        }
    }

    /// Writes the 28-byte header. Fields out of range are truncated: call
    /// [`MediaHeader::validate`] first.
    pub fn encode(&self, out: &mut impl BufMut) {
        let mut flags = 0;
        if self.keyframe {
            flags |= FLAG_KEYFRAME;
        }
        if self.discardable {
            flags |= FLAG_DISCARDABLE;
        }
        if self.end_of_group {
            flags |= FLAG_END_OF_GROUP;
        }
        if self.audio_level.is_some() {
            flags |= FLAG_AUDIO_LEVEL;
        }
        out.put_u8(VERSION);
        out.put_u8(flags);
        out.put_u32(self.track_alias.0);
        out.put_u8((self.spatial_id << 4) | (self.temporal_id & 0x0f));
        out.put_u8(self.audio_level.unwrap_or(0));
        out.put_u64(self.group_seq);
        out.put_u32(self.frame_seq);
        out.put_u64(self.capture_ts_us);
    }

    /// Reads a header from the front of `buf`.
    pub fn decode(mut buf: &[u8]) -> Result<Self, MediaCodecError> {
        if buf.len() < HEADER_LEN {
            return Err(MediaCodecError::Truncated(buf.len()));
        }
        let version = buf.get_u8();
        if version != VERSION {
            return Err(MediaCodecError::UnsupportedVersion(version));
        }
        let flags = buf.get_u8();
        if flags & !KNOWN_FLAGS != 0 {
            return Err(MediaCodecError::ReservedFlags(flags & !KNOWN_FLAGS));
        }
        let track_alias = TrackAlias(buf.get_u32());
        let layer = buf.get_u8();
        let (spatial_id, temporal_id) = (layer >> 4, layer & 0x0f);
        if spatial_id as usize >= MAX_SIMULCAST_LAYERS || temporal_id >= MAX_TEMPORAL_LAYERS {
            return Err(MediaCodecError::BadLayer { spatial: spatial_id, temporal: temporal_id });
        }
        let level = buf.get_u8();
        let audio_level = if flags & FLAG_AUDIO_LEVEL != 0 {
            if level > 127 {
                return Err(MediaCodecError::BadAudioLevel(level));
            }
            Some(level)
        } else {
            None
        };
        Ok(Self {
            track_alias,
            spatial_id,
            temporal_id,
            group_seq: buf.get_u64(),
            frame_seq: buf.get_u32(),
            capture_ts_us: buf.get_u64(),
            keyframe: flags & FLAG_KEYFRAME != 0,
            discardable: flags & FLAG_DISCARDABLE != 0,
            end_of_group: flags & FLAG_END_OF_GROUP != 0,
            audio_level,
        })
    }
}

/// A decoded frame: header plus the payload, sharing the received buffer (no copy).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaFrame {
    /// Routing header.
    pub header: MediaHeader,
    /// Opaque payload (encoder output or SFrame ciphertext).
    pub payload: Bytes,
}

impl MediaFrame {
    /// Decodes a whole frame (header and payload) from `bytes`, checking `max` first.
    pub fn decode(bytes: Bytes, max: usize) -> Result<Self, MediaCodecError> {
        if bytes.len() > max {
            return Err(MediaCodecError::TooLarge { len: bytes.len(), max });
        }
        let header = MediaHeader::decode(&bytes)?;
        Ok(Self { header, payload: bytes.slice(HEADER_LEN..) })
    }

    /// Encoded length (header and payload, without a stream length prefix).
    pub fn encoded_len(&self) -> usize {
        HEADER_LEN + self.payload.len()
    }

    /// The frame as one buffer: the datagram form.
    pub fn encode(&self) -> Bytes {
        let mut out = BytesMut::with_capacity(self.encoded_len());
        self.header.encode(&mut out);
        out.extend_from_slice(&self.payload);
        out.freeze()
    }

    /// The stream form: length prefix and header, to be followed by the payload. Keeping them
    /// apart lets a forwarder write the shared payload without copying it.
    pub fn stream_prefix(&self) -> [u8; 4 + HEADER_LEN] {
        let mut out = [0u8; 4 + HEADER_LEN];
        let mut w = &mut out[..];
        w.put_u32(self.encoded_len() as u32);
        self.header.encode(&mut w);
        out
    }
}

/// Reassembles frames from the bytes of one unidirectional media stream.
#[derive(Debug)]
pub struct MediaStreamReader {
    buf: BytesMut,
    max: usize,
    typed: bool,
}

impl MediaStreamReader {
    /// A reader enforcing `max` bytes per frame.
    pub fn new(max: usize) -> Self {
        Self { buf: BytesMut::new(), max: max.min(MAX_MEDIA_FRAME), typed: false }
    }

    /// Appends bytes read from the stream.
    pub fn push(&mut self, data: &[u8]) {
        self.buf.extend_from_slice(data);
    }

    /// The next complete frame, if any. Errors are final for the stream.
    pub fn next_frame(&mut self) -> Result<Option<MediaFrame>, MediaCodecError> {
        if !self.typed {
            if self.buf.is_empty() {
                return Ok(None);
            }
            let t = self.buf.get_u8();
            if t != STREAM_TYPE_GROUP {
                return Err(MediaCodecError::UnknownStreamType(t));
            }
            self.typed = true;
        }
        if self.buf.len() < 4 {
            return Ok(None);
        }
        let len = u32::from_be_bytes([self.buf[0], self.buf[1], self.buf[2], self.buf[3]]) as usize;
        if len > self.max {
            return Err(MediaCodecError::TooLarge { len, max: self.max });
        }
        if len < HEADER_LEN {
            return Err(MediaCodecError::Truncated(len));
        }
        if self.buf.len() < 4 + len {
            self.buf.reserve(4 + len - self.buf.len());
            return Ok(None);
        }
        self.buf.advance(4);
        let bytes = self.buf.split_to(len).freeze();
        MediaFrame::decode(bytes, self.max).map(Some)
    }

    /// Call when the stream finished: an error if it ended inside a frame.
    pub fn finish(&self) -> Result<(), MediaCodecError> {
        if self.buf.is_empty() { Ok(()) } else { Err(MediaCodecError::UnexpectedEnd) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header() -> MediaHeader {
        MediaHeader {
            track_alias: TrackAlias(7),
            spatial_id: 2,
            temporal_id: 1,
            group_seq: 3,
            frame_seq: 4,
            capture_ts_us: 5,
            keyframe: false,
            discardable: true,
            end_of_group: false,
            audio_level: None,
        }
    }

    #[test]
    fn stream_reader_reassembles_byte_by_byte() {
        let f = MediaFrame { header: header(), payload: Bytes::from_static(b"payload") };
        let mut wire = vec![STREAM_TYPE_GROUP];
        wire.extend_from_slice(&f.stream_prefix());
        wire.extend_from_slice(&f.payload);
        wire.extend_from_slice(&f.stream_prefix());
        wire.extend_from_slice(&f.payload);
        let mut r = MediaStreamReader::new(MAX_MEDIA_FRAME);
        let mut got = vec![];
        for b in wire {
            r.push(&[b]);
            while let Some(frame) = r.next_frame().unwrap() {
                got.push(frame);
            }
        }
        assert_eq!(got, vec![f.clone(), f]);
        assert!(r.finish().is_ok());
    }

    #[test]
    fn bad_headers_are_typed_errors() {
        let mut b = BytesMut::new();
        header().encode(&mut b);
        let mut v = b.to_vec();
        v[0] = 9;
        assert_eq!(MediaHeader::decode(&v), Err(MediaCodecError::UnsupportedVersion(9)));
        let mut v = b.to_vec();
        v[1] = 0x80;
        assert_eq!(MediaHeader::decode(&v), Err(MediaCodecError::ReservedFlags(0x80)));
        let mut v = b.to_vec();
        v[6] = 0x30;
        assert!(matches!(MediaHeader::decode(&v), Err(MediaCodecError::BadLayer { .. })));
        assert_eq!(MediaHeader::decode(&v[..10]), Err(MediaCodecError::Truncated(10)));
    }

    #[test]
    fn oversized_prefix_rejected() {
        let mut r = MediaStreamReader::new(1000);
        r.push(&[STREAM_TYPE_GROUP]);
        r.push(&2000u32.to_be_bytes());
        assert_eq!(r.next_frame(), Err(MediaCodecError::TooLarge { len: 2000, max: 1000 }));
    }
}
