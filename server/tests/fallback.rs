//! The HTTP fallback (server-sent events down, POSTs up) against the real
//! server binary over real TCP: the same room as a WebSocket page, the same
//! limits, sessions that resume, and a goodbye that leaves at once.

mod support;

use app::protocol::{self, ClientMsg, ServerMsg, CLOSE_TOO_BIG};
use std::time::{Duration, Instant};
use support::{Client, Server, WAIT};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

/// One page on the fallback: the open event stream and its session key.
struct HttpPage {
    port: u16,
    stream: BufReader<TcpStream>,
    /// Decoded body not yet cut into events.
    pending: String,
    key: String,
    id: protocol::PeerId,
    resume: Option<String>,
    resumed: bool,
}

enum Event {
    Message(ServerMsg),
    Close { code: u16, reason: String },
}

/// The status line and lower-cased headers of a response.
async fn head(stream: &mut BufReader<TcpStream>) -> (u16, Vec<(String, String)>) {
    let mut status = String::new();
    stream.read_line(&mut status).await.unwrap();
    let code = status.split(' ').nth(1).and_then(|s| s.parse().ok()).expect("a status line");
    let mut headers = Vec::new();
    loop {
        let mut line = String::new();
        stream.read_line(&mut line).await.unwrap();
        let line = line.trim_end();
        if line.is_empty() {
            return (code, headers);
        }
        if let Some((k, v)) = line.split_once(':') {
            headers.push((k.trim().to_ascii_lowercase(), v.trim().to_owned()));
        }
    }
}

/// Opens `GET /ws/events` with `extra` request headers.
async fn open_events(
    port: u16,
    query: &str,
    extra: &str,
) -> (u16, Vec<(String, String)>, BufReader<TcpStream>) {
    let mut tcp = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    let request = format!(
        "GET /ws/events{query} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAccept: text/event-stream\r\n{extra}\r\n"
    );
    tcp.write_all(request.as_bytes()).await.unwrap();
    let mut stream = BufReader::new(tcp);
    let (code, headers) = head(&mut stream).await;
    (code, headers, stream)
}

