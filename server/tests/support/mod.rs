//! Starts the real `server` binary on a free port and talks to it over real
//! WebSockets.

#![allow(dead_code)]

use app::protocol::{self, ClientMsg, ErrorCode, PeerId, ServerMsg};
use futures::{SinkExt, StreamExt};
use std::process::Stdio;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::net::TcpStream;
use tokio::process::{Child, Command};
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

pub const WAIT: Duration = Duration::from_secs(10);

pub struct Server {
    child: Child,
    /// The rest of its stdout: kept open, so later lines can be read (and
    /// the server never writes into a closed pipe).
    stdout: tokio::io::Lines<BufReader<tokio::process::ChildStdout>>,
    pub addr: String,
    /// `http` or `https`.
    pub scheme: String,
}

impl Server {
    pub async fn start() -> Server {
        Server::start_with(&[]).await
    }

    /// Starts the server with extra flags. `NOOM_TEST_LOG=debug` shows its logs.
    pub async fn start_with(extra: &[&str]) -> Server {
        let log = std::env::var("NOOM_TEST_LOG").unwrap_or("warn".into());
        Server::spawn(extra, &log, Stdio::inherit()).await
    }

    /// Starts the server with debug logging, collecting its log lines.
    pub async fn start_logged(extra: &[&str]) -> (Server, std::sync::Arc<std::sync::Mutex<String>>) {
        let mut server = Server::spawn(extra, "debug", Stdio::piped()).await;
        let log = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
        let mut lines = BufReader::new(server.child.stderr.take().unwrap()).lines();
        let sink = log.clone();
        tokio::spawn(async move {
            while let Ok(Some(line)) = lines.next_line().await {
                let mut log = sink.lock().unwrap();
                log.push_str(&line);
                log.push('\n');
            }
        });
        (server, log)
    }

    /// Starts the server with at most `nofile` open files (`ulimit -n`).
    pub async fn start_with_fd_limit(nofile: u32, extra: &[&str]) -> Server {
        let mut command = Command::new("sh");
        // `ulimit -Hn` too: the server raises its soft limit to the hard one.
        command.args(["-c", "ulimit -Sn $0 && ulimit -Hn $0 && exec \"$@\"", &nofile.to_string()]);
        command.arg(env!("CARGO_BIN_EXE_server"));
        Server::spawn_command(command, extra, "warn", Stdio::inherit()).await
    }

    async fn spawn(extra: &[&str], log: &str, stderr: Stdio) -> Server {
        Server::spawn_command(Command::new(env!("CARGO_BIN_EXE_server")), extra, log, stderr).await
    }

    async fn spawn_command(mut command: Command, extra: &[&str], log: &str, stderr: Stdio) -> Server {
        let mut child = command
            .args(["--addr", "127.0.0.1:0", "--lobby-interval-ms", "50", "--log", log])
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(stderr)
            .kill_on_drop(true)
            .spawn()
            .expect("server binary starts");
        let stdout = child.stdout.take().unwrap();
        let mut lines = BufReader::new(stdout).lines();
        let line = tokio::time::timeout(WAIT, lines.next_line())
            .await
            .expect("server prints its address in time")
            .unwrap()
            .expect("a listening line");
        let (scheme, addr) = line
            .strip_prefix("noom listening on ")
            .and_then(|url| url.split_once("://"))
            .unwrap_or_else(|| panic!("unexpected first line: {line}"));
        Server { child, stdout: lines, addr: addr.to_owned(), scheme: scheme.to_owned() }
    }

    /// The media engine's announced address (`--media-mode sfu`), from the
    /// line the server prints after its listening line.
    pub async fn media_addr(&mut self) -> std::net::SocketAddr {
        let line = tokio::time::timeout(WAIT, self.stdout.next_line())
            .await
            .expect("the media line in time")
            .unwrap()
            .expect("a media line");
        let addr =
            line.strip_prefix("noom media on udp://").unwrap_or_else(|| panic!("unexpected line: {line}"));
        addr.parse().expect("an address")
    }

    /// `kill -9`: no goodbye to anyone.
    pub async fn kill(&mut self) {
        let _ = self.child.kill().await;
    }

    /// `kill -TERM`, as systemd stops a service; returns how it exited.
    pub async fn terminate(&mut self) -> std::process::ExitStatus {
        let pid = self.child.id().expect("still running").to_string();
        let sent = Command::new("kill").args(["-TERM", &pid]).status().await.expect("kill runs");
        assert!(sent.success());
        tokio::time::timeout(WAIT, self.child.wait()).await.expect("exits in time").expect("exit status")
    }

    pub fn pid(&self) -> u32 {
        self.child.id().expect("running")
    }

    pub fn ws_url(&self) -> String {
        format!("ws://{}/ws", self.addr)
    }

    /// The port alone, for URLs that must name the host (`localhost`).
    pub fn port(&self) -> u16 {
        self.addr.rsplit(':').next().and_then(|p| p.parse().ok()).expect("a port")
    }
}

