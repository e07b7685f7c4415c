//! Shared by the golden-vector checks and their generator: loading vector files and describing
//! messages as JSON.
#![allow(dead_code, unused_imports)]

pub use std::path::PathBuf;

pub use bytes::{Bytes, BytesMut};
pub use dark_tower_core::codec::media::{
    HEADER_LEN, MediaCodecError, MediaFrame, MediaHeader, MediaStreamReader,
};
pub use dark_tower_core::codec::signal::{self, MessageReader, SignalCodecError};
pub use dark_tower_core::error::ErrorCode;
pub use dark_tower_core::ids::TrackAlias;
pub use dark_tower_core::limits::{MAX_DATAGRAM_FRAME, MAX_MEDIA_FRAME, MAX_SIGNAL_MESSAGE};
pub use dark_tower_core::proto::sig;
pub use prost::Message;
pub use serde_json::{Value, json};

// ---------------------------------------------------------------------------------------------
// Files
// ---------------------------------------------------------------------------------------------

pub const MEDIA_FRAMES: &str = "media_frames.json";
pub const MEDIA_FRAMES_INVALID: &str = "media_frames_invalid.json";
pub const MEDIA_STREAMS: &str = "media_streams.json";
pub const SIGNALING_MESSAGES: &str = "signaling_messages.json";
pub const SIGNALING_INVALID: &str = "signaling_invalid.json";

pub fn vectors_dir() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../proto/vectors/"))
}

pub fn load(file: &str) -> Vec<Value> {
    let path = vectors_dir().join(file);
    let text =
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let value: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{file} is not JSON: {e}"));
    let cases = value.as_array().unwrap_or_else(|| panic!("{file} is not a JSON array")).clone();
    assert!(!cases.is_empty(), "{file} has no cases");
    let mut names: Vec<&str> = cases.iter().map(|c| str_field(c, "name")).collect();
    names.sort_unstable();
    let before = names.len();
    names.dedup();
    assert_eq!(before, names.len(), "{file} has duplicate case names");
    cases
}

pub fn str_field<'a>(case: &'a Value, key: &str) -> &'a str {
    case.get(key).and_then(Value::as_str).unwrap_or_else(|| panic!("case {case} lacks string field {key:?}"))
}

pub fn hex_field(case: &Value, key: &str) -> Vec<u8> {
    let s = str_field(case, key);
    assert_eq!(s, s.to_ascii_lowercase(), "{key} of {} must be lowercase hex", case["name"]);
    hex::decode(s).unwrap_or_else(|e| panic!("{key} of {} is not hex: {e}", case["name"]))
}

pub fn assert_keys(case: &Value, keys: &[&str]) {
    let obj = case.as_object().unwrap_or_else(|| panic!("case {case} is not an object"));
    let mut got: Vec<&str> = obj.keys().map(String::as_str).collect();
    let mut want = keys.to_vec();
    got.sort_unstable();
    want.sort_unstable();
    assert_eq!(got, want, "fields of case {}", case["name"]);
}

/// The variant name of an error, as the vector files spell it (`Truncated`, `BadLayer`, ...).
pub fn variant<E: std::fmt::Debug>(e: &E) -> String {
    let debug = format!("{e:?}");
    debug.split(['(', ' ', '{']).next().unwrap_or_default().to_owned()
}

// ---------------------------------------------------------------------------------------------
// An ordered JSON tree: the generated files list keys in field order; checks compare `Value`s.
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone)]
pub enum Node {
    Leaf(Value),
    Obj(Vec<(String, Node)>),
    List(Vec<Node>),
}

impl Node {
    pub fn value(&self) -> Value {
        match self {
            Node::Leaf(v) => v.clone(),
            Node::Obj(fields) => Value::Object(fields.iter().map(|(k, n)| (k.clone(), n.value())).collect()),
            Node::List(items) => Value::Array(items.iter().map(Node::value).collect()),
        }
    }

