//! Property tests of the wire codecs: every valid media header round-trips, decoding is the exact
//! inverse of encoding, and no input (however hostile, however chunked) makes a decoder panic.

use bytes::{Bytes, BytesMut};
use dark_tower_core::codec::media::{
    HEADER_LEN, MediaCodecError, MediaFrame, MediaHeader, MediaStreamReader, STREAM_TYPE_GROUP,
};
use dark_tower_core::codec::signal::{self, MessageReader};
use dark_tower_core::ids::TrackAlias;
use dark_tower_core::limits::{MAX_DATAGRAM_FRAME, MAX_MEDIA_FRAME, MAX_SIGNAL_MESSAGE};
use dark_tower_core::proto::sig;
use proptest::prelude::*;

fn valid_header() -> impl Strategy<Value = MediaHeader> {
    (
        any::<u32>(),
        0u8..3,
        0u8..4,
        any::<u64>(),
        any::<u32>(),
        any::<u64>(),
        any::<(bool, bool, bool)>(),
        proptest::option::of(0u8..=127),
    )
        .prop_map(
            |(alias, spatial_id, temporal_id, group_seq, frame_seq, capture_ts_us, flags, audio_level)| {
                MediaHeader {
                    track_alias: TrackAlias(alias),
                    spatial_id,
                    temporal_id,
                    group_seq,
                    frame_seq,
                    capture_ts_us,
                    keyframe: flags.0,
                    discardable: flags.1,
                    end_of_group: flags.2,
                    audio_level,
                }
            },
        )
}

fn valid_frame() -> impl Strategy<Value = MediaFrame> {
    (valid_header(), proptest::collection::vec(any::<u8>(), 0..2048))
        .prop_map(|(header, payload)| MediaFrame { header, payload: Bytes::from(payload) })
}

/// Feeds `bytes` to a stream reader in pieces of the given sizes (cycled) and drains it.
fn drain_stream(bytes: &[u8], chunks: &[usize], max: usize) -> (Vec<MediaFrame>, Option<MediaCodecError>) {
    let mut reader = MediaStreamReader::new(max);
    let mut frames = vec![];
    let mut rest = bytes;
    let mut sizes = chunks.iter().copied().cycle();
    while !rest.is_empty() {
        let n = sizes.next().unwrap_or(rest.len()).clamp(1, rest.len());
        let (piece, tail) = rest.split_at(n);
        rest = tail;
        reader.push(piece);
        loop {
            match reader.next_frame() {
                Ok(Some(f)) => frames.push(f),
                Ok(None) => break,
                Err(e) => return (frames, Some(e)),
            }
        }
    }
    (frames, reader.finish().err())
}

