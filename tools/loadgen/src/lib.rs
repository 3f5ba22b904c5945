//! noom-loadgen: a signaling load generator (a benchmark tool, not a test).
//!
//! Opens `--conns` WebSocket connections to one or more Noom nodes, puts them
//! in rooms of `--room-size`, then for `--duration` seconds has them send
//! chat messages and signals at `--rate` messages per second in all. Every
//! message carries its send time, so each receipt is a relay latency sample
//! (sender and receiver are in this process: one clock). It reports the join
//! rate, relay latency p50/p99/p999, messages delivered per second, the
//! servers' RSS (`--server-pid`) and errors, and ends with one `RESULT {json}`
//! line for scripts.
//!
//! One process holds at most its file-descriptor limit of sockets; for more,
//! run several (each with its own `--label`) and several server nodes.

use app::protocol::{decode_server, encode, ClientMsg, PeerId, ServerMsg, SignalPayload};
use clap::Parser;
use futures::{SinkExt, StreamExt};
use serde::Serialize;
use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};
use tokio::net::TcpSocket;
use tokio::sync::{watch, Semaphore};
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::Message;

pub mod sfu;

#[derive(Parser, Debug)]
#[command(name = "noom-loadgen", about = "Signaling load generator for Noom")]
pub struct Args {
    /// Signaling URL(s), e.g. ws://127.0.0.1:3000/ws; connections are spread
    /// over them in turn (a room's members all use the same one).
    #[arg(long, required = true, value_delimiter = ',')]
    pub url: Vec<String>,
    #[arg(long, default_value_t = 1000)]
    pub conns: usize,
    #[arg(long, default_value_t = 2)]
    pub room_size: usize,
    /// Messages per second sent by all connections together; 0 holds them idle.
    #[arg(long, default_value_t = 0.0)]
    pub rate: f64,
    /// Share of the messages that are signals to one peer instead of room chat.
    #[arg(long, default_value_t = 0.5)]
    pub signal_share: f64,
    /// Seconds of load after everyone has joined (or of holding, when idle).
    #[arg(long, default_value_t = 10.0)]
    pub duration: f64,
    /// Connection attempts in flight at once.
    #[arg(long, default_value_t = 200)]
    pub parallel: usize,
    /// Local addresses to connect from, in turn (e.g. 127.0.0.2,127.0.0.3):
    /// each gives another ~28,000 ephemeral ports.
    #[arg(long, value_delimiter = ',')]
    pub source_ip: Vec<IpAddr>,
    /// Server process(es) whose resident memory to report.
    #[arg(long, value_delimiter = ',')]
    pub server_pid: Vec<u32>,
    /// Room-name prefix, so that several generators do not share rooms.
    #[arg(long, default_value = "load")]
    pub label: String,
}

#[derive(Default)]
struct Counters {
    joined: AtomicUsize,
    failed: AtomicUsize,
    sent: AtomicU64,
    delivered: AtomicU64,
    closed: AtomicUsize,
    errors: Mutex<BTreeMap<String, u64>>,
    join_ms: Mutex<Vec<f64>>,
}

