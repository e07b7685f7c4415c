//! The tokio driver of the SFU: owns sessions, tasks and the clock; the logic is in
//! [`crate::router`].

mod actor;
mod egress;
mod ingress;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, Weak};

use async_trait::async_trait;
use dark_tower_core::forwarding::{ForwardingCommand, MediaFeedback, MediaForwarding};
use dark_tower_core::ids::MeetingName;
use dark_tower_core::limits::{MAX_DATAGRAM_FRAME, MAX_MEDIA_FRAME};
use dark_tower_core::token::TicketClaims;
use dark_tower_core::transport::Session;
use tokio::sync::mpsc;

use crate::router::{Input, SessionId, SubscriberStats, SubscriptionStats, TrackStats};
pub use egress::{EgressStats, RESET_STALE_GROUP};

/// Tunables of the media handler.
#[derive(Debug, Clone)]
pub struct MediaHandlerConfig {
    /// Frames queued per subscriber session before whole groups are dropped.
    pub subscriber_queue_frames: usize,
    /// Inputs queued per meeting actor before publishers are slowed down.
    pub meeting_queue: usize,
    /// Largest frame on a stream.
    pub max_frame: usize,
    /// Largest frame in a datagram.
    pub max_datagram_frame: usize,
}

impl Default for MediaHandlerConfig {
    fn default() -> Self {
        Self {
            subscriber_queue_frames: 512,
            meeting_queue: 4096,
            max_frame: MAX_MEDIA_FRAME,
            max_datagram_frame: MAX_DATAGRAM_FRAME,
        }
    }
}

pub(crate) enum ActorMsg {
    Input(Input),
    Attach { session: SessionId, input: Input, egress: egress::EgressHandle },
    Stats(tokio::sync::oneshot::Sender<MeetingStats>),
}

/// A snapshot of one meeting's forwarding: per subscriber, per subscription and per track.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MeetingStats {
    /// Each attached subscriber's link.
    pub subscribers: Vec<SubscriberStats>,
    /// Each subscription.
    pub subscriptions: Vec<SubscriptionStats>,
    /// Each published track.
    pub tracks: Vec<TrackStats>,
}

/// Counters of the whole media handler, summed over its meetings.
#[derive(Debug, Default)]
pub struct HandlerCounters {
    /// Frames received from publishers and accepted.
    pub frames_in: AtomicU64,
    /// Frames queued to subscribers.
    pub frames_out: AtomicU64,
    /// Payload bytes queued to subscribers.
    pub bytes_out: AtomicU64,
    /// Frames dropped, for any reason.
    pub frames_dropped: AtomicU64,
    /// Of those, discardable (temporal-layer) frames shed for subscribers falling behind.
    pub discardable_shed: AtomicU64,
    /// Of those, frames for a track the sender never published.
    pub dropped_unknown_track: AtomicU64,
    /// Of those, late frames of a track the sender unpublished.
    pub dropped_stale_track: AtomicU64,
    /// Of those, frames for a layer the track does not have.
    pub dropped_bad_layer: AtomicU64,
    /// Of those, frames from a session that may not publish.
    pub dropped_not_allowed: AtomicU64,
    /// Media sessions closed for misbehaviour.
    pub sessions_closed_for_errors: AtomicU64,
    /// Datagrams that did not decode.
    pub bad_datagrams: AtomicU64,
    /// Group streams reset because the subscriber fell behind and the group went stale.
    pub streams_reset: AtomicU64,
    /// Subscriptions moved to a lower layer because the subscriber's link could not keep up.
    pub layer_downgrades: AtomicU64,
    /// Subscriptions moved back up when the link allowed it.
    pub layer_upgrades: AtomicU64,
    /// Subscribers whose link holds them below the layers they want, now.
    pub constrained_subscribers: std::sync::atomic::AtomicI64,
    /// Media sessions being served now.
    pub sessions: std::sync::atomic::AtomicI64,
    /// Woken whenever a drop or close is counted, for tests and monitors that wait on counters.
    pub changed: tokio::sync::Notify,
}

/// The media handler: accepts media sessions and forwards frames between them.
pub struct MediaHandler {
    config: MediaHandlerConfig,
    meetings: Mutex<HashMap<MeetingName, mpsc::Sender<ActorMsg>>>,
    next_session: AtomicU64,
    counters: Arc<HandlerCounters>,
    feedback: OnceLock<Arc<dyn MediaFeedback>>,
    link_observer: OnceLock<LinkObserver>,
    me: Weak<MediaHandler>,
}

/// Called with every subscriber's link stats as they are reported (for metrics).
pub type LinkObserver = Arc<dyn Fn(&SubscriberStats) + Send + Sync>;

impl std::fmt::Debug for MediaHandler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MediaHandler").field("config", &self.config).finish_non_exhaustive()
    }
}

impl MediaHandler {
    /// A media handler with no meetings.
    pub fn new(config: MediaHandlerConfig) -> Arc<Self> {
        Arc::new_cyclic(|me| Self {
            config,
            meetings: Mutex::default(),
            next_session: AtomicU64::new(1),
            counters: Arc::default(),
            feedback: OnceLock::new(),
            link_observer: OnceLock::new(),
            me: me.clone(),
        })
    }

    /// Where audio levels and keyframe requests go (the meeting controller). Set once; later
    /// calls are ignored and return false.
    pub fn set_feedback(&self, feedback: Arc<dyn MediaFeedback>) -> bool {
        self.feedback.set(feedback).is_ok()
    }

