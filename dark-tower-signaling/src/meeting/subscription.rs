//! Subscription preferences: which layer a subscriber receives (by layer or by the size it renders
//! the track at) and pausing without unsubscribing.

use dark_tower_core::error::ErrorCode;
use dark_tower_core::forwarding::ForwardingCommand;
use dark_tower_core::ids::{ParticipantId, TrackAlias, TrackId};
use dark_tower_core::limits::MAX_SIMULCAST_LAYERS;
use dark_tower_core::proto::sig;

use super::{Effect, Meeting, S};

/// The highest layer of `layers` allowed by `max_spatial` and by a render size of
/// `max_width` x `max_height` (the largest layer that fits; layer 0 if none does). `None` when
/// no limit is given.
pub fn preferred_layer(
    layers: &[sig::SimulcastLayer],
    max_spatial: Option<u32>,
    max_width: Option<u32>,
    max_height: Option<u32>,
) -> Option<u8> {
    let by_size = (max_width.is_some() || max_height.is_some()).then(|| {
        layers
            .iter()
            .filter(|l| max_width.is_none_or(|w| l.width <= w) && max_height.is_none_or(|h| l.height <= h))
            .map(|l| l.spatial_id)
            .max()
            .unwrap_or(0)
    });
    let limit = match (max_spatial, by_size) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    };
    limit.map(|l| l.min(MAX_SIMULCAST_LAYERS as u32 - 1) as u8)
}

impl Meeting {
    pub(super) fn update_subscription(&mut self, from: ParticipantId, rid: u32, u: sig::UpdateSubscription) {
        let Some(track) = u.track_id.parse::<TrackId>().ok().filter(|t| self.tracks.contains_key(t)) else {
            return self.error(from, rid, ErrorCode::UnknownTrack, "no such track");
        };
        if !self.members.get(&from).is_some_and(|m| m.subscriptions.contains(&track)) {
            return self.error(from, rid, ErrorCode::InvalidRequest, "not subscribed to this track");
        }
        if u.max_spatial_id.is_some_and(|v| v as usize >= MAX_SIMULCAST_LAYERS) {
            return self.error(from, rid, ErrorCode::InvalidRequest, "max_spatial_id above 2");
        }
        let Some(entry) = self.tracks.get(&track) else { return };
        let alias = TrackAlias(entry.track.alias);
        let max_spatial = preferred_layer(&entry.track.layers, u.max_spatial_id, u.max_width, u.max_height);
        let meeting = self.name.clone();
        let Some(m) = self.members.get_mut(&from) else { return };
        let command = if u.paused {
            m.paused.insert(track);
            ForwardingCommand::Unsubscribe { meeting, subscriber: from, alias }
        } else {
            m.paused.remove(&track);
            ForwardingCommand::Subscribe { meeting, subscriber: from, alias, max_spatial }
        };
        self.effects.push_back(Effect::Forward(command));
        self.send(from, rid, S::Ack(sig::Ack {}));
    }
}
