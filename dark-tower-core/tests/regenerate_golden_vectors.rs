//! Writes `proto/vectors/*.json` from the real codecs (ignored unless DT_REGENERATE_VECTORS=1):
//! the messages and frames each vector file holds.

mod golden;

use golden::*;

const T0: u64 = 1_700_000_000_000_000;

#[allow(clippy::too_many_arguments)]
fn header(
    alias: u32,
    spatial_id: u8,
    temporal_id: u8,
    group_seq: u64,
    frame_seq: u32,
    capture_ts_us: u64,
    flags: (bool, bool, bool),
    audio_level: Option<u8>,
) -> MediaHeader {
    MediaHeader {
        track_alias: TrackAlias(alias),
        spatial_id,
        temporal_id,
        group_seq,
        frame_seq,
        capture_ts_us,
        keyframe: flags.0,
        discardable: flags.1,
        end_of_group: flags.2,
        audio_level,
    }
}

const NO_FLAGS: (bool, bool, bool) = (false, false, false);
const KEYFRAME: (bool, bool, bool) = (true, false, false);
const DISCARDABLE: (bool, bool, bool) = (false, true, false);
const END_OF_GROUP: (bool, bool, bool) = (false, false, true);

fn valid_frames() -> Vec<(&'static str, MediaFrame)> {
    let f = |h: MediaHeader, payload: &'static [u8]| MediaFrame {
        header: h,
        payload: Bytes::from_static(payload),
    };
    vec![
        (
            "video_keyframe_starts_group",
            f(header(7, 2, 0, 5, 0, T0, KEYFRAME, None), b"\x10\x02\x00\x9d\x01\x2a\x00\x05\xd0\x02"),
        ),
        (
            "video_discardable_temporal_frame",
            f(header(7, 2, 1, 5, 1, T0 + 33_333, DISCARDABLE, None), b"\x31\x00\x01\x02"),
        ),
        (
            "video_base_layer_delta_frame",
            f(header(7, 2, 0, 5, 2, T0 + 66_666, NO_FLAGS, None), b"\x71\x00\x11\x22"),
        ),
        (
            "video_end_of_group",
            f(header(7, 2, 0, 5, 29, T0 + 966_657, END_OF_GROUP, None), b"\x51\x00\xaa\xbb"),
        ),
        (
            "video_lowest_layer_single_frame_group",
            f(header(8, 0, 0, 1, 0, T0, (true, false, true), None), b"\x10\x02\x00\x9d\x01\x2a"),
        ),
        (
            "audio_with_level",
            f(header(3, 0, 0, 0, 120, T0 + 2_400_000, NO_FLAGS, Some(42)), b"\xfc\xff\xfe\x01\x02"),
        ),
        (
            "audio_level_loudest_zero",
            f(header(3, 0, 0, 0, 121, T0 + 2_420_000, NO_FLAGS, Some(0)), b"\xfc\x00"),
        ),
        (
            "audio_level_silence_127",
            f(header(3, 0, 0, 0, 122, T0 + 2_440_000, NO_FLAGS, Some(127)), b"\xf8\xff\xfe"),
        ),
        (
            "max_values_all_flags",
            f(header(u32::MAX, 2, 3, u64::MAX, u32::MAX, u64::MAX, (true, true, true), Some(127)), b"\xff"),
        ),
        ("empty_payload_zero_fields", f(header(0, 0, 0, 0, 0, 0, NO_FLAGS, None), b"")),
    ]
}

fn invalid_frames() -> Vec<(&'static str, Vec<u8>)> {
    let base = {
        let mut b = BytesMut::new();
        header(7, 1, 0, 5, 0, T0, KEYFRAME, None).encode(&mut b);
        b.extend_from_slice(b"\x00\x01");
        b.to_vec()
    };
    let with = |i: usize, v: u8| {
        let mut b = base.clone();
        b[i] = v;
        b
    };
    vec![
        ("truncated_empty", vec![]),
        ("truncated_27_bytes", base[..27].to_vec()),
        ("version_0", with(0, 0)),
        ("version_2", with(0, 2)),
        ("version_checked_before_flags", {
            let mut b = with(0, 2);
            b[1] = 0xff;
            b
        }),
        ("reserved_flag_0x10", with(1, 0x11)),
        ("reserved_flag_0x80", with(1, 0x81)),
        ("spatial_id_3", with(6, 0x30)),
        ("temporal_id_4", with(6, 0x04)),
        ("spatial_id_15_temporal_id_15", with(6, 0xff)),
        ("audio_level_128", {
            let mut b = with(1, 0x08);
            b[7] = 128;
            b
        }),
        ("audio_level_255", {
            let mut b = with(1, 0x08);
            b[7] = 255;
            b
        }),
    ]
}

