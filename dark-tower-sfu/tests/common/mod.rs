//! Shared helpers for the router tests: a [`Router`] driven by hand with a virtual clock, and
//! frames whose payload names them, so a test can read what was forwarded.
#![allow(dead_code)]

use std::time::{Duration, Instant};

use bytes::Bytes;
use dark_tower_core::codec::media::{MediaFrame, MediaHeader};
use dark_tower_core::error::ErrorCode;
use dark_tower_core::forwarding::ForwardingCommand;
use dark_tower_core::ids::{MeetingName, ParticipantId, TrackAlias, TrackId};
use dark_tower_core::track::TrackKind;
use dark_tower_sfu::{Input, Output, Router, SessionId, Via};

pub mod net;

/// The meeting every router test is about.
pub fn meeting() -> MeetingName {
    MeetingName::new("router-test").expect("valid meeting name")
}

/// Participant number `n`.
pub fn pid(n: u64) -> ParticipantId {
    ParticipantId::from_u64(n)
}

/// A router and the virtual time at which inputs are fed.
pub struct Sim {
    pub router: Router,
    pub now: Instant,
}

impl Default for Sim {
    fn default() -> Self {
        Self::new()
    }
}

impl Sim {
    pub fn new() -> Self {
        Self {
            router: Router::new(),
            // The only clock read: the origin of virtual time, advanced by hand afterwards.
            now: Instant::now(),
        }
    }

    /// Moves virtual time forward.
    pub fn advance(&mut self, by: Duration) {
        self.now += by;
    }

    /// Feeds one input and drains every output it caused, in order.
    pub fn input(&mut self, input: Input) -> Vec<Output> {
        self.router.handle_input(self.now, input);
        let mut out = Vec::new();
        while let Some(o) = self.router.poll_output() {
            out.push(o);
        }
        // Time passes between inputs; the router must not care.
        self.advance(Duration::from_millis(5));
        out
    }

    pub fn command(&mut self, c: ForwardingCommand) -> Vec<Output> {
        self.input(Input::Command(c))
    }

    pub fn publish(
        &mut self,
        publisher: ParticipantId,
        alias: u32,
        kind: TrackKind,
        layers: u8,
    ) -> Vec<Output> {
        self.command(ForwardingCommand::TrackPublished {
            meeting: meeting(),
            publisher,
            track: TrackId::from_u64(u64::from(alias) + 1000),
            alias: TrackAlias(alias),
            kind,
            layers,
        })
    }

    pub fn unpublish(&mut self, alias: u32) -> Vec<Output> {
        self.command(ForwardingCommand::TrackUnpublished { meeting: meeting(), alias: TrackAlias(alias) })
    }

    pub fn subscribe(
        &mut self,
        subscriber: ParticipantId,
        alias: u32,
        max_spatial: Option<u8>,
    ) -> Vec<Output> {
        self.command(ForwardingCommand::Subscribe {
            meeting: meeting(),
            subscriber,
            alias: TrackAlias(alias),
            max_spatial,
        })
    }

    pub fn unsubscribe(&mut self, subscriber: ParticipantId, alias: u32) -> Vec<Output> {
        self.command(ForwardingCommand::Unsubscribe {
            meeting: meeting(),
            subscriber,
            alias: TrackAlias(alias),
        })
    }

    pub fn left(&mut self, participant: ParticipantId) -> Vec<Output> {
        self.command(ForwardingCommand::ParticipantLeft { meeting: meeting(), participant })
    }

    pub fn attach(&mut self, session: u64, participant: ParticipantId, publish: bool) -> Vec<Output> {
        self.input(Input::SessionAttached {
            session: SessionId(session),
            participant,
            publish,
            subscribe: true,
            relay: false,
        })
    }

    pub fn detach(&mut self, session: u64) -> Vec<Output> {
        self.input(Input::SessionDetached { session: SessionId(session) })
    }

    pub fn frame(&mut self, session: u64, frame: MediaFrame, via: Via) -> Vec<Output> {
        self.input(Input::Frame { session: SessionId(session), frame, via })
    }

    /// Sends a video frame on a stream from `session`.
    pub fn video(&mut self, session: u64, alias: u32, layer: u8, group: u64, seq: u32) -> Vec<Output> {
        self.frame(session, video(alias, layer, group, seq), Via::Stream)
    }
}

/// A video frame; frame 0 of a group is its keyframe. The payload names the frame.
pub fn video(alias: u32, layer: u8, group: u64, seq: u32) -> MediaFrame {
    let payload = Bytes::from(format!("video a{alias} l{layer} g{group} f{seq}"));
    frame(alias, layer, group, seq, seq == 0, payload)
}

/// An audio frame (every audio frame is its own group and decodable alone).
pub fn audio(alias: u32, seq: u64) -> MediaFrame {
    let payload = Bytes::from(format!("audio a{alias} n{seq}"));
    let mut f = frame(alias, 0, seq, 0, true, payload);
    f.header.audio_level = Some(30);
    f
}

pub fn frame(alias: u32, layer: u8, group: u64, seq: u32, keyframe: bool, payload: Bytes) -> MediaFrame {
    MediaFrame {
        header: MediaHeader {
            track_alias: TrackAlias(alias),
            spatial_id: layer,
            temporal_id: 0,
            group_seq: group,
            frame_seq: seq,
            capture_ts_us: 1_700_000_000_000_000 + group * 1_000_000 + u64::from(seq) * 33_333,
            keyframe,
            discardable: false,
            end_of_group: false,
            audio_level: None,
        },
        payload,
    }
}

/// What identifies a forwarded frame: (alias, layer, group, frame index).
pub type Label = (u32, u8, u64, u32);

pub fn label(f: &MediaFrame) -> Label {
    let h = &f.header;
    (h.track_alias.0, h.spatial_id, h.group_seq, h.frame_seq)
}

/// The frames forwarded to `session`, in order, with how they travel.
pub fn forwarded_to(outputs: &[Output], session: u64) -> Vec<(MediaFrame, Via)> {
    outputs
        .iter()
        .filter_map(|o| match o {
            Output::Forward { session: s, frame, via } if *s == SessionId(session) => {
                Some((frame.clone(), *via))
            }
            _ => None,
        })
        .collect()
}

/// Labels of the frames forwarded to `session`, in order.
pub fn labels_to(outputs: &[Output], session: u64) -> Vec<Label> {
    forwarded_to(outputs, session).iter().map(|(f, _)| label(f)).collect()
}

/// Sessions the outputs forward to, in order (one entry per forward).
pub fn forward_sessions(outputs: &[Output]) -> Vec<u64> {
    outputs
        .iter()
        .filter_map(|o| match o {
            Output::Forward { session, .. } => Some(session.0),
            _ => None,
        })
        .collect()
}

/// The session closes among the outputs, as (session, code).
pub fn closes(outputs: &[Output]) -> Vec<(u64, Option<ErrorCode>)> {
    outputs
        .iter()
        .filter_map(|o| match o {
            Output::CloseSession { session, code, .. } => Some((session.0, *code)),
            _ => None,
        })
        .collect()
}
