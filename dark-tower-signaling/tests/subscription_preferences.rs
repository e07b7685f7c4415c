//! `UpdateSubscription` picks the layer forwarded (by layer, or by the size the subscriber renders
//! the track at) and pauses and unpauses a subscription without dropping it; bad requests change
//! nothing.

mod common;

use common::{C, S, Sim, camera, layers, pid, reply};
use dark_tower_core::error::ErrorCode;
use dark_tower_core::forwarding::ForwardingCommand;
use dark_tower_core::ids::TrackAlias;
use dark_tower_core::proto::sig;
use dark_tower_signaling::meeting::subscription::preferred_layer;

fn update(track_id: &str, max_spatial: Option<u32>, size: Option<(u32, u32)>, paused: bool) -> C {
    C::UpdateSubscription(sig::UpdateSubscription {
        track_id: track_id.into(),
        max_spatial_id: max_spatial,
        max_width: size.map(|s| s.0),
        max_height: size.map(|s| s.1),
        paused,
    })
}

#[test]
fn the_largest_layer_that_fits_the_render_size() {
    // Layers: 320x180, 640x360, 1280x720.
    let l = layers(3);
    assert_eq!(preferred_layer(&l, None, None, None), None, "no limit");
    assert_eq!(preferred_layer(&l, None, Some(1280), Some(720)), Some(2));
    assert_eq!(preferred_layer(&l, None, Some(700), Some(400)), Some(1));
    assert_eq!(preferred_layer(&l, None, Some(100), Some(100)), Some(0), "nothing fits: the lowest");
    assert_eq!(preferred_layer(&l, None, Some(640), None), Some(1), "width alone");
    assert_eq!(preferred_layer(&l, Some(0), Some(1280), Some(720)), Some(0), "the stricter limit wins");
}

#[test]
fn size_pause_and_unpause_drive_the_media_handler() {
    let mut sim = Sim::new();
    sim.join(1, false);
    sim.join(2, false);
    let cam = sim.publish_ok(pid(1), camera("cam", 3));
    sim.subscribe(pid(2), 1, &cam.id, None);
    let alias = TrackAlias(cam.alias);
    let meeting = common::meeting_name();

    let out = sim.send(pid(2), 2, update(&cam.id, None, Some((640, 360)), false));
    assert_eq!(
        common::forwards(&out),
        vec![ForwardingCommand::Subscribe {
            meeting: meeting.clone(),
            subscriber: pid(2),
            alias,
            max_spatial: Some(1)
        }]
    );
    assert!(matches!(reply(&out, pid(2)), Some((2, S::Ack(_)))), "{out:?}");

    let out = sim.send(pid(2), 3, update(&cam.id, None, None, true));
    assert_eq!(
        common::forwards(&out),
        vec![ForwardingCommand::Unsubscribe { meeting: meeting.clone(), subscriber: pid(2), alias }]
    );

    let out = sim.send(pid(2), 4, update(&cam.id, Some(2), None, false));
    assert_eq!(
        common::forwards(&out),
        vec![ForwardingCommand::Subscribe { meeting, subscriber: pid(2), alias, max_spatial: Some(2) }]
    );
}

#[test]
fn bad_updates_are_refused_and_change_nothing() {
    let mut sim = Sim::new();
    sim.join(1, false);
    sim.join(2, false);
    let cam = sim.publish_ok(pid(1), camera("cam", 2));
    let out = sim.send(pid(2), 5, update(&cam.id, None, None, true));
    common::assert_only_error(&out, pid(2), 5, ErrorCode::InvalidRequest);
    let out = sim.send(pid(2), 6, update("TR_ffffffffffffffff", None, None, true));
    common::assert_only_error(&out, pid(2), 6, ErrorCode::UnknownTrack);
    sim.subscribe(pid(2), 7, &cam.id, None);
    let out = sim.send(pid(2), 8, update(&cam.id, Some(3), None, false));
    common::assert_only_error(&out, pid(2), 8, ErrorCode::InvalidRequest);
}
