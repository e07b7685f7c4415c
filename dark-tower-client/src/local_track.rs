//! Publishing: a track's frames, with group and frame numbering, on group streams (video) or
//! datagrams (audio).

use std::sync::Arc;

use bytes::Bytes;
use dark_tower_core::codec::media::{MediaFrame, MediaHeader, STREAM_TYPE_GROUP};
use dark_tower_core::limits::MAX_SIMULCAST_LAYERS;
use dark_tower_core::proto::sig;
use dark_tower_core::track::{TrackKind, TrackSource};

use dark_tower_core::transport::wt::WtSend;
use dark_tower_core::transport::{SendStream, Session};

use crate::ClientError;
use crate::e2ee::RoomE2ee;
use crate::link::LinkCell;
use crate::room::TrackInfo;

/// What to publish.
#[derive(Debug, Clone)]
pub struct TrackOptions {
    /// Source (decides the kind).
    pub source: TrackSource,
    /// Codec string ("vp8", "opus", "synthetic"…).
    pub codec: String,
    /// Simulcast layers, lowest first; empty for one layer.
    pub layers: Vec<sig::SimulcastLayer>,
    /// Label.
    pub name: String,
    /// Id echoed by the server; unique per participant.
    pub client_track_id: String,
}

impl TrackOptions {
    /// A single-layer track of `source`.
    pub fn new(source: TrackSource, codec: impl Into<String>) -> Self {
        let client_track_id = format!("{:?}-{:08x}", source, rand_u32());
        Self { source, codec: codec.into(), layers: Vec::new(), name: String::new(), client_track_id }
    }

    /// Adds simulcast layers given as (width, height, max bitrate), lowest first.
    pub fn simulcast(mut self, layers: &[(u32, u32, u32)]) -> Self {
        self.layers = layers
            .iter()
            .enumerate()
            .map(|(i, (w, h, b))| sig::SimulcastLayer {
                spatial_id: i as u32,
                width: *w,
                height: *h,
                max_bitrate_bps: *b,
                max_framerate: 30,
            })
            .collect();
        self
    }

    pub(crate) fn to_proto(&self) -> sig::PublishTrack {
        sig::PublishTrack {
            client_track_id: self.client_track_id.clone(),
            kind: self.source.kind().to_proto(),
            source: self.source.to_proto(),
            codec: self.codec.clone(),
            layers: self.layers.clone(),
            name: self.name.clone(),
            encrypted: false,
        }
    }
}

fn rand_u32() -> u32 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0),
    );
    h.finish() as u32
}

/// One frame to publish.
#[derive(Debug, Clone)]
pub struct OutgoingFrame {
    /// Simulcast layer.
    pub spatial_id: u8,
    /// Temporal layer.
    pub temporal_id: u8,
    /// A keyframe starts a new group.
    pub keyframe: bool,
    /// May be dropped without breaking later frames.
    pub discardable: bool,
    /// Capture time, microseconds since the epoch.
    pub capture_ts_us: u64,
    /// Audio level (0 loudest … 127 silence).
    pub audio_level: Option<u8>,
    /// Encoded payload.
    pub payload: Bytes,
}

struct LayerState {
    group_seq: u64,
    frame_seq: u32,
    started: bool,
    /// The open group's stream and the link generation it belongs to.
    stream: Option<(WtSend, u64)>,
}

/// A published track: send its frames with [`LocalTrack::send`]. After a reconnect the track
/// sends on the new media connection; a video layer then resumes at its next keyframe.
pub struct LocalTrack {
    info: TrackInfo,
    link: Arc<LinkCell>,
    layers: Vec<LayerState>,
    max_datagram_frame: usize,
    e2ee: Option<Arc<RoomE2ee>>,
}

impl std::fmt::Debug for LocalTrack {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalTrack").field("info", &self.info).finish_non_exhaustive()
    }
}

impl LocalTrack {
    pub(crate) fn new(
        info: TrackInfo,
        link: Arc<LinkCell>,
        max_datagram_frame: usize,
        e2ee: Option<Arc<RoomE2ee>>,
    ) -> Self {
        let layers = (0..MAX_SIMULCAST_LAYERS)
            .map(|_| LayerState { group_seq: 0, frame_seq: 0, started: false, stream: None })
            .collect();
        Self { info, link, layers, max_datagram_frame, e2ee }
    }

