//! `/metrics` in Prometheus' text format: the `metrics` crate's exporter
//! for what happens rarely, and plain atomics for what happens per message,
//! rendered beside it on scrape. Per message, the exporter hashed a label
//! key for each counter and buffered every histogram sample until a scrape
//! drained it (without a scraper, for ever).

use crate::media::{Census, Tally, ENDS};
use app::protocol::{ClientMsg, ErrorCode};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// Relay time buckets (upper bounds in µs): a message is normally handled
/// in microseconds.
const RELAY_BUCKETS_US: [u64; 12] = [10, 25, 50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000, 25_000, 100_000];

const TYPES: usize = ClientMsg::TYPES.len();
static IN_BY_TYPE: [AtomicU64; TYPES] = [const { AtomicU64::new(0) }; TYPES];
static OUT: AtomicU64 = AtomicU64::new(0);
/// Not cumulative: the last is everything slower than the last bound.
static RELAY_COUNTS: [AtomicU64; RELAY_BUCKETS_US.len() + 1] =
    [const { AtomicU64::new(0) }; RELAY_BUCKETS_US.len() + 1];
static RELAY_NANOS: AtomicU64 = AtomicU64::new(0);
/// The SFU's figures as each media thread last handed them over.
static SFU: Mutex<Vec<Option<(Tally, Census)>>> = Mutex::new(Vec::new());
/// The media threads' ids in `/proc/self/task`, once they run.
static MEDIA_TIDS: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// Installs the process-wide recorder (once; later calls reuse it).
pub fn install() -> PrometheusHandle {
    HANDLE
        .get_or_init(|| PrometheusBuilder::new().install_recorder().expect("the only metrics recorder"))
        .clone()
}

pub fn render() -> String {
    let Some(handle) = HANDLE.get() else {
        return String::new();
    };
    let mut text = handle.render();
    render_tallies(&mut text);
    render_sfu(&mut text);
    text
}

/// Called on each media thread: the threads whose CPU time `/metrics`
/// shows (added up).
pub fn media_thread_started() {
    // "<pid>/task/<tid>"; no FFI needed.
    if let Ok(link) = std::fs::read_link("/proc/thread-self") {
        if let Some(tid) = link.file_name().and_then(|n| n.to_str()) {
            MEDIA_TIDS.lock().unwrap_or_else(|e| e.into_inner()).push(tid.to_owned());
        }
    }
}

/// The SFU's figures, handed over by media thread `index` every second.
pub fn sfu(index: usize, tally: Tally, census: Census) {
    let mut all = SFU.lock().unwrap_or_else(|e| e.into_inner());
    if all.len() <= index {
        all.resize(index + 1, None);
    }
    all[index] = Some((tally, census));
}

fn render_sfu(text: &mut String) {
    let threads = SFU.lock().unwrap_or_else(|e| e.into_inner()).clone();
    let Some((tally, census)) = threads.into_iter().flatten().reduce(|(t, c), (t2, c2)| (t + t2, c + c2))
    else {
        return;
    };
    for (name, value) in [
        ("noom_sfu_rooms", census.rooms),
        ("noom_sfu_publishers", census.publishers),
        ("noom_sfu_subscribers", census.subscribers),
        ("noom_sfu_forwarded_tracks", census.forwarded_tracks),
        ("noom_sfu_paused_videos", census.paused_videos),
    ] {
        let _ = writeln!(text, "# TYPE {name} gauge\n{name} {value}");
    }
    for (name, value) in [
        ("noom_sfu_forwarded_frames_total", tally.frames),
        ("noom_sfu_forwarded_bytes_total", tally.bytes),
        ("noom_sfu_keyframe_requests_total", tally.keyframe_requests),
        ("noom_sfu_layer_switches_total", tally.layer_switches),
    ] {
        let _ = writeln!(text, "# TYPE {name} counter\n{name} {value}");
    }
    let _ = writeln!(text, "# TYPE noom_sfu_sessions_ended_total counter");
    for (reason, count) in ENDS.iter().zip(tally.ended) {
        let _ = writeln!(text, "noom_sfu_sessions_ended_total{{reason=\"{reason}\"}} {count}");
    }
    let tids = MEDIA_TIDS.lock().unwrap_or_else(|e| e.into_inner()).clone();
    if let Some(seconds) = tids.iter().map(|tid| thread_cpu_seconds(tid)).sum::<Option<f64>>() {
        let _ = writeln!(text, "# TYPE noom_media_thread_cpu_seconds_total counter");
        let _ = writeln!(text, "noom_media_thread_cpu_seconds_total {seconds}");
    }
}

/// CPU time of one of this process's threads: the scheduler's nanoseconds
/// where the kernel keeps them, else the clock ticks of `stat` (USER_HZ is
/// 100 on every Linux architecture).
fn thread_cpu_seconds(tid: &str) -> Option<f64> {
    let task = format!("/proc/self/task/{tid}");
    if let Ok(schedstat) = std::fs::read_to_string(format!("{task}/schedstat")) {
        if let Some(nanos) = schedstat.split_whitespace().next().and_then(|n| n.parse::<u64>().ok()) {
            return Some(nanos as f64 / 1e9);
        }
    }
    let stat = std::fs::read_to_string(format!("{task}/stat")).ok()?;
    // The name in parentheses may hold spaces; `utime` and `stime` are the
    // 12th and 13th fields after it.
    let fields: Vec<&str> = stat[stat.rfind(')')? + 1..].split_whitespace().collect();
    let ticks = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    Some(ticks as f64 / 100.0)
}