/// A plain HTTP/1.1 exchange over any stream: (status, lower-cased headers,
/// body). Enough for the pages' headers and markup.
pub async fn http_get<S>(stream: &mut S, host: &str, path: &str) -> (u16, Vec<(String, String)>, String)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let request = format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut raw = Vec::new();
    let _ = tokio::time::timeout(WAIT, stream.read_to_end(&mut raw)).await.expect("a response in time");
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").expect("a header block");
    let mut lines = head.lines();
    let status = lines.next().and_then(|l| l.split(' ').nth(1)).and_then(|s| s.parse().ok()).expect("status");
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    (status, headers, body.to_owned())
}

pub fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

pub type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

pub struct Client {
    ws: Socket,
    pub id: PeerId,
    /// The room list the server sent on connecting.
    pub initial_rooms: Vec<app::protocol::RoomSummary>,
    /// The token from the latest `welcome`, to resume this session with.
    pub resume: Option<String>,
}

impl Client {
    /// Connects and consumes the `welcome` and initial `rooms` messages.
    pub async fn connect(server: &Server) -> Client {
        let (ws, _) = tokio_tungstenite::connect_async(server.ws_url()).await.expect("ws connects");
        Client::welcomed(ws).await
    }

    /// As `connect`, from a chosen loopback address (127.0.0.0/8 all answers).
    pub async fn connect_from(server: &Server, source: std::net::IpAddr) -> Client {
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket.bind(std::net::SocketAddr::new(source, 0)).unwrap();
        let tcp = socket.connect(server.addr.parse().unwrap()).await.expect("tcp connects");
        let (ws, _) = tokio_tungstenite::client_async(server.ws_url(), MaybeTlsStream::Plain(tcp))
            .await
            .expect("ws connects");
        Client::welcomed(ws).await
    }

    /// As `connect`, through a proxy that says the client is `chain`
    /// (an `X-Forwarded-For` value).
    pub async fn forwarded_for(server: &Server, chain: &str) -> Client {
        use tokio_tungstenite::tungstenite::client::IntoClientRequest;
        let mut request = server.ws_url().into_client_request().unwrap();
        request.headers_mut().insert("x-forwarded-for", chain.parse().unwrap());
        let (ws, _) = tokio_tungstenite::connect_async(request).await.expect("ws connects");
        Client::welcomed(ws).await
    }

    async fn welcomed(ws: Socket) -> Client {
        let mut client = Client { ws, id: PeerId(String::new()), initial_rooms: Vec::new(), resume: None };
        match client.recv().await {
            ServerMsg::Welcome { id, resume, .. } => {
                client.id = id;
                client.resume = resume;
            }
            other => panic!("expected welcome, got {other:?}"),
        }
        match client.recv().await {
            ServerMsg::Rooms { rooms } => client.initial_rooms = rooms,
            other => panic!("expected rooms, got {other:?}"),
        }
        client
    }

    /// Opens a socket presenting `token` as a page coming back does
    /// (`?resume=`) and reads only its `welcome`; says whether the server
    /// still held the session.
    pub async fn resuming(server: &Server, token: &str) -> (Client, bool) {
        let url = format!("{}?resume={token}", server.ws_url());
        let (ws, _) = tokio_tungstenite::connect_async(url).await.expect("ws connects");
        let mut client = Client { ws, id: PeerId(String::new()), initial_rooms: Vec::new(), resume: None };
        match client.recv().await {
            ServerMsg::Welcome { id, resume, resumed, .. } => {
                client.id = id;
                client.resume = resume;
                (client, resumed)
            }
            other => panic!("expected welcome, got {other:?}"),
        }
    }

    /// Connects, sets a nickname and joins `room`, consuming the replies.
    pub async fn in_room(server: &Server, nickname: &str, room: &str) -> Client {
        Client::in_room_with(server, nickname, room, None).await
    }

    /// As `in_room`, giving a passcode (which sets it if the room is new).
    pub async fn in_room_with(server: &Server, nickname: &str, room: &str, passcode: Option<&str>) -> Client {
        let mut c = Client::named(server, nickname).await;
        c.send(&ClientMsg::Join { room: room.into(), passcode: passcode.map(Into::into) }).await;
        c.recv_until(|m| matches!(m, ServerMsg::Joined { .. })).await;
        c
    }

    /// Connects and sets a nickname, in the lobby.
    pub async fn named(server: &Server, nickname: &str) -> Client {
        let mut c = Client::connect(server).await;
        c.send(&ClientMsg::SetNickname { nickname: nickname.into() }).await;
        c.recv_until(|m| matches!(m, ServerMsg::NicknameSet { .. })).await;
        c
    }

    /// The socket itself, for frames the protocol would never send.
    pub fn socket(&mut self) -> &mut Socket {
        &mut self.ws
    }

    /// The next frame of any kind; `None` once the socket is gone.
    pub async fn next_frame(&mut self) -> Option<Message> {
        self.ws.next().await.and_then(Result::ok)
    }

    pub async fn send(&mut self, msg: &ClientMsg) {
        self.send_raw(protocol::encode(msg)).await;
    }

    pub async fn send_raw(&mut self, text: impl Into<String>) {
        self.ws.send(Message::text(text.into())).await.expect("send");
    }

