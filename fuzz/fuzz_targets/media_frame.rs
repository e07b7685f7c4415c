//! Media frame decoding: any bytes, as a datagram frame and as a stream split at every chunk
//! size, never panic; a frame that decodes re-encodes to the same bytes.
#![no_main]

use bytes::Bytes;
use dark_tower_core::codec::media::{MediaFrame, MediaStreamReader};
use dark_tower_core::limits::MAX_MEDIA_FRAME;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(frame) = MediaFrame::decode(Bytes::copy_from_slice(data), MAX_MEDIA_FRAME) {
        // MEDIA.md §5: decode then encode is the identity, except byte 7 (audio level), which is
        // written as 0 when the AUDIO_LEVEL flag is clear.
        let mut expected = data.to_vec();
        if frame.header.audio_level.is_none() {
            expected[7] = 0;
        }
        assert_eq!(frame.encode().as_ref(), expected.as_slice(), "decode then encode is the identity");
    }
    let chunk = data.first().map_or(1, |b| usize::from(*b % 17) + 1);
    let mut reader = MediaStreamReader::new(64 * 1024);
    for part in data.chunks(chunk) {
        reader.push(part);
        loop {
            match reader.next_frame() {
                Ok(Some(f)) => assert!(f.encoded_len() <= 64 * 1024),
                Ok(None) => break,
                Err(_) => return,
            }
        }
    }
    let _ = reader.finish();
});
