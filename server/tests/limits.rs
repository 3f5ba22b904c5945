//! Abuse limits, against the real binary: message rate per connection,
//! sockets per address, rooms in all, chat length, frame size. And a flood
//! in one room must not slow another.

mod support;

use app::protocol::{encode, ClientMsg, ErrorCode, ServerMsg, CLOSE_TOO_BIG, CLOSE_TOO_SLOW};
use futures::{FutureExt, SinkExt, StreamExt};
use std::time::{Duration, Instant};
use support::{Client, Server};
use tokio_tungstenite::tungstenite::{Error as WsError, Message};

fn chat(text: &str) -> ClientMsg {
    ClientMsg::Chat { text: text.into(), nonce: None }
}

#[tokio::test]
async fn a_flood_is_told_once_then_closed_and_the_room_carries_on() {
    let server =
        Server::start_with(&["--msgs-per-sec", "20", "--msgs-burst", "40", "--max-refused", "100"]).await;
    let mut flooder = Client::in_room(&server, "Flood", "loud").await;
    let mut other = Client::in_room(&server, "Other", "loud").await;
    let frame = encode(&chat("spam"));
    for _ in 0..400 {
        if !flooder.try_send_raw(frame.clone()).await {
            break; // closed for flooding, as expected
        }
    }
    // The first 38 go through (the nickname and the join took two of the
    // 40); then one error, not one per message.
    let mut relayed = 0;
    let mut errors = 0;
    let close = loop {
        match tokio::time::timeout(support::WAIT, flooder.next_frame()).await.expect("in time") {
            Some(Message::Text(text)) => match app::protocol::decode_server(&text).unwrap() {
                ServerMsg::Chat { .. } => relayed += 1,
                ServerMsg::Error { code: ErrorCode::RateLimited, message } => {
                    assert!(message.contains("20 messages per second"), "{message}");
                    errors += 1;
                }
                _ => {}
            },
            Some(Message::Close(frame)) => break frame.expect("a close frame with a reason"),
            Some(_) => {}
            None => panic!("closed without a close frame"),
        }
    };
    assert_eq!(u16::from(close.code), CLOSE_TOO_SLOW);
    assert_eq!(close.reason.as_str(), "too many messages");
    assert_eq!(errors, 1);
    assert!((38..=43).contains(&relayed), "relayed {relayed}");
    // The other member saw the flooder leave and can still talk.
    other.recv_until(|m| matches!(m, ServerMsg::PeerLeft { peer } if peer.nickname == "Flood")).await;
    other.send(&chat("still here")).await;
    other.recv_until(|m| matches!(m, ServerMsg::Chat { text, .. } if text == "still here")).await;
}

