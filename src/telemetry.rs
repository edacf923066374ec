//! The service's metrics, in the Prometheus text format (`GET /metrics`). Each service instance
//! has a recorder of its own ([`Metrics::new`]), kept by every layer that counts something, so
//! that several services in one process (the tests) never mix their counts; a component built
//! without one ([`Metrics::default`]) counts nothing.
//!
//! Bounds: every label takes its values from a small set the code knows (actions, transports,
//! reasons, routes, statuses), except the AMI event type, which Asterisk chooses: at most
//! [`MAX_EVENT_TYPES`] distinct types are counted by name, the rest as `other`. Every series
//! lives as long as the instance.

use metrics::{Counter, Gauge, Histogram, Key, Label, Metadata, Recorder};
use metrics_exporter_prometheus::{
    Matcher, PrometheusBuilder, PrometheusHandle, PrometheusRecorder,
};
use std::collections::HashSet;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

/// Most AMI event types counted by name; more are counted as `other`.
pub const MAX_EVENT_TYPES: usize = 256;

/// Histogram buckets of every `*_seconds` series: 1 ms to 60 s.
const BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0,
];

static METADATA: Metadata<'static> =
    Metadata::new(module_path!(), metrics::Level::INFO, Some(module_path!()));

/// A stream transport, as a label.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transport {
    /// `GET /<ticket>/long-poll`.
    LongPoll,
    /// `GET /<ticket>/sse`.
    Sse,
    /// `GET /<ticket>/websocket`.
    WebSocket,
}

impl Transport {
    /// The label value.
    pub fn as_str(self) -> &'static str {
        match self {
            Transport::LongPoll => "long-poll",
            Transport::Sse => "sse",
            Transport::WebSocket => "websocket",
        }
    }
}

/// The metrics of one service instance (cheap to clone; all clones count into one recorder).
#[derive(Clone, Default)]
pub struct Metrics(Option<Arc<Inner>>);

struct Inner {
    recorder: PrometheusRecorder,
    handle: PrometheusHandle,
    event_types: Mutex<HashSet<String>>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Metrics").field(&self.0.is_some()).finish()
    }
}

fn key(name: &'static str, labels: &[(&'static str, &str)]) -> Key {
    let labels: Vec<Label> = labels
        .iter()
        .map(|(k, v)| Label::new(*k, (*v).to_owned()))
        .collect();
    Key::from_parts(name, labels)
}

