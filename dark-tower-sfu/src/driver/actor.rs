//! One task per meeting: owns the meeting's [`Router`] and the egress queues of its sessions.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use dark_tower_core::ids::MeetingName;
use tokio::sync::mpsc;

use super::egress::EgressHandle;
use super::{ActorMsg, MediaHandler, MeetingStats};
use crate::router::{Feedback, Input, Output, Router, RouterStats, SessionId};
use dark_tower_core::forwarding::MediaReport;

pub(super) async fn run(handler: Arc<MediaHandler>, meeting: MeetingName, mut rx: mpsc::Receiver<ActorMsg>) {
    let mut router = Router::new();
    let mut egress: HashMap<SessionId, EgressHandle> = HashMap::new();
    let mut last = RouterStats::default();
    let mut constrained = 0i64;
    let mut link_tick = tokio::time::interval(LINK_INTERVAL);
    link_tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
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
                Some(m) => Wake::Msg(m),
                None => break,
            },
            _ = timer => Wake::Timer,
            _ = link_tick.tick() => Wake::Links,
        };
        match msg {
            Wake::Timer => {
                router.handle_timeout(Instant::now());
                drain(&handler, &meeting, &mut router, &mut egress).await;
            }
            Wake::Links => {
                let now = Instant::now();
                let mut sessions: Vec<_> = egress.keys().copied().collect();
                sessions.sort_unstable();
                for session in sessions {
                    if let Some(e) = egress.get(&session) {
                        router.handle_input(now, Input::Link { session, report: e.report() });
                        drain(&handler, &meeting, &mut router, &mut egress).await;
                    }
                }
                // Counted here, not per frame: it walks every subscription.
                let constrained_now = router.constrained_count() as i64;
                let c = &handler.counters.constrained_subscribers;
                c.fetch_add(constrained_now - constrained, Ordering::Relaxed);
                constrained = constrained_now;
            }
            Wake::Msg(ActorMsg::Stats(reply)) => {
                let _ = reply.send(MeetingStats {
                    subscribers: router.subscriber_stats(),
                    subscriptions: router.subscription_stats(),
                    tracks: router.track_stats(),
                });
            }
            Wake::Msg(ActorMsg::Input(input)) => {
                handle(&handler, &meeting, &mut router, &mut egress, input).await
            }
            Wake::Msg(ActorMsg::Attach { session, input, egress: e }) => {
                egress.insert(session, e);
                handle(&handler, &meeting, &mut router, &mut egress, input).await;
            }
        }
        let now = router.stats();
        let c = &handler.counters;
        c.frames_in.fetch_add(now.frames_in - last.frames_in, Ordering::Relaxed);
        c.frames_out.fetch_add(now.frames_out - last.frames_out, Ordering::Relaxed);
        c.bytes_out.fetch_add(now.bytes_out - last.bytes_out, Ordering::Relaxed);
        let dropped = |s: &RouterStats| {
            s.dropped_bad_layer + s.dropped_not_allowed + s.dropped_stale_track + s.dropped_unknown_track
        };
        c.frames_dropped.fetch_add(dropped(&now) - dropped(&last), Ordering::Relaxed);
        c.dropped_unknown_track
            .fetch_add(now.dropped_unknown_track - last.dropped_unknown_track, Ordering::Relaxed);
        c.dropped_stale_track
            .fetch_add(now.dropped_stale_track - last.dropped_stale_track, Ordering::Relaxed);
        c.dropped_bad_layer.fetch_add(now.dropped_bad_layer - last.dropped_bad_layer, Ordering::Relaxed);
        c.dropped_not_allowed
            .fetch_add(now.dropped_not_allowed - last.dropped_not_allowed, Ordering::Relaxed);
        c.layer_downgrades.fetch_add(now.layer_downgrades - last.layer_downgrades, Ordering::Relaxed);
        c.layer_upgrades.fetch_add(now.layer_upgrades - last.layer_upgrades, Ordering::Relaxed);
        last = now;
        if router.is_idle() && egress.is_empty() && handler.retire(&meeting, &rx) {
            break;
        }
    }
    handler.counters.constrained_subscribers.fetch_sub(constrained, Ordering::Relaxed);
    tracing::debug!(%meeting, "media actor stopped");
}

/// How often each session's egress is measured for the router's link estimate.
const LINK_INTERVAL: Duration = Duration::from_millis(250);

// Lives on the stack for one loop turn; boxing the message would cost an allocation per frame.
#[allow(clippy::large_enum_variant)]
enum Wake {
    Msg(ActorMsg),
    Timer,
    Links,
}

async fn handle(
    handler: &MediaHandler,
    meeting: &MeetingName,
    router: &mut Router,
    egress: &mut HashMap<SessionId, EgressHandle>,
    input: Input,
) {
    if let Input::SessionDetached { session } = &input {
        egress.remove(session);
    }
    router.handle_input(Instant::now(), input);
    drain(handler, meeting, router, egress).await;
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
                if let (Feedback::SubscriberStats(s), Some(observe)) = (&f, handler.link_observer.get()) {
                    observe(s);
                }
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
        Feedback::SubscriberStats(s) => MediaReport::SubscriberLink {
            meeting: meeting.clone(),
            participant: s.participant,
            rtt: s.rtt,
            throughput_bps: s.throughput_bps,
            loss: s.loss,
            constrained: s.constrained,
        },
    }
}
