//! The operator's side door into running meetings: what the server's REST API calls to list,
//! remove, mute and update participants and to end a meeting. Each command goes through the
//! meeting's actor like any participant's message, so it is ordered with them, and the answer
//! comes back once its effects (disconnects, store updates) are carried out.

use dark_tower_core::error::{ErrorCode, WireError};
use dark_tower_core::ids::MeetingName;
use dark_tower_core::store::MeetingRecord;
use tokio::sync::oneshot;

use super::{ActorMsg, MeetingController};
use crate::meeting::{AdminCommand, AdminReply};

pub(crate) type AdminResult = Result<AdminReply, WireError>;

fn stopped() -> WireError {
    WireError::new(ErrorCode::Internal, "the meeting stopped before answering")
}

impl MeetingController {
    /// Carries out `command` in the running meeting `name`. `Ok(None)`: no participant is in
    /// that meeting on this controller (it has no running actor), so there is nobody to act on.
    /// For ending a meeting use [`MeetingController::end_meeting`], which works either way.
    pub async fn admin(
        &self,
        name: &MeetingName,
        command: AdminCommand,
    ) -> Result<Option<AdminReply>, WireError> {
        let tx = self.lock_meetings().get(name).filter(|tx| !tx.is_closed()).cloned();
        let Some(tx) = tx else { return Ok(None) };
        let (reply, answer) = oneshot::channel();
        if tx.send(ActorMsg::Admin { command, reply }).await.is_err() {
            // The actor retired between the look-up and the send: nobody is there.
            return Ok(None);
        }
        answer.await.map_err(|_| stopped())?.map(Some)
    }

    /// Tells every participant of every meeting on this controller that the server is
    /// stopping (`Disconnect{shutting_down}`) and removes them, leaving the meetings live in
    /// the store. Returns once every meeting has done so.
    pub async fn evacuate(&self) {
        let actors: Vec<_> = self.lock_meetings().values().filter(|tx| !tx.is_closed()).cloned().collect();
        let mut answers = Vec::new();
        for tx in actors {
            let (reply, answer) = oneshot::channel();
            if tx.send(ActorMsg::Admin { command: AdminCommand::Evacuate, reply }).await.is_ok() {
                answers.push(answer);
            }
        }
        for a in answers {
            let _ = a.await;
        }
    }

    /// Starts running the live meeting `record` after a restart of the server: its timers run
    /// again, its empty timeout counting from `now` (participants of before the restart get
    /// that long to come back). Call it at start for every live meeting in the store.
    pub fn reopen_meeting(&self, record: &MeetingRecord, now: std::time::SystemTime) {
        let _ = self.actor_empty_since(record, now);
    }

    /// Starts running the live meeting `record` before anyone joins, so its timers run: a
    /// meeting nobody joins ends once its empty timeout has passed since its creation (as one
    /// whose last participant left does). Call it for a meeting created through the API.
    pub fn open_meeting(&self, record: &MeetingRecord) {
        let _ = self.actor(record);
    }

    /// Ends the live meeting `record` for everyone: every participant gets
    /// `Disconnect{meeting_ended}`, the store marks it ended and the `meeting_ended` webhook is
    /// sent, all before this returns. A meeting nobody has joined is ended the same way.
    pub async fn end_meeting(&self, record: &MeetingRecord) -> Result<(), WireError> {
        let (reply, answer) = oneshot::channel();
        if !self.send(record, ActorMsg::Admin { command: AdminCommand::End, reply }).await {
            return Err(stopped());
        }
        answer.await.map_err(|_| stopped())?.map(|_| ())
    }
}
