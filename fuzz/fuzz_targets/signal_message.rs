//! Signaling decoding: any bytes pushed into the framed reader, decoded as client and server
//! envelopes, never panic and never yield a message above the limit.
#![no_main]

use dark_tower_core::codec::signal::{self, MessageReader};
use dark_tower_core::limits::MAX_SIGNAL_MESSAGE;
use libfuzzer_sys::fuzz_target;
use prost::Message;

fuzz_target!(|data: &[u8]| {
    let chunk = data.first().map_or(1, |b| usize::from(*b % 13) + 1);
    let mut reader = MessageReader::new(MAX_SIGNAL_MESSAGE);
    for part in data.chunks(chunk) {
        reader.push(part);
        loop {
            match reader.next_message() {
                Ok(Some(body)) => {
                    assert!(body.len() <= MAX_SIGNAL_MESSAGE);
                    if let Ok(m) = signal::decode_client(body.clone()) {
                        // What decodes re-encodes, and decodes again to the same message.
                        let again = signal::decode_client(m.encode_to_vec().into()).expect("round trip");
                        assert_eq!(again, m);
                    }
                    let _ = signal::decode_server(body);
                }
                Ok(None) => break,
                Err(_) => return,
            }
        }
    }
});
