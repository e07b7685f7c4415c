//! Mute state, data messages and moderation: what participants do to each other once joined.

use std::time::SystemTime;

use dark_tower_core::error::ErrorCode;
use dark_tower_core::forwarding::ForwardingCommand;
use dark_tower_core::forwarding::MediaReport;
use dark_tower_core::ids::{ParticipantId, TrackAlias, TrackId};
use dark_tower_core::limits::{MAX_DATA_TOPIC, MAX_RELIABLE_DATA, MAX_UNRELIABLE_DATA};
use dark_tower_core::proto::sig;
use dark_tower_core::token::Role;
use dark_tower_core::track::TrackSource;

use super::{Effect, Meeting, MeetingEvent, S, metadata, server};

impl Meeting {
    pub(super) fn is_moderator(&self, who: ParticipantId) -> bool {
        self.members.get(&who).is_some_and(|m| m.grant.role == Role::Host || m.grant.admin)
    }

    /// Sets the mute state of `owner`'s track; `by` is the moderator of a forced mute. The request
    /// `rid` is answered to `by` (or to `owner` for a self mute).
    pub(super) fn set_muted(
        &mut self,
        owner: ParticipantId,
        rid: u32,
        track_id: &str,
        muted: bool,
        by: Option<ParticipantId>,
    ) {
        let requester = by.unwrap_or(owner);
        let track =
            track_id.parse::<TrackId>().ok().filter(|t| self.tracks.get(t).is_some_and(|e| e.owner == owner));
        let Some(track) = track else {
            return self.error(requester, rid, ErrorCode::UnknownTrack, "no such track of that participant");
        };
        if let Some(e) = self.tracks.get_mut(&track) {
            e.track.muted = muted;
        }
        self.send(requester, rid, S::Ack(sig::Ack {}));
        let event = S::TrackMuted(sig::TrackMuted {
            participant_id: owner.to_string(),
            track_id: track.to_string(),
            muted,
            by_participant_id: by.map(|b| b.to_string()).unwrap_or_default(),
        });
        // Everyone but the requester, who has its Ack; a muted participant learns it was muted.
        let to: Vec<_> = self.members.keys().copied().filter(|p| *p != requester).collect();
        self.send_each(to, event);
    }

    pub(super) fn data(&mut self, from: ParticipantId, rid: u32, d: sig::SendData) {
        let Some(m) = self.members.get(&from) else { return };
        if !m.grant.can_publish_data {
            return self.error(from, rid, ErrorCode::PermissionDenied, "not allowed to send data");
        }
        if d.topic.len() > MAX_DATA_TOPIC {
            return self.error(from, rid, ErrorCode::InvalidRequest, "topic longer than 256 bytes");
        }
        let max = if d.reliable { MAX_RELIABLE_DATA } else { MAX_UNRELIABLE_DATA };
        if d.payload.len() > max {
            let msg = format!("data payload of {} bytes above the limit of {max}", d.payload.len());
            return self.error(from, rid, ErrorCode::MessageTooLarge, msg);
        }
        let mut to = Vec::new();
        if d.destination_participant_ids.is_empty() {
            to.extend(self.members.keys().copied().filter(|p| *p != from));
        } else {
            for id in &d.destination_participant_ids {
                match id.parse::<ParticipantId>() {
                    Ok(p) if self.members.contains_key(&p) => to.push(p),
                    _ => return self.error(from, rid, ErrorCode::NotFound, format!("no participant {id}")),
                }
            }
        }
        let msg = S::DataReceived(sig::DataReceived {
            from_participant_id: from.to_string(),
            topic: d.topic,
            payload: d.payload,
            reliable: d.reliable,
        });
        for p in to {
            if d.reliable {
                self.send(p, 0, msg.clone());
            } else {
                self.effects
                    .push_back(Effect::SendDatagram { to: p, message: Box::new(server(0, msg.clone())) });
            }
        }
        if rid != 0 {
            self.send(from, rid, S::Ack(sig::Ack {}));
        }
    }

    /// Ends the meeting for everyone.
    pub(super) fn end(&mut self, now: SystemTime) {
        let everyone: Vec<_> = self.members.keys().copied().collect();
        for p in everyone {
            self.remove(now, p, sig::LeaveReason::MeetingEnded, Some(ErrorCode::MeetingEnded));
        }
        self.ended = true;
        self.effects.push_back(Effect::Event(MeetingEvent::Ended));
    }

    pub(super) fn set_locked(&mut self, from: ParticipantId, rid: u32, locked: bool) {
        if !self.is_moderator(from) {
            return self.error(from, rid, ErrorCode::PermissionDenied, "only hosts may moderate");
        }
        self.locked = locked;
        self.send(from, rid, S::Ack(sig::Ack {}));
        let msg = S::MeetingUpdated(sig::MeetingUpdated { meeting: Some(self.info()) });
        let others: Vec<_> = self.members.keys().copied().filter(|p| *p != from).collect();
        self.send_each(others, msg);
    }