    /// Calls `observer` with each subscriber's link stats as they are reported to the meeting
    /// controller (every [`crate::router::STATS_INTERVAL`]). Set once; later calls return false.
    pub fn observe_links(&self, observer: LinkObserver) -> bool {
        self.link_observer.set(observer).is_ok()
    }

    /// Live counters.
    pub fn counters(&self) -> &HandlerCounters {
        &self.counters
    }

    /// Meetings with an active forwarding actor.
    pub fn meeting_count(&self) -> usize {
        self.lock_meetings().len()
    }

    fn lock_meetings(&self) -> std::sync::MutexGuard<'_, HashMap<MeetingName, mpsc::Sender<ActorMsg>>> {
        // The map stays consistent even if a holder panicked: every operation is a single insert
        // or remove.
        self.meetings.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Sends `msg` to the meeting's actor, starting one if needed.
    async fn send(&self, meeting: &MeetingName, mut msg: ActorMsg) {
        // An actor that retired between lookup and send hands the message back; the second try
        // starts a fresh actor.
        for _ in 0..2 {
            let Some(tx) = self.actor(meeting) else { return };
            match tx.send(msg).await {
                Ok(()) => return,
                Err(mpsc::error::SendError(m)) => msg = m,
            }
        }
        tracing::warn!(%meeting, "media actor unavailable; message dropped");
    }

    fn actor(&self, meeting: &MeetingName) -> Option<mpsc::Sender<ActorMsg>> {
        let mut map = self.lock_meetings();
        if let Some(tx) = map.get(meeting)
            && !tx.is_closed()
        {
            return Some(tx.clone());
        }
        // Dropped handler: nothing to forward to any more.
        let handler = self.me.upgrade()?;
        let (tx, rx) = mpsc::channel(self.config.meeting_queue);
        map.insert(meeting.clone(), tx.clone());
        let meeting = meeting.clone();
        tokio::spawn(async move { actor::run(handler, meeting, rx).await });
        Some(tx)
    }

    /// Called by an actor whose router is idle: removes it from the map if nothing is queued.
    /// Returns whether the actor may exit.
    fn retire(&self, meeting: &MeetingName, rx: &mpsc::Receiver<ActorMsg>) -> bool {
        let mut map = self.lock_meetings();
        if !rx.is_empty() {
            return false;
        }
        map.remove(meeting);
        true
    }

    /// A snapshot of a meeting's forwarding stats; `None` if the meeting has no media now.
    pub async fn meeting_stats(&self, meeting: &MeetingName) -> Option<MeetingStats> {
        let tx = self.lock_meetings().get(meeting).cloned()?;
        let (reply, rx) = tokio::sync::oneshot::channel();
        tx.send(ActorMsg::Stats(reply)).await.ok()?;
        rx.await.ok()
    }

    /// Serves one authenticated media session until it closes. `ticket` is the verified media
    /// ticket it presented.
    pub async fn serve_session<S: Session>(&self, session: S, ticket: TicketClaims) {
        self.serve(session, ticket, false).await;
    }

    /// Serves a relay session between media handlers (the cascade primitive), until it closes.
    ///
    /// - On the media handler where a track's publisher is connected, serve the session another
    ///   media handler opened with a ticket whose `pid` is the relay's own participant id; the
    ///   meeting controller subscribes that id to the tracks to relay, and the relay receives
    ///   every layer of them.
    /// - On the other media handler, serve the session it opened to the first one, with a ticket
    ///   it makes itself (`publish: true`); frames arriving on it are forwarded locally as the
    ///   tracks of their publishers, which the meeting controller publishes here too (same
    ///   aliases) and which have no session here.
    ///
    /// Keyframe requests and dynacast reports for relayed tracks go to the meeting controller
    /// like any other, naming the remote publisher.
    pub async fn serve_relay<S: Session>(&self, session: S, ticket: TicketClaims) {
        self.serve(session, ticket, true).await;
    }

    async fn serve<S: Session>(&self, session: S, ticket: TicketClaims, relay: bool) {
        let id = SessionId(self.next_session.fetch_add(1, Ordering::Relaxed));
        self.counters.sessions.fetch_add(1, Ordering::Relaxed);
        let meeting = ticket.meeting.clone();
        let (egress, writer) = egress::channel(
            session.clone(),
            self.config.subscriber_queue_frames,
            relay,
            Arc::clone(&self.counters),
        );
        let writer = tokio::spawn(writer);
        let attach = Input::SessionAttached {
            session: id,
            participant: ticket.pid,
            publish: ticket.publish,
            subscribe: ticket.subscribe,
            relay,
        };
        self.send(&meeting, ActorMsg::Attach { session: id, input: attach, egress }).await;
        let ingress = ingress::Ingress { handler: self, meeting: &meeting, session_id: id };
        ingress.run(session).await;
        writer.abort();
        self.send(&meeting, ActorMsg::Input(Input::SessionDetached { session: id })).await;
        self.counters.sessions.fetch_sub(1, Ordering::Relaxed);
        tracing::debug!(session = id.0, "media session ended");
    }
}

#[async_trait]
impl MediaForwarding for MediaHandler {
    async fn apply(&self, command: ForwardingCommand) {
        let meeting = command.meeting().clone();
        self.send(&meeting, ActorMsg::Input(Input::Command(command))).await;
    }
}
