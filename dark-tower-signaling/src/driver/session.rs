//! One signaling session: read `Join`, hand the participant to its meeting actor, then pump
//! messages both ways until the session ends.

use std::time::SystemTime;

use dark_tower_core::codec::signal::{self, MessageReader, SignalCodecError};
use dark_tower_core::error::ErrorCode;
use dark_tower_core::ids::{MeetingName, ParticipantId};
use dark_tower_core::limits::MAX_SIGNAL_MESSAGE;
use dark_tower_core::proto::sig;
use dark_tower_core::token::VerifiedToken;
use dark_tower_core::transport::{RecvStream, SendStream, Session};
use tokio::sync::mpsc;

use dark_tower_core::store::MeetingRecord;
use dark_tower_core::token::ResumeClaims;

use super::{ActorMsg, MeetingController, PlaceError};
use crate::meeting::{Command, JoinRequest, ResumeRequest};

/// How long a refused session's last message may take to be acknowledged before closing.
const FLUSH_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(2);

/// What the writer task sends.
#[derive(Debug)]
pub(crate) enum Outgoing {
    Message(Box<sig::ServerMessage>),
    /// Sent as a datagram of the signaling session (unframed), best effort.
    Datagram(Box<sig::ServerMessage>),
    Close(Option<ErrorCode>, String),
}

/// Why reading stopped.
enum ReadEnd {
    Closed,
    Codec(SignalCodecError),
}

async fn next_message<R: RecvStream>(
    recv: &mut R,
    reader: &mut MessageReader,
) -> Result<sig::ClientMessage, ReadEnd> {
    // On the heap: a buffer on the stack would live in every session's future across the await
    // (it made each signaling session's task 19 KB). Signaling messages are few and small.
    let mut buf = vec![0u8; 4 * 1024];
    loop {
        if let Some(body) = reader.next_message().map_err(ReadEnd::Codec)? {
            return signal::decode_client(body).map_err(ReadEnd::Codec);
        }
        match recv.read(&mut buf).await {
            Ok(Some(n)) => reader.push(&buf[..n]),
            Ok(None) | Err(_) => return Err(ReadEnd::Closed),
        }
    }
}

async fn write<W: SendStream>(send: &mut W, msg: &sig::ServerMessage) -> bool {
    match signal::frame(msg) {
        Ok(bytes) => send.write_all(&bytes).await.is_ok(),
        Err(e) => {
            tracing::error!(error = %e, "cannot frame a server message");
            true
        }
    }
}

fn disconnect(code: ErrorCode, message: &str) -> sig::ServerMessage {
    sig::ServerMessage {
        request_id: 0,
        seq: 0,
        message: Some(sig::server_message::Message::Disconnect(sig::Disconnect {
            code: code.to_proto() as i32,
            message: message.to_owned(),
        })),
    }
}

/// Sends `Disconnect` and closes the session with the code.
async fn refuse<S: Session>(session: &S, send: &mut S::Send, code: ErrorCode, message: &str) {
    let _ = write(send, &disconnect(code, message)).await;
    if send.finish().is_ok() {
        // Closing the session discards unacknowledged data: give Disconnect a bounded chance.
        let _ = tokio::time::timeout(FLUSH_TIMEOUT, send.flushed()).await;
    }
    session.close(code.wire(), message);
}

