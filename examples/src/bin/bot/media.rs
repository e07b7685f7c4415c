//! Publishing real VP8 and Opus from [`MediaFixtures`], looping, on the fixtures' own schedule
//! (one video frame per IVF frame interval, one Opus packet per packet duration).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use dark_tower_client::{ClientError, LocalTrack, OutgoingFrame, Room, TrackId, TrackOptions, TrackSource};
use tokio::time::{Duration, Instant, MissedTickBehavior};

use crate::fixtures::MediaFixtures;
use crate::{Publisher, now_us};

/// Asks the video task of [`publish`] for a keyframe: it restarts the clip's current group of
/// pictures (the VP8 encoder of a recorded clip cannot make a new keyframe).
#[derive(Clone, Debug)]
pub struct KeyframeRequests {
    /// The video track.
    pub track: TrackId,
    wanted: Arc<AtomicBool>,
}

impl KeyframeRequests {
    /// The next video frame sent is a keyframe.
    pub fn request(&self) {
        self.wanted.store(true, Ordering::Relaxed);
    }
}

/// The position to send from when a keyframe is wanted at `pos`: the last keyframe at or
/// before it (the first frame of a clip is always a keyframe).
fn restart_of_group(is_key: &[bool], pos: usize) -> usize {
    (0..=pos).rev().find(|&i| is_key[i]).unwrap_or(0)
}

/// Publishes a "vp8" camera track and an "opus" microphone track and sends the fixtures' frames
/// in a loop for `seconds`. The VP8 keyframe bit of each frame sets the header's keyframe flag;
/// after a reconnect (or a refused frame) video waits for the next keyframe of the clip, and a
/// keyframe request restarts the current group of pictures at once.
pub async fn publish(
    room: &Room,
    fixtures: MediaFixtures,
    seconds: u64,
) -> Result<(Publisher, KeyframeRequests), ClientError> {
    let (w, h) = (u32::from(fixtures.video.width), u32::from(fixtures.video.height));
    let fps = (1.0 / fixtures.video.frame_interval.as_secs_f64()).round() as u32;
    let mut options = TrackOptions::new(TrackSource::Camera, "vp8").simulcast(&[(w, h, 300_000)]);
    for layer in &mut options.layers {
        layer.max_framerate = fps;
    }
    options.name = "fixture video".into();
    let mut video: LocalTrack = room.publish_track(options).await?;
    let mut audio_options = TrackOptions::new(TrackSource::Microphone, "opus");
    audio_options.name = "fixture audio".into();
    let mut audio: LocalTrack = room.publish_track(audio_options).await?;
    let mic: TrackId = audio.info().id;
    let requests = KeyframeRequests { track: video.info().id, wanted: Arc::new(AtomicBool::new(false)) };
    let wanted = Arc::clone(&requests.wanted);
    let fixtures = Arc::new(fixtures);
    let end = Instant::now() + Duration::from_secs(seconds);

    let f = Arc::clone(&fixtures);
    let video_task = async move {
        let mut tick = tokio::time::interval(f.video.frame_interval);
        tick.set_missed_tick_behavior(MissedTickBehavior::Skip);
        // The fixture loads only frames that pass this check, so it cannot fail here.
        let is_key: Vec<bool> =
            f.video.frames.iter().map(|p| crate::check::vp8(p).is_ok_and(|i| i.keyframe)).collect();
        let mut need_key = false;
        let mut pos = 0;
        loop {
            if tick.tick().await >= end {
                break;
            }
            if wanted.swap(false, Ordering::Relaxed) {
                pos = restart_of_group(&is_key, pos);
            }
            let (payload, keyframe) = (f.video.frames[pos].clone(), is_key[pos]);
            pos = (pos + 1) % f.video.frames.len();
            if need_key && !keyframe {
                continue;
            }
            let frame = OutgoingFrame {
                spatial_id: 0,
                temporal_id: 0,
                keyframe,
                discardable: false,
                capture_ts_us: now_us(),
                audio_level: None,
                payload,
            };
            match video.send(frame).await {
                Ok(_) => need_key = false,
                Err(ClientError::KeyframeRequired | ClientError::Connection(_)) => need_key = true,
                Err(e) => return Err(e),
            }
        }
        Ok::<_, ClientError>(())
    };
    let f = fixtures;
    let audio_task = async move {
        let mut tick = tokio::time::interval(f.audio.packet_duration);
        tick.set_missed_tick_behavior(MissedTickBehavior::Skip);
        for n in 0.. {
            if tick.tick().await >= end {
                break;
            }
            let frame = OutgoingFrame {
                spatial_id: 0,
                temporal_id: 0,
                keyframe: false,
                discardable: false,
                capture_ts_us: now_us(),
                audio_level: f.level(n),
                payload: f.audio.packets[n % f.audio.packets.len()].clone(),
            };
            match audio.send(frame).await {
                Ok(_) | Err(ClientError::Connection(_)) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    };
    let task = tokio::spawn(async move {
        let (v, a) = tokio::join!(video_task, audio_task);
        v.and(a)
    });
    Ok(((task, mic), requests))
}

#[cfg(test)]
mod tests {
    use super::restart_of_group;

    #[test]
    fn a_keyframe_request_restarts_the_current_group() {
        let is_key = [true, false, false, true, false];
        assert_eq!(restart_of_group(&is_key, 0), 0);
        assert_eq!(restart_of_group(&is_key, 2), 0);
        assert_eq!(restart_of_group(&is_key, 3), 3);
        assert_eq!(restart_of_group(&is_key, 4), 3);
    }
}
