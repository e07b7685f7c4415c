//! Per-subscriber egress: a bounded queue in front of one writer task per media session.
//!
//! Drop policy: when the queue is full the frame is dropped, and so is the rest of its group
//! (later frames of a group cannot be decoded without it); forwarding resumes with the next
//! group, which starts with a keyframe. Audio frames are dropped singly. A slow subscriber thus
//! loses whole stale groups and never slows the meeting actor or the other subscribers.
//!
//! Before it comes to that, a subscriber falling behind (its queue more than half full) is sent
//! no frames marked discardable (the upper temporal layers: nothing later depends on them), which
//! lowers its frame rate instead of breaking groups.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use dark_tower_core::codec::media::{MediaFrame, STREAM_TYPE_GROUP};
use dark_tower_core::error::ErrorCode;
use dark_tower_core::ids::TrackAlias;
use dark_tower_core::transport::{SendStream, Session, TransportError};
use tokio::sync::mpsc;

use super::HandlerCounters;
use crate::router::Via;

pub(crate) enum EgressMsg {
    Frame(MediaFrame, Via),
    Close(Option<ErrorCode>, String),
}

/// Frames dropped by one egress queue.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct EgressStats {
    /// Frames dropped because the queue was full or their group was already broken.
    pub dropped: u64,
}

/// The actor's side of a session's egress queue.
pub(crate) struct EgressHandle {
    tx: mpsc::Sender<EgressMsg>,
    /// Group being dropped, per track and layer.
    broken: HashMap<(TrackAlias, u8), u64>,
    counters: Arc<HandlerCounters>,
}

impl EgressHandle {
    pub(crate) fn push(&mut self, frame: MediaFrame, via: Via) {
        let h = frame.header;
        let key = (h.track_alias, h.spatial_id);
        if h.discardable && self.tx.capacity() * 2 < self.tx.max_capacity() {
            self.drop_frame();
            self.counters.discardable_shed.fetch_add(1, Ordering::Relaxed);
            return;
        }
        if via == Via::Stream
            && let Some(&g) = self.broken.get(&key)
        {
            if g == h.group_seq || !h.keyframe {
                self.drop_frame();
                return;
            }
            self.broken.remove(&key);
        }
        match self.tx.try_send(EgressMsg::Frame(frame, via)) {
            Ok(()) => {}
            Err(mpsc::error::TrySendError::Full(_)) => {
                self.drop_frame();
                if via == Via::Stream {
                    self.broken.insert(key, h.group_seq);
                }
            }
            Err(mpsc::error::TrySendError::Closed(_)) => {}
        }
    }

    fn drop_frame(&self) {
        self.counters.frames_dropped.fetch_add(1, Ordering::Relaxed);
    }

    /// Asks the writer to close the session. Waits for queue space in the writer task so the close
    /// is not lost behind a full queue.
    pub(crate) fn close(self, code: Option<ErrorCode>, reason: String) {
        let tx = self.tx;
        tokio::spawn(async move {
            let _ = tx.send(EgressMsg::Close(code, reason)).await;
        });
    }
}

/// Creates the egress queue of `session` and the writer future that drains it.
pub(crate) fn channel<S: Session>(
    session: S,
    capacity: usize,
    counters: Arc<HandlerCounters>,
) -> (EgressHandle, impl Future<Output = ()> + Send + 'static) {
    let (tx, rx) = mpsc::channel(capacity.max(1));
    (EgressHandle { tx, broken: HashMap::new(), counters }, write_loop(session, rx))
}

struct OpenGroup<W> {
    group: u64,
    stream: W,
}

/// Groups kept open per track and layer. A publisher's consecutive groups travel on separate
/// streams and may interleave on arrival, so a late frame of the previous group still finds its
/// stream; anything older is stale.
const OPEN_GROUPS: usize = 4;

type Streams<W> = HashMap<(TrackAlias, u8), Vec<OpenGroup<W>>>;

async fn write_loop<S: Session>(session: S, mut rx: mpsc::Receiver<EgressMsg>) {
    let mut streams: Streams<S::Send> = HashMap::new();
    while let Some(msg) = rx.recv().await {
        match msg {
            EgressMsg::Close(code, reason) => {
                session.close(code.map_or(0, ErrorCode::wire), &reason);
                return;
            }
            EgressMsg::Frame(frame, Via::Datagram) => {
                let fits = session.max_datagram_size().is_some_and(|m| frame.encoded_len() <= m);
                let sent = fits && session.send_datagram(frame.encode()).is_ok();
                if !sent && write_single(&session, &frame).await.is_err() {
                    return;
                }
            }
            EgressMsg::Frame(frame, Via::Stream) => {
                if let Err(e) = write_stream_frame(&session, &mut streams, &frame).await {
                    match e {
                        TransportError::StreamStopped(_) | TransportError::StreamReset(_) => {
                            let key = (frame.header.track_alias, frame.header.spatial_id);
                            if let Some(open) = streams.get_mut(&key) {
                                open.retain(|g| g.group != frame.header.group_seq);
                            }
                        }
                        _ => return,
                    }
                }
            }
        }
    }
}

