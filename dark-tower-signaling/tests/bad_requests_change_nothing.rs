//! A request that cannot be honoured gets one typed error reply, echoing its request id, and
//! changes nothing: no forwarding, no broadcast, no event, the same roster and tracks afterwards.

mod common;

use common::{C, Sim, assert_only_error, camera, mic, pid};
use dark_tower_core::error::ErrorCode;
use dark_tower_core::ids::TrackId;
use dark_tower_core::proto::sig;
use dark_tower_core::store::MeetingSettings;
use dark_tower_core::track::TrackSource;
use dark_tower_signaling::{Command, MeetingConfig};

/// 1 publishes a camera and a microphone (its limit of two tracks); 2 publishes nothing.
fn meeting() -> (Sim, sig::Track, sig::Track) {
    let mut sim = Sim::with(
        MeetingSettings::default(),
        MeetingConfig { max_tracks_per_participant: 2, ..MeetingConfig::default() },
    );
    sim.join(1, false);
    sim.join(2, true);
    let cam = sim.publish_ok(pid(1), camera("cam", 2));
    let mic = sim.publish_ok(pid(1), mic("mic"));
    (sim, cam, mic)
}

/// Everyone but `observer` as a newly joined `observer` sees them.
fn roster(sim: &mut Sim, observer: u64) -> Vec<sig::Participant> {
    let out = sim.join(observer, false);
    common::joined(&out, pid(observer)).others
}

fn without(mut roster: Vec<sig::Participant>, who: u64) -> Vec<sig::Participant> {
    roster.retain(|p| p.id != pid(who).to_string());
    roster
}

fn publish(sim: &mut Sim, who: u64, rid: u32, p: sig::PublishTrack) -> Vec<dark_tower_signaling::Effect> {
    sim.send(pid(who), rid, C::PublishTrack(p))
}

#[test]
fn every_bad_request_is_answered_with_its_code_and_changes_nothing() {
    let (mut sim, cam, _mic) = meeting();
    let before = roster(&mut sim, 10);
    assert_eq!(before.len(), 2);
    assert_eq!(before[0].tracks.len(), 2);

    // Duplicate client track id (checked before the track limit).
    let out = publish(&mut sim, 1, 1, mic("cam"));
    assert_only_error(&out, pid(1), 1, ErrorCode::DuplicateTrack);

    // Too many tracks.
    let out = publish(&mut sim, 1, 2, common::publish("screen", TrackSource::Screen, 1));
    assert_only_error(&out, pid(1), 2, ErrorCode::TooManyTracks);

    // Unknown tracks, well-formed or not.
    let nobody = TrackId::from_u64(0xdead_beef).to_string();
    for (rid, id) in [(10, nobody.as_str()), (11, "not-a-track-id"), (12, "")] {
        let out = sim.subscribe(pid(2), rid, id, None);
        assert_only_error(&out, pid(2), rid, ErrorCode::UnknownTrack);
        let out = sim.send(pid(2), rid + 100, C::Unsubscribe(sig::Unsubscribe { track_id: id.into() }));
        assert_only_error(&out, pid(2), rid + 100, ErrorCode::UnknownTrack);
        let out = sim.send(pid(2), rid + 200, C::UnpublishTrack(sig::UnpublishTrack { track_id: id.into() }));
        assert_only_error(&out, pid(2), rid + 200, ErrorCode::UnknownTrack);
    }
    // Unpublishing someone else's track is the same as an unknown track.
    let out = sim.send(pid(2), 20, C::UnpublishTrack(sig::UnpublishTrack { track_id: cam.id.clone() }));
    assert_only_error(&out, pid(2), 20, ErrorCode::UnknownTrack);

    // Joining twice.
    let out = sim.send(pid(1), 30, C::Join(common::join_message(true)));
    assert_only_error(&out, pid(1), 30, ErrorCode::ProtocolViolation);

    // Invalid publications, from 2, which is far from its track limit.
    let mut audio_two_layers = mic("a2");
    audio_two_layers.layers = common::layers(2);
    let mut mismatched = mic("mismatch");
    mismatched.source = sig::TrackSource::Camera as i32;
    let mut mismatched_video = camera("mismatch-v", 1);
    mismatched_video.source = sig::TrackSource::Microphone as i32;
    let mut no_kind = camera("no-kind", 1);
    no_kind.kind = sig::TrackKind::Unspecified as i32;
    let mut bad_source = camera("bad-source", 1);
    bad_source.source = 99;
    let four_layers = camera("v4", 4);
    let mut repeated_layer = camera("rep", 2);
    repeated_layer.layers[1].spatial_id = 0;
    let mut gap = camera("gap", 2);
    gap.layers[1].spatial_id = 2;
    let empty_id = camera("", 1);
    let long_id = camera(&"x".repeat(65), 1);
    for (rid, p) in [
        (40, audio_two_layers),
        (41, mismatched),
        (42, mismatched_video),
        (43, no_kind),
        (44, bad_source),
        (45, four_layers),
        (46, repeated_layer),
        (47, gap),
        (48, empty_id),
        (49, long_id),
    ] {
        let out = publish(&mut sim, 2, rid, p);
        assert_only_error(&out, pid(2), rid, ErrorCode::InvalidRequest);
    }

    // Subscribing to one's own track, or above the highest possible layer.
    let out = sim.subscribe(pid(1), 50, &cam.id, None);
    assert_only_error(&out, pid(1), 50, ErrorCode::InvalidRequest);
    let out = sim.subscribe(pid(2), 51, &cam.id, Some(3));
    assert_only_error(&out, pid(2), 51, ErrorCode::InvalidRequest);

    // An empty envelope.
    let out = sim.handle(Command::Message {
        participant: pid(2),
        message: Box::new(sig::ClientMessage { request_id: 60, message: None }),
    });
    assert_only_error(&out, pid(2), 60, ErrorCode::Malformed);

    // The roster and tracks are as they were.
    let after = roster(&mut sim, 11);
    assert_eq!(without(after, 10), before);
    assert_eq!(sim.meeting.participant_count(), 4);

    // Refused client track ids were not reserved: 2 can publish them now.
    let t = sim.publish_ok(pid(2), camera("v4", 3));
    assert_eq!(t.layers.len(), 3);
    sim.publish_ok(pid(2), mic("a2"));
}

#[test]
fn the_track_limit_counts_current_tracks() {
    let (mut sim, cam, _mic) = meeting();
    let out = publish(&mut sim, 1, 1, camera("cam2", 1));
    assert_only_error(&out, pid(1), 1, ErrorCode::TooManyTracks);
    sim.send(pid(1), 2, C::UnpublishTrack(sig::UnpublishTrack { track_id: cam.id.clone() }));
    // The freed slot, and the freed client track id, can be used again.
    let again = sim.publish_ok(pid(1), camera("cam", 1));
    assert_ne!(again.id, cam.id);
    let out = publish(&mut sim, 1, 3, camera("cam2", 1));
    assert_only_error(&out, pid(1), 3, ErrorCode::TooManyTracks);
}

#[test]
fn messages_from_someone_who_never_joined_are_ignored() {
    let (mut sim, cam, _mic) = meeting();
    let out = sim.subscribe(pid(99), 1, &cam.id, None);
    assert!(out.is_empty(), "{out:?}");
    let out = sim.send(pid(99), 2, C::PublishTrack(mic("m")));
    assert!(out.is_empty(), "{out:?}");
}
