//! Connections that cannot lock the server up, and close codes as promised,
//! against the real binary: idle and slow sockets are closed, one address
//! cannot hold the door, a legitimate client is served at a low open-files
//! limit, every frame counts against the rate, and every server-side close
//! carries the documented code (client closes are answered).

mod support;

use app::protocol::{
    ClientMsg, ErrorCode, ServerMsg, CLOSE_BAD_DATA, CLOSE_PROTOCOL, CLOSE_TOO_BIG, CLOSE_TOO_SLOW,
};
use futures::{SinkExt, StreamExt};
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};
use support::{Client, Server, WAIT};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};
use tokio_tungstenite::tungstenite::protocol::frame::coding::{CloseCode, Data, OpCode};
use tokio_tungstenite::tungstenite::protocol::frame::Frame;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::Message;

/// A TCP connection to the server from a chosen loopback address.
async fn tcp_from(server: &Server, source: IpAddr) -> std::io::Result<TcpStream> {
    let socket = TcpSocket::new_v4()?;
    socket.bind(SocketAddr::new(source, 0))?;
    socket.connect(server.addr.parse().unwrap()).await
}

/// Waits until the server closes `tcp` (EOF or reset); returns how long it took.
async fn closed_within(tcp: &mut TcpStream, limit: Duration) -> Duration {
    let started = Instant::now();
    let mut buf = [0u8; 1024];
    loop {
        match tokio::time::timeout(limit, tcp.read(&mut buf)).await {
            Err(_) => panic!("still open after {limit:?}"),
            Ok(Ok(0)) | Ok(Err(_)) => return started.elapsed(),
            Ok(Ok(_)) => continue, // e.g. a 408 response before the close
        }
    }
}

#[tokio::test]
async fn silent_and_slowloris_connections_are_closed_after_the_head_deadline() {
    let server = Server::start_with(&["--header-timeout-secs", "1"]).await;
    let mut silent = tcp_from(&server, [127, 0, 0, 1].into()).await.unwrap();
    let mut slow = tcp_from(&server, [127, 0, 0, 1].into()).await.unwrap();
    slow.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n").await.unwrap();
    let drip = async {
        // One header line every 300 ms: never a whole head.
        for i in 0..20 {
            tokio::time::sleep(Duration::from_millis(300)).await;
            if slow.write_all(format!("X-Drip-{i}: y\r\n").as_bytes()).await.is_err() {
                break;
            }
        }
    };
    let (took, ()) = tokio::join!(closed_within(&mut silent, Duration::from_secs(5)), drip);
    assert!(took >= Duration::from_millis(900), "closed after {took:?}, before the deadline");
    closed_within(&mut slow, Duration::from_secs(1)).await;

    // A kept-alive connection idle after its request is closed too.
    let mut kept = tcp_from(&server, [127, 0, 0, 1].into()).await.unwrap();
    kept.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").await.unwrap();
    closed_within(&mut kept, Duration::from_secs(5)).await;
    // And the server still serves.
    Client::named(&server, "Ada").await;
}

#[tokio::test]
async fn a_socket_that_never_gives_a_nickname_is_closed() {
    let server = Server::start_with(&["--nickname-timeout-secs", "1"]).await;
    let mut nameless = Client::connect(&server).await;
    let mut named = Client::named(&server, "Ada").await;
    let close = nameless.expect_close().await.expect("a close frame");
    assert_eq!(u16::from(close.code), CLOSE_TOO_SLOW);
    assert_eq!(close.reason.as_str(), "no nickname given in time");
    tokio::time::sleep(Duration::from_millis(500)).await;
    named.ping_pong().await;
}

#[tokio::test]
async fn one_address_cannot_hold_the_door_even_against_itself() {
    let server = Server::start_with(&["--max-pending-per-ip", "4"]).await;
    let mut idle = Vec::new();
    for _ in 0..4 {
        idle.push(tcp_from(&server, [127, 0, 0, 1].into()).await.unwrap());
    }
    // The fifth from that address is served (people behind one NAT each
    // load the page), and that address's oldest idle one is closed…
    let mut fifth = tcp_from(&server, [127, 0, 0, 1].into()).await.unwrap();
    let (status, _, _) = support::http_get(&mut fifth, "x", "/").await;
    assert_eq!(status, 200);
    closed_within(&mut idle[0], Duration::from_secs(2)).await;
    // …while another address is served too.
    let mut page = tcp_from(&server, [127, 0, 0, 2].into()).await.unwrap();
    let (status, _, _) = support::http_get(&mut page, "x", "/").await;
    assert_eq!(status, 200);
}

