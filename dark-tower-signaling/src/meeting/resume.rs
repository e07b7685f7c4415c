//! Reconnect and resume: a participant whose connection drops stays in the meeting for the resume
//! grace period (others see it `reconnecting`), then either resumes — same id, tracks and
//! subscriptions, with every reliable message it missed resent once, in order — or leaves with
//! reason timeout.
//!
//! Every message sent to a member on its signaling stream carries a sequence number
//! (`ServerMessage.seq`, from 1) and is kept in a bounded [`Log`]. `Resume.last_seq` says what the
//! client has; the log resends the rest. A client further behind than the log reaches cannot
//! resume (its state would be wrong) and must join again.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use dark_tower_core::PROTOCOL_VERSIONS;
use dark_tower_core::error::{ErrorCode, WireError};
use dark_tower_core::ids::ParticipantId;
use dark_tower_core::proto::sig;
use dark_tower_core::token::Grant;

use super::{Effect, Meeting, S, micros, server};

/// Most messages kept per participant for resending.
pub const LOG_MAX_MESSAGES: usize = 1024;
/// Most encoded bytes kept per participant for resending.
pub const LOG_MAX_BYTES: usize = 1024 * 1024;

/// The numbered reliable messages of one participant, newest last, bounded by
/// [`LOG_MAX_MESSAGES`] and [`LOG_MAX_BYTES`].
#[derive(Debug)]
pub struct Log {
    next_seq: u64,
    /// (sequence number, encoded size, message). A message sent to many members is kept once and
    /// shared by their logs; its own `seq` field is not used here.
    entries: VecDeque<(u64, usize, Arc<sig::ServerMessage>)>,
    bytes: usize,
}

impl Default for Log {
    fn default() -> Self {
        Self { next_seq: 1, entries: VecDeque::new(), bytes: 0 }
    }
}

impl Log {
    /// Numbers `message` and keeps a copy.
    pub(super) fn record(&mut self, message: &mut sig::ServerMessage) {
        message.seq = self.record_shared(&Arc::new(message.clone()));
    }

    /// Numbers a message shared with other members' logs and keeps a reference; returns its
    /// sequence number here.
    pub(super) fn record_shared(&mut self, message: &Arc<sig::ServerMessage>) -> u64 {
        let seq = self.next_seq;
        self.next_seq += 1;
        let size = prost::Message::encoded_len(&**message) + 8;
        self.entries.push_back((seq, size, Arc::clone(message)));
        self.bytes += size;
        while self.entries.len() > LOG_MAX_MESSAGES || self.bytes > LOG_MAX_BYTES {
            match self.entries.pop_front() {
                Some((_, s, _)) => self.bytes -= s,
                None => break,
            }
        }
        seq
    }

    /// The highest sequence number sent (0 if none).
    pub fn last_seq(&self) -> u64 {
        self.next_seq - 1
    }

    /// The messages after `last_seq`, or `None` if some of them are no longer kept or `last_seq`
    /// was never sent. (Boxed as `Effect::Send` carries them.)
    #[allow(clippy::vec_box)]
    fn after(&self, last_seq: u64) -> Option<Vec<Box<sig::ServerMessage>>> {
        if last_seq > self.last_seq() {
            return None;
        }
        let oldest = self.entries.front().map_or(self.next_seq, |(seq, _, _)| *seq);
        if last_seq + 1 < oldest {
            return None;
        }
        Some(
            self.entries
                .iter()
                .filter(|(seq, _, _)| *seq > last_seq)
                .map(|(seq, _, m)| Box::new(sig::ServerMessage { seq: *seq, ..(**m).clone() }))
                .collect(),
        )
    }
}

/// A participant asking to continue after its connection dropped, authenticated by the driver
/// from its resume token.
#[derive(Debug, Clone)]
pub struct ResumeRequest {
    /// Who (from the resume token).
    pub participant: ParticipantId,
    /// The nonce the resume token carries.
    pub nonce: u64,
    /// The new signaling session.
    pub epoch: u64,
    /// The client's `Resume`.
    pub resume: sig::Resume,
    /// A fresh media endpoint and ticket.
    pub media: sig::MediaEndpoint,
    /// The `request_id` of the `Resume` envelope, echoed in `Resumed`.
    pub request_id: u32,
}

impl Meeting {
    /// What `participant` may do now (for signing its media ticket on resume).
    pub fn grant_of(&self, participant: ParticipantId) -> Option<&Grant> {
        self.members.get(&participant).map(|m| &m.grant)
    }

    /// Whether `participant` is in the meeting but disconnected, waiting to resume.
    pub fn is_reconnecting(&self, participant: ParticipantId) -> bool {
        self.members.get(&participant).is_some_and(|m| m.away_since.is_some())
    }