/// Everyone's clock: microseconds since the generator started.
pub(crate) fn now_us() -> u64 {
    static ORIGIN: OnceLock<Instant> = OnceLock::new();
    ORIGIN.get_or_init(Instant::now).elapsed().as_micros() as u64
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Phase {
    Joining,
    Load,
    Done,
}

pub(crate) type Ws = tokio_tungstenite::WebSocketStream<tokio::net::TcpStream>;

/// The `host:port` of a URL such as `ws://127.0.0.1:3000/ws`.
pub(crate) fn authority(url: &str) -> Option<&str> {
    url.split("://").nth(1)?.split('/').next()
}

pub(crate) async fn connect(url: &str, source: Option<IpAddr>) -> Result<Ws, String> {
    let authority = authority(url).ok_or("bad url")?;
    let addr: SocketAddr =
        tokio::net::lookup_host(authority).await.map_err(|e| e.to_string())?.next().ok_or("no address")?;
    let socket =
        if addr.is_ipv4() { TcpSocket::new_v4() } else { TcpSocket::new_v6() }.map_err(|e| e.to_string())?;
    if let Some(ip) = source {
        socket.bind(SocketAddr::new(ip, 0)).map_err(|e| e.to_string())?;
    }
    let stream = socket.connect(addr).await.map_err(|e| e.to_string())?;
    stream.set_nodelay(true).map_err(|e| e.to_string())?;
    // Small buffers: tens of thousands of these share one process.
    let config = WebSocketConfig::default().read_buffer_size(4096).write_buffer_size(4096);
    let (ws, _) = tokio_tungstenite::client_async_with_config(url, stream, Some(config))
        .await
        .map_err(|e| e.to_string())?;
    Ok(ws)
}

struct Peer {
    index: usize,
    url: String,
    source: Option<IpAddr>,
    room: String,
}

/// One connection: join, wait for the go, send at its share of the rate,
/// record the latency of what it receives. Returns its latency samples (µs).
async fn run_peer(
    peer: Peer,
    args: Arc<Args>,
    counters: Arc<Counters>,
    gate: Arc<Semaphore>,
    mut phase: watch::Receiver<Phase>,
) -> Vec<u32> {
    let started = Instant::now();
    let permit = gate.acquire().await.expect("open");
    let ws = match tokio::time::timeout(Duration::from_secs(20), connect(&peer.url, peer.source)).await {
        Ok(Ok(ws)) => ws,
        other => {
            let reason = match other {
                Ok(Err(e)) => e,
                Err(_) => "connect timeout".into(),
                _ => unreachable!(),
            };
            counters.failed.fetch_add(1, Ordering::Relaxed);
            note_error(&counters.errors, &format!("connect: {reason}"));
            return Vec::new();
        }
    };
    let (mut tx, mut rx) = ws.split();
    let hello = [
        ClientMsg::SetNickname { nickname: format!("u{}", peer.index) },
        ClientMsg::Join { room: peer.room.clone(), passcode: None },
    ];
    for msg in hello {
        if tx.send(Message::text(encode(&msg))).await.is_err() {
            counters.failed.fetch_add(1, Ordering::Relaxed);
            return Vec::new();
        }
    }
    let mut me = PeerId(String::new());
    let mut others: Vec<PeerId> = loop {
        let frame = match tokio::time::timeout(Duration::from_secs(30), rx.next()).await {
            Ok(Some(Ok(Message::Text(text)))) => text,
            Ok(Some(Ok(_))) => continue,
            _ => {
                counters.failed.fetch_add(1, Ordering::Relaxed);
                note_error(&counters.errors, "closed before joining");
                return Vec::new();
            }
        };
        match decode_server(&frame) {
            Ok(ServerMsg::Welcome { id, .. }) => me = id,
            Ok(ServerMsg::Joined { members, .. }) => {
                break members.into_iter().map(|m| m.id).filter(|id| *id != me).collect();
            }
            Ok(ServerMsg::Error { code, .. }) => {
                // A refused join (room full, limits) ends this connection.
                note_error(&counters.errors, code.as_str());
                counters.failed.fetch_add(1, Ordering::Relaxed);
                return Vec::new();
            }
            _ => {}
        }
    };
    drop(permit);
    counters.join_ms.lock().unwrap().push(started.elapsed().as_secs_f64() * 1000.0);
    counters.joined.fetch_add(1, Ordering::Relaxed);

    // Each connection sends its share of the rate, from a random phase.
    let every = (args.rate > 0.0).then(|| Duration::from_secs_f64(args.conns as f64 / args.rate));
    let mut samples = Vec::new();
    let mut next_send: Option<tokio::time::Instant> = None;
    loop {
        let current = *phase.borrow();
        if current == Phase::Done {
            break;
        }
        if current == Phase::Load && next_send.is_none() {
            if let Some(every) = every {
                next_send = Some(tokio::time::Instant::now() + every.mul_f64(rand::random::<f64>()));
            }
        }
        let sleep_until =
            next_send.unwrap_or_else(|| tokio::time::Instant::now() + Duration::from_secs(3600));
        tokio::select! {
            changed = phase.changed() => {
                if changed.is_err() {
                    break;
                }
            }
            () = tokio::time::sleep_until(sleep_until), if next_send.is_some() => {
                let stamp = format!("t:{}", now_us());
                let signal = !others.is_empty() && rand::random::<f64>() < args.signal_share;
                let msg = if signal {
                    let to = others[rand::random_range(0..others.len())].clone();
                    let payload = SignalPayload::Candidate { candidate: stamp, sdp_mid: None, sdp_m_line_index: None };
                    ClientMsg::Signal { to, payload }
                } else {
                    ClientMsg::Chat { text: stamp, nonce: None }
                };
                if tx.send(Message::text(encode(&msg))).await.is_err() {
                    counters.closed.fetch_add(1, Ordering::Relaxed);
                    break;
                }
                counters.sent.fetch_add(1, Ordering::Relaxed);
                next_send = next_send.map(|t| t + every.expect("paced"));
            }
            frame = rx.next() => match frame {
                Some(Ok(Message::Text(text))) => {
                    let measuring = *phase.borrow() == Phase::Load;
                    match decode_server(&text) {
                        Ok(ServerMsg::Chat { from, text, .. }) if from.id != me => {
                            record(&text, measuring, &counters, &mut samples);
                        }
                        Ok(ServerMsg::Signal { payload: SignalPayload::Candidate { candidate, .. }, .. }) => {
                            record(&candidate, measuring, &counters, &mut samples);
                        }
                        Ok(ServerMsg::PeerJoined { peer }) => others.push(peer.id),
                        Ok(ServerMsg::PeerLeft { peer }) => others.retain(|id| *id != peer.id),
                        Ok(ServerMsg::Error { code, .. }) => note_error(&counters.errors, code.as_str()),
                        _ => {}
                    }
                }
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => {
                    counters.closed.fetch_add(1, Ordering::Relaxed);
                    break;
                }
                Some(Ok(_)) => {}
            },
        }
    }
    let _ = tx.close().await;
    samples
}

fn record(stamp: &str, measuring: bool, counters: &Counters, samples: &mut Vec<u32>) {
    if !measuring {
        return;
    }
    if let Some(sent) = stamp.strip_prefix("t:").and_then(|s| s.parse::<u64>().ok()) {
        counters.delivered.fetch_add(1, Ordering::Relaxed);
        samples.push(now_us().saturating_sub(sent).min(u32::MAX as u64) as u32);
    }
}

pub(crate) fn note_error(errors: &Mutex<BTreeMap<String, u64>>, what: &str) {
    *errors.lock().unwrap().entry(what.to_owned()).or_default() += 1;
}

/// Resident memory of the given processes together, in KiB.
pub(crate) fn rss_kib(pids: &[u32]) -> Option<u64> {
    if pids.is_empty() {
        return None;
    }
    let mut total = 0;
    for pid in pids {
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
        let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
        total += line.split_whitespace().nth(1)?.parse::<u64>().ok()?;
    }
    Some(total)
}

/// What RSS grew by (KiB readings) per one of `count`, in bytes.
pub(crate) fn bytes_each(before: Option<u64>, after: Option<u64>, count: usize) -> Option<f64> {
    let (before, after) = before.zip(after).filter(|_| count > 0)?;
    Some((after.saturating_sub(before) * 1024) as f64 / count as f64)
}

pub(crate) fn percentile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() - 1) as f64 * q).round() as usize]
}

