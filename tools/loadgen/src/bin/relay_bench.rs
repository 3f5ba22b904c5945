//! Relay benchmark (not a test): one sender and one receiver in a room,
//! each on the node you name, e.g. the same node or two nodes behind Redis.
//!
//!   relay_bench ws://127.0.0.1:3000/ws ws://127.0.0.1:3001/ws [messages] [rate/s]
//!
//! Paced at `rate` it reports relay latency (send to receive, one clock);
//! then it sends as fast as the receiver keeps up (at most WINDOW messages
//! in flight, as a well-behaved client would) to report throughput.

use app::protocol::{decode_server, encode, ClientMsg, ServerMsg};
use futures::{SinkExt, StreamExt};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Messages in flight (sent, not yet received) in the throughput run.
const WINDOW: usize = 200;
/// Time after both have joined before measuring (joins propagate first).
const SETTLE_MS: u64 = 300;
use tokio_tungstenite::{connect_async, tungstenite::Message};

type Ws = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn joined(url: &str, name: &str, room: &str) -> Ws {
    let (mut ws, _) = connect_async(url).await.expect("connect");
    for msg in [
        ClientMsg::SetNickname { nickname: name.into() },
        ClientMsg::Join { room: room.into(), passcode: None },
    ] {
        ws.send(Message::text(encode(&msg))).await.unwrap();
    }
    while let Some(Ok(frame)) = ws.next().await {
        if let Message::Text(t) = frame {
            if matches!(decode_server(&t), Ok(ServerMsg::Joined { .. })) {
                break;
            }
        }
    }
    ws
}

async fn run(sender_url: &str, receiver_url: &str, count: usize, rate: Option<u32>) -> (f64, Vec<f64>) {
    let room = format!("bench-{:x}", rand::random::<u32>());
    let receiver = joined(receiver_url, "receiver", &room).await;
    let sender = joined(sender_url, "sender", &room).await;
    tokio::time::sleep(Duration::from_millis(SETTLE_MS)).await;
    let (mut tx, mut echoes) = sender.split();
    tokio::spawn(async move { while echoes.next().await.is_some() {} });
    let origin = Instant::now();
    let received = Arc::new(AtomicUsize::new(0));
    let seen = received.clone();
    let reader = tokio::spawn(async move {
        let (_, mut rx) = receiver.split();
        let mut latencies = Vec::with_capacity(count);
        while latencies.len() < count {
            let Some(frame) = rx.next().await else { panic!("receiver disconnected") };
            let Ok(Message::Text(t)) = frame else { continue };
            if let Ok(ServerMsg::Chat { text, .. }) = decode_server(&t) {
                if let Some(sent_us) = text.strip_prefix("t:").and_then(|s| s.parse::<u64>().ok()) {
                    latencies.push((origin.elapsed().as_micros() as u64 - sent_us) as f64 / 1000.0);
                    seen.fetch_add(1, Ordering::Relaxed);
                }
            }
        }
        (Instant::now(), latencies)
    });
    let start = Instant::now();
    let gap = rate.map(|r| Duration::from_secs_f64(1.0 / r as f64));
    for i in 0..count {
        match gap {
            Some(gap) => tokio::time::sleep_until((start + gap * i as u32).into()).await,
            None => {
                while i >= WINDOW + received.load(Ordering::Relaxed) {
                    tokio::task::yield_now().await;
                }
            }
        }
        let text = format!("t:{}", origin.elapsed().as_micros());
        tx.send(Message::text(encode(&ClientMsg::Chat { text, nonce: None }))).await.unwrap();
    }
    let (end, latencies) = reader.await.unwrap();
    (count as f64 / (end - start).as_secs_f64(), latencies)
}

fn pct(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() as f64 * p) as usize).min(sorted.len() - 1)]
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (sender, receiver) = (&args[1], &args[2]);
    let count: usize = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(5000);
    let rate: u32 = args.get(4).and_then(|s| s.parse().ok()).unwrap_or(1000);
    let (_, mut lat) = run(sender, receiver, count, Some(rate)).await;
    if std::env::var("SHOW_SLOW").is_ok() {
        let slow: Vec<(usize, f64)> = lat.iter().copied().enumerate().filter(|(_, l)| *l > 5.0).collect();
        eprintln!("slow (index, ms): {slow:?}");
    }
    lat.sort_by(f64::total_cmp);
    let (throughput, _) = run(sender, receiver, count * 4, None).await;
    println!(
        "RESULT paced_rate={rate}/s messages={count} latency_ms p50={:.3} p99={:.3} max={:.3} | windowed messages={} throughput={:.0} msg/s",
        pct(&lat, 0.50),
        pct(&lat, 0.99),
        lat.last().unwrap(),
        count * 4,
        throughput
    );
}