/// Newer groups first: QUIC sends higher priorities first.
fn priority(group: u64) -> i32 {
    (group % i32::MAX as u64) as i32
}

async fn write_stream_frame<S: Session>(
    session: &S,
    streams: &mut Streams<S::Send>,
    frame: &MediaFrame,
) -> Result<(), TransportError> {
    let h = frame.header;
    let key = (h.track_alias, h.spatial_id);
    let open = streams.entry(key).or_default();
    let found = open.iter().position(|g| g.group == h.group_seq);
    let stale = open.len() >= OPEN_GROUPS && open.iter().all(|g| g.group > h.group_seq);
    let idx = match found {
        Some(i) => i,
        None => {
            if stale {
                // Older than every group still open.
                return Ok(());
            }
            let mut stream = session.open_uni().await?;
            stream.set_priority(priority(h.group_seq));
            stream.write_all(&[STREAM_TYPE_GROUP]).await?;
            let open = streams.entry(key).or_default();
            open.push(OpenGroup { group: h.group_seq, stream });
            open.sort_by_key(|g| g.group);
            while open.len() > OPEN_GROUPS {
                let mut old = open.remove(0);
                let _ = old.stream.finish();
            }
            if h.keyframe {
                // A subscriber receives one layer of a track at a time: a new group on another
                // layer ends the groups of the old one.
                let stale: Vec<_> = streams
                    .keys()
                    .filter(|(a, l)| *a == h.track_alias && *l != h.spatial_id)
                    .copied()
                    .collect();
                for k in stale {
                    for mut g in streams.remove(&k).unwrap_or_default() {
                        let _ = g.stream.finish();
                    }
                }
            }
            match streams.get(&key).and_then(|o| o.iter().position(|g| g.group == h.group_seq)) {
                Some(i) => i,
                None => return Ok(()),
            }
        }
    };
    let Some(g) = streams.get_mut(&key).and_then(|o| o.get_mut(idx)) else {
        return Ok(());
    };
    g.stream.write_all(&frame.stream_prefix()).await?;
    g.stream.write_bytes(frame.payload.clone()).await?;
    if h.end_of_group
        && let Some(open) = streams.get_mut(&key)
    {
        let mut done = open.remove(idx);
        let _ = done.stream.finish();
    }
    Ok(())
}

/// A frame too large for a datagram goes on a stream of its own.
async fn write_single<S: Session>(session: &S, frame: &MediaFrame) -> Result<(), TransportError> {
    let mut s = session.open_uni().await?;
    s.write_all(&[STREAM_TYPE_GROUP]).await?;
    s.write_all(&frame.stream_prefix()).await?;
    s.write_bytes(frame.payload.clone()).await?;
    s.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;
    use dark_tower_core::codec::media::MediaHeader;

    fn frame(frame_seq: u32, discardable: bool) -> MediaFrame {
        MediaFrame {
            header: MediaHeader {
                track_alias: TrackAlias(1),
                spatial_id: 0,
                temporal_id: u8::from(discardable),
                group_seq: 0,
                frame_seq,
                capture_ts_us: 0,
                keyframe: frame_seq == 0,
                discardable,
                end_of_group: false,
                audio_level: None,
            },
            payload: Bytes::from_static(b"x"),
        }
    }

    fn queued(rx: &mut mpsc::Receiver<EgressMsg>) -> Vec<u32> {
        let mut out = Vec::new();
        while let Ok(EgressMsg::Frame(f, _)) = rx.try_recv() {
            out.push(f.header.frame_seq);
        }
        out
    }

    #[test]
    fn a_subscriber_falling_behind_sheds_discardable_frames_first() {
        let (tx, mut rx) = mpsc::channel(8);
        let counters = Arc::new(HandlerCounters::default());
        let mut e = EgressHandle { tx, broken: HashMap::new(), counters: Arc::clone(&counters) };
        // Alternating base-layer and discardable frames into a queue nobody drains.
        for seq in 0..12 {
            e.push(frame(seq, seq % 2 == 1), Via::Stream);
        }
        // Up to half full everything is queued; then only base-layer frames, until full.
        assert_eq!(queued(&mut rx), [0, 1, 2, 3, 4, 6, 8, 10]);
        assert_eq!(counters.discardable_shed.load(Ordering::Relaxed), 4);
        assert_eq!(counters.frames_dropped.load(Ordering::Relaxed), 4);
        // With room again, discardable frames flow.
        e.push(frame(12, false), Via::Stream);
        e.push(frame(13, true), Via::Stream);
        assert_eq!(queued(&mut rx), [12, 13]);
    }
}
