//! sfu_load: a native load generator for Noom's SFU (a benchmark tool, not
//! a test).
//!
//! Puts `--rooms` rooms of `--room-size` participants on a server started
//! with `--media-mode sfu`. Each participant (or the first `--publishers`
//! of each room) publishes Opus-sized audio
//! (50 packets/s) and VP8-shaped video at `--fps` in one simulcast layer per
//! `--kbps` entry, and receives everyone else's, on the same WebRTC stack as
//! the server (str0m), one UDP socket per connection as a browser has. One
//! participant per room speaks (in turn with `--speaker-every`), so the
//! server sends it at the top layer and the others at the lowest.
//!
//! Every frame carries its send time; sender and receiver are in this
//! process (one clock), so each frame received is a sample of the latency
//! the server adds (plus this generator's own scheduling). It reports what
//! arrived (packets/s, Mbit/s, frames lost), the latency p50/p99, and from
//! the server's `/metrics` and `/proc`: forwarded tracks, the media
//! thread's CPU, the process's RSS and RSS per subscriber. The last line is
//! `RESULT {json}` for scripts.

mod conn;
pub mod frame;
mod participant;

use crate::{authority, bytes_each, now_us, percentile, rss_kib};
use clap::Parser;
use serde::Serialize;
use std::collections::BTreeMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use str0m::media::Rid;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::watch;

#[derive(Parser, Debug)]
#[command(name = "sfu_load", about = "SFU load generator for Noom")]
pub struct Args {
    /// Signaling URL of a server started with `--media-mode sfu`.
    #[arg(long, default_value = "ws://127.0.0.1:3000/ws")]
    pub url: String,
    #[arg(long, default_value_t = 4)]
    pub rooms: usize,
    #[arg(long, default_value_t = 5)]
    pub room_size: usize,
    /// Participants of each room who publish (the first ones); the rest
    /// only watch and listen, as in a talk. 0: everyone publishes.
    #[arg(long, default_value_t = 0)]
    pub publishers: usize,
    /// Video bitrate of each simulcast layer (kbit/s), lowest first: one
    /// entry sends no simulcast. A browser's ceilings are 150, 500, 1500.
    #[arg(long, value_delimiter = ',', default_value = "150,500,1500")]
    pub kbps: Vec<u32>,
    #[arg(long, default_value_t = 30.0)]
    pub fps: f64,
    /// Seconds between speaker changes in each room (0: the first
    /// participant speaks throughout).
    #[arg(long, default_value_t = 0.0)]
    pub speaker_every: f64,
    /// Seconds measured, after everyone receives everyone.
    #[arg(long, default_value_t = 10.0)]
    pub duration: f64,
    /// Seconds between everyone receiving and the measurement (layers
    /// settle, unused ones pause).
    #[arg(long, default_value_t = 3.0)]
    pub warmup: f64,
    /// Participants joining at once.
    #[arg(long, default_value_t = 10)]
    pub parallel: usize,
    /// The server process, for its RSS and CPU.
    #[arg(long)]
    pub server_pid: Option<u32>,
    /// Address the generator's UDP sockets use (where the server's media is).
    #[arg(long, default_value = "127.0.0.1")]
    pub ip: IpAddr,
    /// Room-name prefix, so that several generators do not share rooms.
    #[arg(long, default_value = "sfu-load")]
    pub label: String,
}