/// (name, stream bytes): valid streams are built from frames; invalid ones by hand.
fn streams() -> Vec<(&'static str, Vec<u8>)> {
    let frames = valid_frames();
    let frame = |name: &str| frames.iter().find(|(n, _)| *n == name).map(|(_, f)| f.clone()).expect("frame");
    let stream = |names: &[&str]| {
        let mut s = vec![0x01];
        for n in names {
            let f = frame(n);
            s.extend_from_slice(&f.stream_prefix());
            s.extend_from_slice(&f.payload);
        }
        s
    };
    let group = [
        "video_keyframe_starts_group",
        "video_discardable_temporal_frame",
        "video_base_layer_delta_frame",
        "video_end_of_group",
    ];
    let mut ended_inside = stream(&group[..1]);
    ended_inside.truncate(ended_inside.len() - 3);
    let mut bad_second = stream(&group[..2]);
    let second_header = 1 + 4 + frame(group[0]).encoded_len() + 4;
    bad_second[second_header] = 2;
    vec![
        ("group_of_four_frames", stream(&group)),
        ("single_frame_group", stream(&["video_lowest_layer_single_frame_group"])),
        ("empty_payload_frame", stream(&["empty_payload_zero_fields"])),
        ("type_byte_only", vec![0x01]),
        ("unknown_stream_type", {
            let mut s = stream(&group[..1]);
            s[0] = 0x02;
            s
        }),
        ("length_prefix_above_limit", {
            let mut s = vec![0x01];
            s.extend_from_slice(&(MAX_MEDIA_FRAME as u32 + 1).to_be_bytes());
            s
        }),
        ("length_prefix_below_header", {
            let mut s = vec![0x01];
            s.extend_from_slice(&27u32.to_be_bytes());
            s.extend_from_slice(&[0; 27]);
            s
        }),
        ("ended_inside_a_frame", ended_inside),
        ("bad_version_in_second_frame", bad_second),
    ]
}

fn track(id: &str, alias: u32, video: bool) -> sig::Track {
    if video {
        sig::Track {
            id: id.into(),
            alias,
            kind: sig::TrackKind::Video as i32,
            source: sig::TrackSource::Camera as i32,
            codec: "vp8".into(),
            layers: simulcast(),
            muted: false,
            name: "camera".into(),
            encrypted: false,
        }
    } else {
        sig::Track {
            id: id.into(),
            alias,
            kind: sig::TrackKind::Audio as i32,
            source: sig::TrackSource::Microphone as i32,
            codec: "opus".into(),
            layers: vec![],
            muted: true,
            name: "microphone".into(),
            encrypted: true,
        }
    }
}

fn simulcast() -> Vec<sig::SimulcastLayer> {
    let l = |spatial_id, width, height, max_bitrate_bps, max_framerate| sig::SimulcastLayer {
        spatial_id,
        width,
        height,
        max_bitrate_bps,
        max_framerate,
    };
    vec![l(0, 320, 180, 150_000, 15), l(1, 640, 360, 500_000, 30), l(2, 1280, 720, 1_500_000, 30)]
}

fn client(request_id: u32, m: sig::client_message::Message) -> sig::ClientMessage {
    sig::ClientMessage { request_id, message: Some(m) }
}

fn server(request_id: u32, m: sig::server_message::Message) -> sig::ServerMessage {
    sig::ServerMessage { request_id, seq: 0, message: Some(m) }
}

