//! The server API lists, mutes, updates and removes participants of a live meeting, and the
//! connected clients see each change exactly as they would a host's moderation.

mod common;

use common::{TestServer, assert_error, status_json, wait_for};
use dark_tower_client::{LeaveReason, RoomEvent, TrackOptions, TrackSource};
use dark_tower_core::ErrorCode;
use reqwest::Method;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_mute_update_and_remove() {
    let t = TestServer::start().await;
    let mut ann = t.join("m", "ann").await;
    let mut bob = t.join("m", "bob").await;
    let mic = ann.publish_track(TrackOptions::new(TrackSource::Microphone, "opus")).await.expect("publish");
    let cam = ann.publish_track(TrackOptions::new(TrackSource::Camera, "vp8")).await.expect("publish");
    let (mic_id, cam_id) = (mic.info().id, cam.info().id);

    // List: both, in join order, with ann's tracks.
    let list =
        status_json(t.api(Method::GET, "/v1/meetings/m/participants").send().await.expect("request")).await;
    assert_eq!(list.0, 200, "{}", list.1);
    assert_eq!(list.1["name"], "m");
    let people = list.1["participants"].as_array().expect("participants");
    assert_eq!(people.len(), 2);
    assert_eq!(people[0]["identity"], "ann");
    assert_eq!(people[0]["id"], ann.local_participant().id.to_string());
    assert_eq!(people[0]["role"], "participant");
    assert_eq!(people[0]["permissions"]["can_publish"], true);
    assert_eq!(people[1]["identity"], "bob");
    let tracks = people[0]["tracks"].as_array().expect("tracks");
    assert_eq!(tracks.len(), 2);
    assert_eq!(tracks[0]["id"], mic_id.to_string());
    assert_eq!(tracks[0]["kind"], "audio");
    assert_eq!(tracks[0]["source"], "microphone");
    assert_eq!(tracks[0]["muted"], false);

    // Mute ann's microphone: ann and bob are told, by no participant.
    let path = format!("/v1/meetings/m/participants/ann/tracks/{mic_id}/mute");
    let muted = t.api(Method::POST, &path).send().await.expect("request");
    assert_eq!(muted.status(), 204);
    for room in [&mut ann, &mut bob] {
        let seen = wait_for(room, |e| match e {
            RoomEvent::TrackMuted { track, muted, by, .. } => Some((*track, *muted, *by)),
            _ => None,
        })
        .await;
        assert_eq!(seen, (mic_id, true, None));
    }
    let list =
        status_json(t.api(Method::GET, "/v1/meetings/m/participants").send().await.expect("request")).await;
    assert_eq!(list.1["participants"][0]["tracks"][0]["muted"], true);
    // Someone else's track is not ann's.
    let wrong = format!("/v1/meetings/m/participants/bob/tracks/{mic_id}/mute");
    let got = status_json(t.api(Method::POST, &wrong).send().await.expect("request")).await;
    assert_error(&got, 404, ErrorCode::UnknownTrack);

    // Update: ann may publish audio only; her camera is unpublished at once.
    let patched = status_json(
        t.api(Method::PATCH, "/v1/meetings/m/participants/ann")
            .json(&json!({ "role": "host", "can_publish_sources": ["microphone"] }))
            .send()
            .await
            .expect("request"),
    )
    .await;
    assert_eq!(patched.0, 200, "{}", patched.1);
    let me = &patched.1["participants"][0];
    assert_eq!(me["identity"], "ann");
    assert_eq!(me["role"], "host");
    assert_eq!(me["permissions"]["can_publish_sources"], json!(["microphone"]));
    assert_eq!(me["tracks"].as_array().map(Vec::len), Some(1), "the camera is gone: {me}");
    let gone = wait_for(&mut bob, |e| match e {
        RoomEvent::TrackUnpublished { track, .. } => Some(*track),
        _ => None,
    })
    .await;
    assert_eq!(gone, cam_id);
    let updated = wait_for(&mut bob, |e| match e {
        RoomEvent::ParticipantUpdated(p) if p.identity == "ann" => Some(p.clone()),
        _ => None,
    })
    .await;
    assert_eq!(updated.role, dark_tower_core::token::Role::Host);

    // Remove bob: he is disconnected as removed, ann sees him leave, the list shows ann alone.
    let bob_id = bob.local_participant().id;
    let removed = t.api(Method::DELETE, "/v1/meetings/m/participants/bob").send().await.expect("request");
    assert_eq!(removed.status(), 204);
    let code = wait_for(&mut bob, |e| match e {
        RoomEvent::Disconnected { code, .. } => Some(*code),
        _ => None,
    })
    .await;
    assert_eq!(code, Some(ErrorCode::Removed));
    let left = wait_for(&mut ann, |e| match e {
        RoomEvent::ParticipantLeft { participant, reason } => Some((*participant, *reason)),
        _ => None,
    })
    .await;
    assert_eq!(left, (bob_id, LeaveReason::Removed));
    let list =
        status_json(t.api(Method::GET, "/v1/meetings/m/participants").send().await.expect("request")).await;
    let people = list.1["participants"].as_array().expect("participants");
    assert_eq!(people.len(), 1);
    assert_eq!(people[0]["identity"], "ann");
    let again =
        status_json(t.api(Method::DELETE, "/v1/meetings/m/participants/bob").send().await.expect("request"))
            .await;
    assert_error(&again, 404, ErrorCode::NotFound);
    ann.ping().await.expect("ann is still in");
}
