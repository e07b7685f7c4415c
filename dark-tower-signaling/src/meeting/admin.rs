//! Server-side administration: what the operator's REST API asks of a meeting. Unlike moderation
//! by a host, these commands come from no participant; they address participants by identity.
//!
//! Call [`Meeting::handle_admin`], then drain [`Meeting::poll_effect`] as after any command.

use std::time::SystemTime;

use dark_tower_core::error::{ErrorCode, WireError};
use dark_tower_core::ids::{Identity, ParticipantId, TrackId};
use dark_tower_core::proto::sig;
use dark_tower_core::token::{Grant, Role};
use dark_tower_core::track::{TrackKind, TrackSource};

use super::{Meeting, S};

/// A command from the server's operator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AdminCommand {
    /// Who is in the meeting now.
    Roster,
    /// Remove every session of `identity` (`Disconnect{removed}`).
    Remove {
        /// Whose sessions.
        identity: Identity,
    },
    /// Mute one track of `identity`.
    MuteTrack {
        /// Whose track.
        identity: Identity,
        /// Which.
        track: TrackId,
    },
    /// Change the role and permissions of every session of `identity`; fields left `None` stay.
    Update {
        /// Whose.
        identity: Identity,
        /// The change.
        update: GrantUpdate,
    },
    /// Disconnect everyone with `Disconnect{shutting_down}` (the server is stopping) without
    /// ending the meeting: its record stays live, so participants may join it again on this
    /// server after a restart, or elsewhere.
    Evacuate,
    /// End the meeting for everyone.
    End,
}

/// A partial change of a participant's grant.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GrantUpdate {
    /// New role.
    pub role: Option<Role>,
    /// May publish.
    pub can_publish: Option<bool>,
    /// Sources it may publish; empty means all.
    pub can_publish_sources: Option<Vec<TrackSource>>,
    /// May subscribe.
    pub can_subscribe: Option<bool>,
    /// May send data messages.
    pub can_publish_data: Option<bool>,
}

impl GrantUpdate {
    fn apply(&self, grant: &mut Grant) {
        if let Some(r) = self.role {
            grant.role = r;
        }
        if let Some(v) = self.can_publish {
            grant.can_publish = v;
        }
        if let Some(v) = &self.can_publish_sources {
            grant.can_publish_sources = v.clone();
        }
        if let Some(v) = self.can_subscribe {
            grant.can_subscribe = v;
        }
        if let Some(v) = self.can_publish_data {
            grant.can_publish_data = v;
        }
    }
}

/// A participant as the operator sees it (hidden participants included).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParticipantSnapshot {
    /// Session id.
    pub id: ParticipantId,
    /// Who.
    pub identity: Identity,
    /// Display name.
    pub name: String,
    /// Role and permissions now (after any changes made in the meeting).
    pub grant: Grant,
    /// When it joined.
    pub joined_at: SystemTime,
    /// Its published tracks.
    pub tracks: Vec<TrackSnapshot>,
}

/// A published track.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrackSnapshot {
    /// Id.
    pub id: TrackId,
    /// Audio or video.
    pub kind: TrackKind,
    /// Camera, microphone, screen…
    pub source: TrackSource,
    /// Codec name.
    pub codec: String,
    /// The publisher's name for it.
    pub name: String,
    /// Muted now.
    pub muted: bool,
    /// Simulcast layers.
    pub layers: u8,
}

/// The answer to an [`AdminCommand`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AdminReply {
    /// For [`AdminCommand::Roster`]: participants in join order.
    Roster(Vec<ParticipantSnapshot>),
    /// For [`AdminCommand::Update`]: the participant's sessions as they are now.
    Updated(Vec<ParticipantSnapshot>),
    /// Done.
    Done,
}