fn render_tallies(text: &mut String) {
    let _ = writeln!(text, "# TYPE noom_messages_in_total counter");
    for (kind, count) in ClientMsg::TYPES.iter().zip(&IN_BY_TYPE) {
        let _ = writeln!(text, "noom_messages_in_total{{type=\"{kind}\"}} {}", count.load(Relaxed));
    }
    let _ = writeln!(text, "# TYPE noom_messages_out_total counter");
    let _ = writeln!(text, "noom_messages_out_total {}", OUT.load(Relaxed));
    let _ = writeln!(text, "# TYPE noom_relay_seconds histogram");
    let mut below = 0;
    for (bound, count) in RELAY_BUCKETS_US.iter().zip(&RELAY_COUNTS) {
        below += count.load(Relaxed);
        let le = *bound as f64 / 1e6;
        let _ = writeln!(text, "noom_relay_seconds_bucket{{le=\"{le}\"}} {below}");
    }
    let all = below + RELAY_COUNTS[RELAY_BUCKETS_US.len()].load(Relaxed);
    let _ = writeln!(text, "noom_relay_seconds_bucket{{le=\"+Inf\"}} {all}");
    let _ = writeln!(text, "noom_relay_seconds_sum {}", RELAY_NANOS.load(Relaxed) as f64 / 1e9);
    let _ = writeln!(text, "noom_relay_seconds_count {all}");
}

pub fn message_in(msg: &ClientMsg) {
    let kind = msg.kind();
    if let Some(at) = ClientMsg::TYPES.iter().position(|t| *t == kind) {
        IN_BY_TYPE[at].fetch_add(1, Relaxed);
    }
}

/// Messages queued to sockets (a broadcast counts once per recipient).
pub fn messages_out(recipients: u64) {
    OUT.fetch_add(recipients, Relaxed);
}

pub fn error(code: ErrorCode) {
    metrics::counter!("noom_errors_total", "code" => code.as_str()).increment(1);
}

/// From a frame's arrival to its deliveries being queued.
pub fn relayed(took: Duration) {
    let micros = took.as_micros();
    let at = RELAY_BUCKETS_US.iter().position(|bound| micros <= u128::from(*bound));
    RELAY_COUNTS[at.unwrap_or(RELAY_BUCKETS_US.len())].fetch_add(1, Relaxed);
    RELAY_NANOS.fetch_add(took.as_nanos().min(u128::from(u64::MAX)) as u64, Relaxed);
}

pub fn gauges(connections: usize, parked: usize, peers: usize, rooms: usize) {
    metrics::gauge!("noom_connections").set(connections as f64);
    metrics::gauge!("noom_sessions_parked").set(parked as f64);
    metrics::gauge!("noom_peers").set(peers as f64);
    metrics::gauge!("noom_rooms").set(rooms as f64);
}

/// Open sessions of the HTTP fallback: how many pages reach this server
/// through networks that refuse WebSocket.
pub fn http_sessions(change: f64) {
    metrics::gauge!("noom_http_sessions").increment(change);
}

/// A page came back to its session on a new socket: one this process held
/// (`held`), or one restored from its token after a restart.
pub fn resumed(held: bool) {
    let how = if held { "held" } else { "restored" };
    metrics::counter!("noom_sessions_resumed_total", "how" => how).increment(1);
}

/// A TCP connection closed at accept by the connection caps.
pub fn refused_connection(why: crate::accept::gate::Refusal) {
    let reason = match why {
        crate::accept::gate::Refusal::Full => "full",
    };
    metrics::counter!("noom_connections_refused_total", "reason" => reason).increment(1);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bucket(text: &str, le: &str) -> u64 {
        let prefix = format!("noom_relay_seconds_bucket{{le=\"{le}\"}} ");
        let line = text.lines().find(|l| l.starts_with(&prefix)).expect("bucket line");
        line[prefix.len()..].parse().expect("a count")
    }

    #[test]
    fn relay_times_render_as_a_cumulative_prometheus_histogram() {
        let before = {
            let mut text = String::new();
            render_tallies(&mut text);
            text
        };
        relayed(Duration::from_micros(30));
        relayed(Duration::from_secs(1));
        let mut text = String::new();
        render_tallies(&mut text);
        assert_eq!(bucket(&text, "0.00005") - bucket(&before, "0.00005"), 1);
        assert_eq!(bucket(&text, "+Inf") - bucket(&before, "+Inf"), 2);
        let counts: Vec<u64> =
            RELAY_BUCKETS_US.iter().map(|us| bucket(&text, &(*us as f64 / 1e6).to_string())).collect();
        assert!(counts.windows(2).all(|w| w[0] <= w[1]), "cumulative: {counts:?}");
        assert!(text.contains("noom_relay_seconds_bucket{le=\"0.001\"}"));
    }
}