impl Metrics {
    /// A recorder of its own.
    pub fn new() -> Self {
        let builder = PrometheusBuilder::new();
        // Only fails for an empty bucket list.
        let builder = builder
            .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), BUCKETS)
            .unwrap_or_else(|_| PrometheusBuilder::new());
        let recorder = builder.build_recorder();
        let handle = recorder.handle();
        Self(Some(Arc::new(Inner {
            recorder,
            handle,
            event_types: Mutex::default(),
        })))
    }

    /// Everything, in the Prometheus text format.
    pub fn render(&self) -> String {
        self.0
            .as_ref()
            .map(|i| i.handle.render())
            .unwrap_or_default()
    }

    /// The counter `name` with `labels`.
    pub fn counter(&self, name: &'static str, labels: &[(&'static str, &str)]) -> Counter {
        match &self.0 {
            Some(i) => i.recorder.register_counter(&key(name, labels), &METADATA),
            None => Counter::noop(),
        }
    }

    /// The gauge `name` with `labels`.
    pub fn gauge(&self, name: &'static str, labels: &[(&'static str, &str)]) -> Gauge {
        match &self.0 {
            Some(i) => i.recorder.register_gauge(&key(name, labels), &METADATA),
            None => Gauge::noop(),
        }
    }

    /// The histogram `name` with `labels`.
    pub fn histogram(&self, name: &'static str, labels: &[(&'static str, &str)]) -> Histogram {
        match &self.0 {
            Some(i) => i.recorder.register_histogram(&key(name, labels), &METADATA),
            None => Histogram::noop(),
        }
    }

    /// The AMI link came up (a login).
    pub fn ami_connected(&self) {
        self.counter("pbxis_ami_connects_total", &[]).increment(1);
    }

    /// The AMI link went down (`lost`) or the login was refused (`refused`).
    pub fn ami_disconnected(&self, why: &'static str) {
        self.counter("pbxis_ami_disconnects_total", &[("reason", why)])
            .increment(1);
    }

    /// An AMI event arrived.
    pub fn ami_event(&self, event: &str) {
        let Some(inner) = &self.0 else { return };
        let event = crate::clip::clip(event, 40);
        let known = {
            let mut types = inner
                .event_types
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            types.contains(event)
                || (types.len() < MAX_EVENT_TYPES && types.insert(event.to_owned()))
        };
        let label = if known { event } else { "other" };
        self.counter("pbxis_ami_events_total", &[("event", label)])
            .increment(1);
    }

    /// An AMI action was answered (`ok`), refused, timed out, or failed otherwise.
    pub fn ami_action(&self, action: &str, result: &'static str, took: Duration) {
        self.counter(
            "pbxis_ami_actions_total",
            &[("action", action), ("result", result)],
        )
        .increment(1);
        self.histogram("pbxis_ami_action_duration_seconds", &[("action", action)])
            .record(took.as_secs_f64());
    }

    /// A rebuild of the model from Asterisk ended (`ok` or `failed`).
    pub fn model_rebuild(&self, result: &'static str, took: Duration) {
        self.counter("pbxis_model_rebuilds_total", &[("result", result)])
            .increment(1);
        self.histogram("pbxis_model_rebuild_duration_seconds", &[])
            .record(took.as_secs_f64());
    }

    /// A ticket's stream got `resync` with `reason`.
    pub fn resync(&self, reason: &str) {
        self.counter("pbxis_resyncs_total", &[("reason", reason)])
            .increment(1);
    }

    /// Tickets too far behind dropped what they held (they resync).
    pub fn slow_clients_dropped(&self, tickets: usize) {
        self.counter("pbxis_slow_clients_dropped_total", &[])
            .increment(tickets as u64);
    }

    /// The counter of events handed to streams of `transport`.
    pub fn delivered(&self, transport: Transport) -> Counter {
        self.counter(
            "pbxis_events_delivered_total",
            &[("transport", transport.as_str())],
        )
    }

    /// The gauge of open streams of `transport`.
    pub fn streams_open(&self, transport: Transport) -> Gauge {
        self.gauge("pbxis_streams_open", &[("transport", transport.as_str())])
    }

    /// One HTTP request answered.
    pub fn http_request(&self, method: &str, route: &str, status: u16, took: Duration) {
        let status = status.to_string();
        self.counter(
            "pbxis_http_requests_total",
            &[("method", method), ("route", route), ("status", &status)],
        )
        .increment(1);
        self.histogram(
            "pbxis_http_request_duration_seconds",
            &[("method", method), ("route", route)],
        )
        .record(took.as_secs_f64());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instances_do_not_mix_and_a_default_counts_nothing() {
        let (a, b) = (Metrics::new(), Metrics::new());
        a.resync("overflow");
        a.resync("overflow");
        b.resync("history");
        Metrics::default().resync("overflow");
        assert!(a
            .render()
            .contains("pbxis_resyncs_total{reason=\"overflow\"} 2"));
        assert!(!a.render().contains("history"));
        assert!(b
            .render()
            .contains("pbxis_resyncs_total{reason=\"history\"} 1"));
        assert_eq!(Metrics::default().render(), "");
    }

    #[test]
    fn event_types_beyond_the_bound_count_as_other() {
        let m = Metrics::new();
        for i in 0..MAX_EVENT_TYPES + 10 {
            m.ami_event(&format!("Event{i}"));
        }
        m.ami_event("Event0");
        let text = m.render();
        assert!(
            text.contains("pbxis_ami_events_total{event=\"Event0\"} 2"),
            "{text}"
        );
        assert!(
            text.contains("pbxis_ami_events_total{event=\"other\"} 10"),
            "{text}"
        );
        let series = text
            .lines()
            .filter(|l| l.starts_with("pbxis_ami_events_total{"))
            .count();
        assert_eq!(series, MAX_EVENT_TYPES + 1);
    }

    #[test]
    fn durations_are_histograms_with_buckets() {
        let m = Metrics::new();
        m.ami_action("Ping", "ok", Duration::from_millis(3));
        let text = m.render();
        assert!(
            text.contains(
                "pbxis_ami_action_duration_seconds_bucket{action=\"Ping\",le=\"0.005\"} 1"
            ),
            "{text}"
        );
        assert!(text.contains("pbxis_ami_actions_total{action=\"Ping\",result=\"ok\"} 1"));
    }
}
