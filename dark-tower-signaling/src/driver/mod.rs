//! The tokio driver of the meeting controller.

mod actor;
mod admin;
mod session;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, SystemTime};

use dark_tower_core::forwarding::MediaForwarding;
use dark_tower_core::ids::MeetingName;
use dark_tower_core::store::{MeetingRecord, MeetingSettings, MeetingStore, StoreError};
use dark_tower_core::token::{ResumeClaims, TicketKey, VerifiedToken};
use dark_tower_core::transport::Session;
use dark_tower_core::webhook::{WebhookEvent, WebhookSink};
use tokio::sync::mpsc;

use crate::meeting::{Command, JoinRequest, MeetingConfig, ResumeRequest};

#[async_trait::async_trait]
impl dark_tower_core::forwarding::MediaFeedback for MeetingController {
    async fn report(&self, report: dark_tower_core::forwarding::MediaReport) {
        self.route_report(report);
    }
}

/// Tunables and wiring of the meeting controller.
#[derive(Debug, Clone)]
pub struct McConfig {
    /// WebTransport URL of the media handler that participants of this MC use.
    pub media_url: String,
    /// SHA-256 (hex) of the media handler's certificate, for pinning; empty if publicly trusted.
    pub media_certificate_sha256: Vec<String>,
    /// Signs media tickets; the media handler verifies them with the same key.
    pub ticket_key: TicketKey,
    /// Joining a meeting that does not exist creates it.
    pub auto_create_meetings: bool,
    /// Per-meeting tunables.
    pub meeting: MeetingConfig,
    /// How long a client has to send `Join` after opening the session.
    pub join_timeout: Duration,
    /// Messages queued to one participant before it is disconnected as too slow.
    pub outbox_capacity: usize,
    /// How often each participant's connection path is sampled for connection quality.
    pub quality_interval: Duration,
}

impl McConfig {
    /// A configuration with defaults for everything but the media endpoint and ticket key.
    pub fn new(
        media_url: impl Into<String>,
        media_certificate_sha256: Vec<String>,
        ticket_key: TicketKey,
    ) -> Self {
        Self {
            media_url: media_url.into(),
            media_certificate_sha256,
            ticket_key,
            auto_create_meetings: true,
            meeting: MeetingConfig::default(),
            join_timeout: Duration::from_secs(10),
            outbox_capacity: 1024,
            quality_interval: Duration::from_secs(2),
        }
    }
}

pub(crate) enum ActorMsg {
    Join {
        request: Box<JoinRequest>,
        outbox: mpsc::Sender<session::Outgoing>,
    },
    Resume {
        request: Box<ResumeRequest>,
        outbox: mpsc::Sender<session::Outgoing>,
    },
    Command(Command),
    /// An operator's command; the reply is sent once its effects are carried out.
    Admin {
        command: crate::meeting::AdminCommand,
        reply: tokio::sync::oneshot::Sender<admin::AdminResult>,
    },
}

/// The meeting controller: serves signaling sessions and runs one actor per live meeting.
pub struct MeetingController {
    config: McConfig,
    store: Arc<dyn MeetingStore>,
    forwarding: Arc<dyn MediaForwarding>,
    webhooks: Arc<dyn WebhookSink>,
    meetings: Mutex<HashMap<MeetingName, mpsc::Sender<ActorMsg>>>,
    sessions: std::sync::atomic::AtomicI64,
    epochs: std::sync::atomic::AtomicU64,
    join_observer: std::sync::OnceLock<JoinObserver>,
    tracks: std::sync::atomic::AtomicI64,
    me: Weak<MeetingController>,
}

/// Told how long each join took: from reading `Join` to writing `Joined` (lobby waits
/// included).
pub type JoinObserver = Arc<dyn Fn(Duration) + Send + Sync>;

impl std::fmt::Debug for MeetingController {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MeetingController").field("config", &self.config).finish_non_exhaustive()
    }
}

