//! Per-session ingress: reads frames from a publisher's streams and datagrams and hands them to
//! the meeting actor. Waiting for room in the actor's queue slows a flooding publisher down
//! without affecting anyone else's egress.

use std::sync::atomic::Ordering;

use bytes::Bytes;
use dark_tower_core::codec::media::MediaFrame;
use dark_tower_core::error::ErrorCode;
use dark_tower_core::ids::MeetingName;
use dark_tower_core::transport::{MediaStreamFrames, RecvStream, Session};
use tokio::task::JoinSet;

use super::{ActorMsg, MediaHandler};
use crate::router::{Input, SessionId, Via};

pub(super) struct Ingress<'a> {
    pub handler: &'a MediaHandler,
    pub meeting: &'a MeetingName,
    pub session_id: SessionId,
}

impl Ingress<'_> {
    /// Runs until the session closes.
    pub async fn run<S: Session>(self, session: S) {
        let Some(handler) = self.handler.me.upgrade() else {
            return;
        };
        let streams = async {
            let mut tasks = JoinSet::new();
            while let Ok(recv) = session.accept_uni().await {
                let handler = handler.clone();
                let meeting = self.meeting.clone();
                let session = session.clone();
                let id = self.session_id;
                tasks.spawn(async move {
                    if let Err((code, reason)) = read_stream(&handler, &meeting, id, recv).await {
                        handler.counters.sessions_closed_for_errors.fetch_add(1, Ordering::Relaxed);
                        tracing::info!(%meeting, session = id.0, %code, %reason, "closing media session");
                        session.close(code.wire(), &reason);
                    }
                });
                // Reap finished readers so the set does not grow with every group.
                while tasks.try_join_next().is_some() {}
            }
            tasks.abort_all();
        };
        let datagrams = async {
            while let Ok(d) = session.recv_datagram().await {
                self.datagram(d).await;
            }
        };
        tokio::join!(streams, datagrams);
    }

    async fn datagram(&self, d: Bytes) {
        match MediaFrame::decode(d, self.handler.config.max_datagram_frame) {
            Ok(frame) => {
                let input = Input::Frame { session: self.session_id, frame, via: Via::Datagram };
                self.handler.send(self.meeting, ActorMsg::Input(input)).await;
            }
            Err(e) => {
                // Datagrams are unreliable by nature: a bad one is counted and dropped.
                self.handler.counters.bad_datagrams.fetch_add(1, Ordering::Relaxed);
                self.handler.counters.changed.notify_waiters();
                tracing::debug!(error = %e, "dropping bad datagram");
            }
        }
    }
}

async fn read_stream<R: RecvStream>(
    handler: &MediaHandler,
    meeting: &MeetingName,
    session: SessionId,
    recv: R,
) -> Result<(), (ErrorCode, String)> {
    let mut frames = MediaStreamFrames::new(recv, handler.config.max_frame);
    loop {
        match frames.next().await {
            Ok(Some(frame)) => {
                let input = Input::Frame { session, frame, via: Via::Stream };
                handler.send(meeting, ActorMsg::Input(input)).await;
            }
            Ok(None) => return Ok(()),
            Err(e) => {
                let code = e.code();
                frames.stop(code.wire());
                return Err((code, e.to_string()));
            }
        }
    }
}