fn client_messages() -> Vec<(&'static str, sig::ClientMessage)> {
    use sig::client_message::Message as M;
    vec![
        (
            "join",
            client(
                1,
                M::Join(sig::Join {
                    protocol_version: 1,
                    client: Some(sig::ClientInfo {
                        sdk: "dark-tower-client".into(),
                        version: "0.1.0".into(),
                        detail: "linux x86_64".into(),
                        video_decoders: Vec::new(),
                    }),
                    auto_subscribe: true,
                }),
            ),
        ),
        (
            "publish_track_camera_three_simulcast_layers",
            client(
                2,
                M::PublishTrack(sig::PublishTrack {
                    client_track_id: "cam-1".into(),
                    kind: sig::TrackKind::Video as i32,
                    source: sig::TrackSource::Camera as i32,
                    codec: "vp8".into(),
                    layers: simulcast(),
                    name: "camera".into(),
                    encrypted: false,
                }),
            ),
        ),
        (
            "publish_track_microphone",
            client(
                3,
                M::PublishTrack(sig::PublishTrack {
                    client_track_id: "mic-1".into(),
                    kind: sig::TrackKind::Audio as i32,
                    source: sig::TrackSource::Microphone as i32,
                    codec: "opus".into(),
                    layers: vec![],
                    name: "microphone".into(),
                    encrypted: true,
                }),
            ),
        ),
        (
            "subscribe_max_spatial_id_1",
            client(
                4,
                M::Subscribe(sig::Subscribe {
                    track_id: "TR_00000000000000a1".into(),
                    max_spatial_id: Some(1),
                }),
            ),
        ),
        (
            "subscribe_max_spatial_id_0_is_present",
            client(
                5,
                M::Subscribe(sig::Subscribe {
                    track_id: "TR_00000000000000a1".into(),
                    max_spatial_id: Some(0),
                }),
            ),
        ),
        (
            "subscribe_highest_layer",
            client(
                6,
                M::Subscribe(sig::Subscribe { track_id: "TR_00000000000000a1".into(), max_spatial_id: None }),
            ),
        ),
        (
            "unsubscribe",
            client(7, M::Unsubscribe(sig::Unsubscribe { track_id: "TR_00000000000000a1".into() })),
        ),
        (
            "unpublish_track",
            client(8, M::UnpublishTrack(sig::UnpublishTrack { track_id: "TR_00000000000000b2".into() })),
        ),
        ("ping", client(9, M::Ping(sig::Ping { client_time_us: T0 + 123_456 }))),
        ("leave_without_reply", client(0, M::Leave(sig::Leave { reason: "bye".into() }))),
        (
            "resume_after_seq_41",
            client(
                1,
                M::Resume(sig::Resume {
                    protocol_version: 1,
                    last_seq: 41,
                    client: Some(sig::ClientInfo {
                        sdk: "dark-tower-client".into(),
                        version: "0.1.0".into(),
                        detail: String::new(),
                        video_decoders: Vec::new(),
                    }),
                }),
            ),
        ),
    ]
}

