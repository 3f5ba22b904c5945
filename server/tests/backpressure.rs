//! One client that stops reading must not stall its room: its bounded
//! outbox fills, the server drops it, and everyone else gets every message.

mod support;

use app::protocol::{encode, ClientMsg, ServerMsg};
use futures::{SinkExt, StreamExt};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use support::{Client, Server};
use tokio_tungstenite::tungstenite::Message;

/// Enough data (about 7.6 MB to each member) to fill loopback socket
/// buffers and then the stalled client's outbox many times over.
const COUNT: usize = 4000;
/// The sender keeps at most this many messages ahead of the slowest
/// *reading* member, the way a well-behaved (rate-limited) client would;
/// otherwise it would rightly be the one dropped for being slow.
const WINDOW: usize = 64;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_stops_reading_is_dropped_without_stalling_the_room() {
    // This is about the outbox, not the per-connection rate limit: lift it.
    let server = Server::start_with(&["--msgs-per-sec", "1e9", "--msgs-burst", "1e9"]).await;
    let sender = Client::in_room(&server, "Sender", "busy").await;
    let mut reader = Client::in_room(&server, "Reader", "busy").await;
    // Joins, then never reads again.
    let stalled = Client::in_room(&server, "Stalled", "busy").await;
    reader.recv_until(|m| matches!(m, ServerMsg::PeerJoined { peer } if peer.nickname == "Stalled")).await;

    let echoed = Arc::new(AtomicUsize::new(0));
    let read = Arc::new(AtomicUsize::new(0));
    let (mut sink, mut stream) = sender.split();
    let echoes = tokio::spawn({
        let echoed = echoed.clone();
        async move {
            while let Some(Ok(frame)) = stream.next().await {
                if frame.to_text().is_ok_and(|t| t.contains("\"type\":\"chat\"")) {
                    echoed.fetch_add(1, Ordering::Relaxed);
                }
            }
        }
    });
    let frame = encode(&ClientMsg::Chat { text: "x".repeat(1900), nonce: None });
    let flood = tokio::spawn({
        let (echoed, read) = (echoed.clone(), read.clone());
        async move {
            for sent in 0..COUNT {
                while sent >= WINDOW + echoed.load(Ordering::Relaxed).min(read.load(Ordering::Relaxed)) {
                    tokio::time::sleep(std::time::Duration::from_millis(1)).await;
                }
                sink.send(Message::text(frame.clone())).await.expect("sender stays connected");
            }
            sink
        }
    });

    let mut stalled_left = false;
    while read.load(Ordering::Relaxed) < COUNT {
        match reader.recv().await {
            ServerMsg::Chat { .. } => {
                read.fetch_add(1, Ordering::Relaxed);
            }
            ServerMsg::PeerLeft { peer } if peer.nickname == "Stalled" => stalled_left = true,
            _ => {}
        }
    }
    let _sink = flood.await.expect("the flood finished");
    assert!(echoed.load(Ordering::Relaxed) + WINDOW >= COUNT, "the sender got its echoes");
    if !stalled_left {
        reader.recv_until(|m| matches!(m, ServerMsg::PeerLeft { peer } if peer.nickname == "Stalled")).await;
    }
    drop(stalled);
    echoes.abort();
}
