//! The spine: three clients join one meeting over real WebTransport on loopback, each publishes
//! simulcast video and audio, and each receives every other's frames byte-exact and in order
//! within a group; one leaves and the others see it; a late joiner's first video frame is a
//! keyframe.

mod common;

use std::collections::HashMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use common::{TestServer, wait_for};
use dark_tower_client::{
    LocalTrack, OutgoingFrame, ParticipantId, Room, RoomEvent, TrackId, TrackOptions, TrackSource, synthetic,
};

const GROUPS: u64 = 3;
const FRAMES_PER_GROUP: u64 = 5;
const AUDIO_FRAMES: u64 = 15;
const LAYER_SIZES: [usize; 3] = [300, 1500, 5000];

fn now_us() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_micros() as u64).unwrap_or(0)
}

/// Seed per publisher and layer (layer 9 = audio), so every payload names its origin.
fn seed(who: usize, layer: u64) -> u64 {
    (who as u64) << 8 | layer
}

struct Published {
    video: LocalTrack,
    audio: LocalTrack,
}

async fn publish(room: &Room) -> Published {
    let video = room
        .publish_track(TrackOptions::new(TrackSource::Camera, "synthetic").simulcast(&[
            (320, 180, 150_000),
            (640, 360, 500_000),
            (1280, 720, 1_500_000),
        ]))
        .await
        .expect("publish video");
    let audio = room
        .publish_track(TrackOptions::new(TrackSource::Microphone, "synthetic"))
        .await
        .expect("publish audio");
    Published { video, audio }
}

/// Sends the fixed pattern; returns what the top layer and the audio track carried, in order.
async fn send_all(who: usize, p: &mut Published) -> (Vec<(u64, u32, Bytes)>, Vec<Bytes>) {
    let mut top = Vec::new();
    let mut audio = Vec::new();
    let mut seq = 0;
    for _g in 0..GROUPS {
        for f in 0..FRAMES_PER_GROUP {
            for (layer, size) in LAYER_SIZES.iter().enumerate() {
                let key = f == 0;
                let payload = synthetic::payload(
                    seed(who, layer as u64),
                    seq,
                    now_us(),
                    if key { size * 3 } else { *size },
                );
                let frame = OutgoingFrame {
                    spatial_id: layer as u8,
                    temporal_id: 0,
                    keyframe: key,
                    discardable: false,
                    capture_ts_us: now_us(),
                    audio_level: None,
                    payload: payload.clone(),
                };
                let h = p.video.send(frame).await.expect("send video");
                if layer == 2 {
                    top.push((h.group_seq, h.frame_seq, payload));
                }
            }
            seq += 1;
        }
    }
    for i in 0..AUDIO_FRAMES {
        let payload = synthetic::payload(seed(who, 9), i, now_us(), 80);
        let frame = OutgoingFrame {
            spatial_id: 0,
            temporal_id: 0,
            keyframe: false,
            discardable: false,
            capture_ts_us: now_us(),
            audio_level: Some(30),
            payload: payload.clone(),
        };
        p.audio.send(frame).await.expect("send audio");
        audio.push(payload);
    }
    (top, audio)
}

#[derive(Default, Debug)]
struct Received {
    video: Vec<(u64, u32, Bytes, bool)>,
    audio: Vec<Bytes>,
}

