//! A media handler behind its own WebTransport endpoint, without a meeting controller, for tests
//! of the SFU driver over real WebTransport: commands are applied by the test, tickets are made
//! here (these tests are about forwarding, not authentication), and raw sessions publish and
//! receive frames.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use dark_tower_core::codec::media::{MediaFrame, MediaHeader, STREAM_TYPE_GROUP};
use dark_tower_core::forwarding::{ForwardingCommand, MediaFeedback, MediaForwarding, MediaReport};
use dark_tower_core::ids::{MeetingName, ParticipantId, TrackAlias, TrackId};
use dark_tower_core::limits::MAX_MEDIA_FRAME;
use dark_tower_core::token::{TICKET_AUDIENCE, TicketClaims};
use dark_tower_core::track::TrackKind;
use dark_tower_core::transport::wt::{WtSession, connect};
use dark_tower_core::transport::{MediaStreamFrames, SendStream, Session};
use dark_tower_server::tls;
use dark_tower_sfu::{MediaHandler, MediaHandlerConfig};
use tokio::sync::mpsc;

pub const VIDEO: TrackAlias = TrackAlias(5);
pub const AUDIO: TrackAlias = TrackAlias(6);

pub fn meeting() -> MeetingName {
    MeetingName::new("cascade").expect("name")
}

pub fn pid(n: u64) -> ParticipantId {
    ParticipantId::from_u64(n)
}

pub fn ticket(n: u64, publish: bool) -> TicketClaims {
    TicketClaims {
        aud: TICKET_AUDIENCE.into(),
        meeting: meeting(),
        pid: pid(n),
        publish,
        subscribe: true,
        exp: u64::MAX,
    }
}

/// Records what a media handler reports.
#[derive(Default)]
pub struct Reports(pub Mutex<Vec<MediaReport>>);

#[async_trait]
impl MediaFeedback for Reports {
    async fn report(&self, report: MediaReport) {
        self.0.lock().expect("lock").push(report);
    }
}

pub struct Node {
    pub mh: Arc<MediaHandler>,
    pub url: String,
    pub hash: String,
    pub reports: Arc<Reports>,
    pub port: u16,
}

/// A media handler behind its own WebTransport endpoint. Sessions to `/media/{pid}/{publish}`
/// are served as participants, `/relay/{pid}` as relays (tickets are made here: this test is
/// about forwarding, not authentication).
pub async fn node() -> Node {
    let mh = MediaHandler::new(MediaHandlerConfig::default());
    let reports = Arc::new(Reports::default());
    mh.set_feedback(reports.clone());
    let identity = tls::dev_identity(&["localhost".into(), "127.0.0.1".into()]).expect("identity");
    let hash = tls::certificate_sha256(&identity);
    let config =
        tls::endpoint_config("127.0.0.1:0".parse().expect("addr"), &identity, Duration::from_secs(10))
            .expect("config");
    let endpoint = wtransport::Endpoint::server(config).expect("endpoint");
    let port = endpoint.local_addr().expect("addr").port();
    let served = mh.clone();
    tokio::spawn(async move {
        loop {
            let incoming = endpoint.accept().await;
            let mh = served.clone();
            tokio::spawn(async move {
                let Ok(request) = incoming.await else { return };
                let path: Vec<String> = request.path().split('/').map(str::to_owned).collect();
                let Ok(conn) = request.accept().await else { return };
                let session = WtSession(conn);
                let n: u64 = path[2].parse().expect("pid");
                match path[1].as_str() {
                    "relay" => mh.serve_relay(session, ticket(n, false)).await,
                    _ => mh.serve_session(session, ticket(n, path[3] == "true")).await,
                }
            });
        }
    });
    Node { mh, url: format!("https://127.0.0.1:{port}"), hash, reports, port }
}

impl Node {
    pub async fn connect(&self, path: &str) -> WtSession {
        connect(&format!("{}{path}", self.url), std::slice::from_ref(&self.hash)).await.expect("connect")
    }

    pub async fn publish_tracks(&self) {
        for (alias, kind, layers) in [(VIDEO, TrackKind::Video, 3), (AUDIO, TrackKind::Audio, 1)] {
            self.mh
                .apply(ForwardingCommand::TrackPublished {
                    meeting: meeting(),
                    publisher: pid(1),
                    track: TrackId::from_u64(u64::from(alias.0)),
                    alias,
                    kind,
                    layers,
                })
                .await;
        }
    }

    pub async fn subscribe(&self, who: u64, alias: TrackAlias, max_spatial: Option<u8>) {
        self.mh
            .apply(ForwardingCommand::Subscribe {
                meeting: meeting(),
                subscriber: pid(who),
                alias,
                max_spatial,
            })
            .await;
    }
}

pub fn frame(alias: TrackAlias, layer: u8, group: u64, seq: u32) -> MediaFrame {
    MediaFrame {
        header: MediaHeader {
            track_alias: alias,
            spatial_id: layer,
            temporal_id: 0,
            group_seq: group,
            frame_seq: seq,
            capture_ts_us: 1,
            keyframe: seq == 0,
            discardable: false,
            end_of_group: false,
            audio_level: (alias == AUDIO).then_some(20),
        },
        payload: Bytes::from(format!("a{} l{layer} g{group} f{seq}", alias.0)),
    }
}

/// The capture clock of a synthetic camera: a tick every `period` (a real-network test needs
/// media spread over time, as a camera produces it; nothing waits on it for a result). Missed
/// ticks are skipped, as an encoder drops frames when it falls behind.
pub fn frame_clock(period: Duration) -> tokio::time::Interval {
    let mut clock = tokio::time::interval(period);
    clock.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    clock
}

/// Publishes three layers (a group of 10 frames each) and audio, 50 frames a second, until
/// aborted.
pub async fn publish(session: WtSession) {
    let mut clock = frame_clock(Duration::from_millis(20));
    for group in 0u64.. {
        let mut streams = Vec::new();
        for _ in 0..3 {
            let mut s = session.open_uni().await.expect("open");
            s.write_all(&[STREAM_TYPE_GROUP]).await.expect("type");
            streams.push(s);
        }
        for seq in 0..10u32 {
            for (layer, s) in streams.iter_mut().enumerate() {
                let f = frame(VIDEO, layer as u8, group, seq);
                s.write_all(&f.stream_prefix()).await.expect("prefix");
                s.write_all(&f.payload).await.expect("payload");
            }
            let _ = session.send_datagram(frame(AUDIO, 0, group * 10 + u64::from(seq), 0).encode());
            clock.tick().await;
        }
        for mut s in streams {
            let _ = s.finish();
        }
    }
}

/// Everything a subscriber session receives, streams and datagrams.
pub fn receive(session: WtSession) -> mpsc::UnboundedReceiver<MediaFrame> {
    let (tx, rx) = mpsc::unbounded_channel();
    let (s, t) = (session.clone(), tx.clone());
    tokio::spawn(async move {
        while let Ok(recv) = s.accept_uni().await {
            let t = t.clone();
            tokio::spawn(async move {
                let mut frames = MediaStreamFrames::new(recv, MAX_MEDIA_FRAME);
                while let Ok(Some(f)) = frames.next().await {
                    let _ = t.send(f);
                }
            });
        }
    });
    tokio::spawn(async move {
        while let Ok(d) = session.recv_datagram().await {
            if let Ok(f) = MediaFrame::decode(d, MAX_MEDIA_FRAME) {
                let _ = tx.send(f);
            }
        }
    });
    rx
}
