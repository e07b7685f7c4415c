//! Prometheus metrics on the admin port (`/metrics`, OpenMetrics text). Values are read from the
//! media handler's and meeting controller's own counters at scrape time. No meeting or
//! participant ids are labels.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use dark_tower_sfu::MediaHandler;
use dark_tower_signaling::MeetingController;
use prometheus_client::collector::Collector;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::{Registry, Unit};

use crate::webhooks::WebhookCounters;

/// Reads the server's parts at scrape time.
#[derive(Debug)]
struct ServerCollector {
    mh: Arc<MediaHandler>,
    mc: Arc<MeetingController>,
    webhooks: Option<Arc<WebhookCounters>>,
}

/// Labels of the REST latency histogram: the route template (never the concrete path, so
/// meeting names and identities are not labels), the method and the status class.
#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
pub struct RestLabels {
    /// `GET`, `POST`, …
    pub method: String,
    /// The matched route template (`/v1/meetings/{name}`), or `unmatched`.
    pub route: String,
    /// `2xx`, `4xx`, `5xx`, …
    pub status: String,
}

/// Time to answer HTTP API requests, by route.
pub type RestLatency = Family<RestLabels, Histogram, fn() -> Histogram>;

fn rest_histogram() -> Histogram {
    // 0.5 ms .. ~4 s.
    Histogram::new(exponential_buckets(0.0005, 2.0, 14))
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
        {
            // Frames dropped, by reason; "congestion" is what subscribers' egress queues gave up
            // (full queue, abandoned stale groups, shed temporal layers).
            let by_reason = [
                ("unknown_track", load(&c.dropped_unknown_track)),
                ("stale_track", load(&c.dropped_stale_track)),
                ("bad_layer", load(&c.dropped_bad_layer)),
                ("not_allowed", load(&c.dropped_not_allowed)),
                ("bad_datagram", load(&c.bad_datagrams)),
                (
                    "congestion",
                    load(&c.frames_dropped).saturating_sub(
                        load(&c.dropped_unknown_track)
                            + load(&c.dropped_stale_track)
                            + load(&c.dropped_bad_layer)
                            + load(&c.dropped_not_allowed),
                    ),
                ),
            ];
            let m = ConstCounter::new(0u64);
            let mut family = enc.encode_descriptor(
                "dark_tower_media_frames_dropped_by_reason",
                "Frames dropped, by reason",
                None,
                m.metric_type(),
            )?;
            for (reason, value) in by_reason {
                let labels = [("reason", reason)];
                ConstCounter::new(value).encode(family.encode_family(&labels)?)?;
            }
        }
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
            "dark_tower_media_streams_reset",
            "Group streams reset because a subscriber fell behind and the group went stale",
            load(&c.streams_reset),
        )?;
        counter(
            &mut enc,
            "dark_tower_media_layer_downgrades",
            "Subscriptions moved to a lower layer because the subscriber's link could not keep up",
            load(&c.layer_downgrades),
        )?;
        counter(
            &mut enc,
            "dark_tower_media_layer_upgrades",
            "Subscriptions moved back to a higher layer when the subscriber's link allowed it",
            load(&c.layer_upgrades),
        )?;
        gauge(
            &mut enc,
            "dark_tower_media_constrained_subscribers",
            "Subscribers whose link holds them below the layers they want",
            c.constrained_subscribers.load(Ordering::Relaxed),
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
        gauge(&mut enc, "dark_tower_tracks_published", "Tracks published now", self.mc.track_count())?;
        if let Some(w) = &self.webhooks {
            counter(
                &mut enc,
                "dark_tower_webhooks_delivered",
                "Webhook events delivered",
                load(&w.delivered),
            )?;
            counter(
                &mut enc,
                "dark_tower_webhooks_retried",
                "Webhook attempts that failed and were retried",
                load(&w.retried),
            )?;
            counter(&mut enc, "dark_tower_webhooks_dropped", "Webhook events given up on", load(&w.dropped))?;
        }
        gauge(
            &mut enc,
            "dark_tower_meetings_live",
            "Meetings with a running controller",
            self.mc.live_meetings() as i64,
        )?;
        Ok(())
    }
}

/// The registry served at `/metrics`, and the REST latency family the HTTP API records into.
/// Also makes the meeting controller report join latencies into a histogram.
pub fn registry(
    mh: Arc<MediaHandler>,
    mc: Arc<MeetingController>,
    webhooks: Option<Arc<WebhookCounters>>,
) -> (Registry, RestLatency) {
    let mut r = Registry::default();
    // 1 ms .. ~8 s.
    let joins = Histogram::new(exponential_buckets(0.001, 2.0, 14));
    let observed = joins.clone();
    mc.observe_joins(Arc::new(move |d| observed.observe(d.as_secs_f64())));
    r.register_with_unit(
        "dark_tower_join_latency",
        "From a participant's Join to its Joined (lobby waits included)",
        Unit::Seconds,
        joins,
    );
    // Subscriber links, sampled every few seconds each: RTT 1 ms .. ~8 s, throughput
    // 16 kbit/s .. ~500 Mbit/s.
    let rtt = Histogram::new(exponential_buckets(0.001, 2.0, 14));
    let throughput = Histogram::new(exponential_buckets(16_000.0, 2.0, 16));
    let (r2, t2) = (rtt.clone(), throughput.clone());
    mh.observe_links(Arc::new(move |s| {
        r2.observe(s.rtt.as_secs_f64());
        t2.observe(s.throughput_bps as f64);
    }));
    r.register_with_unit(
        "dark_tower_media_subscriber_rtt",
        "Round-trip time of subscribers' media sessions, sampled per subscriber every 2 s",
        Unit::Seconds,
        rtt,
    );
    r.register(
        "dark_tower_media_subscriber_throughput_bits_per_second",
        "Send rate to subscribers, sampled per subscriber every 2 s",
        throughput,
    );
    let rest: RestLatency = Family::new_with_constructor(rest_histogram);
    r.register_with_unit(
        "dark_tower_http_request_duration",
        "Time to answer HTTP API requests",
        Unit::Seconds,
        rest.clone(),
    );
    r.register_collector(Box::new(ServerCollector { mh, mc, webhooks }));
    (r, rest)
}

/// The registry in OpenMetrics text.
pub fn render(registry: &Registry) -> String {
    let mut out = String::new();
    // Writing into a String cannot fail.
    let _ = prometheus_client::encoding::text::encode(&mut out, registry);
    out
}
