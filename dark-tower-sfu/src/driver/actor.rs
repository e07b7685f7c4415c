//! One task per meeting: owns the meeting's [`Router`] and the egress queues of its sessions.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;

use dark_tower_core::ids::MeetingName;
use tokio::sync::mpsc;

use super::egress::EgressHandle;
use super::{ActorMsg, MediaHandler};
use crate::router::{Feedback, Input, Output, Router, RouterStats, SessionId};
use dark_tower_core::forwarding::MediaReport;

pub(super) async fn run(handler: Arc<MediaHandler>, meeting: MeetingName, mut rx: mpsc::Receiver<ActorMsg>) {
    let mut router = Router::new();
    let mut egress: HashMap<SessionId, EgressHandle> = HashMap::new();
    let mut last = RouterStats::default();
    tracing::debug!(%meeting, "media actor started");
    loop {
        let wait = router.poll_timeout();
        let timer = async {
            match wait {
                Some(t) => tokio::time::sleep_until(tokio::time::Instant::from_std(t)).await,
                None => std::future::pending().await,
            }
        };
        let msg = tokio::select! {
            m = rx.recv() => match m {
                Some(m) => Some(m),
                None => break,
            },
            _ = timer => None,
        };
        let Some(msg) = msg else {
            router.handle_timeout(Instant::now());
            drain(&handler, &meeting, &mut router, &mut egress).await;
            continue;
        };
        let input = match msg {
            ActorMsg::Input(i) => i,
            ActorMsg::Attach { session, input, egress: e } => {
                egress.insert(session, e);
                input
            }
        };
        if let Input::SessionDetached { session } = &input {
            egress.remove(session);
        }
        router.handle_input(Instant::now(), input);
        drain(&handler, &meeting, &mut router, &mut egress).await;
        let now = router.stats();
        let c = &handler.counters;
        c.frames_in.fetch_add(now.frames_in - last.frames_in, Ordering::Relaxed);
        c.frames_out.fetch_add(now.frames_out - last.frames_out, Ordering::Relaxed);
        c.bytes_out.fetch_add(now.bytes_out - last.bytes_out, Ordering::Relaxed);
        let dropped = |s: &RouterStats| {
            s.dropped_bad_layer + s.dropped_not_allowed + s.dropped_stale_track + s.dropped_unknown_track
        };
        c.frames_dropped.fetch_add(dropped(&now) - dropped(&last), Ordering::Relaxed);
        last = now;
        if router.is_idle() && egress.is_empty() && handler.retire(&meeting, &rx) {
            break;
        }
    }
    tracing::debug!(%meeting, "media actor stopped");
}

/// Carries out the router's outputs, in order.
async fn drain(
    handler: &MediaHandler,
    meeting: &MeetingName,
    router: &mut Router,
    egress: &mut HashMap<SessionId, EgressHandle>,
) {
    while let Some(out) = router.poll_output() {
        match out {
            Output::Forward { session, frame, via } => {
                if let Some(e) = egress.get_mut(&session) {
                    e.push(frame, via);
                }
            }
            Output::Report(f) => {
                if let Some(feedback) = handler.feedback.get() {
                    feedback.report(report(meeting, f)).await;
                }
            }
            Output::CloseSession { session, code, reason } => {
                if code.is_some() {
                    handler.counters.sessions_closed_for_errors.fetch_add(1, Ordering::Relaxed);
                    tracing::info!(%meeting, session = session.0, ?code, %reason, "closing media session");
                }
                if let Some(e) = egress.remove(&session) {
                    e.close(code, reason);
                }
            }
        }
    }
}

fn report(meeting: &MeetingName, f: Feedback) -> MediaReport {
    match f {
        Feedback::AudioLevels(levels) => MediaReport::AudioLevels { meeting: meeting.clone(), levels },
        Feedback::LayersWanted { publisher, alias, layers } => {
            MediaReport::LayersWanted { meeting: meeting.clone(), publisher, alias, layers }
        }
        Feedback::KeyframeNeeded { publisher, alias, spatial_id } => {
            MediaReport::KeyframeNeeded { meeting: meeting.clone(), publisher, alias, spatial_id }
        }
    }
}