/// Why a session could not be placed in a meeting.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlaceError {
    /// No live meeting and auto-creation is off.
    #[error("meeting not found")]
    NotFound,
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl MeetingController {
    /// A meeting controller using `store` for records, `forwarding` to drive the media handler
    /// and `webhooks` for events.
    pub fn new(
        config: McConfig,
        store: Arc<dyn MeetingStore>,
        forwarding: Arc<dyn MediaForwarding>,
        webhooks: Arc<dyn WebhookSink>,
    ) -> Arc<Self> {
        Arc::new_cyclic(|me| Self {
            config,
            store,
            forwarding,
            webhooks,
            meetings: Mutex::default(),
            sessions: std::sync::atomic::AtomicI64::new(0),
            epochs: std::sync::atomic::AtomicU64::new(1),
            join_observer: std::sync::OnceLock::new(),
            tracks: std::sync::atomic::AtomicI64::new(0),
            me: me.clone(),
        })
    }

    /// The configuration.
    pub fn config(&self) -> &McConfig {
        &self.config
    }

    /// Reports every join's latency to `observer` (for a metrics histogram); the first call
    /// wins. Returns whether it was set.
    pub fn observe_joins(&self, observer: JoinObserver) -> bool {
        self.join_observer.set(observer).is_ok()
    }

    /// Tracks published now, over all meetings.
    pub fn track_count(&self) -> i64 {
        self.tracks.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Signaling sessions being served now.
    pub fn session_count(&self) -> i64 {
        self.sessions.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Meetings with a running actor.
    pub fn live_meetings(&self) -> usize {
        self.lock_meetings().len()
    }

    fn lock_meetings(&self) -> std::sync::MutexGuard<'_, HashMap<MeetingName, mpsc::Sender<ActorMsg>>> {
        // Every operation on the map is a single insert or remove: consistent even after a panic.
        self.meetings.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The live record of `name`, created if allowed.
    pub async fn place(&self, name: &MeetingName, now: SystemTime) -> Result<MeetingRecord, PlaceError> {
        if let Some(m) = self.store.get_meeting(name).await?
            && m.ended_at.is_none()
        {
            return Ok(m);
        }
        if !self.config.auto_create_meetings {
            return Err(PlaceError::NotFound);
        }
        let record = MeetingRecord {
            name: name.clone(),
            created_at: now,
            ended_at: None,
            settings: MeetingSettings::default(),
        };
        match self.store.create_meeting(record).await {
            Ok(r) => {
                let _ = self.webhooks.deliver(WebhookEvent::MeetingStarted { meeting: name.clone() }).await;
                Ok(r)
            }
            // Another session created it at the same time.
            Err(StoreError::AlreadyExists(_)) => {
                self.store.get_meeting(name).await?.ok_or(PlaceError::Store(StoreError::NotFound))
            }
            Err(e) => Err(e.into()),
        }
    }

    async fn send(&self, record: &MeetingRecord, mut msg: ActorMsg) -> bool {
        for _ in 0..2 {
            let Some(tx) = self.actor(record) else {
                return false;
            };
            match tx.send(msg).await {
                Ok(()) => return true,
                Err(mpsc::error::SendError(m)) => msg = m,
            }
        }
        false
    }

    /// Sends to the meeting's running actor only; `false` if it has none (it ended).
    async fn send_existing(&self, record: &MeetingRecord, msg: ActorMsg) -> bool {
        let tx = self.lock_meetings().get(&record.name).cloned();
        match tx {
            Some(tx) => tx.send(msg).await.is_ok(),
            None => false,
        }
    }

    /// Hands soft state (samples, reports) to the meeting's actor without waiting.
    fn route(&self, record: &MeetingRecord, msg: ActorMsg) {
        let tx = self.lock_meetings().get(&record.name).cloned();
        if let Some(tx) = tx {
            let _ = tx.try_send(msg);
        }
    }

    /// The live record of a meeting that has a running actor.
    async fn live_record(&self, name: &MeetingName) -> Option<MeetingRecord> {
        if !self.lock_meetings().contains_key(name) {
            return None;
        }
        self.store.get_meeting(name).await.ok().flatten().filter(|m| m.ended_at.is_none())
    }

    fn next_epoch(&self) -> u64 {
        self.epochs.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    }

    fn actor(&self, record: &MeetingRecord) -> Option<mpsc::Sender<ActorMsg>> {
        self.actor_empty_since(record, record.created_at)
    }

    fn actor_empty_since(&self, record: &MeetingRecord, since: SystemTime) -> Option<mpsc::Sender<ActorMsg>> {
        let mut map = self.lock_meetings();
        if let Some(tx) = map.get(&record.name)
            && !tx.is_closed()
        {
            return Some(tx.clone());
        }
        let mc = self.me.upgrade()?;
        let (tx, rx) = mpsc::channel(1024);
        map.insert(record.name.clone(), tx.clone());
        tokio::spawn(actor::run(mc, record.clone(), tx.downgrade(), rx, since));
        Some(tx)
    }

    /// Takes `name` out of the map if it still leads to the actor whose sender is `mine` (a
    /// newer meeting of the same name may have replaced it).
    fn unmap(&self, name: &MeetingName, mine: &mpsc::WeakSender<ActorMsg>) {
        let mut map = self.lock_meetings();
        if let (Some(current), Some(mine)) = (map.get(name), mine.upgrade())
            && current.same_channel(&mine)
        {
            map.remove(name);
        }
    }

    /// Whether the actor may stop: nothing more is waiting for it. Takes it out of the map.
    fn retire(
        &self,
        name: &MeetingName,
        mine: &mpsc::WeakSender<ActorMsg>,
        rx: &mpsc::Receiver<ActorMsg>,
    ) -> bool {
        if !rx.is_empty() {
            return false;
        }
        self.unmap(name, mine);
        true
    }

    /// Hands a media report to its meeting without waiting: reports are soft state, and a busy
    /// meeting drops them rather than slowing the media handler down.
    fn route_report(&self, report: dark_tower_core::forwarding::MediaReport) {
        let tx = self.lock_meetings().get(report.meeting()).cloned();
        if let Some(tx) = tx {
            let _ = tx.try_send(ActorMsg::Command(Command::Media(report)));
        }
    }

    /// Serves one signaling session whose access token was verified (and checked to be for
    /// `meeting`) before the session was accepted. Returns when the session ends.
    pub async fn serve_session<S: Session>(&self, session: S, meeting: MeetingName, token: VerifiedToken) {
        use std::sync::atomic::Ordering;
        self.sessions.fetch_add(1, Ordering::Relaxed);
        session::serve(self, session, meeting, token).await;
        self.sessions.fetch_sub(1, Ordering::Relaxed);
    }

    /// Serves one signaling session opened with a resume token, verified (signature, audience,
    /// expiry — see [`dark_tower_core::token::TicketKey::verify_resume`]) before the session was
    /// accepted. The meeting decides whether the participant may still resume.
    pub async fn serve_resume_session<S: Session>(&self, session: S, claims: ResumeClaims) {
        use std::sync::atomic::Ordering;
        self.sessions.fetch_add(1, Ordering::Relaxed);
        session::serve_resume(self, session, claims).await;
        self.sessions.fetch_sub(1, Ordering::Relaxed);
    }
}