async fn collect(
    room: &mut Room,
    tracks: &HashMap<TrackId, (ParticipantId, bool)>,
    want_video: usize,
    want_audio: usize,
) -> HashMap<ParticipantId, Received> {
    let mut got: HashMap<ParticipantId, Received> = HashMap::new();
    let publishers: Vec<ParticipantId> = tracks.values().map(|(p, _)| *p).collect();
    let done = |got: &HashMap<ParticipantId, Received>| {
        publishers
            .iter()
            .all(|p| got.get(p).is_some_and(|r| r.video.len() >= want_video && r.audio.len() >= want_audio))
    };
    while !done(&got) {
        let ev = match tokio::time::timeout(Duration::from_secs(20), room.next_event()).await {
            Ok(ev) => ev.expect("room open"),
            Err(_) => {
                let counts: Vec<_> = got.iter().map(|(p, r)| (*p, r.video.len(), r.audio.len())).collect();
                panic!("frames did not arrive in time; (publisher, video, audio) so far: {counts:?}");
            }
        };
        if let RoomEvent::Frame(f) = ev {
            let track = f.track.expect("frame of a known track");
            let (publisher, is_video) = tracks[&track];
            assert_eq!(f.participant, Some(publisher));
            let r = got.entry(publisher).or_default();
            if is_video {
                assert_eq!(f.header.spatial_id, 2, "a subscriber receives the top layer by default");
                r.video.push((f.header.group_seq, f.header.frame_seq, f.payload, f.header.keyframe));
            } else {
                assert!(f.datagram, "audio travels as datagrams");
                r.audio.push(f.payload);
            }
        }
    }
    got
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_clients_exchange_media() {
    let t = TestServer::start().await;
    let names = ["ann", "bob", "cyd"];
    let mut rooms = Vec::new();
    for n in names {
        rooms.push(t.join("spine", n).await);
    }
    let ids: Vec<ParticipantId> = rooms.iter().map(|r| r.local_participant().id).collect();
    let mut published = Vec::new();
    for r in &rooms {
        published.push(publish(r).await);
    }
    // Every room learns about both other publishers' two tracks (and so is subscribed).
    let mut tracks: Vec<HashMap<TrackId, (ParticipantId, bool)>> = vec![HashMap::new(); 3];
    for (i, room) in rooms.iter_mut().enumerate() {
        for other in room.remote_participants() {
            for tr in other.tracks {
                tracks[i].insert(tr.id, (other.id, tr.kind == dark_tower_client::TrackKind::Video));
            }
        }
        while tracks[i].len() < 4 {
            let (pid, tr) = wait_for(room, |e| match e {
                RoomEvent::TrackPublished { participant, track } => Some((*participant, track.clone())),
                _ => None,
            })
            .await;
            tracks[i].insert(tr.id, (pid, tr.kind == dark_tower_client::TrackKind::Video));
        }
    }
    let mut sent = Vec::new();
    for (who, p) in published.iter_mut().enumerate() {
        sent.push(send_all(who, p).await);
    }
    let want_video = (GROUPS * FRAMES_PER_GROUP) as usize;
    for (i, room) in rooms.iter_mut().enumerate() {
        let got = collect(room, &tracks[i], want_video, AUDIO_FRAMES as usize).await;
        for (who, id) in ids.iter().enumerate() {
            if who == i {
                continue;
            }
            let r = &got[id];
            let (top, audio) = &sent[who];
            // Groups travel on separate streams, so only the order within a group is defined.
            let mut by_group: std::collections::BTreeMap<u64, Vec<(u32, &Bytes, bool)>> = Default::default();
            for (g, f, p, k) in &r.video {
                by_group.entry(*g).or_default().push((*f, p, *k));
            }
            let video: Vec<(u64, u32, Bytes)> = by_group
                .iter()
                .flat_map(|(g, frames)| frames.iter().map(move |(f, p, _)| (*g, *f, (*p).clone())))
                .collect();
            assert_eq!(video.len(), top.len(), "{} receives all of {}'s top layer", names[i], names[who]);
            for (got, want) in video.iter().zip(top) {
                assert!(
                    got == want,
                    "{} receives {}'s frame {:?} byte-exact, in order within its group",
                    names[i],
                    names[who],
                    (want.0, want.1)
                );
            }
            for frames in by_group.values() {
                assert!(frames[0].2, "every group starts with its keyframe");
            }
            for (_, _, p, _) in &r.video {
                let s = synthetic::verify(p).expect("payload verifies");
                assert_eq!(s.seed, seed(who, 2));
            }
            assert!(&r.audio == audio, "{} receives {}'s audio byte-exact, in order", names[i], names[who]);
        }
    }

    // Cyd leaves; Ann and Bob see it.
    let cyd = rooms.pop().expect("three rooms");
    let cyd_id = cyd.local_participant().id;
    cyd.leave().await;
    for room in rooms.iter_mut() {
        let left = wait_for(room, |e| match e {
            RoomEvent::ParticipantLeft { participant, .. } => Some(*participant),
            _ => None,
        })
        .await;
        assert_eq!(left, cyd_id);
        assert!(room.remote_participants().iter().all(|p| p.id != cyd_id));
    }

    // Dan joins late: the roster has Ann and Bob with their tracks, and his first video frame
    // from each is a keyframe (served from the cached group).
    let mut dan = t.join("spine", "dan").await;
    let roster = dan.remote_participants();
    assert_eq!(roster.len(), 2);
    let mut video_tracks: HashMap<TrackId, ParticipantId> = HashMap::new();
    for p in &roster {
        assert_eq!(p.tracks.len(), 2);
        for tr in &p.tracks {
            if tr.kind == dark_tower_client::TrackKind::Video {
                video_tracks.insert(tr.id, p.id);
            }
        }
    }
    let mut first: HashMap<TrackId, bool> = HashMap::new();
    while first.len() < video_tracks.len() {
        let f = wait_for(&mut dan, |e| match e {
            RoomEvent::Frame(f) if !f.datagram => Some(f.clone()),
            _ => None,
        })
        .await;
        let track = f.track.expect("known track");
        first.entry(track).or_insert(f.header.keyframe);
    }
    assert!(first.values().all(|k| *k), "a late joiner's first video frame is a keyframe: {first:?}");
    t.server.shutdown().await;
}
