//! Prometheus metrics on the admin port (`/metrics`, OpenMetrics text). Values are read from the
//! media handler's and meeting controller's own counters at scrape time. No meeting or
//! participant ids are labels.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use dark_tower_sfu::MediaHandler;
use dark_tower_signaling::MeetingController;
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::registry::Registry;

/// Reads the server's parts at scrape time.
#[derive(Debug)]
struct ServerCollector {
    mh: Arc<MediaHandler>,
    mc: Arc<MeetingController>,
}

fn counter(enc: &mut DescriptorEncoder, name: &str, help: &str, value: u64) -> fmt::Result {
    let m = ConstCounter::new(value);
    m.encode(enc.encode_descriptor(name, help, None, m.metric_type())?)
}

fn gauge(enc: &mut DescriptorEncoder, name: &str, help: &str, value: i64) -> fmt::Result {
    let m = ConstGauge::new(value);
    m.encode(enc.encode_descriptor(name, help, None, m.metric_type())?)
}

impl Collector for ServerCollector {
    fn encode(&self, mut enc: DescriptorEncoder) -> fmt::Result {
        let c = self.mh.counters();
        let load = |a: &std::sync::atomic::AtomicU64| a.load(Ordering::Relaxed);
        counter(
            &mut enc,
            "dark_tower_media_frames_received",
            "Frames accepted from publishers",
            load(&c.frames_in),
        )?;
        counter(
            &mut enc,
            "dark_tower_media_frames_forwarded",
            "Frames queued to subscribers",
            load(&c.frames_out),
        )?;
        counter(
            &mut enc,
            "dark_tower_media_bytes_forwarded",
            "Payload bytes queued to subscribers",
            load(&c.bytes_out),
        )?;
        counter(
            &mut enc,
            "dark_tower_media_frames_dropped",
            "Frames dropped for any reason",
            load(&c.frames_dropped),
        )?;
        counter(
            &mut enc,
            "dark_tower_media_discardable_frames_shed",
            "Discardable (temporal-layer) frames not sent to subscribers falling behind",
            load(&c.discardable_shed),
        )?;
        counter(
            &mut enc,
            "dark_tower_media_sessions_closed_for_errors",
            "Media sessions closed for misbehaviour",
            load(&c.sessions_closed_for_errors),
        )?;
        counter(
            &mut enc,
            "dark_tower_media_bad_datagrams",
            "Datagrams that did not decode",
            load(&c.bad_datagrams),
        )?;
        gauge(
            &mut enc,
            "dark_tower_media_sessions",
            "Media sessions open",
            c.sessions.load(Ordering::Relaxed),
        )?;
        gauge(
            &mut enc,
            "dark_tower_media_meetings",
            "Meetings with media forwarding",
            self.mh.meeting_count() as i64,
        )?;
        gauge(&mut enc, "dark_tower_signaling_sessions", "Signaling sessions open", self.mc.session_count())?;
        gauge(
            &mut enc,
            "dark_tower_meetings_live",
            "Meetings with a running controller",
            self.mc.live_meetings() as i64,
        )?;
        Ok(())
    }
}

/// The registry served at `/metrics`.
pub fn registry(mh: Arc<MediaHandler>, mc: Arc<MeetingController>) -> Registry {
    let mut r = Registry::default();
    r.register_collector(Box::new(ServerCollector { mh, mc }));
    r
}

/// The registry in OpenMetrics text.
pub fn render(registry: &Registry) -> String {
    let mut out = String::new();
    // Writing into a String cannot fail.
    let _ = prometheus_client::encoding::text::encode(&mut out, registry);
    out
}