/// `POST /ws/send{query}` with `body`; the status.
async fn post(port: u16, query: &str, body: &str) -> u16 {
    let mut tcp = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    let request = format!(
        "POST /ws/send{query} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    tcp.write_all(request.as_bytes()).await.unwrap();
    let mut stream = BufReader::new(tcp);
    let (code, _) = head(&mut stream).await;
    let mut rest = Vec::new();
    let _ = stream.read_to_end(&mut rest).await;
    code
}

impl HttpPage {
    async fn open(server: &Server, resume: Option<&str>) -> HttpPage {
        let query = resume.map(|t| format!("?resume={t}")).unwrap_or_default();
        let (code, headers, stream) = open_events(server.port(), &query, "").await;
        assert_eq!(code, 200);
        assert!(support::header(&headers, "content-type").is_some_and(|v| v.starts_with("text/event-stream")));
        assert_eq!(support::header(&headers, "transfer-encoding"), Some("chunked"));
        let mut page = HttpPage {
            port: server.port(),
            stream,
            pending: String::new(),
            key: String::new(),
            id: protocol::PeerId(String::new()),
            resume: None,
            resumed: false,
        };
        let (kind, key) = page.raw_event().await.expect("the session event");
        assert_eq!(kind.as_deref(), Some("session"));
        page.key = key;
        match page.recv().await {
            ServerMsg::Welcome { id, resume, resumed, .. } => {
                page.id = id;
                page.resume = resume;
                page.resumed = resumed;
            }
            other => panic!("expected welcome, got {other:?}"),
        }
        page
    }

    /// Named and in `room`, as a page on the fallback gets there: both
    /// messages in one POST.
    async fn in_room(server: &Server, nickname: &str, room: &str) -> HttpPage {
        let mut page = HttpPage::open(server, None).await;
        let lines = [
            protocol::encode(&ClientMsg::SetNickname { nickname: nickname.into() }),
            protocol::encode(&ClientMsg::Join { room: room.into(), passcode: None }),
        ];
        assert_eq!(page.send_lines(&lines.join("\n")).await, 204);
        page.recv_until(|m| matches!(m, ServerMsg::Joined { .. })).await;
        page
    }

    /// The key on the first line, then `lines`.
    async fn send_lines(&self, lines: &str) -> u16 {
        post(self.port, "", &format!("{}\n{lines}", self.key)).await
    }

    async fn send(&self, msg: &ClientMsg) {
        assert_eq!(self.send_lines(&protocol::encode(msg)).await, 204);
    }

    /// One chunk of the chunked body, appended to `pending`; false at the end.
    async fn read_chunk(&mut self) -> bool {
        let mut size = String::new();
        if self.stream.read_line(&mut size).await.unwrap_or(0) == 0 {
            return false;
        }
        let size = usize::from_str_radix(size.trim(), 16).expect("a chunk size");
        let mut data = vec![0; size + 2];
        self.stream.read_exact(&mut data).await.unwrap();
        self.pending.push_str(std::str::from_utf8(&data[..size]).unwrap());
        size > 0
    }

    /// The next event with data (comments skipped): (event type, data).
    async fn raw_event(&mut self) -> Option<(Option<String>, String)> {
        loop {
            while let Some(end) = self.pending.find("\n\n") {
                let block: String = self.pending.drain(..end + 2).collect();
                let (mut kind, mut data) = (None, None);
                for line in block.lines() {
                    if let Some(v) = line.strip_prefix("event: ") {
                        kind = Some(v.to_owned());
                    } else if let Some(v) = line.strip_prefix("data: ") {
                        data = Some(v.to_owned());
                    }
                }
                if let Some(data) = data {
                    return Some((kind, data));
                }
            }
            let more = tokio::time::timeout(WAIT, self.read_chunk()).await.expect("an event in time");
            if !more {
                return None;
            }
        }
    }

    async fn event(&mut self) -> Option<Event> {
        let (kind, data) = self.raw_event().await?;
        Some(match kind.as_deref() {
            None => Event::Message(protocol::decode_server(&data).expect("a server message")),
            Some("close") => {
                let close: serde_json::Value = serde_json::from_str(&data).unwrap();
                Event::Close {
                    code: close["code"].as_u64().unwrap() as u16,
                    reason: close["reason"].as_str().unwrap().to_owned(),
                }
            }
            Some(other) => panic!("unexpected event {other}"),
        })
    }

    async fn recv(&mut self) -> ServerMsg {
        match self.event().await {
            Some(Event::Message(msg)) => msg,
            Some(Event::Close { code, reason }) => panic!("closed: {code} {reason}"),
            None => panic!("the stream ended"),
        }
    }

    async fn recv_until(&mut self, pred: impl Fn(&ServerMsg) -> bool) -> ServerMsg {
        loop {
            let msg = self.recv().await;
            if pred(&msg) {
                return msg;
            }
        }
    }
}

/// One value of the server's `/metrics`.
async fn metric(server: &Server, name: &str) -> Option<f64> {
    let mut tcp = TcpStream::connect(("127.0.0.1", server.port())).await.unwrap();
    let (_, _, text) = support::http_get(&mut tcp, "127.0.0.1", "/metrics").await;
    text.lines().find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
}

fn chat_text(msg: &ServerMsg) -> Option<&str> {
    match msg {
        ServerMsg::Chat { text, .. } => Some(text),
        _ => None,
    }
}

#[tokio::test]
async fn a_page_over_http_and_one_over_the_socket_talk_in_one_room() {
    let server = Server::start().await;
    let mut ada = HttpPage::in_room(&server, "Ada", "x").await;
    let mut bob = Client::in_room(&server, "Bob", "x").await;
    ada.recv_until(|m| matches!(m, ServerMsg::PeerJoined { .. })).await;

    bob.send(&ClientMsg::Chat { text: "hello over the socket".into(), nonce: None }).await;
    let heard = ada.recv_until(|m| chat_text(m).is_some()).await;
    assert_eq!(chat_text(&heard), Some("hello over the socket"));

    // Several messages in one POST arrive once each, in order.
    let lines: Vec<_> = (1..=3)
        .map(|i| protocol::encode(&ClientMsg::Chat { text: format!("over HTTP {i}"), nonce: None }))
        .collect();
    assert_eq!(ada.send_lines(&lines.join("\n")).await, 204);
    for i in 1..=3 {
        let msg = bob.recv_until(|m| chat_text(m).is_some_and(|t| t.starts_with("over HTTP"))).await;
        assert_eq!(chat_text(&msg), Some(format!("over HTTP {i}").as_str()));
    }
    // A heartbeat: the key alone.
    assert_eq!(post(server.port(), "", &ada.key).await, 204);
    // The host is whoever came first, whatever carries them.
    ada.send(&ClientMsg::LockRoom { locked: true }).await;
    bob.recv_until(|m| matches!(m, ServerMsg::RoomLocked { .. })).await;

    assert_eq!(metric(&server, "noom_http_sessions").await, Some(1.0));
}

#[tokio::test]
async fn a_post_without_a_live_session_is_refused_and_a_goodbye_leaves_at_once() {
    let server = Server::start().await;
    assert_eq!(post(server.port(), "", "0123456789abcdef0123456789abcdef\n{}").await, 404);
    assert_eq!(post(server.port(), "", "{}").await, 404);

    let mut ada = HttpPage::in_room(&server, "Ada", "x").await;
    let mut bob = Client::in_room(&server, "Bob", "x").await;
    ada.recv_until(|m| matches!(m, ServerMsg::PeerJoined { .. })).await;
    let asked = Instant::now();
    assert_eq!(post(server.port(), "?end=1", &ada.key).await, 204);
    bob.recv_until(|m| matches!(m, ServerMsg::PeerLeft { .. })).await;
    // Well inside the resume grace (30 s): a goodbye is not a lost page.
    assert!(asked.elapsed() < Duration::from_secs(5), "left after {:?}", asked.elapsed());
    assert!(matches!(ada.event().await, Some(Event::Close { code: 1000, .. })));
    assert!(ada.event().await.is_none(), "the stream ends");
    assert_eq!(ada.send_lines("{}").await, 404, "the key died with the session");
}

#[tokio::test]
async fn a_message_over_the_frame_limit_closes_the_stream_with_the_reason() {
    let server = Server::start().await;
    let mut ada = HttpPage::in_room(&server, "Ada", "x").await;
    let big = protocol::encode(&ClientMsg::Chat { text: "a".repeat(protocol::MAX_FRAME_BYTES), nonce: None });
    assert_eq!(ada.send_lines(&big).await, 204);
    loop {
        match ada.event().await {
            Some(Event::Message(_)) => continue,
            Some(Event::Close { code, reason }) => {
                assert_eq!(code, CLOSE_TOO_BIG);
                assert!(reason.contains("64 KiB"), "{reason}");
                break;
            }
            None => panic!("ended without saying why"),
        }
    }
    // Bad input for one never troubles the server.
    let _ = Client::in_room(&server, "Bob", "x").await;
}

#[tokio::test]
async fn a_lost_stream_resumes_as_the_same_peer_and_nobody_sees_a_thing() {
    let server = Server::start().await;
    let ada = HttpPage::in_room(&server, "Ada", "x").await;
    let mut bob = Client::in_room(&server, "Bob", "x").await;
    let (id, token) = (ada.id.clone(), ada.resume.clone().expect("a resume token"));
    drop(ada);
    // The closed stream is noticed at once, not at the next keep-alive
    // (20 s): the session waits for its page.
    let dropped = Instant::now();
    while metric(&server, "noom_sessions_parked").await != Some(1.0) {
        assert!(dropped.elapsed() < Duration::from_secs(3), "not parked after {:?}", dropped.elapsed());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let mut back = HttpPage::open(&server, Some(&token)).await;
    assert!(back.resumed, "the server held the session");
    assert_eq!(back.id, id);
    back.recv_until(|m| matches!(m, ServerMsg::Joined { resumed: true, .. })).await;
    back.send(&ClientMsg::Chat { text: "still here".into(), nonce: None }).await;
    let seen = bob.recv_until(|m| chat_text(m).is_some() || matches!(m, ServerMsg::PeerLeft { .. })).await;
    assert_eq!(chat_text(&seen), Some("still here"), "Bob saw no leave first: {seen:?}");
}

#[tokio::test]
async fn a_page_of_another_site_gets_no_stream() {
    let server = Server::start().await;
    let (code, _, _) = open_events(server.port(), "", "Origin: https://evil.example\r\n").await;
    assert_eq!(code, 403);
    let port = server.port();
    let (code, headers, _) = open_events(port, "", &format!("Origin: http://127.0.0.1:{port}\r\n")).await;
    assert_eq!(code, 200);
    assert_eq!(
        support::header(&headers, "access-control-allow-origin"),
        Some(format!("http://127.0.0.1:{port}").as_str())
    );
}
