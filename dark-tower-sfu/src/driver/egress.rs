//! Per-subscriber egress: a bounded queue in front of one writer task per media session.
//!
//! - **Audio** bypasses the queue: a datagram is handed to the transport at once (QUIC sends
//!   datagrams ahead of stream data), so audio never waits behind a keyframe. Only a frame too
//!   large for a datagram is queued, to go on a stream of its own.
//! - **Video** is queued. When the queue is full the frame is dropped, and so is the rest of its
//!   group (later frames of a group cannot be decoded without it): the writer resets the group's
//!   stream, so data the transport still buffers for it is discarded too, and skips the group's
//!   frames still queued. Forwarding resumes with the next group, which starts with a keyframe.
//!   A slow subscriber thus loses whole stale groups and never slows the meeting actor or the
//!   other subscribers; the router, told of the drops and the backlog ([`LinkReport`]), moves it
//!   to a lower layer.
//! - Before it comes to that, a subscriber falling behind (its queue more than half full) is sent
//!   no frames marked discardable (the upper temporal layers: nothing later depends on them),
//!   which lowers its frame rate instead of breaking groups.

use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use dark_tower_core::codec::media::{MediaFrame, STREAM_TYPE_GROUP};
use dark_tower_core::error::ErrorCode;
use dark_tower_core::ids::TrackAlias;
use dark_tower_core::transport::{SendStream, Session, TransportError};
use tokio::sync::mpsc;

use super::HandlerCounters;
use crate::egress_policy::{EgressPolicy, GroupRef, QueueState, Verdict};
use crate::router::{LinkReport, Via};

/// Application code of a stream reset because its group went stale.
pub const RESET_STALE_GROUP: u32 = 0x5354;

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

type GroupKey = (TrackAlias, u8);

/// What the actor's handle and the writer of one session share.
#[derive(Default)]
struct Link {
    sent_bytes: AtomicU64,
    dropped: AtomicU64,
    queued_bytes: AtomicU64,
    /// Groups given up on, for the writer to reset.
    abandoned: Mutex<Vec<GroupRef>>,
    any_abandoned: AtomicBool,
}

impl Link {
    fn abandon(&self, group: GroupRef) {
        self.abandoned.lock().unwrap_or_else(|p| p.into_inner()).push(group);
        self.any_abandoned.store(true, Ordering::Release);
    }

    fn take_abandoned(&self) -> Vec<GroupRef> {
        if !self.any_abandoned.swap(false, Ordering::AcqRel) {
            return Vec::new();
        }
        std::mem::take(&mut *self.abandoned.lock().unwrap_or_else(|p| p.into_inner()))
    }
}

type DatagramSender = Box<dyn Fn(&MediaFrame) -> bool + Send>;
type RttProbe = Box<dyn Fn() -> Duration + Send>;

/// The actor's side of a session's egress queue.
pub(crate) struct EgressHandle {
    tx: mpsc::Sender<EgressMsg>,
    policy: EgressPolicy,
    counters: Arc<HandlerCounters>,
    link: Arc<Link>,
    /// Sends a frame as a datagram if it fits; false if it does not.
    datagram: DatagramSender,
    rtt: RttProbe,
}

impl EgressHandle {
    pub(crate) fn push(&mut self, frame: MediaFrame, via: Via) {
        if via == Via::Datagram && (self.datagram)(&frame) {
            self.link.sent_bytes.fetch_add(frame.encoded_len() as u64, Ordering::Relaxed);
            return;
        }
        let h = frame.header;
        if via == Via::Stream {
            let state = QueueState {
                frames: self.tx.max_capacity() - self.tx.capacity(),
                capacity: self.tx.max_capacity(),
                bytes: self.link.queued_bytes.load(Ordering::Relaxed),
            };
            let link = &self.link;
            match self.policy.offer(&h, state, |g| link.abandon(g)) {
                Verdict::Queue => {}
                Verdict::Drop => return self.drop_frame(),
                Verdict::Shed => {
                    self.counters.discardable_shed.fetch_add(1, Ordering::Relaxed);
                    return self.drop_frame();
                }
            }
        }
        let len = frame.payload.len() as u64;
        match self.tx.try_send(EgressMsg::Frame(frame, via)) {
            Ok(()) => {
                self.link.queued_bytes.fetch_add(len, Ordering::Relaxed);
            }
            Err(mpsc::error::TrySendError::Full(_)) => {
                self.drop_frame();
                if via == Via::Stream {
                    let link = &self.link;
                    self.policy.refused(&h, |g| link.abandon(g));
                }
            }
            Err(mpsc::error::TrySendError::Closed(_)) => {}
        }
    }

    fn drop_frame(&self) {
        self.counters.frames_dropped.fetch_add(1, Ordering::Relaxed);
        self.link.dropped.fetch_add(1, Ordering::Relaxed);
    }

