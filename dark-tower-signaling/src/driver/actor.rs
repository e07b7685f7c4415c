//! One task per live meeting: owns the [`Meeting`] state machine and the participants' outboxes,
//! carries out effects in order, and keeps the store and webhooks informed.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use dark_tower_core::error::ErrorCode;
use dark_tower_core::ids::ParticipantId;
use dark_tower_core::proto::sig;
use dark_tower_core::store::{MeetingRecord, SessionRecord};
use dark_tower_core::webhook::WebhookEvent;
use tokio::sync::mpsc;

use super::session::Outgoing;
use super::{ActorMsg, MeetingController};
use crate::meeting::{Command, Effect, Meeting, MeetingEvent};

pub(super) async fn run(
    mc: Arc<MeetingController>,
    record: MeetingRecord,
    me: mpsc::WeakSender<ActorMsg>,
    mut rx: mpsc::Receiver<ActorMsg>,
    empty_since: SystemTime,
) {
    let name = record.name.clone();
    let mut meeting =
        Meeting::new(name.clone(), record.settings.clone(), mc.config.meeting.clone(), record.created_at)
            .empty_since(empty_since);
    let mut outboxes: HashMap<ParticipantId, mpsc::Sender<Outgoing>> = HashMap::new();
    tracing::debug!(meeting = %name, "meeting actor started");
    loop {
        let wait =
            meeting.poll_timeout().map(|t| t.duration_since(SystemTime::now()).unwrap_or(Duration::ZERO));
        let timer = async {
            match wait {
                Some(d) => tokio::time::sleep(d).await,
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
        let now = SystemTime::now();
        let was_ended = meeting.is_ended();
        let mut admin_reply = None;
        match msg {
            Some(ActorMsg::Join { request, outbox }) => {
                outboxes.insert(request.participant, outbox);
                meeting.handle(now, Command::Join(request));
            }
            Some(ActorMsg::Resume { mut request, outbox }) => {
                let pid = request.participant;
                let Some(grant) = meeting.grant_of(pid) else {
                    refuse_resume(&outbox, ErrorCode::ResumeFailed, "the participant has left the meeting");
                    continue;
                };
                match mc.config.ticket_key.sign(&name, pid, grant.can_publish, grant.can_subscribe, now) {
                    Ok(ticket) => {
                        request.media = sig::MediaEndpoint {
                            url: mc.config.media_url.clone(),
                            ticket,
                            certificate_sha256: mc.config.media_certificate_sha256.clone(),
                        };
                    }
                    Err(e) => {
                        tracing::error!(error = %e, "cannot sign media ticket");
                        refuse_resume(&outbox, ErrorCode::Internal, "cannot issue media ticket");
                        continue;
                    }
                }
                match meeting.resume(now, *request) {
                    Ok(()) => {
                        // The old session (if the server had not noticed it was gone) ends quietly;
                        // its late `Disconnected` carries an older epoch and is ignored.
                        if let Some(old) = outboxes.insert(pid, outbox) {
                            let _ = old.try_send(Outgoing::Close(None, "resumed on another session".into()));
                        }
                    }
                    Err(e) => refuse_resume(&outbox, e.code, &e.message),
                }
            }
            Some(ActorMsg::Command(c)) => meeting.handle(now, c),
            Some(ActorMsg::Admin { command, reply }) => {
                admin_reply = Some((reply, meeting.handle_admin(now, command)));
            }
            None => meeting.handle_timeout(now),
        }
        if meeting.is_ended() && !was_ended {
            // Before anyone hears of the end: the store marks the meeting ended and its name
            // stops leading here, so whoever joins that name next (even at once) starts a new
            // meeting instead of reaching this ended one.
            if let Err(e) = mc.store.end_meeting(&name, now).await {
                tracing::warn!(meeting = %name, error = %e, "meeting store update failed");
            }
            mc.unmap(&name, &me);
        }
        while let Some(effect) = meeting.poll_effect() {
            apply(&mc, &record, &mut outboxes, effect, now).await;
        }
        if let Some((reply, result)) = admin_reply {
            // The caller may have given up waiting; the command is carried out all the same.
            let _ = reply.send(result);
        }
        if meeting.is_ended() && mc.retire(&name, &me, &rx) {
            break;
        }
    }
    for (_, o) in outboxes.drain() {
        let _ = o.try_send(Outgoing::Close(Some(ErrorCode::MeetingEnded), "meeting ended".into()));
    }
    tracing::debug!(meeting = %name, "meeting actor stopped");
}

fn refuse_resume(outbox: &mpsc::Sender<Outgoing>, code: ErrorCode, reason: &str) {
    let _ = outbox.try_send(Outgoing::Close(Some(code), reason.into()));
}

async fn apply(
    mc: &MeetingController,
    record: &MeetingRecord,
    outboxes: &mut HashMap<ParticipantId, mpsc::Sender<Outgoing>>,
    effect: Effect,
    now: SystemTime,
) {
    let meeting = &record.name;
    match effect {
        Effect::Send { to, message } => {
            let Some(o) = outboxes.get(&to) else { return };
            if let Err(mpsc::error::TrySendError::Full(_)) = o.try_send(Outgoing::Message(message)) {
                // A participant that does not read its signaling stream cannot follow the meeting.
                tracing::info!(%meeting, participant = %to, "signaling outbox full; disconnecting");
                if let Some(o) = outboxes.remove(&to) {
                    tokio::spawn(async move {
                        let _ =
                            o.send(Outgoing::Close(Some(ErrorCode::RateLimited), "too slow".into())).await;
                    });
                }
            }
        }
        Effect::SendDatagram { to, message } => {
            // Best effort by definition: a full outbox drops it.
            if let Some(o) = outboxes.get(&to) {
                let _ = o.try_send(Outgoing::Datagram(message));
            }
        }
        Effect::Forward(c) => mc.forwarding.apply(c).await,
        Effect::Close { participant, code, reason } => {
            if let Some(o) = outboxes.remove(&participant) {
                tokio::spawn(async move {
                    let _ = o.send(Outgoing::Close(code, reason)).await;
                });
            }
        }
        Effect::Event(e) => event(mc, record, e, now).await,
    }
}

async fn event(mc: &MeetingController, record: &MeetingRecord, e: MeetingEvent, now: SystemTime) {
    let meeting = record.name.clone();
    let (store_result, hook) = match e {
        MeetingEvent::ParticipantJoined { participant, identity } => {
            let hook = WebhookEvent::ParticipantJoined {
                meeting: meeting.clone(),
                participant,
                identity: identity.as_str().to_owned(),
            };
            let rec = SessionRecord { meeting, participant, identity, joined_at: now, left_at: None };
            (mc.store.session_started(rec).await, hook)
        }
        MeetingEvent::ParticipantLeft { participant } => (
            mc.store.session_ended(&meeting, participant, now).await,
            WebhookEvent::ParticipantLeft { meeting, participant },
        ),
        MeetingEvent::TrackPublished { participant, track } => {
            mc.tracks.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            (Ok(()), WebhookEvent::TrackPublished { meeting, participant, track })
        }
        MeetingEvent::TrackUnpublished { participant, track } => {
            mc.tracks.fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
            (Ok(()), WebhookEvent::TrackUnpublished { meeting, participant, track })
        }
        // The store was told when the meeting ended, before its participants were.
        MeetingEvent::Ended => (Ok(()), WebhookEvent::MeetingEnded { meeting }),
    };
    if let Err(e) = store_result {
        tracing::warn!(meeting = %record.name, error = %e, "meeting store update failed");
    }
    if let Err(e) = mc.webhooks.deliver(hook).await {
        tracing::warn!(meeting = %record.name, error = %e, "webhook delivery failed");
    }
}