impl Meeting {
    /// Carries out an operator's command at `now`. Errors change nothing: `not_found` for an
    /// identity with no session here, `unknown_track` for a track it does not publish,
    /// `meeting_ended` once the meeting is over.
    pub fn handle_admin(&mut self, now: SystemTime, command: AdminCommand) -> Result<AdminReply, WireError> {
        if self.ended {
            return Err(WireError::new(ErrorCode::MeetingEnded, "the meeting has ended"));
        }
        match command {
            AdminCommand::Roster => Ok(AdminReply::Roster(self.snapshots(|_| true))),
            AdminCommand::Remove { identity } => {
                for p in self.sessions_of(&identity)? {
                    self.remove(now, p, sig::LeaveReason::Removed, Some(ErrorCode::Removed));
                }
                Ok(AdminReply::Done)
            }
            AdminCommand::MuteTrack { identity, track } => {
                let sessions = self.sessions_of(&identity)?;
                let owner = self.tracks.get(&track).map(|e| e.owner).filter(|o| sessions.contains(o));
                let Some(owner) = owner else {
                    return Err(WireError::new(ErrorCode::UnknownTrack, "no such track of that participant"));
                };
                if let Some(e) = self.tracks.get_mut(&track) {
                    e.track.muted = true;
                }
                let event = S::TrackMuted(sig::TrackMuted {
                    participant_id: owner.to_string(),
                    track_id: track.to_string(),
                    muted: true,
                    by_participant_id: String::new(),
                });
                let everyone: Vec<_> = self.members.keys().copied().collect();
                self.send_each(everyone, event);
                Ok(AdminReply::Done)
            }
            AdminCommand::Update { identity, update } => {
                let sessions = self.sessions_of(&identity)?;
                for &p in &sessions {
                    if let Some(m) = self.members.get_mut(&p) {
                        update.apply(&mut m.grant);
                    }
                    self.enforce_grant(p);
                    self.announce_updated(p);
                }
                Ok(AdminReply::Updated(self.snapshots(|p| sessions.contains(&p))))
            }
            AdminCommand::Evacuate => {
                let everyone: Vec<_> = self.members.keys().copied().collect();
                for p in everyone {
                    self.remove(now, p, sig::LeaveReason::Disconnected, Some(ErrorCode::ShuttingDown));
                }
                Ok(AdminReply::Done)
            }
            AdminCommand::End => {
                self.end(now);
                Ok(AdminReply::Done)
            }
        }
    }

    /// The sessions of `identity`, or `not_found`.
    fn sessions_of(&self, identity: &Identity) -> Result<Vec<ParticipantId>, WireError> {
        let found: Vec<_> =
            self.members.iter().filter(|(_, m)| &m.identity == identity).map(|(p, _)| *p).collect();
        if found.is_empty() {
            return Err(WireError::new(ErrorCode::NotFound, "no such participant in the meeting"));
        }
        Ok(found)
    }

    fn snapshots(&self, keep: impl Fn(ParticipantId) -> bool) -> Vec<ParticipantSnapshot> {
        let mut v: Vec<_> = self
            .members
            .iter()
            .filter(|(p, _)| keep(**p))
            .map(|(p, m)| ParticipantSnapshot {
                id: *p,
                identity: m.identity.clone(),
                name: m.name.clone(),
                grant: m.grant.clone(),
                joined_at: m.joined_at,
                tracks: m
                    .tracks
                    .iter()
                    .filter_map(|t| self.tracks.get(t).map(|e| (t, e)))
                    .filter_map(|(id, e)| {
                        Some(TrackSnapshot {
                            id: *id,
                            kind: TrackKind::from_proto(e.track.kind)?,
                            source: TrackSource::from_proto(e.track.source)?,
                            codec: e.track.codec.clone(),
                            name: e.track.name.clone(),
                            muted: e.track.muted,
                            layers: u8::try_from(e.track.layers.len().max(1)).unwrap_or(u8::MAX),
                        })
                    })
                    .collect(),
            })
            .collect();
        v.sort_by_key(|s| (s.joined_at, s.id));
        v
    }
}