#[tokio::test]
async fn an_honest_pace_is_never_refused() {
    let server = Server::start_with(&["--msgs-per-sec", "20", "--msgs-burst", "40"]).await;
    let mut ada = Client::in_room(&server, "Ada", "calm").await;
    // A burst as big as allowed (the nickname and the join took two), then
    // a steady 10 per second.
    for i in 0..38 {
        ada.send(&chat(&format!("burst {i}"))).await;
    }
    for i in 0..10 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        ada.send(&chat(&format!("steady {i}"))).await;
    }
    let mut chats = 0;
    while chats < 48 {
        match ada.recv().await {
            ServerMsg::Chat { .. } => chats += 1,
            ServerMsg::Error { code, message } => panic!("refused: {code:?} {message}"),
            _ => {}
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_in_one_room_does_not_slow_another() {
    // Flooders are refused but not closed here, so the flood lasts.
    let server = Server::start_with(&["--max-refused", "1000000000"]).await;
    let mut ada = Client::in_room(&server, "Ada", "quiet").await;
    let mut bob = Client::in_room(&server, "Bob", "quiet").await;
    ada.recv_until(|m| matches!(m, ServerMsg::PeerJoined { .. })).await;

    let baseline = relay_latencies(&mut ada, &mut bob, 60).await;
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut floods = Vec::new();
    let sent = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    // Three flooders, each in a room with two listeners who read all of it:
    // every passing message goes to three sockets. Not all three flooders
    // in one room: their bursts together (3 x 120 messages at once) would
    // overrun a member's outbox (256), and the server would rightly drop
    // that member as too slow, which is another test's subject
    // (backpressure.rs), and a race here.
    for i in 0..3 {
        let room = format!("loud-{i}");
        let mut flooder = Client::in_room(&server, &format!("Flood{i}"), &room).await;
        for j in 0..2 {
            let mut listener = Client::in_room(&server, &format!("Ear{i}{j}"), &room).await;
            tokio::spawn(async move { while listener.socket().next().await.is_some() {} });
        }
        let (stop, sent) = (stop.clone(), sent.clone());
        floods.push(tokio::spawn(async move {
            let frame = encode(&chat(&"x".repeat(1000)));
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                // Read what came before each write, on this one task: a reader
                // task of its own can starve beside this hot writer.
                while let Some(Some(_)) = flooder.socket().next().now_or_never() {}
                let socket = flooder.socket();
                socket.send(Message::text(frame.clone())).await.expect("the flooder stays connected");
                sent.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
        }));
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let started = Instant::now();
    let flooded = relay_latencies(&mut ada, &mut bob, 60).await;
    let flood_rate =
        sent.load(std::sync::atomic::Ordering::Relaxed) as f64 / (started.elapsed().as_secs_f64() + 0.3);
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for f in floods {
        f.await.unwrap();
    }
    let (base_p50, base_p99) = percentiles(baseline);
    let (p50, p99) = percentiles(flooded);
    eprintln!(
        "quiet-room relay: p50 {base_p50:.2} ms / p99 {base_p99:.2} ms alone; \
         p50 {p50:.2} ms / p99 {p99:.2} ms while 3 connections flood ({flood_rate:.0} msg/s sent)"
    );
    // Generous: a flood that reached the hub would cost seconds, not this.
    assert!(p99 < 250.0, "p99 {p99:.1} ms during the flood");
}

/// Ada sends, Bob receives, one at a time, paced within the rate limit.
async fn relay_latencies(ada: &mut Client, bob: &mut Client, count: usize) -> Vec<f64> {
    let mut latencies = Vec::with_capacity(count);
    for i in 0..count {
        let text = format!("ping {i}");
        let sent = Instant::now();
        ada.send(&chat(&text)).await;
        bob.recv_until(|m| matches!(m, ServerMsg::Chat { text: t, .. } if *t == text)).await;
        latencies.push(sent.elapsed().as_secs_f64() * 1000.0);
        ada.recv_until(|m| matches!(m, ServerMsg::Chat { text: t, .. } if *t == text)).await;
        tokio::time::sleep(Duration::from_millis(40)).await;
    }
    latencies
}

fn percentiles(mut v: Vec<f64>) -> (f64, f64) {
    v.sort_by(f64::total_cmp);
    let at = |q: f64| v[((v.len() - 1) as f64 * q).round() as usize];
    (at(0.5), at(0.99))
}

#[tokio::test]
async fn one_address_gets_a_limited_number_of_sockets() {
    let server = Server::start_with(&["--max-conns-per-ip", "3"]).await;
    let mut open = Vec::new();
    for _ in 0..3 {
        open.push(Client::connect(&server).await);
    }
    match tokio_tungstenite::connect_async(server.ws_url()).await {
        Err(WsError::Http(response)) => assert_eq!(response.status().as_u16(), 429),
        other => panic!("expected 429, got {:?}", other.map(|_| ())),
    }
    // A slot comes back when a socket closes.
    open.pop().unwrap().close().await;
    let mut retried = None;
    for _ in 0..50 {
        if let Ok((ws, _)) = tokio_tungstenite::connect_async(server.ws_url()).await {
            retried = Some(ws);
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(retried.is_some(), "a slot was freed");
}

#[tokio::test]
async fn rooms_in_all_and_chat_length_are_limited() {
    let server = Server::start_with(&["--max-rooms", "2", "--max-chat-chars", "10"]).await;
    let _a = Client::in_room(&server, "A", "one").await;
    let mut b = Client::in_room(&server, "B", "two").await;
    let mut c = Client::connect(&server).await;
    c.send(&ClientMsg::SetNickname { nickname: "C".into() }).await;
    c.send(&ClientMsg::Join { room: "three".into(), passcode: None }).await;
    let message = c.expect_error(ErrorCode::TooManyRooms).await;
    assert!(message.contains('2'), "{message}");
    // Existing rooms still take people.
    c.send(&ClientMsg::Join { room: "one".into(), passcode: None }).await;
    c.recv_until(|m| matches!(m, ServerMsg::Joined { .. })).await;

    b.send(&chat("0123456789")).await;
    b.recv_until(|m| matches!(m, ServerMsg::Chat { .. })).await;
    b.send(&chat("0123456789!")).await;
    let message = b.expect_error(ErrorCode::ChatTooLong).await;
    assert!(message.contains("10 characters"), "{message}");
}

#[tokio::test]
async fn the_frame_limit_is_configurable() {
    let server = Server::start_with(&["--max-frame-bytes", "2048"]).await;
    let mut ada = Client::in_room(&server, "Ada", "x").await;
    ada.send(&chat(&"y".repeat(1500))).await;
    ada.recv_until(|m| matches!(m, ServerMsg::Chat { .. })).await;
    ada.send_raw(encode(&chat(&"y".repeat(1900))) + &" ".repeat(200)).await;
    let close = ada.expect_close().await.expect("a close frame");
    assert_eq!(u16::from(close.code), CLOSE_TOO_BIG);
    assert_eq!(close.reason.as_str(), "message larger than 2 KiB");
}

#[tokio::test]
async fn past_its_forwarded_track_budget_the_sfu_says_the_server_is_full() {
    let server = Server::start_with(&["--media-mode", "sfu", "--max-forwarded-tracks", "12"]).await;
    // Three people forward 12 tracks: two to each of the other two, each.
    let _people = [
        Client::in_room(&server, "Ada", "x").await,
        Client::in_room(&server, "Bo", "x").await,
        Client::in_room(&server, "Cy", "x").await,
    ];
    let mut di = Client::named(&server, "Di").await;
    di.send(&ClientMsg::Join { room: "x".into(), passcode: None }).await;
    let message = di.expect_error(ErrorCode::ServerFull).await;
    assert!(message.contains("server is full"), "{message}");
    // Alone in a room of one's own, nothing is forwarded: that still works.
    di.send(&ClientMsg::Join { room: "y".into(), passcode: None }).await;
    di.recv_until(|m| matches!(m, ServerMsg::Joined { .. })).await;
}
