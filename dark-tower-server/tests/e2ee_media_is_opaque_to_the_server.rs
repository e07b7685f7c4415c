//! End-to-end encryption through a real server (docs/E2EE.md): a participant with the same key
//! receives the publisher's plaintext; one with a wrong key gets `EncryptionError` events and no
//! frames; a participant without E2EE receives exactly what the SFU forwards, and the publisher's
//! plaintext marker never appears in it; after a key rotation, media continues.

mod common;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use common::{TestServer, wait_for};
use dark_tower_client::e2ee::{
    E2eeError, KeyProvider, KeyProviderOptions, SframeHeader, SharedKeyProvider, key_index_of,
};
use dark_tower_client::{
    ConnectOptions, LocalTrack, OutgoingFrame, ParticipantId, Room, RoomEvent, TrackOptions, TrackSource,
};

const MEETING: &str = "e2ee";
const MARKER: &[u8] = b"PLAINTEXT-MARKER";
const FRAMES: usize = 5;
const TAG_LEN: usize = 16;

fn now_us() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_micros() as u64).unwrap_or(0)
}

fn provider(key: &[u8]) -> SharedKeyProvider {
    let mut p = KeyProvider::new(KeyProviderOptions::default());
    p.set_shared_key(Instant::now(), 0, key).expect("key");
    Arc::new(Mutex::new(p))
}

async fn join(t: &TestServer, identity: &str, e2ee: Option<SharedKeyProvider>) -> Room {
    let options = ConnectOptions { e2ee, ..ConnectOptions::default() };
    dark_tower_client::connect(&t.url, &t.token(MEETING, identity), options).await.expect("join")
}

/// Waits until `room` knows both of `publisher`'s tracks (and so is subscribed to them).
async fn wait_for_tracks(room: &mut Room, publisher: ParticipantId) {
    let known = |room: &Room| {
        room.remote_participants().iter().find(|p| p.id == publisher).map_or(0, |p| p.tracks.len())
    };
    while known(room) < 2 {
        wait_for(room, |e| {
            matches!(e, RoomEvent::TrackPublished { participant, .. } if *participant == publisher)
                .then_some(())
        })
        .await;
    }
}

fn payload(phase: usize, i: usize, audio: bool) -> Bytes {
    let mut p = MARKER.to_vec();
    p.extend_from_slice(format!(" phase {phase} frame {i} audio {audio} ").as_bytes());
    p.resize(if audio { 120 } else { 900 }, b'.');
    Bytes::from(p)
}

/// One group of video and as many audio frames; returns the plaintexts sent.
async fn send_phase(video: &mut LocalTrack, audio: &mut LocalTrack, phase: usize) -> Vec<Bytes> {
    let mut sent = Vec::new();
    for i in 0..FRAMES {
        let v = payload(phase, i, false);
        let frame = OutgoingFrame {
            spatial_id: 0,
            temporal_id: 0,
            keyframe: i == 0,
            discardable: false,
            capture_ts_us: now_us(),
            audio_level: None,
            payload: v.clone(),
        };
        video.send(frame).await.expect("send video");
        let a = payload(phase, i, true);
        let frame = OutgoingFrame {
            spatial_id: 0,
            temporal_id: 0,
            keyframe: false,
            discardable: false,
            capture_ts_us: now_us(),
            audio_level: Some(30),
            payload: a.clone(),
        };
        audio.send(frame).await.expect("send audio");
        sent.extend([v, a]);
    }
    sent
}

/// The next `n` frame-or-error events about `publisher`'s media.
async fn media_events(room: &mut Room, publisher: ParticipantId, n: usize) -> Vec<RoomEvent> {
    let mut out = Vec::new();
    while out.len() < n {
        let ev = wait_for(room, |e| match e {
            RoomEvent::Frame(f) if f.participant == Some(publisher) => Some(e.clone()),
            RoomEvent::EncryptionError { participant, .. } if *participant == Some(publisher) => {
                Some(e.clone())
            }
            _ => None,
        })
        .await;
        out.push(ev);
    }
    out
}

fn frames(events: &[RoomEvent]) -> Vec<Bytes> {
    events
        .iter()
        .map(|e| match e {
            RoomEvent::Frame(f) => f.payload.clone(),
            other => panic!("expected a frame, got {other:?}"),
        })
        .collect()
}