fn stream_of(frames: &[MediaFrame]) -> Vec<u8> {
    let mut wire = vec![STREAM_TYPE_GROUP];
    for f in frames {
        wire.extend_from_slice(&f.stream_prefix());
        wire.extend_from_slice(&f.payload);
    }
    wire
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn valid_headers_round_trip(h in valid_header()) {
        let mut buf = BytesMut::new();
        h.encode(&mut buf);
        prop_assert_eq!(buf.len(), HEADER_LEN);
        prop_assert_eq!(MediaHeader::decode(&buf), Ok(h));
        // Layout spot checks: version, flags, layer byte, audio-level byte.
        prop_assert_eq!(buf[0], 1);
        prop_assert_eq!(buf[1] & 0xf0, 0);
        prop_assert_eq!(buf[6], (h.spatial_id << 4) | h.temporal_id);
        prop_assert_eq!(buf[7], h.audio_level.unwrap_or(0));
    }

    #[test]
    fn valid_frames_round_trip_as_datagrams_and_streams(
        frames in proptest::collection::vec(valid_frame(), 1..6),
        chunks in proptest::collection::vec(1usize..300, 1..8),
    ) {
        for f in &frames {
            let wire = f.encode();
            prop_assert_eq!(wire.len(), f.encoded_len());
            prop_assert_eq!(MediaFrame::decode(wire.clone(), MAX_MEDIA_FRAME), Ok(f.clone()));
            let datagram = MediaFrame::decode(wire, MAX_DATAGRAM_FRAME);
            if f.encoded_len() <= MAX_DATAGRAM_FRAME {
                prop_assert_eq!(datagram, Ok(f.clone()));
            } else {
                let too_large = MediaCodecError::TooLarge { len: f.encoded_len(), max: MAX_DATAGRAM_FRAME };
                prop_assert_eq!(datagram, Err(too_large));
            }
        }
        let (got, err) = drain_stream(&stream_of(&frames), &chunks, MAX_MEDIA_FRAME);
        prop_assert_eq!(err, None);
        prop_assert_eq!(got, frames);
    }

    #[test]
    fn decoding_is_the_inverse_of_encoding(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
        if let Ok(h) = MediaHeader::decode(&bytes) {
            let mut buf = BytesMut::new();
            h.encode(&mut buf);
            let mut canonical = bytes[..HEADER_LEN].to_vec();
            if h.audio_level.is_none() {
                // The audio-level byte is ignored without its flag and written as 0.
                canonical[7] = 0;
            }
            prop_assert_eq!(&buf[..], &canonical[..]);
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic_the_media_decoders(
        bytes in proptest::collection::vec(any::<u8>(), 0..512),
        chunks in proptest::collection::vec(1usize..64, 1..8),
        max in prop_oneof![Just(MAX_MEDIA_FRAME), Just(MAX_DATAGRAM_FRAME), 0usize..64],
    ) {
        let _ = MediaHeader::decode(&bytes);
        let _ = MediaFrame::decode(Bytes::from(bytes.clone()), max);
        let _ = drain_stream(&bytes, &chunks, max);
        // The same bytes behind a valid stream type byte reach the length and header checks.
        let mut typed = vec![STREAM_TYPE_GROUP];
        typed.extend_from_slice(&bytes);
        let _ = drain_stream(&typed, &chunks, max);
    }

    #[test]
    fn plausible_streams_never_panic(
        frames in proptest::collection::vec(valid_frame(), 0..4),
        flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..6),
        cut in any::<prop::sample::Index>(),
        chunks in proptest::collection::vec(1usize..300, 1..8),
    ) {
        // A valid stream, corrupted in a few places and truncated: errors, never panics.
        let mut wire = stream_of(&frames);
        for (at, v) in flips {
            let i = at.index(wire.len());
            wire[i] = v;
        }
        let keep = cut.index(wire.len() + 1);
        wire.truncate(keep);
        let _ = drain_stream(&wire, &chunks, MAX_MEDIA_FRAME);
    }

    #[test]
    fn arbitrary_bytes_never_panic_the_signaling_decoders(
        bytes in proptest::collection::vec(any::<u8>(), 0..512),
        chunks in proptest::collection::vec(1usize..64, 1..8),
        max in prop_oneof![Just(MAX_SIGNAL_MESSAGE), 0usize..64],
    ) {
        let mut buf = BytesMut::from(&bytes[..]);
        while let Ok(Some(body)) = signal::split_message(&mut buf, max) {
            let _ = signal::decode_client(body.clone());
            let _ = signal::decode_server(body);
        }
        let _ = signal::decode_client(Bytes::from(bytes.clone()));
        let _ = signal::decode_server(Bytes::from(bytes.clone()));

        let mut reader = MessageReader::new(max);
        let mut rest = &bytes[..];
        let mut sizes = chunks.iter().copied().cycle();
        'outer: while !rest.is_empty() {
            let n = sizes.next().unwrap_or(rest.len()).clamp(1, rest.len());
            let (piece, tail) = rest.split_at(n);
            rest = tail;
            reader.push(piece);
            loop {
                match reader.next_message() {
                    Ok(Some(body)) => {
                        let _ = signal::decode_client(body);
                    }
                    Ok(None) => break,
                    Err(_) => break 'outer,
                }
            }
        }
    }

    #[test]
    fn framed_signaling_messages_round_trip(
        request_id in any::<u32>(),
        time in any::<u64>(),
        track_id in "[A-Za-z0-9_]{0,40}",
        max_spatial_id in proptest::option::of(0u32..3),
        chunks in proptest::collection::vec(1usize..16, 1..8),
    ) {
        use sig::client_message::Message as M;
        let messages = vec![
            sig::ClientMessage { request_id, message: Some(M::Ping(sig::Ping { client_time_us: time })) },
            sig::ClientMessage {
                request_id,
                message: Some(M::Subscribe(sig::Subscribe { track_id, max_spatial_id })),
            },
        ];
        let mut wire = BytesMut::new();
        for m in &messages {
            signal::encode_message(m, &mut wire).expect("encode");
        }
        let mut reader = MessageReader::new(MAX_SIGNAL_MESSAGE);
        let mut got = vec![];
        let mut rest = &wire[..];
        let mut sizes = chunks.iter().copied().cycle();
        while !rest.is_empty() {
            let n = sizes.next().unwrap_or(rest.len()).clamp(1, rest.len());
            let (piece, tail) = rest.split_at(n);
            rest = tail;
            reader.push(piece);
            while let Some(body) = reader.next_message().expect("valid stream") {
                got.push(signal::decode_client(body).expect("valid message"));
            }
        }
        prop_assert_eq!(got, messages);
        prop_assert_eq!(reader.buffered(), 0);
    }
}