    pub fn compact(&self) -> String {
        match self {
            Node::Leaf(v) => v.to_string(),
            Node::Obj(fields) => {
                let inner: Vec<String> = fields
                    .iter()
                    .map(|(k, n)| format!("{}: {}", Value::from(k.as_str()), n.compact()))
                    .collect();
                format!("{{{}}}", inner.join(", "))
            }
            Node::List(items) => {
                let inner: Vec<String> = items.iter().map(Node::compact).collect();
                format!("[{}]", inner.join(", "))
            }
        }
    }

    /// Pretty JSON: containers that fit on a line of 100 characters stay on one line.
    pub fn render(&self, indent: usize, out: &mut String) {
        let compact = self.compact();
        let (open, close, items): (char, char, Vec<(Option<&str>, &Node)>) = match self {
            Node::Obj(fields) if indent + compact.len() > 100 => {
                ('{', '}', fields.iter().map(|(k, n)| (Some(k.as_str()), n)).collect())
            }
            Node::List(list) if indent + compact.len() > 100 => {
                ('[', ']', list.iter().map(|n| (None, n)).collect())
            }
            _ => {
                out.push_str(&compact);
                return;
            }
        };
        out.push(open);
        out.push('\n');
        for (i, (key, node)) in items.iter().enumerate() {
            out.push_str(&" ".repeat(indent + 2));
            if let Some(key) = key {
                out.push_str(&format!("{}: ", Value::from(*key)));
            }
            node.render(indent + 2, out);
            if i + 1 < items.len() {
                out.push(',');
            }
            out.push('\n');
        }
        out.push_str(&" ".repeat(indent));
        out.push(close);
    }
}

/// Builds an ordered object. The proto3-JSON helpers omit default values, like the canonical
/// proto3 JSON mapping.
#[derive(Default)]
pub struct Obj(pub Vec<(String, Node)>);

impl Obj {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn node(self) -> Node {
        Node::Obj(self.0)
    }

    pub fn field(mut self, key: &str, node: Node) -> Self {
        self.0.push((key.to_owned(), node));
        self
    }

    pub fn leaf(self, key: &str, value: impl Into<Value>) -> Self {
        self.field(key, Node::Leaf(value.into()))
    }

    pub fn u32(self, key: &str, v: u32) -> Self {
        if v == 0 { self } else { self.leaf(key, v) }
    }

    /// 64-bit integers are decimal strings in proto3 JSON.
    pub fn u64(self, key: &str, v: u64) -> Self {
        if v == 0 { self } else { self.leaf(key, v.to_string()) }
    }

    pub fn string(self, key: &str, v: &str) -> Self {
        if v.is_empty() { self } else { self.leaf(key, v) }
    }

    pub fn strings(self, key: &str, v: &[String]) -> Self {
        if v.is_empty() {
            self
        } else {
            self.field(key, Node::List(v.iter().map(|s| Node::Leaf(json!(s))).collect()))
        }
    }

    pub fn boolean(self, key: &str, v: bool) -> Self {
        if v { self.leaf(key, true) } else { self }
    }

    /// An enum by name; an unknown value by number, as proto3 JSON does.
    pub fn enumeration(self, key: &str, v: i32, name: Option<&str>) -> Self {
        match (v, name) {
            (0, _) => self,
            (_, Some(name)) => self.leaf(key, name),
            (v, None) => self.leaf(key, v),
        }
    }

    pub fn message(self, key: &str, v: Option<Node>) -> Self {
        match v {
            Some(node) => self.field(key, node),
            None => self,
        }
    }

    pub fn repeated(self, key: &str, v: Vec<Node>) -> Self {
        if v.is_empty() { self } else { self.field(key, Node::List(v)) }
    }
}

// ---------------------------------------------------------------------------------------------
// Signaling messages as proto3 JSON (original field names, enums by name, 64-bit as strings)
// ---------------------------------------------------------------------------------------------

pub fn role(v: i32) -> Option<&'static str> {
    sig::Role::try_from(v).ok().map(|e| e.as_str_name())
}
pub fn kind(v: i32) -> Option<&'static str> {
    sig::TrackKind::try_from(v).ok().map(|e| e.as_str_name())
}
pub fn source(v: i32) -> Option<&'static str> {
    sig::TrackSource::try_from(v).ok().map(|e| e.as_str_name())
}
pub fn error_code(v: i32) -> Option<&'static str> {
    sig::ErrorCode::try_from(v).ok().map(|e| e.as_str_name())
}
pub fn leave_reason(v: i32) -> Option<&'static str> {
    sig::LeaveReason::try_from(v).ok().map(|e| e.as_str_name())
}