fn server_messages() -> Vec<(&'static str, sig::ServerMessage)> {
    use sig::server_message::Message as M;
    let bob = sig::Participant {
        id: "PA_00000000000000b0".into(),
        identity: "bob".into(),
        name: "Bob".into(),
        role: sig::Role::Participant as i32,
        tracks: vec![track("TR_00000000000000a1", 2, true)],
        joined_at_us: T0 - 60_000_000,
        permissions: None,
        reconnecting: false,
        metadata: String::new(),
        video_decoders: Vec::new(),
    };
    vec![
        (
            "joined_small",
            server(
                1,
                M::Joined(sig::Joined {
                    participant: Some(sig::Participant {
                        id: "PA_00000000000000a0".into(),
                        identity: "alice".into(),
                        name: "Alice".into(),
                        role: sig::Role::Host as i32,
                        tracks: vec![],
                        joined_at_us: T0,
                        permissions: None,
                        reconnecting: false,
                        metadata: String::new(),
                        video_decoders: Vec::new(),
                    }),
                    others: vec![bob.clone()],
                    meeting: Some(sig::MeetingInfo {
                        name: "standup".into(),
                        created_at_us: T0 - 120_000_000,
                        locked: false,
                        lobby: false,
                        e2ee_required: true,
                    }),
                    media: Some(sig::MediaEndpoint {
                        url: "https://127.0.0.1:4433/v1/media".into(),
                        ticket: "example-media-ticket".into(),
                        certificate_sha256: vec![
                            "6b86b273ff34fce19d6b804eff5a3f5747ada4eaa22f1d49c01e52ddb7875b4b".into(),
                        ],
                    }),
                    server_time_us: T0 + 1_000,
                    limits: Some(sig::Limits {
                        max_signal_message_bytes: MAX_SIGNAL_MESSAGE as u32,
                        max_media_frame_bytes: MAX_MEDIA_FRAME as u32,
                        max_tracks_per_participant: 16,
                        max_datagram_frame_bytes: MAX_DATAGRAM_FRAME as u32,
                    }),
                    protocol_version: 1,
                    // Kept empty so this vector stays byte-identical to version 1.0 of the file.
                    resume_token: String::new(),
                    resume_grace_ms: 0,
                }),
            ),
        ),
        (
            "participant_joined",
            server(0, M::ParticipantJoined(sig::ParticipantJoined { participant: Some(bob.clone()) })),
        ),
        (
            "participant_left",
            server(
                0,
                M::ParticipantLeft(sig::ParticipantLeft {
                    participant_id: "PA_00000000000000b0".into(),
                    reason: sig::LeaveReason::Left as i32,
                }),
            ),
        ),
        (
            "track_published",
            server(
                0,
                M::TrackPublished(sig::TrackPublished {
                    participant_id: "PA_00000000000000b0".into(),
                    track: Some(track("TR_00000000000000a1", 2, true)),
                }),
            ),
        ),
        (
            "track_published_muted_audio",
            server(
                0,
                M::TrackPublished(sig::TrackPublished {
                    participant_id: "PA_00000000000000b0".into(),
                    track: Some(track("TR_00000000000000a2", 3, false)),
                }),
            ),
        ),
        (
            "track_unpublished",
            server(
                0,
                M::TrackUnpublished(sig::TrackUnpublished {
                    participant_id: "PA_00000000000000b0".into(),
                    track_id: "TR_00000000000000a2".into(),
                }),
            ),
        ),
        (
            "publish_track_ack",
            server(
                2,
                M::PublishTrackAck(sig::PublishTrackAck {
                    client_track_id: "cam-1".into(),
                    track: Some(track("TR_00000000000000b2", 4, true)),
                }),
            ),
        ),
        (
            "subscribe_ack",
            server(4, M::SubscribeAck(sig::SubscribeAck { track_id: "TR_00000000000000a1".into() })),
        ),
        (
            "error_permission_denied",
            server(
                3,
                M::Error(sig::Error {
                    code: sig::ErrorCode::PermissionDenied as i32,
                    message: "the grant does not allow publishing microphone".into(),
                }),
            ),
        ),
        (
            "pong",
            server(9, M::Pong(sig::Pong { client_time_us: T0 + 123_456, server_time_us: T0 + 124_000 })),
        ),
        (
            "resumed_with_three_to_replay",
            server(
                1,
                M::Resumed(sig::Resumed {
                    participant: Some(sig::Participant { reconnecting: false, ..bob.clone() }),
                    meeting: Some(sig::MeetingInfo {
                        name: "standup".into(),
                        created_at_us: T0 - 120_000_000,
                        locked: false,
                        lobby: false,
                        e2ee_required: true,
                    }),
                    media: Some(sig::MediaEndpoint {
                        url: "https://127.0.0.1:4433/v1/media".into(),
                        ticket: "example-media-ticket".into(),
                        certificate_sha256: vec![],
                    }),
                    server_time_us: T0 + 5_000_000,
                    replayed: 3,
                }),
            ),
        ),
        (
            "participant_reconnecting_seq_42",
            sig::ServerMessage {
                request_id: 0,
                seq: 42,
                message: Some(M::ParticipantUpdated(sig::ParticipantUpdated {
                    participant: Some(sig::Participant { reconnecting: true, ..bob.clone() }),
                })),
            },
        ),
        (
            "connection_quality",
            server(
                0,
                M::ConnectionQuality(sig::ConnectionQuality {
                    updates: vec![sig::ParticipantQuality {
                        participant_id: "PA_00000000000000b0".into(),
                        quality: sig::ConnectionQualityLevel::Good as i32,
                        rtt_ms: 120,
                        loss: 0.25,
                    }],
                }),
            ),
        ),
        (
            "disconnect_unsupported_version",
            server(
                0,
                M::Disconnect(sig::Disconnect {
                    code: sig::ErrorCode::UnsupportedVersion as i32,
                    message: "protocol version 2 is not supported; supported: 1..=1".into(),
                }),
            ),
        ),
    ]
}

fn invalid_signaling() -> Vec<(&'static str, &'static str, Vec<u8>)> {
    let framed = |body: &[u8]| {
        let mut v = (body.len() as u32).to_be_bytes().to_vec();
        v.extend_from_slice(body);
        v
    };
    vec![
        ("length_prefix_above_limit", "client", (MAX_SIGNAL_MESSAGE as u32 + 1).to_be_bytes().to_vec()),
        ("length_prefix_u32_max", "server", u32::MAX.to_be_bytes().to_vec()),
        ("empty_body", "client", framed(&[])),
        ("request_id_only", "client", framed(&[0x08, 0x07])),
        ("garbage", "client", framed(&[0xff, 0xff, 0xff])),
        // Field 10 (join), length-delimited, announcing 5 bytes with only 1 present.
        ("truncated_submessage", "client", framed(&[0x52, 0x05, 0x08])),
        ("empty_server_envelope", "server", framed(&[])),
    ]
}