/// The attack: far more idle connections than the server has
/// descriptors, from many addresses. Past its connection total the oldest
/// idle one makes room, so a real client is always served.
#[tokio::test]
async fn a_legitimate_client_is_served_at_a_low_descriptor_limit() {
    let server = Server::start_with_fd_limit(128, &["--max-pending-per-ip", "8"]).await;
    let mut idle = Vec::new();
    for i in 0..300u32 {
        let source: IpAddr = [127, 0, 1, (i % 40 + 1) as u8].into();
        if let Ok(tcp) = tcp_from(&server, source).await {
            idle.push(tcp);
        }
    }
    let started = Instant::now();
    let mut client = Client::connect_from(&server, [127, 0, 2, 1].into()).await;
    client.send(&ClientMsg::SetNickname { nickname: "Ada".into() }).await;
    client.recv_until(|m| matches!(m, ServerMsg::NicknameSet { .. })).await;
    let mut page = tcp_from(&server, [127, 0, 2, 2].into()).await.unwrap();
    let (status, _, body) = support::http_get(&mut page, "x", "/").await;
    assert_eq!(status, 200);
    assert!(body.contains("Noom"));
    eprintln!("served in {:?} with {} idle connections attempted", started.elapsed(), idle.len());
}

#[tokio::test]
async fn a_ping_flood_is_refused_then_closed() {
    let server =
        Server::start_with(&["--msgs-per-sec", "20", "--msgs-burst", "40", "--max-refused", "100"]).await;
    let mut flooder = Client::named(&server, "Pinger").await;
    for _ in 0..2000 {
        if flooder.socket().send(Message::Ping(Default::default())).await.is_err() {
            break;
        }
    }
    let mut told = false;
    let close = loop {
        match tokio::time::timeout(WAIT, flooder.next_frame()).await.expect("in time") {
            Some(Message::Text(text)) => {
                if let ServerMsg::Error { code: ErrorCode::RateLimited, .. } =
                    app::protocol::decode_server(&text).unwrap()
                {
                    told = true;
                }
            }
            Some(Message::Close(frame)) => break frame.expect("a close frame"),
            Some(_) => {}
            None => panic!("cut off without a close frame"),
        }
    };
    assert!(told, "the rate_limited error came before the close");
    assert_eq!(u16::from(close.code), CLOSE_TOO_SLOW);
}

#[tokio::test]
async fn invalid_utf8_is_closed_with_1007() {
    let server = Server::start().await;
    let mut client = Client::named(&server, "Ada").await;
    let frame = Frame::message(vec![b'{', 0xff, 0xfe, b'}'], OpCode::Data(Data::Text), true);
    client.socket().send(Message::Frame(frame)).await.unwrap();
    let close = client.expect_close().await.expect("a close frame");
    assert_eq!(u16::from(close.code), CLOSE_BAD_DATA);
}

#[tokio::test]
async fn a_broken_frame_is_closed_with_1002() {
    let server = Server::start().await;
    let mut client = Client::named(&server, "Ada").await;
    // Reserved bits set with no extension negotiated (RFC 6455 §5.2).
    let mut frame = Frame::message("{}", OpCode::Data(Data::Text), true);
    frame.header_mut().rsv1 = true;
    client.socket().send(Message::Frame(frame)).await.unwrap();
    let close = client.expect_close().await.expect("a close frame");
    assert_eq!(u16::from(close.code), CLOSE_PROTOCOL);
}

#[tokio::test]
async fn a_frame_far_over_the_limit_is_closed_with_1009() {
    let server = Server::start_with(&["--max-frame-bytes", "2048"]).await;
    let mut client = Client::named(&server, "Ada").await;
    // Far past what the socket layer reads at all (4× the limit).
    client.send_raw("x".repeat(200_000)).await;
    let close = client.expect_close().await.expect("a close frame, not a reset");
    assert_eq!(u16::from(close.code), CLOSE_TOO_BIG);
    assert_eq!(close.reason.as_str(), "message larger than 2 KiB");
}

#[tokio::test]
async fn a_client_close_is_answered() {
    let server = Server::start().await;
    let mut client = Client::named(&server, "Ada").await;
    let frame = CloseFrame { code: CloseCode::Normal, reason: "bye".into() };
    client.socket().send(Message::Close(Some(frame))).await.unwrap();
    let answer = loop {
        match tokio::time::timeout(WAIT, client.socket().next()).await.expect("an answer in time") {
            Some(Ok(Message::Close(frame))) => break frame,
            Some(Ok(_)) => continue,
            other => panic!("expected the server's close frame, got {other:?}"),
        }
    };
    assert_eq!(answer.map(|f| f.code), Some(CloseCode::Normal));
}
