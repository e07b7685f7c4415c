//! Receiving media: one task accepting the media handler's group streams, one per stream, one
//! for datagrams. Frames become [`RoomEvent::Frame`] events.

use std::sync::Arc;

use bytes::Bytes;
use dark_tower_core::codec::media::MediaFrame;
use dark_tower_core::limits::{MAX_DATAGRAM_FRAME, MAX_MEDIA_FRAME};
use dark_tower_core::transport::wt::WtSession;
use dark_tower_core::transport::{MediaStreamFrames, RecvStream, Session};

use crate::e2ee::E2eeError;
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

async fn read_stream<R: RecvStream>(recv: R, shared: Arc<Shared>) {
    let mut frames = MediaStreamFrames::new(recv, MAX_MEDIA_FRAME);
    loop {
        match frames.next().await {
            Ok(Some(frame)) => emit(&shared, frame, false),
            Ok(None) => return,
            Err(e) => {
                tracing::warn!(error = %e, "bad media stream from server");
                return frames.stop(e.code().wire());
            }
        }
    }
}

fn emit(shared: &Shared, frame: MediaFrame, datagram: bool) {
    let (participant, track) = shared.lookup(frame.header.track_alias);
    let payload = match &shared.e2ee {
        None => frame.payload,
        Some(e2ee) => {
            // A frame of a track not (yet) in the roster has no known sender, so no key.
            let decrypted = match participant {
                Some(sender) => e2ee.decrypt(sender, &frame.header, &frame.payload),
                None => Err(E2eeError::UnknownSender),
            };
            match decrypted {
                Ok(plain) => Bytes::from(plain),
                Err(error) => {
                    shared.emit(RoomEvent::EncryptionError { participant, track, error });
                    return;
                }
            }
        }
    };
    shared.emit(RoomEvent::Frame(RemoteFrame {
        participant,
        track,
        header: frame.header,
        payload,
        datagram,
    }));
}