    /// Resumes a participant on a new session. On success the effects are `Resumed` to it, the
    /// missed messages, then `ParticipantUpdated` (no longer reconnecting) to the others; the
    /// driver must route the participant's messages to the new session from now on. On error
    /// nothing changed and the new session should be closed with the error.
    pub fn resume(&mut self, now: SystemTime, req: ResumeRequest) -> Result<(), WireError> {
        let id = req.participant;
        let failed = |msg: &str| WireError::new(ErrorCode::ResumeFailed, msg);
        if !PROTOCOL_VERSIONS.contains(&req.resume.protocol_version) {
            return Err(WireError::new(ErrorCode::UnsupportedVersion, "unsupported protocol version"));
        }
        let Some(m) = self.members.get(&id) else {
            return Err(failed("the participant has left the meeting; join again"));
        };
        if m.resume_nonce != req.nonce {
            return Err(failed("stale resume token"));
        }
        let Some(missed) = m.log.after(req.resume.last_seq) else {
            return Err(failed("missed messages are no longer available; join again"));
        };
        let participant = self.participant_proto(id, m);
        let Some(m) = self.members.get_mut(&id) else {
            return Err(failed("the participant has left the meeting"));
        };
        m.epoch = req.epoch;
        let was_away = m.away_since.take().is_some();
        let hidden = m.grant.hidden;
        let resumed = sig::Resumed {
            participant: Some(sig::Participant { reconnecting: false, ..participant }),
            meeting: Some(self.info()),
            media: Some(req.media),
            server_time_us: micros(now),
            replayed: u32::try_from(missed.len()).unwrap_or(u32::MAX),
        };
        // Outside the numbered sequence: the client's last_seq stays what it received.
        self.effects.push_back(Effect::Send {
            to: id,
            message: Box::new(server(req.request_id, S::Resumed(resumed))),
        });
        for message in missed {
            self.effects.push_back(Effect::Send { to: id, message });
        }
        if was_away && !hidden {
            self.reconnecting_changed(id);
        }
        Ok(())
    }

    /// A participant's session `epoch` ended. With a grace period and a dropped connection it
    /// becomes reconnecting; otherwise (or for `Leave`, protocol errors) it leaves now. An
    /// older session's end is ignored: the participant has already resumed on a newer one.
    pub(super) fn connection_lost(
        &mut self,
        now: SystemTime,
        participant: ParticipantId,
        epoch: u64,
        reason: sig::LeaveReason,
    ) {
        let Some(m) = self.members.get_mut(&participant) else { return };
        if m.epoch != epoch || m.away_since.is_some() {
            return;
        }
        if reason != sig::LeaveReason::Disconnected || self.config.resume_grace.is_zero() {
            return self.remove(now, participant, reason, None);
        }
        m.away_since = Some(now);
        let hidden = m.grant.hidden;
        // Its old session is gone; the driver forgets its outbox.
        self.effects.push_back(Effect::Close {
            participant,
            code: None,
            reason: "connection lost; waiting for resume".into(),
        });
        if !hidden {
            self.reconnecting_changed(participant);
            self.quality_lost(participant);
        }
    }

    /// When the first reconnecting participant's grace period ends.
    pub(super) fn away_deadline(&self) -> Option<SystemTime> {
        self.members.values().filter_map(|m| m.away_since).min().map(|t| t + self.config.resume_grace)
    }

    /// Removes reconnecting participants whose grace period is over (reason timeout).
    pub(super) fn expire_away(&mut self, now: SystemTime) {
        let grace: Duration = self.config.resume_grace;
        let expired: Vec<_> = self
            .members
            .iter()
            .filter(|(_, m)| m.away_since.is_some_and(|t| now >= t + grace))
            .map(|(p, _)| *p)
            .collect();
        for p in expired {
            self.remove(now, p, sig::LeaveReason::Timeout, None);
        }
    }

    /// `ParticipantUpdated` (its `reconnecting` changed) to everyone but the participant itself.
    fn reconnecting_changed(&mut self, who: ParticipantId) {
        let Some(m) = self.members.get(&who) else { return };
        let p = self.participant_proto(who, m);
        self.broadcast(who, S::ParticipantUpdated(sig::ParticipantUpdated { participant: Some(p) }));
    }
}

#[cfg(test)]
mod log_tests {
    use super::*;

    #[test]
    fn a_broadcast_is_kept_once_however_many_logs_hold_it() {
        let shared = Arc::new(server(0, S::Ack(sig::Ack {})));
        let mut logs: Vec<Log> = (0..50).map(|_| Log::default()).collect();
        // Each log is at a different point of its own numbering.
        for (i, log) in logs.iter_mut().enumerate() {
            for _ in 0..i % 3 {
                log.record(&mut server(0, S::Ack(sig::Ack {})));
            }
            log.record_shared(&shared);
        }
        assert_eq!(Arc::strong_count(&shared), 51, "one copy, 50 references");
        for (i, log) in logs.iter().enumerate() {
            let resent = log.after(0).expect("all kept");
            let seqs: Vec<u64> = resent.iter().map(|m| m.seq).collect();
            let expected: Vec<u64> = (1..=(i % 3) as u64 + 1).collect();
            assert_eq!(seqs, expected, "each log resends with its own numbers");
        }
    }
}
