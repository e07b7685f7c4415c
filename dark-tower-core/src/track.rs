//! Track vocabulary: kinds and sources, and their protobuf forms.

use serde::{Deserialize, Serialize};

use crate::proto::sig;

/// Audio or video.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TrackKind {
    /// Audio: datagrams.
    Audio,
    /// Video: one stream per group of pictures per layer.
    Video,
}

impl TrackKind {
    /// From the protobuf enum value.
    pub fn from_proto(v: i32) -> Option<Self> {
        match sig::TrackKind::try_from(v).ok()? {
            sig::TrackKind::Audio => Some(Self::Audio),
            sig::TrackKind::Video => Some(Self::Video),
            sig::TrackKind::Unspecified => None,
        }
    }

    /// The protobuf enum value.
    pub fn to_proto(self) -> i32 {
        match self {
            Self::Audio => sig::TrackKind::Audio as i32,
            Self::Video => sig::TrackKind::Video as i32,
        }
    }
}

/// Where a track's media comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TrackSource {
    /// A camera.
    Camera,
    /// A microphone.
    Microphone,
    /// A captured screen or window.
    Screen,
    /// The audio of a screen capture.
    ScreenAudio,
}

impl TrackSource {
    /// From the protobuf enum value.
    pub fn from_proto(v: i32) -> Option<Self> {
        match sig::TrackSource::try_from(v).ok()? {
            sig::TrackSource::Camera => Some(Self::Camera),
            sig::TrackSource::Microphone => Some(Self::Microphone),
            sig::TrackSource::Screen => Some(Self::Screen),
            sig::TrackSource::ScreenAudio => Some(Self::ScreenAudio),
            sig::TrackSource::Unspecified => None,
        }
    }

    /// The protobuf enum value.
    pub fn to_proto(self) -> i32 {
        (match self {
            Self::Camera => sig::TrackSource::Camera,
            Self::Microphone => sig::TrackSource::Microphone,
            Self::Screen => sig::TrackSource::Screen,
            Self::ScreenAudio => sig::TrackSource::ScreenAudio,
        }) as i32
    }

    /// The kind of media this source produces.
    pub fn kind(self) -> TrackKind {
        match self {
            Self::Camera | Self::Screen => TrackKind::Video,
            Self::Microphone | Self::ScreenAudio => TrackKind::Audio,
        }
    }
}