fn sorted(mut v: Vec<Bytes>) -> Vec<Bytes> {
    v.sort();
    v
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn e2ee_media_is_opaque_to_the_server() {
    let t = TestServer::start().await;
    let key = b"the meeting key, shared out of band";
    let alice_keys = provider(key);
    let bob_keys = provider(key);
    let mut bob = join(&t, "bob", Some(Arc::clone(&bob_keys))).await;
    let mut eve = join(&t, "eve", Some(provider(b"a wrong key, same index 0 too"))).await;
    let mut observer = join(&t, "observer", None).await;
    let alice = join(&t, "alice", Some(Arc::clone(&alice_keys))).await;
    let alice_id = alice.local_participant().id;

    let mut video =
        alice.publish_track(TrackOptions::new(TrackSource::Camera, "synthetic")).await.expect("video");
    let mut audio =
        alice.publish_track(TrackOptions::new(TrackSource::Microphone, "synthetic")).await.expect("audio");
    for room in [&mut bob, &mut eve, &mut observer] {
        wait_for_tracks(room, alice_id).await;
    }

    for phase in 0..2 {
        if phase == 1 {
            // Rotation: both key holders move to index 1; media continues.
            let next = b"the next meeting key, index one";
            for keys in [&alice_keys, &bob_keys] {
                keys.lock().expect("keys").set_shared_key(Instant::now(), 1, next).expect("rotate");
            }
        }
        let sent = send_phase(&mut video, &mut audio, phase).await;
        let n = sent.len();

        // Same key: the exact plaintext (video in order within its group, audio as a set).
        let got = frames(&media_events(&mut bob, alice_id, n).await);
        assert_eq!(sorted(got), sorted(sent.clone()), "phase {phase}: bob decrypts everything");

        // Wrong key: a typed error per frame, never a frame.
        for ev in media_events(&mut eve, alice_id, n).await {
            match ev {
                RoomEvent::EncryptionError { error, track, .. } => {
                    assert!(track.is_some());
                    let expected = if phase == 0 {
                        E2eeError::AuthenticationFailed
                    } else {
                        E2eeError::UnknownKeyId { kid: 0 }
                    };
                    match (&error, &expected) {
                        (E2eeError::UnknownKeyId { kid }, E2eeError::UnknownKeyId { .. }) => {
                            assert_eq!(key_index_of(*kid), Some(1), "eve has no key with index 1");
                        }
                        _ => assert_eq!(error, expected, "phase {phase}"),
                    }
                }
                other => panic!("eve must not get a frame: {other:?}"),
            }
        }

        // What the SFU forwards: ciphertext, never the marker, under the current key index.
        let forwarded = frames(&media_events(&mut observer, alice_id, n).await);
        let plain_lens = sorted(sent.clone()).iter().map(Bytes::len).collect::<Vec<_>>();
        for p in &forwarded {
            assert!(
                !p.windows(MARKER.len()).any(|w| w == MARKER),
                "phase {phase}: plaintext leaked to the SFU"
            );
            let (h, len) = SframeHeader::decode(p).expect("an SFrame header");
            assert_eq!(key_index_of(h.kid), Some(phase as u8));
            assert!(
                plain_lens.contains(&(p.len() - len - TAG_LEN)),
                "ciphertext is plaintext-sized plus overhead"
            );
        }
    }

    // Nothing else arrives late for eve: no frame of alice's slipped through undecrypted.
    let late = tokio::time::timeout(Duration::from_millis(300), async {
        loop {
            match eve.next_event().await {
                Some(RoomEvent::Frame(f)) if f.participant == Some(alice_id) => return f,
                Some(_) => {}
                None => std::future::pending::<()>().await,
            }
        }
    })
    .await;
    assert!(late.is_err(), "eve received a frame: {late:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_frame_without_a_sending_key_is_refused_and_uses_no_sequence_number() {
    let t = TestServer::start().await;
    let key = b"the meeting key, shared out of band";
    let bob_keys = provider(key);
    let mut bob = join(&t, "bob", Some(bob_keys)).await;
    let alice_keys: SharedKeyProvider = Arc::new(Mutex::new(KeyProvider::new(KeyProviderOptions::default())));
    let alice = join(&t, "alice", Some(Arc::clone(&alice_keys))).await;
    let alice_id = alice.local_participant().id;
    let mut video =
        alice.publish_track(TrackOptions::new(TrackSource::Camera, "synthetic")).await.expect("video");
    // A second track, because `wait_for_tracks` waits for two.
    let _audio =
        alice.publish_track(TrackOptions::new(TrackSource::Microphone, "synthetic")).await.expect("audio");
    wait_for_tracks(&mut bob, alice_id).await;

    let keyframe = |payload: &'static [u8]| OutgoingFrame {
        spatial_id: 0,
        temporal_id: 0,
        keyframe: true,
        discardable: false,
        capture_ts_us: now_us(),
        audio_level: None,
        payload: Bytes::from_static(payload),
    };
    let refused = video.send(keyframe(b"no key yet")).await;
    assert_eq!(refused, Err(dark_tower_client::ClientError::Encryption(E2eeError::NoSendingKey)));

    alice_keys.lock().expect("keys").set_shared_key(Instant::now(), 0, key).expect("key");
    let header = video.send(keyframe(b"now with a key")).await.expect("send");
    assert_eq!((header.group_seq, header.frame_seq), (0, 0), "the refused frame took no number");
    let got = frames(&media_events(&mut bob, alice_id, 1).await);
    assert_eq!(got, [Bytes::from_static(b"now with a key")]);
}
