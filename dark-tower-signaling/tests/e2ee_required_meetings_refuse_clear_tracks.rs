//! A meeting created with `e2ee_required` says so in `Joined` (and to everyone in the roster's
//! meeting info), refuses `PublishTrack` without `encrypted` with `permission_denied` (nothing
//! published, nobody told), and accepts encrypted tracks, whose `encrypted` flag reaches the
//! others. An ordinary meeting accepts both.

mod common;

use common::{Sim, camera, mic, pid, reply, sent_to};
use dark_tower_core::ErrorCode;
use dark_tower_core::store::MeetingSettings;
use dark_tower_signaling::MeetingConfig;
use sig::client_message::Message as C;
use sig::server_message::Message as S;

use dark_tower_core::proto::sig;

#[test]
fn clear_tracks_are_refused_and_encrypted_ones_flow() {
    let mut sim = Sim::with(
        MeetingSettings { e2ee_required: true, ..MeetingSettings::default() },
        MeetingConfig::default(),
    );
    let out = sim.join(1, true);
    let joined = sent_to(&out, pid(1))
        .into_iter()
        .find_map(|(_, m)| match m {
            S::Joined(j) => Some(j),
            _ => None,
        })
        .expect("joined");
    assert!(joined.meeting.expect("meeting info").e2ee_required, "Joined advertises E2EE");
    sim.join(2, true);

    let out = sim.send(pid(1), 7, C::PublishTrack(camera("cam", 1)));
    match reply(&out, pid(1)) {
        Some((7, S::Error(e))) => assert_eq!(e.code, ErrorCode::PermissionDenied.to_proto() as i32),
        other => panic!("a clear track is refused, got {other:?}"),
    }
    assert!(sent_to(&out, pid(2)).is_empty(), "nobody hears of a refused track");

    let track = sim.publish_ok(pid(1), sig::PublishTrack { encrypted: true, ..mic("mic") });
    assert!(track.encrypted);
}

#[test]
fn ordinary_meetings_take_both() {
    let mut sim = Sim::new();
    sim.join(1, true);
    let clear = sim.publish_ok(pid(1), camera("cam", 1));
    assert!(!clear.encrypted);
    let enc = sim.publish_ok(pid(1), sig::PublishTrack { encrypted: true, ..mic("mic") });
    assert!(enc.encrypted);
}
