//! Publishing and unpublishing tracks: validation against the grant and the limits, the alias
//! and id the meeting assigns, and what the media handler and the other participants are told.

use dark_tower_core::error::{ErrorCode, WireError};
use dark_tower_core::forwarding::ForwardingCommand;
use dark_tower_core::ids::{ParticipantId, TrackAlias, TrackId};
use dark_tower_core::limits::MAX_SIMULCAST_LAYERS;
use dark_tower_core::proto::sig;
use dark_tower_core::track::{TrackKind, TrackSource};

use super::{Effect, Meeting, MeetingEvent, S, TrackEntry};

impl Meeting {
    pub(super) fn validate_publish(
        &self,
        from: ParticipantId,
        p: &sig::PublishTrack,
    ) -> Result<(TrackKind, TrackSource), WireError> {
        let Some(m) = self.members.get(&from) else {
            return Err(WireError::new(ErrorCode::ProtocolViolation, "not joined"));
        };
        let invalid = |msg: &str| WireError::new(ErrorCode::InvalidRequest, msg);
        let kind = TrackKind::from_proto(p.kind).ok_or_else(|| invalid("unknown track kind"))?;
        let source = TrackSource::from_proto(p.source).ok_or_else(|| invalid("unknown track source"))?;
        if source.kind() != kind {
            return Err(invalid("source does not match kind"));
        }
        if !m.grant.may_publish(source) || m.grant.hidden {
            return Err(WireError::new(ErrorCode::PermissionDenied, "not allowed to publish this source"));
        }
        if p.client_track_id.is_empty()
            || p.client_track_id.len() > 64
            || p.codec.len() > 64
            || p.name.len() > 256
        {
            return Err(invalid("client_track_id (1-64), codec (<=64) or name (<=256) out of bounds"));
        }
        if self.settings.e2ee_required && !p.encrypted {
            return Err(WireError::new(
                ErrorCode::PermissionDenied,
                "this meeting requires end-to-end encrypted tracks (PublishTrack.encrypted)",
            ));
        }
        if m.client_track_ids.contains_key(&p.client_track_id) {
            return Err(WireError::new(ErrorCode::DuplicateTrack, "client_track_id already published"));
        }
        if m.tracks.len() >= self.config.max_tracks_per_participant {
            return Err(WireError::new(ErrorCode::TooManyTracks, "track limit reached"));
        }
        if kind == TrackKind::Audio && p.layers.len() > 1 {
            return Err(invalid("audio tracks have one layer"));
        }
        if p.layers.len() > MAX_SIMULCAST_LAYERS {
            return Err(invalid("at most 3 simulcast layers"));
        }
        let mut seen = [false; MAX_SIMULCAST_LAYERS];
        for l in &p.layers {
            let i = l.spatial_id as usize;
            if i >= p.layers.len().max(1) || seen[i] {
                return Err(invalid("layer spatial ids must be distinct and 0..layers"));
            }
            seen[i] = true;
        }
        Ok((kind, source))
    }

    pub(super) fn publish(&mut self, from: ParticipantId, rid: u32, p: sig::PublishTrack) {
        let (kind, source) = match self.validate_publish(from, &p) {
            Ok(v) => v,
            Err(e) => return self.send(from, rid, S::Error(e.to_proto())),
        };
        let id = TrackId::random();
        let alias = TrackAlias(self.next_alias);
        self.next_alias = self.next_alias.wrapping_add(1).max(1);
        let mut layers = p.layers.clone();
        layers.sort_by_key(|l| l.spatial_id);
        let track = sig::Track {
            id: id.to_string(),
            alias: alias.0,
            kind: kind.to_proto(),
            source: source.to_proto(),
            codec: p.codec.clone(),
            layers,
            muted: false,
            name: p.name.clone(),
            encrypted: p.encrypted,
        };
        if let Some(m) = self.members.get_mut(&from) {
            m.tracks.push(id);
            m.client_track_ids.insert(p.client_track_id.clone(), id);
        }
        self.tracks.insert(id, TrackEntry { owner: from, track: track.clone() });
        self.effects.push_back(Effect::Forward(ForwardingCommand::TrackPublished {
            meeting: self.name.clone(),
            publisher: from,
            track: id,
            alias,
            kind,
            layers: track.layers.len().max(1) as u8,
        }));
        self.effects.push_back(Effect::Event(MeetingEvent::TrackPublished { participant: from, track: id }));
        let auto: Vec<_> = self
            .members
            .iter()
            .filter(|(pid, m)| **pid != from && m.auto_subscribe)
            .map(|(pid, _)| *pid)
            .collect();
        for who in auto {
            // A member without subscribe permission is simply not subscribed.
            let _ = self.subscribe(who, id, None);
        }
        self.send(
            from,
            rid,
            S::PublishTrackAck(sig::PublishTrackAck {
                client_track_id: p.client_track_id,
                track: Some(track.clone()),
            }),
        );
        self.broadcast(
            from,
            S::TrackPublished(sig::TrackPublished { participant_id: from.to_string(), track: Some(track) }),
        );
    }

    pub(super) fn unpublish(&mut self, from: ParticipantId, track: TrackId) {
        let Some(entry) = self.tracks.remove(&track) else {
            return;
        };
        if let Some(m) = self.members.get_mut(&from) {
            m.tracks.retain(|t| *t != track);
            m.client_track_ids.retain(|_, t| *t != track);
        }
        for m in self.members.values_mut() {
            m.subscriptions.remove(&track);
            m.paused.remove(&track);
        }
        self.effects.push_back(Effect::Forward(ForwardingCommand::TrackUnpublished {
            meeting: self.name.clone(),
            alias: TrackAlias(entry.track.alias),
        }));
        self.effects.push_back(Effect::Event(MeetingEvent::TrackUnpublished { participant: from, track }));
        self.broadcast(
            from,
            S::TrackUnpublished(sig::TrackUnpublished {
                participant_id: from.to_string(),
                track_id: track.to_string(),
            }),
        );
    }
}