pub fn layer_json(l: &sig::SimulcastLayer) -> Node {
    Obj::new()
        .u32("spatial_id", l.spatial_id)
        .u32("width", l.width)
        .u32("height", l.height)
        .u32("max_bitrate_bps", l.max_bitrate_bps)
        .u32("max_framerate", l.max_framerate)
        .node()
}

pub fn track_json(t: &sig::Track) -> Node {
    Obj::new()
        .string("id", &t.id)
        .u32("alias", t.alias)
        .enumeration("kind", t.kind, kind(t.kind))
        .enumeration("source", t.source, source(t.source))
        .string("codec", &t.codec)
        .repeated("layers", t.layers.iter().map(layer_json).collect())
        .boolean("muted", t.muted)
        .string("name", &t.name)
        .boolean("encrypted", t.encrypted)
        .node()
}

pub fn participant_json(p: &sig::Participant) -> Node {
    Obj::new()
        .string("id", &p.id)
        .string("identity", &p.identity)
        .string("name", &p.name)
        .enumeration("role", p.role, role(p.role))
        .repeated("tracks", p.tracks.iter().map(track_json).collect())
        .u64("joined_at_us", p.joined_at_us)
        .boolean("reconnecting", p.reconnecting)
        .string("metadata", &p.metadata)
        .node()
}

fn meeting_json(m: &sig::MeetingInfo) -> Node {
    Obj::new()
        .string("name", &m.name)
        .u64("created_at_us", m.created_at_us)
        .boolean("locked", m.locked)
        .boolean("lobby", m.lobby)
        .boolean("e2ee_required", m.e2ee_required)
        .node()
}

fn media_json(m: &sig::MediaEndpoint) -> Node {
    Obj::new()
        .string("url", &m.url)
        .string("ticket", &m.ticket)
        .strings("certificate_sha256", &m.certificate_sha256)
        .node()
}

fn client_info_json(c: &sig::ClientInfo) -> Node {
    Obj::new().string("sdk", &c.sdk).string("version", &c.version).string("detail", &c.detail).node()
}

pub fn describe_client(m: &sig::ClientMessage) -> Node {
    use sig::client_message::Message as M;
    let o = Obj::new().u32("request_id", m.request_id);
    let o = match &m.message {
        None => o,
        Some(M::Join(j)) => {
            let client = j.client.as_ref().map(client_info_json);
            o.field(
                "join",
                Obj::new()
                    .u32("protocol_version", j.protocol_version)
                    .message("client", client)
                    .boolean("auto_subscribe", j.auto_subscribe)
                    .node(),
            )
        }
        Some(M::Leave(l)) => o.field("leave", Obj::new().string("reason", &l.reason).node()),
        Some(M::PublishTrack(p)) => o.field(
            "publish_track",
            Obj::new()
                .string("client_track_id", &p.client_track_id)
                .enumeration("kind", p.kind, kind(p.kind))
                .enumeration("source", p.source, source(p.source))
                .string("codec", &p.codec)
                .repeated("layers", p.layers.iter().map(layer_json).collect())
                .string("name", &p.name)
                .boolean("encrypted", p.encrypted)
                .node(),
        ),
        Some(M::UnpublishTrack(u)) => {
            o.field("unpublish_track", Obj::new().string("track_id", &u.track_id).node())
        }
        Some(M::Subscribe(s)) => {
            // `optional`: explicit presence, so a set 0 is written.
            let s_obj = Obj::new().string("track_id", &s.track_id);
            let s_obj = match s.max_spatial_id {
                Some(v) => s_obj.leaf("max_spatial_id", v),
                None => s_obj,
            };
            o.field("subscribe", s_obj.node())
        }
        Some(M::Unsubscribe(u)) => o.field("unsubscribe", Obj::new().string("track_id", &u.track_id).node()),
        Some(M::Ping(p)) => o.field("ping", Obj::new().u64("client_time_us", p.client_time_us).node()),
        Some(M::Resume(r)) => o.field(
            "resume",
            Obj::new()
                .u32("protocol_version", r.protocol_version)
                .u64("last_seq", r.last_seq)
                .message("client", r.client.as_ref().map(client_info_json))
                .node(),
        ),
        #[allow(unreachable_patterns)]
        Some(other) => o.leaf("unknown_message", format!("{other:?}")),
    };
    o.node()
}