    pub(super) fn update_participant(&mut self, from: ParticipantId, rid: u32, u: sig::UpdateParticipant) {
        if !self.is_moderator(from) {
            return self.error(from, rid, ErrorCode::PermissionDenied, "only hosts may moderate");
        }
        let Some(target) =
            u.participant_id.parse::<ParticipantId>().ok().filter(|p| self.members.contains_key(p))
        else {
            return self.error(from, rid, ErrorCode::NotFound, "no such participant");
        };
        let role = match sig::Role::try_from(u.role) {
            Ok(sig::Role::Unspecified) => None,
            Ok(sig::Role::Host) => Some(Role::Host),
            Ok(sig::Role::Participant) => Some(Role::Participant),
            Ok(sig::Role::Guest) => Some(Role::Guest),
            Ok(sig::Role::Viewer) => Some(Role::Viewer),
            Err(_) => return self.error(from, rid, ErrorCode::InvalidRequest, "unknown role"),
        };
        let mut sources = Vec::new();
        if let Some(p) = &u.permissions {
            for s in &p.can_publish_sources {
                match TrackSource::from_proto(*s) {
                    Some(s) => sources.push(s),
                    None => return self.error(from, rid, ErrorCode::InvalidRequest, "unknown source"),
                }
            }
        }
        if let Err(e) = metadata::check(u.name.as_deref(), u.metadata.as_deref()) {
            return self.send(from, rid, S::Error(e.to_proto()));
        }
        let Some(m) = self.members.get_mut(&target) else { return };
        if let Some(name) = u.name {
            m.name = name;
        }
        if let Some(metadata) = u.metadata {
            m.metadata = metadata;
        }
        if let Some(role) = role {
            m.grant.role = role;
        }
        if let Some(p) = &u.permissions {
            m.grant.can_publish = p.can_publish;
            m.grant.can_publish_sources = sources;
            m.grant.can_subscribe = p.can_subscribe;
            m.grant.can_publish_data = p.can_publish_data;
        }
        self.enforce_grant(target);
        self.send(from, rid, S::Ack(sig::Ack {}));
        self.announce_updated(target);
    }

    /// Enforces `target`'s (changed) grant at once: a viewer cannot publish, tracks no longer
    /// allowed are unpublished, subscriptions end without subscribe permission.
    pub(super) fn enforce_grant(&mut self, target: ParticipantId) {
        let Some(m) = self.members.get_mut(&target) else { return };
        if m.grant.role == Role::Viewer {
            m.grant.can_publish = false;
        }
        let grant = m.grant.clone();
        let revoked: Vec<TrackId> = m
            .tracks
            .iter()
            .copied()
            .filter(|t| {
                let source = self.tracks.get(t).and_then(|e| TrackSource::from_proto(e.track.source));
                !source.is_some_and(|s| grant.may_publish(s))
            })
            .collect();
        for t in revoked {
            self.unpublish(target, t);
        }
        if !grant.can_subscribe {
            let subs: Vec<TrackId> = self
                .members
                .get_mut(&target)
                .map(|m| {
                    m.paused.clear();
                    m.subscriptions.drain().collect()
                })
                .unwrap_or_default();
            for t in subs {
                if let Some(e) = self.tracks.get(&t) {
                    self.effects.push_back(Effect::Forward(ForwardingCommand::Unsubscribe {
                        meeting: self.name.clone(),
                        subscriber: target,
                        alias: TrackAlias(e.track.alias),
                    }));
                }
            }
        }
    }

    /// `ParticipantUpdated` about `target` to everyone (unless it is hidden).
    pub(super) fn announce_updated(&mut self, target: ParticipantId) {
        let Some(m) = self.members.get(&target) else { return };
        if !m.grant.hidden {
            let msg = S::ParticipantUpdated(sig::ParticipantUpdated {
                participant: Some(self.participant_proto(target, m)),
            });
            let everyone: Vec<_> = self.members.keys().copied().collect();
            self.send_each(everyone, msg);
        }
    }

    /// Handles a report of the media handler.
    pub(super) fn media_report(&mut self, report: MediaReport) {
        match report {
            MediaReport::KeyframeNeeded { publisher, alias, spatial_id, .. } => {
                let track = self
                    .tracks
                    .iter()
                    .find(|(_, e)| e.owner == publisher && TrackAlias(e.track.alias) == alias);
                let Some((id, _)) = track else { return };
                let request = S::KeyframeRequest(sig::KeyframeRequest {
                    track_id: id.to_string(),
                    spatial_id: u32::from(spatial_id),
                });
                self.send(publisher, 0, request);
            }
            MediaReport::SubscriberLink { participant, loss, constrained, .. } => {
                self.media_sample(participant, loss, constrained);
            }
            MediaReport::LayersWanted { publisher, alias, layers, .. } => {
                let track = self
                    .tracks
                    .iter()
                    .find(|(_, e)| e.owner == publisher && TrackAlias(e.track.alias) == alias);
                let Some((id, _)) = track else { return };
                let msg = S::SubscribedLayers(sig::SubscribedLayers {
                    track_id: id.to_string(),
                    spatial_ids: layers.into_iter().map(u32::from).collect(),
                });
                self.send(publisher, 0, msg);
            }
            MediaReport::AudioLevels { levels, .. } => {
                let mut speaking: Vec<(ParticipantId, u8)> = levels
                    .into_iter()
                    .filter(|(p, level)| {
                        *level <= SPEAKING_LEVEL && self.members.get(p).is_some_and(|m| !m.grant.hidden)
                    })
                    .collect();
                speaking.sort_by_key(|(p, level)| (*level, *p));
                let ids: Vec<ParticipantId> = speaking.iter().map(|(p, _)| *p).collect();
                if ids == self.active_speakers {
                    return;
                }
                self.active_speakers = ids;
                let msg = S::ActiveSpeakers(sig::ActiveSpeakers {
                    speakers: speaking
                        .iter()
                        .map(|(p, level)| sig::SpeakerLevel {
                            participant_id: p.to_string(),
                            level: 1.0 - f32::from(*level) / 127.0,
                        })
                        .collect(),
                });
                let everyone: Vec<_> = self.members.keys().copied().collect();
                self.send_each(everyone, msg);
            }
        }
    }
}

/// Audio at or louder than this level (-dBov; 0 loudest, 127 silence) counts as speaking.
pub const SPEAKING_LEVEL: u8 = 60;