/// What one run measured; `main` prints it and a `RESULT {json}` line.
#[derive(Serialize, Debug)]
pub struct Report {
    pub conns: usize,
    pub joined: usize,
    pub failed: usize,
    pub join_per_sec: f64,
    pub join_ms_p50: f64,
    pub join_ms_p99: f64,
    pub rate_offered: f64,
    pub sent_per_sec: f64,
    pub delivered_per_sec: f64,
    pub latency_ms_p50: f64,
    pub latency_ms_p99: f64,
    pub latency_ms_p999: f64,
    pub latency_samples: usize,
    pub closed: usize,
    pub errors: BTreeMap<String, u64>,
    pub rss_kib_before: Option<u64>,
    pub rss_kib_joined: Option<u64>,
    pub rss_kib_end: Option<u64>,
    pub rss_bytes_per_conn: Option<f64>,
}

/// Runs the load described by `args` to its end and measures it.
pub async fn run(args: Args) -> Report {
    let args = Arc::new(args);
    now_us();
    let counters = Arc::new(Counters::default());
    let gate = Arc::new(Semaphore::new(args.parallel.max(1)));
    let (phase_tx, phase_rx) = watch::channel(Phase::Joining);
    let rss_before = rss_kib(&args.server_pid);

    let joining = Instant::now();
    let mut tasks = Vec::with_capacity(args.conns);
    let room_size = args.room_size.max(1);
    for index in 0..args.conns {
        let room_no = index / room_size;
        let peer = Peer {
            index,
            url: args.url[room_no % args.url.len()].clone(),
            source: (!args.source_ip.is_empty()).then(|| args.source_ip[index % args.source_ip.len()]),
            room: format!("{}-{room_no}", args.label),
        };
        tasks.push(tokio::spawn(run_peer(
            peer,
            args.clone(),
            counters.clone(),
            gate.clone(),
            phase_rx.clone(),
        )));
    }
    // Wait until every connection has joined or given up.
    while counters.joined.load(Ordering::Relaxed) + counters.failed.load(Ordering::Relaxed) < args.conns {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let join_secs = joining.elapsed().as_secs_f64();
    let joined = counters.joined.load(Ordering::Relaxed);
    eprintln!("joined {joined}/{} in {join_secs:.2} s", args.conns);
    // Let joins settle (lobby ticks, allocator) before reading memory.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let rss_joined = rss_kib(&args.server_pid);

    let load_started = Instant::now();
    let _ = phase_tx.send(Phase::Load);
    tokio::time::sleep(Duration::from_secs_f64(args.duration)).await;
    let load_secs = load_started.elapsed().as_secs_f64();
    let sent = counters.sent.load(Ordering::Relaxed);
    let delivered = counters.delivered.load(Ordering::Relaxed);
    let rss_end = rss_kib(&args.server_pid);
    let _ = phase_tx.send(Phase::Done);

    let mut latencies: Vec<f64> = Vec::new();
    for task in tasks {
        if let Ok(samples) = task.await {
            latencies.extend(samples.into_iter().map(|us| us as f64 / 1000.0));
        }
    }
    latencies.sort_by(f64::total_cmp);
    let mut join_ms = counters.join_ms.lock().unwrap().clone();
    join_ms.sort_by(f64::total_cmp);
    let errors = counters.errors.lock().unwrap().clone();
    Report {
        conns: args.conns,
        joined,
        failed: counters.failed.load(Ordering::Relaxed),
        join_per_sec: joined as f64 / join_secs,
        join_ms_p50: percentile(&join_ms, 0.5),
        join_ms_p99: percentile(&join_ms, 0.99),
        rate_offered: args.rate,
        sent_per_sec: sent as f64 / load_secs,
        delivered_per_sec: delivered as f64 / load_secs,
        latency_ms_p50: percentile(&latencies, 0.5),
        latency_ms_p99: percentile(&latencies, 0.99),
        latency_ms_p999: percentile(&latencies, 0.999),
        latency_samples: latencies.len(),
        closed: counters.closed.load(Ordering::Relaxed),
        errors,
        rss_kib_before: rss_before,
        rss_kib_joined: rss_joined,
        rss_kib_end: rss_end,
        rss_bytes_per_conn: bytes_each(rss_before, rss_joined, joined),
    }
}

/// The report for people; scripts read the `RESULT` line instead.
pub fn print_human(r: &Report) {
    println!(
        "connections: {}/{} joined ({} failed), {:.0} joins/s, join p50 {:.1} ms p99 {:.1} ms",
        r.joined, r.conns, r.failed, r.join_per_sec, r.join_ms_p50, r.join_ms_p99
    );
    println!(
        "load: offered {:.0} msg/s, sent {:.0}/s, delivered {:.0}/s; relay latency p50 {:.3} ms p99 {:.3} ms p99.9 {:.3} ms ({} samples)",
        r.rate_offered,
        r.sent_per_sec,
        r.delivered_per_sec,
        r.latency_ms_p50,
        r.latency_ms_p99,
        r.latency_ms_p999,
        r.latency_samples
    );
    if let (Some(b), Some(j), Some(e)) = (r.rss_kib_before, r.rss_kib_joined, r.rss_kib_end) {
        println!(
            "server RSS: {:.1} MiB before, {:.1} MiB joined, {:.1} MiB at the end; {:.0} bytes per connection",
            b as f64 / 1024.0,
            j as f64 / 1024.0,
            e as f64 / 1024.0,
            r.rss_bytes_per_conn.unwrap_or(f64::NAN)
        );
    }
    println!("closed by the server: {}, errors: {:?}", r.closed, r.errors);
}