    /// Like `send_raw`, for a client that expects to be cut off: `false`
    /// once the server has closed the socket.
    pub async fn try_send_raw(&mut self, text: impl Into<String>) -> bool {
        self.ws.send(Message::text(text.into())).await.is_ok()
    }

    pub async fn send_binary(&mut self, bytes: Vec<u8>) {
        self.ws.send(Message::binary(bytes)).await.expect("send");
    }

    /// The next server message (pings are answered by the library).
    pub async fn recv(&mut self) -> ServerMsg {
        loop {
            let frame = tokio::time::timeout(WAIT, self.ws.next())
                .await
                .expect("a message in time")
                .expect("socket open")
                .expect("no socket error");
            match frame {
                Message::Text(text) => return protocol::decode_server(&text).expect("valid server message"),
                Message::Close(frame) => panic!("closed: {frame:?}"),
                _ => continue,
            }
        }
    }

    /// The next server message if one comes within `wait`.
    pub async fn try_recv(&mut self, wait: Duration) -> Option<ServerMsg> {
        loop {
            let frame = tokio::time::timeout(wait, self.ws.next()).await.ok()?;
            match frame.expect("socket open").expect("no socket error") {
                Message::Text(text) => {
                    return Some(protocol::decode_server(&text).expect("valid server message"))
                }
                Message::Close(frame) => panic!("closed: {frame:?}"),
                _ => continue,
            }
        }
    }

    /// Skips messages until one matches (e.g. past lobby updates).
    pub async fn recv_until(&mut self, pred: impl Fn(&ServerMsg) -> bool) -> ServerMsg {
        loop {
            let msg = self.recv().await;
            if pred(&msg) {
                return msg;
            }
        }
    }

    pub async fn expect_error(&mut self, code: ErrorCode) -> String {
        match self.recv_until(|m| matches!(m, ServerMsg::Error { .. })).await {
            ServerMsg::Error { code: got, message } => {
                assert_eq!(got, code, "{message}");
                assert!(!message.is_empty());
                message
            }
            _ => unreachable!(),
        }
    }

    /// Proves the connection still works: a nickname round trip. Also a
    /// barrier: anything the server sent before it has been received.
    pub async fn ping_pong(&mut self) -> Vec<ServerMsg> {
        self.send(&ClientMsg::SetNickname { nickname: "still-here".into() }).await;
        let mut before = Vec::new();
        loop {
            match self.recv().await {
                ServerMsg::NicknameSet { nickname } if nickname == "still-here" => return before,
                other => before.push(other),
            }
        }
    }

    /// Waits for the server to close the socket; returns its close frame.
    pub async fn expect_close(&mut self) -> Option<CloseFrame> {
        loop {
            let frame = tokio::time::timeout(WAIT, self.ws.next()).await.expect("closed in time");
            match frame {
                Some(Ok(Message::Close(frame))) => return frame,
                Some(Ok(_)) => continue,
                Some(Err(e)) => panic!("socket error before close frame: {e}"),
                None => return None,
            }
        }
    }

    /// Separate halves, for a client that sends and reads at the same time.
    pub fn split(
        self,
    ) -> (futures::stream::SplitSink<Socket, Message>, futures::stream::SplitStream<Socket>) {
        self.ws.split()
    }

    /// Leaves as a browser does: a close frame, then the server's answer
    /// (dropping the socket before reading what is queued for it could
    /// reset the connection, which looks like a dropped network).
    pub async fn close(mut self) {
        let _ = self.ws.close(None).await;
        let _ = tokio::time::timeout(WAIT, async { while let Some(Ok(_)) = self.ws.next().await {} }).await;
    }
}

/// A real redis-server of our own on a free loopback port.
pub struct Redis {
    child: Option<Child>,
    pub port: u16,
}

impl Redis {
    pub async fn start() -> Redis {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let mut redis = Redis { child: None, port };
        redis.spawn().await;
        redis
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    async fn spawn(&mut self) {
        let child = Command::new("redis-server")
            .args([
                "--port",
                &self.port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .stdout(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("redis-server is installed (scripts/setup.sh)");
        self.child = Some(child);
        for _ in 0..100 {
            if TcpStream::connect(("127.0.0.1", self.port)).await.is_ok() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("redis-server did not start");
    }

    pub async fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill().await;
        }
    }

    /// Stops and starts again, empty, on the same port.
    pub async fn restart(&mut self) {
        self.stop().await;
        self.spawn().await;
    }
}

/// The count of `room` a lobby message tells, if it tells one (0 = gone).
pub fn room_count(msg: &ServerMsg, room: &str) -> Option<u32> {
    match msg {
        ServerMsg::RoomsChanged { changed, removed } => {
            if removed.iter().any(|r| r == room) {
                Some(0)
            } else {
                changed.iter().find(|r| r.name == room).map(|r| r.count)
            }
        }
        ServerMsg::Rooms { rooms } => Some(rooms.iter().find(|r| r.name == room).map_or(0, |r| r.count)),
        _ => None,
    }
}
