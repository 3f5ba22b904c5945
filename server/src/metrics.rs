//! `/metrics` in Prometheus' text format, from the `metrics` crate's
//! Prometheus exporter. The hot paths only bump counters and record one
//! histogram sample per message; the exporter renders on scrape.

use app::protocol::{ClientMsg, ErrorCode};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use std::sync::OnceLock;
use std::time::Duration;

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// Relay time buckets: a message is normally handled in microseconds.
const RELAY_BUCKETS: &[f64] =
    &[0.000_01, 0.000_025, 0.000_05, 0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.1];

/// Installs the process-wide recorder (once; later calls reuse it).
pub fn install() -> PrometheusHandle {
    HANDLE
        .get_or_init(|| {
            PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Full("noom_relay_seconds".into()), RELAY_BUCKETS)
                .expect("valid buckets")
                .install_recorder()
                .expect("the only metrics recorder")
        })
        .clone()
}

pub fn render() -> String {
    HANDLE.get().map(PrometheusHandle::render).unwrap_or_default()
}

pub fn message_in(msg: &ClientMsg) {
    metrics::counter!("noom_messages_in_total", "type" => msg.kind()).increment(1);
}

/// Messages queued to sockets (a broadcast counts once per recipient).
pub fn messages_out(recipients: u64) {
    metrics::counter!("noom_messages_out_total").increment(recipients);
}

pub fn error(code: ErrorCode) {
    metrics::counter!("noom_errors_total", "code" => code.as_str()).increment(1);
}

/// From a frame's arrival to its deliveries being queued.
pub fn relayed(took: Duration) {
    metrics::histogram!("noom_relay_seconds").record(took.as_secs_f64());
}

pub fn gauges(connections: usize, peers: usize, rooms: usize) {
    metrics::gauge!("noom_connections").set(connections as f64);
    metrics::gauge!("noom_peers").set(peers as f64);
    metrics::gauge!("noom_rooms").set(rooms as f64);
}

/// A TCP connection closed at accept by the connection caps.
pub fn refused_connection(why: crate::accept::gate::Refusal) {
    let reason = match why {
        crate::accept::gate::Refusal::Full => "full",
    };
    metrics::counter!("noom_connections_refused_total", "reason" => reason).increment(1);
}