    /// The track as the server acknowledged it.
    pub fn info(&self) -> &TrackInfo {
        &self.info
    }

    /// Sends one frame; returns the header it was sent with. Video frames of a layer must start
    /// with a keyframe; each keyframe opens a new group (a new stream). After a reconnect a delta
    /// frame gets [`ClientError::KeyframeRequired`] until the layer's next keyframe.
    pub async fn send(&mut self, frame: OutgoingFrame) -> Result<MediaHeader, ClientError> {
        let link = self.link.get();
        let media = &link.media;
        let layer = frame.spatial_id as usize;
        if frame.temporal_id >= dark_tower_core::limits::MAX_TEMPORAL_LAYERS
            || frame.audio_level.is_some_and(|l| l > 127)
        {
            return Err(ClientError::InvalidUse("temporal id above 3 or audio level above 127".into()));
        }
        if layer >= self.info.layers as usize {
            return Err(ClientError::InvalidUse(format!("layer {layer} was not published")));
        }
        let state = &mut self.layers[layer];
        let audio = self.info.kind == TrackKind::Audio;
        if !audio
            && !frame.keyframe
            && state.started
            && state.stream.as_ref().is_none_or(|(_, g)| *g != link.generation)
        {
            return Err(ClientError::KeyframeRequired);
        }
        // Worked out on copies and stored only once the frame is ready to go, so a frame that
        // cannot be encrypted leaves no gap in the numbering.
        let (mut group_seq, mut frame_seq) = (state.group_seq, state.frame_seq);
        if frame.keyframe || audio {
            if state.started && (frame.keyframe || audio && frame_seq == u32::MAX) {
                group_seq += 1;
                frame_seq = 0;
            } else if state.started {
                frame_seq += 1;
            }
        } else if !state.started {
            return Err(ClientError::InvalidUse(
                "the first video frame of a layer must be a keyframe".into(),
            ));
        } else {
            frame_seq += 1;
        }
        let header = MediaHeader {
            track_alias: self.info.alias,
            spatial_id: frame.spatial_id,
            temporal_id: frame.temporal_id,
            group_seq,
            frame_seq,
            capture_ts_us: frame.capture_ts_us,
            keyframe: frame.keyframe,
            discardable: frame.discardable,
            end_of_group: false,
            audio_level: frame.audio_level,
        };
        let payload = match &self.e2ee {
            Some(e2ee) => Bytes::from(e2ee.encrypt(&header, &frame.payload)?),
            None => frame.payload,
        };
        (state.group_seq, state.frame_seq, state.started) = (group_seq, frame_seq, true);
        let media_frame = MediaFrame { header, payload };
        let conn = |e: dark_tower_core::transport::TransportError| ClientError::Connection(e.to_string());
        if audio {
            let fits = media_frame.encoded_len() <= self.max_datagram_frame
                && media.max_datagram_size().is_some_and(|m| media_frame.encoded_len() <= m);
            if fits {
                media.send_datagram(media_frame.encode()).map_err(conn)?;
            } else {
                let mut s = media.open_uni().await.map_err(conn)?;
                s.write_all(&[STREAM_TYPE_GROUP]).await.map_err(conn)?;
                s.write_all(&media_frame.stream_prefix()).await.map_err(conn)?;
                s.write_all(&media_frame.payload).await.map_err(conn)?;
                s.finish().map_err(conn)?;
            }
            return Ok(header);
        }
        if frame.keyframe {
            if let Some((mut old, _)) = state.stream.take() {
                let _ = old.finish();
            }
            let mut s = media.open_uni().await.map_err(conn)?;
            s.set_priority((header.group_seq % i32::MAX as u64) as i32);
            s.write_all(&[STREAM_TYPE_GROUP]).await.map_err(conn)?;
            state.stream = Some((s, link.generation));
        }
        let Some((s, _)) = state.stream.as_mut() else {
            return Err(ClientError::InvalidUse("no open group".into()));
        };
        s.write_all(&media_frame.stream_prefix()).await.map_err(conn)?;
        s.write_all(&media_frame.payload).await.map_err(conn)?;
        Ok(header)
    }
}