pub fn describe_server(m: &sig::ServerMessage) -> Node {
    use sig::server_message::Message as M;
    let o = Obj::new().u32("request_id", m.request_id).u64("seq", m.seq);
    let o = match &m.message {
        None => o,
        Some(M::Joined(j)) => {
            let meeting = j.meeting.as_ref().map(meeting_json);
            let media = j.media.as_ref().map(|m| {
                Obj::new()
                    .string("url", &m.url)
                    .string("ticket", &m.ticket)
                    .strings("certificate_sha256", &m.certificate_sha256)
                    .node()
            });
            let limits = j.limits.as_ref().map(|l| {
                Obj::new()
                    .u32("max_signal_message_bytes", l.max_signal_message_bytes)
                    .u32("max_media_frame_bytes", l.max_media_frame_bytes)
                    .u32("max_tracks_per_participant", l.max_tracks_per_participant)
                    .u32("max_datagram_frame_bytes", l.max_datagram_frame_bytes)
                    .node()
            });
            o.field(
                "joined",
                Obj::new()
                    .message("participant", j.participant.as_ref().map(participant_json))
                    .repeated("others", j.others.iter().map(participant_json).collect())
                    .message("meeting", meeting)
                    .message("media", media)
                    .u64("server_time_us", j.server_time_us)
                    .message("limits", limits)
                    .u32("protocol_version", j.protocol_version)
                    .node(),
            )
        }
        Some(M::ParticipantJoined(p)) => o.field(
            "participant_joined",
            Obj::new().message("participant", p.participant.as_ref().map(participant_json)).node(),
        ),
        Some(M::ParticipantLeft(p)) => o.field(
            "participant_left",
            Obj::new()
                .string("participant_id", &p.participant_id)
                .enumeration("reason", p.reason, leave_reason(p.reason))
                .node(),
        ),
        Some(M::TrackPublished(t)) => o.field(
            "track_published",
            Obj::new()
                .string("participant_id", &t.participant_id)
                .message("track", t.track.as_ref().map(track_json))
                .node(),
        ),
        Some(M::TrackUnpublished(t)) => o.field(
            "track_unpublished",
            Obj::new().string("participant_id", &t.participant_id).string("track_id", &t.track_id).node(),
        ),
        Some(M::PublishTrackAck(a)) => o.field(
            "publish_track_ack",
            Obj::new()
                .string("client_track_id", &a.client_track_id)
                .message("track", a.track.as_ref().map(track_json))
                .node(),
        ),
        Some(M::Error(e)) => o.field(
            "error",
            Obj::new().enumeration("code", e.code, error_code(e.code)).string("message", &e.message).node(),
        ),
        Some(M::Pong(p)) => o.field(
            "pong",
            Obj::new().u64("client_time_us", p.client_time_us).u64("server_time_us", p.server_time_us).node(),
        ),
        Some(M::Disconnect(d)) => o.field(
            "disconnect",
            Obj::new().enumeration("code", d.code, error_code(d.code)).string("message", &d.message).node(),
        ),
        Some(M::SubscribeAck(s)) => {
            o.field("subscribe_ack", Obj::new().string("track_id", &s.track_id).node())
        }
        Some(M::Resumed(r)) => o.field(
            "resumed",
            Obj::new()
                .message("participant", r.participant.as_ref().map(participant_json))
                .message("meeting", r.meeting.as_ref().map(meeting_json))
                .message("media", r.media.as_ref().map(media_json))
                .u64("server_time_us", r.server_time_us)
                .u32("replayed", r.replayed)
                .node(),
        ),
        Some(M::ParticipantUpdated(p)) => o.field(
            "participant_updated",
            Obj::new().message("participant", p.participant.as_ref().map(participant_json)).node(),
        ),
        Some(M::ConnectionQuality(q)) => {
            let updates = q
                .updates
                .iter()
                .map(|u| {
                    let level =
                        sig::ConnectionQualityLevel::try_from(u.quality).ok().map(|e| e.as_str_name());
                    let o = Obj::new()
                        .string("participant_id", &u.participant_id)
                        .enumeration("quality", u.quality, level)
                        .u32("rtt_ms", u.rtt_ms);
                    if u.loss == 0.0 { o } else { o.leaf("loss", f64::from(u.loss)) }.node()
                })
                .collect();
            o.field("connection_quality", Obj::new().repeated("updates", updates).node())
        }
        #[allow(unreachable_patterns)]
        Some(other) => o.leaf("unknown_message", format!("{other:?}")),
    };
    o.node()
}

