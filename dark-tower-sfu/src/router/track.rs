//! What the router keeps per published track and per subscription: layer targets, the groups a
//! subscriber may decode, and which layers the publisher is sending now.

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

use dark_tower_core::ids::ParticipantId;
use dark_tower_core::limits::MAX_SIMULCAST_LAYERS;
use dark_tower_core::track::TrackKind;

use super::group::{Group, Rate};
use super::link;

#[derive(Debug)]
pub(super) struct Subscription {
    pub(super) max_spatial: Option<u8>,
    /// Highest layer the subscriber's link allows; `None`: no limit.
    pub(super) cap: Option<u8>,
    /// Layer being forwarded; `None` until a keyframe starts it.
    pub(super) layer: Option<u8>,
    /// Groups of `layer` whose keyframe the subscriber received, newest last: only their frames
    /// are decodable for it. Groups travel on separate streams and may arrive out of order, so a
    /// group is admitted whenever its keyframe comes, unless it is older than the whole window.
    pub(super) admitted: VecDeque<u64>,
    /// For a relay subscriber: admitted groups of every layer.
    pub(super) relay: Option<[VecDeque<u64>; MAX_SIMULCAST_LAYERS]>,
    pub(super) frames: u64,
    pub(super) bytes: u64,
}

/// A down-switch replays the lower layer's cached group only if it holds at most this many
/// frames: a longer replay would load the congested link with stale frames.
pub(super) const SWITCH_REPLAY_FRAMES: usize = 8;

/// Groups per subscription that may be in flight at once.
const ADMITTED_GROUPS: usize = 4;

/// Admits group `g` into `admitted` on seeing its keyframe; false if it is too old to matter.
fn admit(admitted: &mut VecDeque<u64>, g: u64) -> bool {
    if admitted.contains(&g) {
        return true;
    }
    if admitted.len() >= ADMITTED_GROUPS && admitted.iter().all(|a| *a > g) {
        return false;
    }
    let at = admitted.iter().position(|a| *a > g).unwrap_or(admitted.len());
    admitted.insert(at, g);
    while admitted.len() > ADMITTED_GROUPS {
        admitted.pop_front();
    }
    true
}

impl Subscription {
    pub(super) fn new(max_spatial: Option<u8>, relay: bool) -> Self {
        Self {
            max_spatial,
            cap: None,
            layer: None,
            admitted: VecDeque::new(),
            relay: relay.then(Default::default),
            frames: 0,
            bytes: 0,
        }
    }

    /// The layer it should receive of a track with `layers` layers: its preference, capped by
    /// its link.
    pub(super) fn target(&self, layers: u8) -> u8 {
        let top = layers.saturating_sub(1);
        let wanted = self.max_spatial.map_or(top, |m| m.min(top));
        self.cap.map_or(wanted, |c| c.min(wanted))
    }

    /// Starts (or restarts) forwarding `layer` at group `g`.
    pub(super) fn start(&mut self, layer: u8, g: u64) {
        self.layer = Some(layer);
        self.admitted.clear();
        self.admitted.push_back(g);
    }

    /// Forgets what the subscriber received (its session went away).
    pub(super) fn reset(&mut self) {
        self.layer = None;
        if let Some(r) = &mut self.relay {
            r.iter_mut().for_each(VecDeque::clear);
        }
    }

    /// Whether a video frame of `layer` / `group` goes to this subscriber, updating what it was
    /// sent; `target` is the layer it should receive.
    pub(super) fn accepts(&mut self, layer: u8, group: u64, keyframe: bool, target: u8) -> bool {
        if let Some(r) = &mut self.relay {
            let admitted = &mut r[layer as usize];
            return if keyframe { admit(admitted, group) } else { admitted.contains(&group) };
        }
        if layer == target && keyframe && self.layer != Some(target) {
            self.start(target, group);
            true
        } else if self.layer != Some(layer) {
            false
        } else if keyframe {
            admit(&mut self.admitted, group)
        } else {
            self.admitted.contains(&group)
        }
    }
}

#[derive(Debug)]
pub(super) struct Track {
    pub(super) publisher: ParticipantId,
    pub(super) kind: TrackKind,
    pub(super) layers: u8,
    pub(super) groups: [Group; MAX_SIMULCAST_LAYERS],
    /// Audio tracks: the bitrate (video tracks measure per layer in `groups`).
    pub(super) audio_rate: Rate,
    pub(super) subscribers: HashMap<ParticipantId, Subscription>,
    /// Dynacast: the wanted layers last reported to the publisher.
    pub(super) reported_layers: Option<Vec<u8>>,
    pub(super) frames_in: u64,
    pub(super) bytes_in: u64,
    /// When the publisher sent the track's first frame.
    pub(super) first_frame: Option<Instant>,
}

/// A layer whose publisher sent nothing for this long counts as paused (uplink adaptation, or
/// dynacast not yet caught up): its subscribers fall back to the highest layer below it that
/// still arrives, and go back up at its next keyframe.
pub const LAYER_IDLE: Duration = Duration::from_millis(1000);

/// The highest layer at or below `target` that is `live`; `target` itself if none is.
pub(super) fn fallback(target: u8, live: [bool; MAX_SIMULCAST_LAYERS]) -> u8 {
    (0..=target).rev().find(|l| live[*l as usize]).unwrap_or(target)
}

impl Track {
    pub(super) fn target_layer(&self, sub: &Subscription) -> u8 {
        sub.target(self.layers)
    }

    /// Which layers the publisher is sending now. In the track's first [`LAYER_IDLE`] a layer not
    /// seen yet counts as coming (a publisher's layers start a few milliseconds apart).
    pub(super) fn live_layers(&self, now: Instant) -> [bool; MAX_SIMULCAST_LAYERS] {
        let recent = |t: Instant| now.saturating_duration_since(t) < LAYER_IDLE;
        let starting = self.first_frame.is_none_or(recent);
        let mut live = [false; MAX_SIMULCAST_LAYERS];
        for (l, g) in self.groups.iter().enumerate().take(self.layers as usize) {
            live[l] = g.last_frame.map_or(starting, recent);
        }
        live
    }

    /// The layer `sub` should receive now: its target, or the fallback below a paused one.
    pub(super) fn live_target(&self, sub: &Subscription, now: Instant) -> u8 {
        fallback(sub.target(self.layers), self.live_layers(now))
    }

    pub(super) fn wanted_layer(&self, sub: &Subscription) -> u8 {
        let top = self.layers.saturating_sub(1);
        sub.max_spatial.map_or(top, |m| m.min(top))
    }

    pub(super) fn layer_rates(&self) -> [f64; 3] {
        let mut measured = [None; 3];
        for (l, m) in measured.iter_mut().enumerate().take(self.layers as usize) {
            *m = self.groups[l].rate.bps();
        }
        link::layer_rates(measured)
    }
}
