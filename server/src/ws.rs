//! The WebSocket transport: moves frames between a socket and the [`Node`].
//! No room logic lives here.

use crate::limits::{PerAddress, Rate, RateGuard, RateLimit, Slot};
use crate::node::{new_peer_id, outbox_pair, Inbox, Kick, Node};
use crate::origin::{OriginPolicy, Verdict};
use app::protocol::{ErrorCode, PeerId, CLOSE_TOO_BIG, CLOSE_TOO_SLOW};
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::{ConnectInfo, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use futures::stream::{SplitSink, SplitStream};
use futures::{SinkExt, StreamExt};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::time::{interval, timeout, MissedTickBehavior};

/// Browsers answer pings by themselves; this keeps NATs open and lets a
/// silently dead connection be noticed.
const PING_EVERY: Duration = Duration::from_secs(20);
/// No frame at all (pongs included) for this long means the peer is gone.
const IDLE_LIMIT: Duration = Duration::from_secs(60);
/// A client that accepts nothing for this long is dropped.
const SEND_TIMEOUT: Duration = Duration::from_secs(10);
/// After a kick, how long the writer gets to deliver the close frame.
const KICK_GRACE: Duration = Duration::from_secs(5);

/// Initial socket buffers: most of what an idle connection costs.
const READ_BUFFER: usize = 4 * 1024;
const WRITE_BUFFER: usize = 4 * 1024;

/// What the `/ws` route needs.
#[derive(Clone)]
pub struct Signaling {
    pub node: Arc<Node>,
    pub origins: Arc<OriginPolicy>,
    pub limits: Limits,
}

/// The transport's share of the abuse limits (the hub enforces the rest).
#[derive(Clone)]
pub struct Limits {
    pub max_frame_bytes: usize,
    pub rate: RateLimit,
    pub per_address: Arc<PerAddress>,
}

pub async fn upgrade(
    ws: WebSocketUpgrade,
    headers: HeaderMap,
    ConnectInfo(client): ConnectInfo<SocketAddr>,
    State(Signaling { node, origins, limits }): State<Signaling>,
) -> Response {
    // An Origin that is present but unreadable is refused, not ignored.
    let origin = headers.get(header::ORIGIN).map(|v| v.to_str().unwrap_or("\u{0}"));
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
    if origins.check(origin, host) == Verdict::Refused {
        tracing::info!(origin, "refused a socket from a page of another site");
        return (StatusCode::FORBIDDEN, "pages of this origin may not use this Noom server").into_response();
    }
    let Some(slot) = limits.per_address.acquire(client.ip()) else {
        tracing::info!(ip = %client.ip(), "refused a socket: too many from one address");
        return (StatusCode::TOO_MANY_REQUESTS, "too many connections from your address").into_response();
    };
    // The socket layer accepts a little more than our limit so that an
    // oversized message can be refused with a close reason rather than a
    // bare protocol error; far larger ones still fail fast there.
    let socket_limit = limits.max_frame_bytes.saturating_mul(4);
    ws.max_message_size(socket_limit)
        .max_frame_size(socket_limit)
        // The defaults (128 KiB each) are allocated per connection up front;
        // signaling frames are small, and the buffers grow when one is not.
        .read_buffer_size(READ_BUFFER)
        .write_buffer_size(WRITE_BUFFER)
        .on_upgrade(move |socket| connection(socket, node, limits, client, slot))
}

async fn connection(socket: WebSocket, node: Arc<Node>, limits: Limits, client: SocketAddr, _slot: Slot) {
    let id = new_peer_id();
    let (outbox, inbox) = outbox_pair();
    node.connect(id.clone(), outbox);
    tracing::debug!(peer = %id, "connected");

    let (sink, stream) = socket.split();
    let writer = write_loop(sink, inbox);
    let reader = read_loop(stream, &node, &id, &limits, client);
    tokio::pin!(writer);
    tokio::select! {
        _ = &mut writer => {}
        end = reader => {
            if end == ReadEnd::Kicked {
                let _ = timeout(KICK_GRACE, &mut writer).await;
            }
        }
    }
    node.disconnect(&id);
    tracing::debug!(peer = %id, "disconnected");
}

#[derive(PartialEq, Eq)]
enum ReadEnd {
    Closed,
    Kicked,
}

async fn read_loop(
    mut stream: SplitStream<WebSocket>,
    node: &Node,
    id: &PeerId,
    limits: &Limits,
    client: SocketAddr,
) -> ReadEnd {
    let mut rate = RateGuard::new(limits.rate, Instant::now());
    loop {
        let message = match timeout(IDLE_LIMIT, stream.next()).await {
            Err(_) => {
                tracing::debug!(peer = %id, "idle timeout");
                return ReadEnd::Closed;
            }
            Ok(None) => return ReadEnd::Closed,
            Ok(Some(Err(err))) => {
                tracing::debug!(peer = %id, %err, "socket error");
                return ReadEnd::Closed;
            }
            Ok(Some(Ok(message))) => message,
        };
        let size = match &message {
            Message::Text(text) => text.len(),
            Message::Binary(bytes) => bytes.len(),
            Message::Ping(_) | Message::Pong(_) => continue,
            Message::Close(_) => return ReadEnd::Closed,
        };
        if size > limits.max_frame_bytes {
            return too_big(node, id, limits.max_frame_bytes);
        }
        match rate.check(Instant::now()) {
            Rate::Pass => {}
            Rate::Refuse { first } => {
                if first {
                    let message = format!(
                        "slow down: at most {} messages per second; these were dropped",
                        limits.rate.per_sec
                    );
                    node.reply_error(id, ErrorCode::RateLimited, message);
                }
                continue;
            }
            Rate::Close => {
                tracing::info!(peer = %id, "closing a connection that keeps flooding");
                node.kick(id, Kick { code: CLOSE_TOO_SLOW, reason: "too many messages".into(), flush: true });
                return ReadEnd::Kicked;
            }
        }
        match message {
            Message::Text(text) => {
                let refused = node.receive(id, &text).await;
                if refused == Some(ErrorCode::WrongPasscode)
                    && limits.per_address.wrong_passcode(client.ip(), Instant::now())
                {
                    tracing::info!(ip = %client.ip(), "shutting out an address that keeps guessing passcodes");
                    let kick =
                        Kick { code: CLOSE_TOO_SLOW, reason: "too many wrong passcodes".into(), flush: true };
                    node.kick(id, kick);
                    return ReadEnd::Kicked;
                }
            }
            _ => node.reply_error(id, ErrorCode::BadMessage, "binary frames are not supported".into()),
        }
    }
}

fn too_big(node: &Node, id: &PeerId, max: usize) -> ReadEnd {
    tracing::debug!(peer = %id, "frame over {max} bytes");
    let reason = format!("message larger than {}", human_bytes(max));
    node.kick(id, Kick { code: CLOSE_TOO_BIG, reason: reason.into(), flush: true });
    ReadEnd::Kicked
}

fn human_bytes(n: usize) -> String {
    if n % 1024 == 0 {
        format!("{} KiB", n / 1024)
    } else {
        format!("{n} bytes")
    }
}

async fn write_loop(mut sink: SplitSink<WebSocket, Message>, mut inbox: Inbox) {
    let mut ping = interval(PING_EVERY);
    ping.set_missed_tick_behavior(MissedTickBehavior::Delay);
    ping.tick().await;
    loop {
        tokio::select! {
            biased;
            kick = &mut inbox.kick => {
                if let Ok(kick) = kick {
                    if kick.flush {
                        let drain = async {
                            while let Ok(text) = inbox.messages.try_recv() {
                                sink.feed(Message::Text(text)).await?;
                            }
                            sink.flush().await
                        };
                        let _ = timeout(KICK_GRACE, drain).await;
                    }
                    let frame = CloseFrame { code: kick.code, reason: kick.reason.into_owned().into() };
                    let _ = sink.send(Message::Close(Some(frame))).await;
                }
                return;
            }
            text = inbox.messages.recv() => match text {
                Some(text) => {
                    // Write everything already queued, then flush once.
                    let batch = async {
                        sink.feed(Message::Text(text)).await?;
                        while let Ok(more) = inbox.messages.try_recv() {
                            sink.feed(Message::Text(more)).await?;
                        }
                        sink.flush().await
                    };
                    if !matches!(timeout(SEND_TIMEOUT, batch).await, Ok(Ok(()))) {
                        return;
                    }
                }
                None => return,
            },
            _ = ping.tick() => {
                let ping = sink.send(Message::Ping(Default::default()));
                if !matches!(timeout(SEND_TIMEOUT, ping).await, Ok(Ok(()))) {
                    return;
                }
            }
        }
    }
}