pub(super) async fn serve<S: Session>(
    mc: &MeetingController,
    session: S,
    meeting: MeetingName,
    token: VerifiedToken,
) {
    let timeout = mc.config.join_timeout;
    let Ok(Ok((mut send, mut recv))) = tokio::time::timeout(timeout, session.accept_bi()).await else {
        session.close(ErrorCode::ProtocolViolation.wire(), "no signaling stream opened");
        return;
    };
    let mut reader = MessageReader::new(MAX_SIGNAL_MESSAGE);
    let (request_id, join) = match tokio::time::timeout(timeout, next_message(&mut recv, &mut reader)).await {
        Err(_) => {
            return refuse(&session, &mut send, ErrorCode::ProtocolViolation, "no Join in time").await;
        }
        Ok(Err(ReadEnd::Closed)) => return,
        Ok(Err(ReadEnd::Codec(e))) => return refuse(&session, &mut send, e.code(), &e.to_string()).await,
        Ok(Ok(sig::ClientMessage { request_id, message: Some(sig::client_message::Message::Join(j)) })) => {
            (request_id, j)
        }
        Ok(Ok(_)) => {
            return refuse(
                &session,
                &mut send,
                ErrorCode::ProtocolViolation,
                "the first message must be Join",
            )
            .await;
        }
    };
    let join_started = tokio::time::Instant::now();
    let now = SystemTime::now();
    let record = match mc.place(&meeting, now).await {
        Ok(r) => r,
        Err(PlaceError::NotFound) => {
            return refuse(&session, &mut send, ErrorCode::MeetingNotFound, "no such meeting").await;
        }
        Err(PlaceError::Store(e)) => {
            tracing::error!(error = %e, "meeting store failed");
            return refuse(&session, &mut send, ErrorCode::Internal, "meeting store unavailable").await;
        }
    };
    let participant = ParticipantId::random();
    let epoch = mc.next_epoch();
    let resume_nonce: u64 = rand::random();
    let resume_token = match mc.config.ticket_key.sign_resume(&meeting, participant, resume_nonce, now) {
        Ok(t) => t,
        Err(e) => {
            tracing::error!(error = %e, "cannot sign resume token");
            return refuse(&session, &mut send, ErrorCode::Internal, "cannot issue resume token").await;
        }
    };
    let grant = &token.grant;
    let ticket =
        match mc.config.ticket_key.sign(&meeting, participant, grant.can_publish, grant.can_subscribe, now) {
            Ok(t) => t,
            Err(e) => {
                tracing::error!(error = %e, "cannot sign media ticket");
                return refuse(&session, &mut send, ErrorCode::Internal, "cannot issue media ticket").await;
            }
        };
    let media = sig::MediaEndpoint {
        url: mc.config.media_url.clone(),
        ticket,
        certificate_sha256: mc.config.media_certificate_sha256.clone(),
    };
    let (out_tx, out_rx) = mpsc::channel(mc.config.outbox_capacity.max(1));
    let request = Box::new(JoinRequest {
        participant,
        token,
        join,
        media,
        request_id,
        epoch,
        resume_nonce,
        resume_token,
    });
    if !mc.send(&record, ActorMsg::Join { request, outbox: out_tx.clone() }).await {
        return refuse(&session, &mut send, ErrorCode::ShuttingDown, "meeting controller stopping").await;
    }
    let link = Link { record: &record, participant, epoch, join_started: Some(join_started) };
    pump(mc, link, session, send, recv, reader, out_tx, out_rx).await;
}

/// Serves a session opened with a resume token whose signature was verified before accepting.
pub(super) async fn serve_resume<S: Session>(mc: &MeetingController, session: S, claims: ResumeClaims) {
    let timeout = mc.config.join_timeout;
    let Ok(Ok((mut send, mut recv))) = tokio::time::timeout(timeout, session.accept_bi()).await else {
        session.close(ErrorCode::ProtocolViolation.wire(), "no signaling stream opened");
        return;
    };
    let mut reader = MessageReader::new(MAX_SIGNAL_MESSAGE);
    let (request_id, resume) = match tokio::time::timeout(timeout, next_message(&mut recv, &mut reader)).await
    {
        Err(_) => {
            return refuse(&session, &mut send, ErrorCode::ProtocolViolation, "no Resume in time").await;
        }
        Ok(Err(ReadEnd::Closed)) => return,
        Ok(Err(ReadEnd::Codec(e))) => return refuse(&session, &mut send, e.code(), &e.to_string()).await,
        Ok(Ok(sig::ClientMessage { request_id, message: Some(sig::client_message::Message::Resume(r)) })) => {
            (request_id, r)
        }
        Ok(Ok(_)) => {
            return refuse(
                &session,
                &mut send,
                ErrorCode::ProtocolViolation,
                "the first message of a resumed session must be Resume",
            )
            .await;
        }
    };
    let Some(record) = mc.live_record(&claims.meeting).await else {
        return refuse(&session, &mut send, ErrorCode::ResumeFailed, "the meeting has ended").await;
    };
    let participant = claims.pid;
    let epoch = mc.next_epoch();
    let (out_tx, out_rx) = mpsc::channel(mc.config.outbox_capacity.max(1));
    let request = Box::new(ResumeRequest {
        participant,
        nonce: claims.nonce,
        epoch,
        resume,
        // The actor fills in a fresh media ticket from the participant's current grant.
        media: sig::MediaEndpoint::default(),
        request_id,
    });
    if !mc.send_existing(&record, ActorMsg::Resume { request, outbox: out_tx.clone() }).await {
        return refuse(&session, &mut send, ErrorCode::ResumeFailed, "the meeting has ended").await;
    }
    let link = Link { record: &record, participant, epoch, join_started: None };
    pump(mc, link, session, send, recv, reader, out_tx, out_rx).await;
}

/// Which participant session a pump serves.
struct Link<'a> {
    record: &'a MeetingRecord,
    participant: ParticipantId,
    epoch: u64,
    /// When the Join was read (a fresh join, not a resume): `Joined` going out ends the join.
    join_started: Option<tokio::time::Instant>,
}

