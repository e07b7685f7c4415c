//! Receiving media: one task accepting the media handler's group streams, one per stream, one
//! for datagrams. Frames become [`RoomEvent::Frame`] events.

use std::sync::Arc;

use dark_tower_core::codec::media::{MediaFrame, MediaStreamReader};
use dark_tower_core::limits::{MAX_DATAGRAM_FRAME, MAX_MEDIA_FRAME};
use dark_tower_core::transport::wt::WtSession;
use dark_tower_core::transport::{RecvStream, Session};

use crate::room::{RemoteFrame, RoomEvent, Shared};

pub(crate) fn spawn_receivers(session: WtSession, shared: Arc<Shared>) {
    let s = session.clone();
    let sh = Arc::clone(&shared);
    tokio::spawn(async move {
        while let Ok(recv) = s.accept_uni().await {
            let sh = Arc::clone(&sh);
            tokio::spawn(read_stream(recv, sh));
        }
    });
    tokio::spawn(async move {
        while let Ok(d) = session.recv_datagram().await {
            match MediaFrame::decode(d, MAX_DATAGRAM_FRAME.max(2048)) {
                Ok(frame) => emit(&shared, frame, true),
                Err(e) => tracing::debug!(error = %e, "bad datagram from server"),
            }
        }
    });
}

async fn read_stream<R: RecvStream>(mut recv: R, shared: Arc<Shared>) {
    let mut reader = MediaStreamReader::new(MAX_MEDIA_FRAME);
    let mut buf = vec![0u8; 32 * 1024];
    loop {
        match recv.read(&mut buf).await {
            Ok(Some(n)) => {
                reader.push(&buf[..n]);
                loop {
                    match reader.next_frame() {
                        Ok(Some(frame)) => emit(&shared, frame, false),
                        Ok(None) => break,
                        Err(e) => {
                            tracing::warn!(error = %e, "bad media stream from server");
                            return;
                        }
                    }
                }
            }
            Ok(None) | Err(_) => return,
        }
    }
}

fn emit(shared: &Shared, frame: MediaFrame, datagram: bool) {
    let (participant, track) = shared.lookup(frame.header.track_alias);
    shared.emit(RoomEvent::Frame(RemoteFrame {
        participant,
        track,
        header: frame.header,
        payload: frame.payload,
        datagram,
    }));
}
