//! The WebSocket transport: moves frames between a socket and the [`Node`].
//! No room logic lives here.

use crate::accept::Ticket;
use crate::client_ip::TrustedProxies;
use crate::limits::{PerAddress, Rate, RateGuard, RateLimit, Slot};
use crate::node::{new_peer_id, outbox_pair, Inbox, Kick, Node};
use crate::origin::{OriginPolicy, Verdict};
use app::protocol::{ErrorCode, PeerId, CLOSE_BAD_DATA, CLOSE_PROTOCOL, CLOSE_TOO_BIG, CLOSE_TOO_SLOW};
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::{ConnectInfo, Extension, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use futures::stream::{SplitSink, SplitStream};
use futures::{SinkExt, StreamExt};
use std::net::{IpAddr, SocketAddr};
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
/// After a kick, how long the writer gets to deliver the close frame, and
/// then the client to answer it (RFC 6455 §7.1.1: the TCP connection is
/// closed only after the closing handshake, or its reset could destroy the
/// close frame and the error before it in the client's receive buffer).
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
    /// A socket with no nickname this long after it opened is closed: it
    /// holds a descriptor and a lobby subscription for nobody.
    pub nickname_timeout: Duration,
    pub proxies: Arc<TrustedProxies>,
}

pub async fn upgrade(
    ws: WebSocketUpgrade,
    headers: HeaderMap,
    ConnectInfo(client): ConnectInfo<SocketAddr>,
    ticket: Option<Extension<Ticket>>,
    State(Signaling { node, origins, limits }): State<Signaling>,
) -> Response {
    // An Origin that is present but unreadable is refused, not ignored.
    let origin = headers.get(header::ORIGIN).map(|v| v.to_str().unwrap_or("\u{0}"));
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
    if origins.check(origin, host) == Verdict::Refused {
        tracing::info!(origin, "refused a socket from a page of another site");
        return (StatusCode::FORBIDDEN, "pages of this origin may not use this Noom server").into_response();
    }
    let client = limits.proxies.client_ip(client.ip(), &headers);
    let Some(slot) = limits.per_address.acquire(client) else {
        tracing::info!(ip = %client, "refused a socket: too many from one address");
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
        .on_upgrade(move |socket| {
            // From here the socket counts against the per-address socket
            // limit, not against the connections still being set up.
            if let Some(Extension(ticket)) = ticket {
                ticket.upgraded();
            }
            connection(socket, node, limits, client, slot)
        })
}

async fn connection(socket: WebSocket, node: Arc<Node>, limits: Limits, client: IpAddr, _slot: Slot) {
    let id = new_peer_id();
    let (outbox, inbox) = outbox_pair();
    node.connect(id.clone(), outbox);
    tracing::debug!(peer = %id, "connected");

    let (sink, mut stream) = socket.split();
    let writer = write_loop(sink, inbox);
    tokio::pin!(writer);
    let end = tokio::select! {
        _ = &mut writer => ReadEnd::WriterDone,
        end = read_loop(&mut stream, &node, &id, &limits, client) => end,
    };
    match end {
        // Our close frame goes out, then the client's answer is awaited
        // (reading and dropping whatever it still sends).
        ReadEnd::Kicked => {
            let _ = timeout(KICK_GRACE, async {
                (&mut writer).await;
                drain(&mut stream).await;
            })
            .await;
        }
        // tungstenite has queued the answer to the client's close frame;
        // the next read writes it, then reports the end. After the writer
        // closed the socket itself (a kick from the node), the same read
        // waits for the client's answer.
        ReadEnd::ClientClosed | ReadEnd::WriterDone => {
            let _ = timeout(KICK_GRACE, drain(&mut stream)).await;
        }
        ReadEnd::Gone => {}
    }
    node.disconnect(&id);
    tracing::debug!(peer = %id, "disconnected");
}

#[derive(PartialEq, Eq)]
enum ReadEnd {
    /// The client sent a close frame.
    ClientClosed,
    /// We asked the writer to close the socket.
    Kicked,
    /// The writer ended by itself: closed on the node's word, or the client
    /// stopped reading.
    WriterDone,
    /// The connection died or went silent: there is nobody to answer.
    Gone,
}

async fn drain(stream: &mut SplitStream<WebSocket>) {
    while let Some(Ok(_)) = stream.next().await {}
}

async fn read_loop(
    stream: &mut SplitStream<WebSocket>,
    node: &Node,
    id: &PeerId,
    limits: &Limits,
    client: IpAddr,
) -> ReadEnd {
    let mut rate = RateGuard::new(limits.rate, Instant::now());
    // The nickname deadline shortens the idle timeout already armed for
    // each read rather than arming a timer of its own: idle connections are
    // what a node holds most of, so each one's size counts.
    let nickname_due = Instant::now() + limits.nickname_timeout;
    let mut named = false;
    loop {
        let wait = if named {
            IDLE_LIMIT
        } else {
            IDLE_LIMIT.min(nickname_due.saturating_duration_since(Instant::now()))
        };
        let next = timeout(wait, stream.next()).await;
        if next.is_err() && !named && Instant::now() >= nickname_due {
            named = node.has_nickname(id);
            if !named {
                tracing::debug!(peer = %id, "no nickname in time");
                let reason = "no nickname given in time".into();
                node.kick(id, Kick { code: CLOSE_TOO_SLOW, reason, flush: true });
                return ReadEnd::Kicked;
            }
            continue;
        }
        let message = match next {
            Err(_) => {
                tracing::debug!(peer = %id, "idle timeout");
                return ReadEnd::Gone;
            }
            Ok(None) => return ReadEnd::Gone,
            Ok(Some(Err(err))) => return read_failed(node, id, limits, err),
            Ok(Some(Ok(message))) => message,
        };
        // Control frames count against the rate too: each ping costs a pong.
        let size = match &message {
            Message::Text(text) => text.len(),
            Message::Binary(bytes) => bytes.len(),
            Message::Ping(_) | Message::Pong(_) => 0,
            Message::Close(_) => return ReadEnd::ClientClosed,
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
            Message::Ping(_) | Message::Pong(_) => {}
            Message::Text(text) => {
                node.receive(id, &text, client).await;
            }
            _ => node.reply_error(id, ErrorCode::BadMessage, "binary frames are not supported".into()),
        }
    }
}

/// A frame the socket layer could not accept: the client is told why with
/// the close code RFC 6455 §7.4.1 gives for it, instead of a cut connection.
fn read_failed(node: &Node, id: &PeerId, limits: &Limits, err: axum::Error) -> ReadEnd {
    use tungstenite::error::{Error as WsError, ProtocolError};
    let (code, reason) = match err.into_inner().downcast::<WsError>() {
        Ok(err) => match *err {
            WsError::Utf8(_) => (CLOSE_BAD_DATA, "text frame is not valid UTF-8"),
            WsError::Capacity(_) => return too_big(node, id, limits.max_frame_bytes),
            WsError::Protocol(ProtocolError::ResetWithoutClosingHandshake) => return ReadEnd::Gone,
            WsError::Protocol(err) => {
                tracing::debug!(peer = %id, %err, "protocol error");
                (CLOSE_PROTOCOL, "WebSocket protocol error")
            }
            err => {
                tracing::debug!(peer = %id, %err, "socket error");
                return ReadEnd::Gone;
            }
        },
        Err(err) => {
            tracing::debug!(peer = %id, %err, "socket error");
            return ReadEnd::Gone;
        }
    };
    node.kick(id, Kick { code, reason: reason.into(), flush: true });
    ReadEnd::Kicked
}

fn too_big(node: &Node, id: &PeerId, max: usize) -> ReadEnd {
    tracing::debug!(peer = %id, "frame over {max} bytes");
    let reason = format!("message larger than {}", human_bytes(max));
    node.kick(id, Kick { code: CLOSE_TOO_BIG, reason: reason.into(), flush: true });
    ReadEnd::Kicked
}

fn human_bytes(n: usize) -> String {
    if n.is_multiple_of(1024) {
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