fn write_cases(file: &str, cases: Vec<Node>) {
    let mut out = String::new();
    Node::List(cases).render(0, &mut out);
    out.push('\n');
    let path = vectors_dir().join(file);
    std::fs::write(&path, out).unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
}

fn media_error_case(name: &str, wire: &[u8], err: &MediaCodecError) -> Node {
    Obj::new()
        .leaf("name", name)
        .leaf("hex", hex::encode(wire))
        .leaf("error", variant(err))
        .leaf("code", err.code().name())
        .node()
}

#[test]
#[ignore = "rewrites proto/vectors; run explicitly with DT_REGENERATE_VECTORS=1"]
fn regenerate_golden_vectors() {
    if std::env::var_os("DT_REGENERATE_VECTORS").is_none() {
        eprintln!("set DT_REGENERATE_VECTORS=1 to rewrite proto/vectors");
        return;
    }
    std::fs::create_dir_all(vectors_dir()).expect("create proto/vectors");

    let frames = valid_frames()
        .into_iter()
        .map(|(name, f)| {
            Obj::new()
                .leaf("name", name)
                .leaf("hex", hex::encode(f.encode()))
                .field("header", header_json(&f.header))
                .leaf("payload_hex", hex::encode(&f.payload))
                .node()
        })
        .collect();
    write_cases(MEDIA_FRAMES, frames);

    let invalid = invalid_frames()
        .into_iter()
        .map(|(name, wire)| {
            let err = MediaFrame::decode(Bytes::from(wire.clone()), MAX_MEDIA_FRAME).expect_err(name);
            media_error_case(name, &wire, &err)
        })
        .collect();
    write_cases(MEDIA_FRAMES_INVALID, invalid);

    let streams = streams()
        .into_iter()
        .map(|(name, wire)| {
            let (frames, err) = read_stream(&wire, wire.len());
            let frames = frames.iter().map(|f| Node::Leaf(json!(hex::encode(f.encode())))).collect();
            Obj::new()
                .leaf("name", name)
                .leaf("hex", hex::encode(&wire))
                .field("frames", Node::List(frames))
                .leaf("error", err.as_ref().map_or(Value::Null, |e| json!(variant(e))))
                .leaf("code", err.map_or(Value::Null, |e| json!(e.code().name())))
                .node()
        })
        .collect();
    write_cases(MEDIA_STREAMS, streams);

    let signaling_case = |name: &str, direction: &str, body: Vec<u8>, framed: Bytes, json: Node| {
        Obj::new()
            .leaf("name", name)
            .leaf("direction", direction)
            .leaf("hex", hex::encode(body))
            .leaf("framed_hex", hex::encode(framed))
            .field("json", json)
            .node()
    };
    let mut messages: Vec<Node> = client_messages()
        .into_iter()
        .map(|(name, m)| {
            signaling_case(
                name,
                "client",
                m.encode_to_vec(),
                signal::frame(&m).expect("frame"),
                describe_client(&m),
            )
        })
        .collect();
    messages.extend(server_messages().into_iter().map(|(name, m)| {
        signaling_case(
            name,
            "server",
            m.encode_to_vec(),
            signal::frame(&m).expect("frame"),
            describe_server(&m),
        )
    }));
    write_cases(SIGNALING_MESSAGES, messages);

    let invalid = invalid_signaling()
        .into_iter()
        .map(|(name, direction, framed)| {
            let mut buf = BytesMut::from(&framed[..]);
            let err = match signal::split_message(&mut buf, MAX_SIGNAL_MESSAGE) {
                Err(e) => e,
                Ok(None) => panic!("{name}: incomplete"),
                Ok(Some(body)) if direction == "client" => signal::decode_client(body).expect_err(name),
                Ok(Some(body)) => signal::decode_server(body).expect_err(name),
            };
            Obj::new()
                .leaf("name", name)
                .leaf("direction", direction)
                .leaf("framed_hex", hex::encode(&framed))
                .leaf("error", variant(&err))
                .leaf("code", err.code().name())
                .node()
        })
        .collect();
    write_cases(SIGNALING_INVALID, invalid);
}