    /// What the router needs to estimate this session's link.
    pub(crate) fn report(&self) -> LinkReport {
        LinkReport {
            sent_bytes: self.link.sent_bytes.load(Ordering::Relaxed),
            dropped_frames: self.link.dropped.load(Ordering::Relaxed),
            queued_frames: u32::try_from(self.tx.max_capacity() - self.tx.capacity()).unwrap_or(u32::MAX),
            queued_bytes: self.link.queued_bytes.load(Ordering::Relaxed),
            rtt: (self.rtt)(),
        }
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
    relay: bool,
    counters: Arc<HandlerCounters>,
) -> (EgressHandle, impl Future<Output = ()> + Send + 'static) {
    let (tx, rx) = mpsc::channel(capacity.max(1));
    let link = Arc::new(Link::default());
    let dg = session.clone();
    let datagram: DatagramSender = Box::new(move |f: &MediaFrame| {
        dg.max_datagram_size().is_some_and(|m| f.encoded_len() <= m) && dg.send_datagram(f.encode()).is_ok()
    });
    let probe = session.clone();
    let rtt: RttProbe = Box::new(move || probe.rtt());
    let handle = EgressHandle {
        tx,
        policy: EgressPolicy::new(relay),
        counters: Arc::clone(&counters),
        link: Arc::clone(&link),
        datagram,
        rtt,
    };
    (handle, write_loop(session, rx, link, counters))
}

struct OpenGroup<W> {
    group: u64,
    stream: W,
    /// When a frame was last written to it.
    last_write: Instant,
}

/// Groups kept open per track and layer at most. A publisher's consecutive groups travel on
/// separate streams and may interleave on arrival, so a late frame of an earlier group still
/// finds its stream; anything older than all of them is stale.
const MAX_OPEN_GROUPS: usize = 4;

/// A group other than the newest is finished once nothing was written to it for this long. In
/// real time (a keyframe every second or two) that leaves at most two streams per track and layer
/// open, one for a moment: a subscriber of many tracks stays under the peer's limit of
/// concurrent streams (100 in quinn's and browsers' defaults; four per track used to exceed it at
/// 25 participants). A burst of groups (a test, a catch-up) keeps up to four.
const OPEN_GROUP_GRACE: Duration = Duration::from_millis(500);

type Streams<W> = HashMap<GroupKey, Vec<OpenGroup<W>>>;

async fn write_loop<S: Session>(
    session: S,
    mut rx: mpsc::Receiver<EgressMsg>,
    link: Arc<Link>,
    counters: Arc<HandlerCounters>,
) {
    let mut streams: Streams<S::Send> = HashMap::new();
    // Groups given up on, so their frames still queued are skipped.
    let mut abandoned: HashSet<(GroupKey, u64)> = HashSet::new();
    while let Some(msg) = rx.recv().await {
        for (alias, layer, group) in link.take_abandoned() {
            let key = (alias, layer);
            abandoned.insert((key, group));
            if let Some(open) = streams.get_mut(&key)
                && let Some(i) = open.iter().position(|g| g.group == group)
            {
                open.remove(i).stream.reset(RESET_STALE_GROUP);
                counters.streams_reset.fetch_add(1, Ordering::Relaxed);
            }
        }
        match msg {
            EgressMsg::Close(code, reason) => {
                session.close(code.map_or(0, ErrorCode::wire), &reason);
                return;
            }
            EgressMsg::Frame(frame, via) => {
                let len = frame.payload.len() as u64;
                let result = match via {
                    Via::Datagram => write_single(&session, &frame).await,
                    Via::Stream => {
                        let h = frame.header;
                        let key = (h.track_alias, h.spatial_id);
                        if abandoned.contains(&(key, h.group_seq)) {
                            link.dropped.fetch_add(1, Ordering::Relaxed);
                            counters.frames_dropped.fetch_add(1, Ordering::Relaxed);
                            link.queued_bytes.fetch_sub(len, Ordering::Relaxed);
                            continue;
                        }
                        if h.keyframe {
                            // A newer group on this key: older abandoned groups need no memory.
                            abandoned.retain(|(k, g)| *k != key || *g > h.group_seq);
                        }
                        write_stream_frame(&session, &mut streams, &frame).await
                    }
                };
                link.queued_bytes.fetch_sub(len, Ordering::Relaxed);
                match result {
                    Ok(()) => {
                        link.sent_bytes.fetch_add(len, Ordering::Relaxed);
                    }
                    Err(TransportError::StreamStopped(_) | TransportError::StreamReset(_)) => {
                        let key = (frame.header.track_alias, frame.header.spatial_id);
                        if let Some(open) = streams.get_mut(&key) {
                            open.retain(|g| g.group != frame.header.group_seq);
                        }
                    }
                    Err(_) => return,
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
    let stale = open.len() >= MAX_OPEN_GROUPS && open.iter().all(|g| g.group > h.group_seq);
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
            let now = Instant::now();
            open.push(OpenGroup { group: h.group_seq, stream, last_write: now });
            open.sort_by_key(|g| g.group);
            let newest = open.last().map(|g| g.group);
            open.retain_mut(|g| {
                let keep = Some(g.group) == newest
                    || g.group == h.group_seq
                    || now.saturating_duration_since(g.last_write) < OPEN_GROUP_GRACE;
                if !keep {
                    let _ = g.stream.finish();
                }
                keep
            });
            while open.len() > MAX_OPEN_GROUPS {
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
    g.last_write = Instant::now();
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

/// An audio frame too large for a datagram goes on a stream of its own.
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
        let mut e = EgressHandle {
            tx,
            policy: EgressPolicy::new(false),
            counters: Arc::clone(&counters),
            link: Arc::default(),
            datagram: Box::new(|_| false),
            rtt: Box::new(|| Duration::ZERO),
        };
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
