//! Publishing real VP8 and Opus from [`MediaFixtures`], looping, on the fixtures' own schedule
//! (one video frame per IVF frame interval, one Opus packet per packet duration).

use std::sync::Arc;

use dark_tower_client::{ClientError, LocalTrack, OutgoingFrame, Room, TrackId, TrackOptions, TrackSource};
use tokio::time::{Duration, Instant, MissedTickBehavior};

use crate::fixtures::MediaFixtures;
use crate::{Publisher, now_us};

/// Publishes a "vp8" camera track and an "opus" microphone track and sends the fixtures' frames
/// in a loop for `seconds`. The VP8 keyframe bit of each frame sets the header's keyframe flag;
/// after a reconnect (or a refused frame) video waits for the next keyframe of the clip.
pub async fn publish(room: &Room, fixtures: MediaFixtures, seconds: u64) -> Result<Publisher, ClientError> {
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
    let fixtures = Arc::new(fixtures);
    let end = Instant::now() + Duration::from_secs(seconds);

    let f = Arc::clone(&fixtures);
    let video_task = async move {
        let mut tick = tokio::time::interval(f.video.frame_interval);
        tick.set_missed_tick_behavior(MissedTickBehavior::Skip);
        let mut need_key = false;
        for n in 0.. {
            if tick.tick().await >= end {
                break;
            }
            let payload = f.video.frames[n % f.video.frames.len()].clone();
            // The fixture loads only frames that pass this check, so it cannot fail here.
            let keyframe = crate::check::vp8(&payload).is_ok_and(|i| i.keyframe);
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
    Ok((task, mic))
}