// ---------------------------------------------------------------------------------------------
// Media headers
// ---------------------------------------------------------------------------------------------

/// The header as the vector files spell it; 64-bit fields are decimal strings (JavaScript's
/// `JSON.parse` would round them above 2^53).
pub fn header_json(h: &MediaHeader) -> Node {
    Obj::new()
        .leaf("track_alias", h.track_alias.0)
        .leaf("spatial_id", h.spatial_id)
        .leaf("temporal_id", h.temporal_id)
        .leaf("group_seq", h.group_seq.to_string())
        .leaf("frame_seq", h.frame_seq)
        .leaf("capture_ts_us", h.capture_ts_us.to_string())
        .leaf("keyframe", h.keyframe)
        .leaf("discardable", h.discardable)
        .leaf("end_of_group", h.end_of_group)
        .leaf("audio_level", h.audio_level.map_or(Value::Null, Value::from))
        .node()
}

/// A header parsed straight from the bytes by the layout in `proto/MEDIA.md`, without the crate.
pub fn reference_header(b: &[u8]) -> Value {
    assert!(b.len() >= 28, "a frame holds at least the 28-byte header");
    assert_eq!(b[0], 1, "version");
    let flags = b[1];
    assert_eq!(flags & 0xf0, 0, "reserved flag bits");
    let be = |from: usize, to: usize| b[from..to].iter().fold(0u64, |acc, x| (acc << 8) | u64::from(*x));
    let audio_level = if flags & 0x08 != 0 {
        assert!(b[7] <= 127, "audio level");
        json!(b[7])
    } else {
        assert_eq!(b[7], 0, "the audio-level byte is written as 0 when the flag is clear");
        Value::Null
    };
    let (spatial, temporal) = (b[6] >> 4, b[6] & 0x0f);
    assert!(spatial <= 2 && temporal <= 3, "layer ids");
    json!({
        "track_alias": be(2, 6),
        "spatial_id": spatial,
        "temporal_id": temporal,
        "group_seq": be(8, 16).to_string(),
        "frame_seq": be(16, 20),
        "capture_ts_us": be(20, 28).to_string(),
        "keyframe": flags & 0x01 != 0,
        "discardable": flags & 0x02 != 0,
        "end_of_group": flags & 0x04 != 0,
        "audio_level": audio_level,
    })
}

// ---------------------------------------------------------------------------------------------
// Checks
// ---------------------------------------------------------------------------------------------

/// Reads a whole stream in chunks of `chunk` bytes: the frames, and the error that ended it.
pub fn read_stream(bytes: &[u8], chunk: usize) -> (Vec<MediaFrame>, Option<MediaCodecError>) {
    let mut reader = MediaStreamReader::new(MAX_MEDIA_FRAME);
    let mut frames = vec![];
    for piece in bytes.chunks(chunk.max(1)) {
        reader.push(piece);
        loop {
            match reader.next_frame() {
                Ok(Some(f)) => frames.push(f),
                Ok(None) => break,
                Err(e) => return (frames, Some(e)),
            }
        }
    }
    (frames, reader.finish().err())
}