/// Moves messages both ways until the session ends, sampling the path for connection quality,
/// then tells the meeting.
#[allow(clippy::too_many_arguments)]
async fn pump<S: Session>(
    mc: &MeetingController,
    link: Link<'_>,
    session: S,
    send: S::Send,
    mut recv: S::Recv,
    mut reader: MessageReader,
    out_tx: mpsc::Sender<Outgoing>,
    out_rx: mpsc::Receiver<Outgoing>,
) {
    let Link { record, participant, epoch, join_started } = link;
    let timer = join_started.zip(mc.join_observer.get().cloned());
    let writer = tokio::spawn(write_loop(session.clone(), send, out_rx, timer));
    let end = tokio::select! {
        end = read_loop(mc, record, participant, &mut recv, &mut reader) => end,
        end = datagram_loop(mc, record, participant, &session) => end,
        end = quality_loop(mc, record, participant, epoch, &session) => end,
    };
    let reason = match end {
        ReadEnd::Closed => sig::LeaveReason::Disconnected,
        ReadEnd::Codec(e) => {
            tracing::info!(meeting = %record.name, %participant, error = %e, "closing signaling session");
            let _ = out_tx.send(Outgoing::Close(Some(e.code()), e.to_string())).await;
            sig::LeaveReason::ProtocolError
        }
    };
    mc.send_existing(record, ActorMsg::Command(Command::Disconnected { participant, epoch, reason })).await;
    // The writer ends after sending Close (from the actor or above), or with the session.
    tokio::select! {
        _ = writer => {}
        _ = session.closed() => {}
    }
}

/// Samples the session's path every `quality_interval` for connection quality.
async fn quality_loop<S: Session>(
    mc: &MeetingController,
    record: &MeetingRecord,
    participant: ParticipantId,
    epoch: u64,
    session: &S,
) -> ReadEnd {
    let mut tick = tokio::time::interval(mc.config.quality_interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tick.tick().await;
    loop {
        tick.tick().await;
        let stats = session.path_stats();
        mc.route(record, ActorMsg::Command(Command::PathSample { participant, epoch, stats }));
    }
}

async fn read_loop<R: RecvStream>(
    mc: &MeetingController,
    record: &MeetingRecord,
    participant: ParticipantId,
    recv: &mut R,
    reader: &mut MessageReader,
) -> ReadEnd {
    loop {
        match next_message(recv, reader).await {
            Ok(message) => {
                if !mc
                    .send_existing(
                        record,
                        ActorMsg::Command(Command::Message { participant, message: Box::new(message) }),
                    )
                    .await
                {
                    return ReadEnd::Closed;
                }
            }
            Err(end) => return end,
        }
    }
}

/// Best-effort data messages arrive as datagrams: one unframed `ClientMessage` carrying a
/// `SendData` with `reliable = false`. Anything else is dropped.
async fn datagram_loop<S: Session>(
    mc: &MeetingController,
    record: &MeetingRecord,
    participant: ParticipantId,
    session: &S,
) -> ReadEnd {
    while let Ok(d) = session.recv_datagram().await {
        let Ok(message) = <sig::ClientMessage as prost::Message>::decode(d) else { continue };
        let best_effort_data =
            matches!(&message.message, Some(sig::client_message::Message::SendData(s)) if !s.reliable);
        if !best_effort_data {
            continue;
        }
        let cmd = Command::Message { participant, message: Box::new(message) };
        if !mc.send_existing(record, ActorMsg::Command(cmd)).await {
            break;
        }
    }
    // The session is gone; the stream reader reports the same.
    std::future::pending().await
}

async fn write_loop<S: Session>(
    session: S,
    mut send: S::Send,
    mut rx: mpsc::Receiver<Outgoing>,
    mut join_timer: Option<(tokio::time::Instant, super::JoinObserver)>,
) {
    while let Some(out) = rx.recv().await {
        match out {
            Outgoing::Message(m) => {
                if !write(&mut send, &m).await {
                    return;
                }
                if matches!(m.message, Some(sig::server_message::Message::Joined(_)))
                    && let Some((started, observe)) = join_timer.take()
                {
                    observe(started.elapsed());
                }
            }
            Outgoing::Datagram(m) => {
                // Too large for the path or no datagram support: dropped, as best effort allows.
                let _ = session.send_datagram(prost::Message::encode_to_vec(m.as_ref()).into());
            }
            Outgoing::Close(code, reason) => {
                match code {
                    Some(code) => refuse(&session, &mut send, code, &reason).await,
                    None => {
                        let _ = send.finish();
                        session.close(0, &reason);
                    }
                }
                return;
            }
        }
    }
}