/// What every participant shares about the run.
struct Plan {
    url: String,
    ip: IpAddr,
    room_size: usize,
    /// Participants of each room who publish.
    publishers: usize,
    fps: f64,
    /// Bytes of a delta frame per layer, lowest first.
    layers: Vec<usize>,
    rids: Vec<Rid>,
    speaker_every: Option<Duration>,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Phase {
    Joining,
    Load,
    Done,
}

#[derive(Default)]
struct Counters {
    joined: AtomicUsize,
    failed: AtomicUsize,
    /// Participants receiving every other member's audio and video.
    ready: AtomicUsize,
    /// Participants whose call broke (the reason is in `errors`).
    broken: AtomicUsize,
    datagrams: AtomicU64,
    bytes: AtomicU64,
    frames: AtomicU64,
    lost: AtomicU64,
    late: AtomicU64,
    send_drops: AtomicU64,
    errors: Mutex<BTreeMap<String, u64>>,
}

/// What one run measured.
#[derive(Serialize, Debug)]
pub struct Report {
    pub participants: usize,
    pub joined: usize,
    pub failed: usize,
    pub ready: usize,
    pub broken: usize,
    pub ready_secs: f64,
    /// The server's count of tracks it forwards (audio and video).
    pub forwarded_tracks: Option<f64>,
    /// Frames and bits the server says it forwarded, per second.
    pub server_frames_per_sec: Option<f64>,
    pub server_mbit_per_sec: Option<f64>,
    /// What the subscribers' sockets received, per second (RTP and RTCP).
    pub received_packets_per_sec: f64,
    pub received_mbit_per_sec: f64,
    pub received_frames_per_sec: f64,
    pub lost_frames: u64,
    pub late_frames: u64,
    pub latency_ms_p50: f64,
    pub latency_ms_p99: f64,
    pub latency_ms_p999: f64,
    pub latency_ms_max: f64,
    pub latency_samples: usize,
    /// Share of one core the media thread used while measured.
    pub media_thread_cpu: Option<f64>,
    /// Share of one core the whole server process used.
    pub server_cpu: Option<f64>,
    /// Share of one core this generator used.
    pub generator_cpu: Option<f64>,
    pub tracks_per_core: Option<f64>,
    pub packets_per_sec_per_core: Option<f64>,
    pub rss_kib_before: Option<u64>,
    pub rss_kib_ready: Option<u64>,
    pub rss_kib_end: Option<u64>,
    pub rss_bytes_per_subscriber: Option<f64>,
    pub send_drops: u64,
    pub errors: BTreeMap<String, u64>,
}

/// Runs the load described by `args` to its end and measures it.
pub async fn run(args: Args) -> Report {
    now_us();
    let count = args.kbps.len().clamp(1, 3);
    let plan = Arc::new(Plan {
        url: args.url.clone(),
        ip: args.ip,
        room_size: args.room_size.max(2),
        publishers: if args.publishers == 0 {
            args.room_size.max(2)
        } else {
            args.publishers.min(args.room_size.max(2))
        },
        fps: args.fps.max(1.0),
        layers: args.kbps[..count]
            .iter()
            .map(|kbps| (f64::from(*kbps) * 1000.0 / 8.0 / args.fps.max(1.0)) as usize)
            .collect(),
        rids: (0..count).map(|i| Rid::from(participant::layer_rid(i, count))).collect(),
        speaker_every: (args.speaker_every > 0.0).then(|| Duration::from_secs_f64(args.speaker_every)),
    });
    let total = args.rooms * plan.room_size;
    let counters = Arc::new(Counters::default());
    let (phase_tx, phase_rx) = watch::channel(Phase::Joining);
    let rss_before = args.server_pid.and_then(|pid| rss_kib(&[pid]));
    let started = Instant::now();

    let gate = Arc::new(tokio::sync::Semaphore::new(args.parallel.max(1)));
    let mut tasks = Vec::with_capacity(total);
    for index in 0..total {
        let me = participant::Me {
            index: index as u32,
            position: index % plan.room_size,
            room: format!("{}-{}", args.label, index / plan.room_size),
        };
        let (plan, counters, phase, gate) = (plan.clone(), counters.clone(), phase_rx.clone(), gate.clone());
        tasks.push(tokio::spawn(participant::run(me, plan, counters, phase, gate)));
    }
    let deadline = Instant::now() + Duration::from_secs(60);
    let settled = |c: &Counters| {
        let joined = c.joined.load(Ordering::Relaxed);
        joined + c.failed.load(Ordering::Relaxed) == total
            && c.ready.load(Ordering::Relaxed) + c.broken.load(Ordering::Relaxed) >= joined
    };
    while !settled(&counters) && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let ready_secs = started.elapsed().as_secs_f64();
    eprintln!(
        "{}/{total} joined, {} receiving everyone, in {ready_secs:.1} s",
        counters.joined.load(Ordering::Relaxed),
        counters.ready.load(Ordering::Relaxed)
    );
    tokio::time::sleep(Duration::from_secs_f64(args.warmup)).await;

    let rss_ready = args.server_pid.and_then(|pid| rss_kib(&[pid]));
    // The media thread reports to `/metrics` once a second: start from a
    // report, not from before the first.
    let mut metrics_before = scrape(&args.url).await;
    for _ in 0..30 {
        if metrics_before.as_deref().and_then(|m| metric(m, "noom_sfu_forwarded_frames_total")).is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        metrics_before = scrape(&args.url).await;
    }
    let server_cpu_before = args.server_pid.and_then(process_cpu_secs);
    let own_cpu_before = process_cpu_secs(std::process::id());
    let measured = Instant::now();
    let _ = phase_tx.send(Phase::Load);
    tokio::time::sleep(Duration::from_secs_f64(args.duration)).await;
    let _ = phase_tx.send(Phase::Done);
    let secs = measured.elapsed().as_secs_f64();
    let metrics_after = scrape(&args.url).await;
    let server_cpu_after = args.server_pid.and_then(process_cpu_secs);
    let own_cpu_after = process_cpu_secs(std::process::id());
    let rss_end = args.server_pid.and_then(|pid| rss_kib(&[pid]));

    let mut latencies: Vec<f64> = Vec::new();
    for task in tasks {
        if let Ok(samples) = task.await {
            latencies.extend(samples.into_iter().map(|us| f64::from(us) / 1000.0));
        }
    }
    latencies.sort_by(f64::total_cmp);
    let delta = |name: &str| {
        let (a, b) = (metrics_before.as_deref()?, metrics_after.as_deref()?);
        Some((metric(b, name)? - metric(a, name)?) / secs)
    };
    let media_thread_cpu = delta("noom_media_thread_cpu_seconds_total");
    let forwarded_tracks = metrics_after.as_deref().and_then(|m| metric(m, "noom_sfu_forwarded_tracks"));
    let received_packets_per_sec = counters.datagrams.load(Ordering::Relaxed) as f64 / secs;
    let joined = counters.joined.load(Ordering::Relaxed);
    let errors = counters.errors.lock().unwrap().clone();
    let per_core = |x: f64| media_thread_cpu.filter(|c| *c > 0.0).map(|c| x / c);
    Report {
        participants: total,
        joined,
        failed: counters.failed.load(Ordering::Relaxed),
        ready: counters.ready.load(Ordering::Relaxed),
        broken: counters.broken.load(Ordering::Relaxed),
        ready_secs,
        forwarded_tracks,
        server_frames_per_sec: delta("noom_sfu_forwarded_frames_total"),
        server_mbit_per_sec: delta("noom_sfu_forwarded_bytes_total").map(|b| b * 8.0 / 1e6),
        received_packets_per_sec,
        received_mbit_per_sec: counters.bytes.load(Ordering::Relaxed) as f64 * 8.0 / 1e6 / secs,
        received_frames_per_sec: counters.frames.load(Ordering::Relaxed) as f64 / secs,
        lost_frames: counters.lost.load(Ordering::Relaxed),
        late_frames: counters.late.load(Ordering::Relaxed),
        latency_ms_p50: percentile(&latencies, 0.5),
        latency_ms_p99: percentile(&latencies, 0.99),
        latency_ms_p999: percentile(&latencies, 0.999),
        latency_ms_max: latencies.last().copied().unwrap_or(f64::NAN),
        latency_samples: latencies.len(),
        media_thread_cpu,
        server_cpu: server_cpu_before.zip(server_cpu_after).map(|(a, b)| (b - a) / secs),
        generator_cpu: own_cpu_before.zip(own_cpu_after).map(|(a, b)| (b - a) / secs),
        tracks_per_core: forwarded_tracks.and_then(per_core),
        packets_per_sec_per_core: per_core(received_packets_per_sec),
        rss_kib_before: rss_before,
        rss_kib_ready: rss_ready,
        rss_kib_end: rss_end,
        rss_bytes_per_subscriber: bytes_each(rss_before, rss_ready, joined),
        send_drops: counters.send_drops.load(Ordering::Relaxed),
        errors,
    }
}

/// The server's `/metrics` text, over plain HTTP beside its WebSocket.
async fn scrape(ws_url: &str) -> Option<String> {
    let authority = authority(ws_url)?;
    let mut stream = tokio::net::TcpStream::connect(authority).await.ok()?;
    let request = format!("GET /metrics HTTP/1.1\r\nHost: {authority}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.ok()?;
    let mut body = String::new();
    tokio::time::timeout(Duration::from_secs(5), stream.read_to_string(&mut body)).await.ok()?.ok()?;
    body.starts_with("HTTP/1.1 200").then_some(body)
}

/// The value of an unlabelled sample `name` in Prometheus text.
pub fn metric(text: &str, name: &str) -> Option<f64> {
    text.lines().find_map(|line| line.strip_prefix(name)?.strip_prefix(' ')?.trim().parse().ok())
}

/// CPU seconds (user + system) a process has used: `/proc/<pid>/stat`
/// counts in clock ticks, 100 a second on Linux.
fn process_cpu_secs(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    Some(ticks as f64 / 100.0)
}

/// The report for people; scripts read the `RESULT` line instead.
pub fn print_human(r: &Report) {
    let opt = |x: Option<f64>, scale: f64| x.map_or("-".to_owned(), |v| format!("{:.1}", v * scale));
    println!(
        "participants: {}/{} joined ({} failed), {} receiving everyone after {:.1} s, {} broken",
        r.joined, r.participants, r.failed, r.ready, r.ready_secs, r.broken
    );
    println!(
        "forwarded: {} tracks; server {} frames/s, {} Mbit/s; subscribers got {:.0} packets/s, {:.1} Mbit/s, {:.0} frames/s",
        opt(r.forwarded_tracks, 1.0),
        opt(r.server_frames_per_sec, 1.0),
        opt(r.server_mbit_per_sec, 1.0),
        r.received_packets_per_sec,
        r.received_mbit_per_sec,
        r.received_frames_per_sec
    );
    println!(
        "frames lost {}, late {}; latency p50 {:.2} ms p99 {:.2} ms p99.9 {:.2} ms max {:.2} ms ({} samples)",
        r.lost_frames,
        r.late_frames,
        r.latency_ms_p50,
        r.latency_ms_p99,
        r.latency_ms_p999,
        r.latency_ms_max,
        r.latency_samples
    );
    println!(
        "cpu: media thread {} %, server {} %, generator {} % of a core; {} tracks and {} packets/s per media core",
        opt(r.media_thread_cpu, 100.0),
        opt(r.server_cpu, 100.0),
        opt(r.generator_cpu, 100.0),
        opt(r.tracks_per_core, 1.0),
        opt(r.packets_per_sec_per_core, 1.0)
    );
    if let (Some(b), Some(j)) = (r.rss_kib_before, r.rss_kib_ready) {
        println!(
            "server RSS: {:.1} MiB before, {:.1} MiB in the call, {:.1} MiB at the end; {:.0} KiB per subscriber",
            b as f64 / 1024.0,
            j as f64 / 1024.0,
            r.rss_kib_end.unwrap_or(0) as f64 / 1024.0,
            r.rss_bytes_per_subscriber.unwrap_or(f64::NAN) / 1024.0
        );
    }
    println!("datagrams the generator could not send: {}; errors: {:?}", r.send_drops, r.errors);
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_metric_is_read_by_its_exact_name() {
        let text = "# TYPE noom_sfu_forwarded_tracks gauge\nnoom_sfu_forwarded_tracks 12\nnoom_sfu_forwarded_tracks_x 3\nnoom_sfu_sessions_ended_total{reason=\"lost\"} 1\n";
        assert_eq!(super::metric(text, "noom_sfu_forwarded_tracks"), Some(12.0));
        assert_eq!(super::metric(text, "noom_sfu_sessions_ended_total"), None);
    }
}
