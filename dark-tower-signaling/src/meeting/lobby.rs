//! The lobby (waiting room): with it on, non-moderators wait until a moderator admits them.

use std::time::SystemTime;

use dark_tower_core::error::ErrorCode;
use dark_tower_core::ids::ParticipantId;
use dark_tower_core::proto::sig;

use super::{Effect, JoinRequest, Meeting, S, role_to_proto};

impl Meeting {
    /// Holds a joiner in the lobby: `LobbyWaiting` to it, `LobbyUpdated` to the moderators.
    pub(super) fn hold_in_lobby(&mut self, req: JoinRequest) {
        let id = req.participant;
        let rid = req.request_id;
        self.waiting.insert(id, req);
        self.send(id, rid, S::LobbyWaiting(sig::LobbyWaiting { meeting: Some(self.info()) }));
        self.lobby_updated(None);
    }

    fn waiting_proto(&self) -> Vec<sig::Participant> {
        self.waiting
            .iter()
            .map(|(id, req)| sig::Participant {
                id: id.to_string(),
                identity: req.token.identity.as_str().to_owned(),
                name: req.token.name.clone(),
                role: role_to_proto(req.token.grant.role),
                tracks: Vec::new(),
                joined_at_us: 0,
                permissions: None,
                reconnecting: false,
                metadata: String::new(),
                video_decoders: Vec::new(),
            })
            .collect()
    }

    /// Tells the moderators (or only `to`) who is waiting.
    pub(super) fn lobby_updated(&mut self, to: Option<ParticipantId>) {
        if to.is_some() && self.waiting.is_empty() {
            return;
        }
        let msg = S::LobbyUpdated(sig::LobbyUpdated { waiting: self.waiting_proto() });
        let moderators: Vec<_> = match to {
            Some(p) => vec![p],
            None => self.members.keys().copied().filter(|p| self.is_moderator(*p)).collect(),
        };
        self.send_each(moderators, msg);
    }

    pub(super) fn admit_from_lobby(
        &mut self,
        now: SystemTime,
        from: ParticipantId,
        rid: u32,
        a: sig::AdmitParticipant,
    ) {
        if !self.is_moderator(from) {
            return self.error(from, rid, ErrorCode::PermissionDenied, "only hosts may moderate");
        }
        let Some(req) = a.participant_id.parse::<ParticipantId>().ok().and_then(|p| self.waiting.remove(&p))
        else {
            return self.error(from, rid, ErrorCode::NotFound, "nobody waiting with that id");
        };
        self.send(from, rid, S::Ack(sig::Ack {}));
        if a.admit {
            self.admit(now, req);
        } else {
            let participant = req.participant;
            self.effects.push_back(Effect::Close {
                participant,
                code: Some(ErrorCode::LobbyDenied),
                reason: "a host denied entry".into(),
            });
        }
        self.lobby_updated(None);
    }

    pub(super) fn set_lobby(&mut self, now: SystemTime, from: ParticipantId, rid: u32, enabled: bool) {
        if !self.is_moderator(from) {
            return self.error(from, rid, ErrorCode::PermissionDenied, "only hosts may moderate");
        }
        self.lobby = enabled;
        self.send(from, rid, S::Ack(sig::Ack {}));
        let msg = S::MeetingUpdated(sig::MeetingUpdated { meeting: Some(self.info()) });
        let others: Vec<_> = self.members.keys().copied().filter(|p| *p != from).collect();
        self.send_each(others, msg);
        if !enabled && !self.waiting.is_empty() {
            for (_, req) in std::mem::take(&mut self.waiting) {
                self.admit(now, req);
            }
            self.lobby_updated(None);
        }
    }
}
