//! The WebSocket transport: moves frames between a socket and the [`Node`].
//! No room logic lives here.

use crate::accept::Ticket;
use crate::client_ip::TrustedProxies;
use crate::limits::{PerAddress, Rate, RateGuard, RateLimit, Slot};
use crate::node::Node;
use crate::origin::{OriginPolicy, Verdict};
use crate::outbox::{outbox_pair, Inbox, Kick, Work};
use app::protocol::{ErrorCode, PeerId, CLOSE_BAD_DATA, CLOSE_PROTOCOL, CLOSE_TOO_BIG, CLOSE_TOO_SLOW};
use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::extract::{ConnectInfo, Extension, RawQuery, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use futures::SinkExt;
use std::collections::VecDeque;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::time::{sleep_until, timeout};

/// Browsers answer pings by themselves; this keeps NATs open and lets a
/// silently dead connection be noticed.
const PING_EVERY: Duration = Duration::from_secs(20);
/// No frame at all (pongs included) for this long means the peer is gone.
const IDLE_LIMIT: Duration = Duration::from_secs(60);
/// A client that accepts nothing for this long is dropped.
pub(crate) const SEND_TIMEOUT: Duration = Duration::from_secs(10);
/// After a kick, how long the writer gets to deliver the close frame, and
/// then the client to answer it (RFC 6455 §7.1.1: the TCP connection is
/// closed only after the closing handshake, or its reset could destroy the
/// close frame and the error before it in the client's receive buffer).
const KICK_GRACE: Duration = Duration::from_secs(5);

/// The socket layer's read buffer is allocated up front, zero-filled before
/// every read (so every byte of it is resident) and read into at most this
/// much at a time. Most client frames (chat, a nickname, a join) are a few
/// hundred bytes; an SDP grows the buffer to its size for that one frame.
/// At 4 KiB it was a third of what an idle connection cost.
const READ_BUFFER: usize = 512;
/// Frames queued for a socket are gathered up to this much per write.
const WRITE_BUFFER: usize = 4 * 1024;

/// What the `/ws` routes need.
#[derive(Clone)]
pub struct Signaling {
    pub node: Arc<Node>,
    pub origins: Arc<OriginPolicy>,
    pub limits: Limits,
    /// The HTTP fallback's open sessions.
    pub http: Arc<crate::fallback::Sessions>,
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

/// Longer than any token we issue: anything longer is not worth checking.
const MAX_TOKEN_CHARS: usize = 128;

/// The token of `?resume=<token>`, if the page brought one.
pub(crate) fn resume_token(query: Option<&str>) -> Option<String> {
    let token = query?.split('&').find_map(|pair| pair.strip_prefix("resume="))?;
    (!token.is_empty() && token.len() <= MAX_TOKEN_CHARS).then(|| token.to_owned())
}

pub async fn upgrade(
    ws: WebSocketUpgrade,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    ConnectInfo(client): ConnectInfo<SocketAddr>,
    ticket: Option<Extension<Ticket>>,
    State(Signaling { node, origins, limits, .. }): State<Signaling>,
) -> Response {
    if let Err(refused) = check_origin(&origins, &headers) {
        return refused.into_response();
    }
    let (client, slot) = match take_slot(&limits, client, &headers) {
        Ok(taken) => taken,
        Err(refused) => return refused.into_response(),
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
            connection(socket, node, limits, client, slot, resume_token(query.as_deref()))
        })
}

/// Why a signaling connection was refused before it opened.
#[derive(Debug, thiserror::Error)]
pub(crate) enum Refused {
    #[error("pages of this origin may not use this Noom server")]
    Origin,
    #[error("too many connections from your address")]
    TooMany,
}

impl IntoResponse for Refused {
    fn into_response(self) -> Response {
        let status = match self {
            Refused::Origin => StatusCode::FORBIDDEN,
            Refused::TooMany => StatusCode::TOO_MANY_REQUESTS,
        };
        (status, self.to_string()).into_response()
    }
}

/// Pages of other sites may not speak for their visitors. An Origin that is
/// present but unreadable is refused, not ignored.
pub(crate) fn check_origin(origins: &OriginPolicy, headers: &HeaderMap) -> Result<(), Refused> {
    let origin = headers.get(header::ORIGIN).map(|v| v.to_str().unwrap_or("\u{0}"));
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
    if origins.check(origin, host) == Verdict::Refused {
        tracing::info!(origin, "refused a connection from a page of another site");
        return Err(Refused::Origin);
    }
    Ok(())
}

/// The client's address and its place under the per-address limit.
pub(crate) fn take_slot(
    limits: &Limits,
    peer: SocketAddr,
    headers: &HeaderMap,
) -> Result<(IpAddr, Slot), Refused> {
    let client = limits.proxies.client_ip(peer.ip(), headers);
    let Some(slot) = limits.per_address.acquire(client) else {
        tracing::info!(ip = %client, "refused a connection: too many from one address");
        return Err(Refused::TooMany);
    };
    Ok((client, slot))
}

async fn connection(
    mut socket: WebSocket,
    node: Arc<Node>,
    limits: Limits,
    client: IpAddr,
    slot: Slot,
    resume: Option<String>,
) {
    let (outbox, inbox) = outbox_pair();
    let id = node.connect(outbox, resume.as_deref()).await;
    tracing::debug!(peer = %id, "connected");
    let end = serve(&mut socket, &inbox, &node, &id, &limits, client).await;
    // Nobody closed it: the page may come back to the session.
    let lost = matches!(end, End::Gone | End::Stopped);
    match end {
        // What the kick says to flush goes out, then our close frame, then
        // the client's answer is awaited (reading and dropping whatever it
        // still sends).
        End::Close(kick, queued) => {
            let _ = timeout(KICK_GRACE, async {
                if send_all(&mut socket, queued).await.is_ok() {
                    let frame = CloseFrame { code: kick.code, reason: kick.reason.into_owned().into() };
                    let _ = socket.send(Message::Close(Some(frame))).await;
                }
                drain(&mut socket).await;
            })
            .await;
        }
        // tungstenite has queued the answer to the client's close frame;
        // the next read writes it, then reports the end. After a write
        // failed or the node let go, the same read waits for the client.
        End::ClientClosed | End::Stopped => {
            let _ = timeout(KICK_GRACE, drain(&mut socket)).await;
        }
        End::Gone => {}
    }
    node.disconnect(&id, &inbox, lost, slot);
    tracing::debug!(peer = %id, "disconnected");
}

enum End {
    /// The client sent a close frame.
    ClientClosed,
    /// We close: the node's kick or the connection's own.
    Close(Kick, VecDeque<Utf8Bytes>),
    /// The client stopped reading or the node let go.
    Stopped,
    /// The connection died or went silent: there is nobody to answer.
    Gone,
}

async fn drain(socket: &mut WebSocket) {
    while let Some(Ok(_)) = socket.recv().await {}
}

/// Writes everything queued, then flushes once.
async fn send_all(socket: &mut WebSocket, queued: VecDeque<Utf8Bytes>) -> Result<(), ()> {
    let batch = async {
        for text in queued {
            socket.feed(Message::Text(text)).await?;
        }
        socket.flush().await
    };
    match timeout(SEND_TIMEOUT, batch).await {
        Ok(Ok(())) => Ok(()),
        _ => Err(()),
    }
}

/// When the one timer of a connection is due next, and what for: the same
/// for a socket and for a stream of the HTTP fallback.
pub(crate) struct Deadlines {
    /// When the client last sent anything.
    pub(crate) heard: Instant,
    ping: Instant,
    /// Until the client has a nickname.
    nickname: Option<Instant>,
}

/// What the timer found due.
pub(crate) enum Due {
    /// Nothing more: the idle limit passed.
    Idle,
    /// Keep going, after a ping when `true`.
    Go { ping: bool },
}

impl Deadlines {
    pub(crate) fn new(opened: Instant, limits: &Limits) -> Self {
        Deadlines {
            heard: opened,
            ping: opened + PING_EVERY,
            nickname: Some(opened + limits.nickname_timeout),
        }
    }

    pub(crate) fn next(&self) -> Instant {
        let idle = self.heard + IDLE_LIMIT;
        let next = idle.min(self.ping);
        self.nickname.map_or(next, |due| next.min(due))
    }

    /// The timer fired at `now`: a client without a nickname past its
    /// deadline is asked to close (once), and the next ping scheduled.
    pub(crate) fn fired(&mut self, now: Instant, node: &Node, id: &PeerId, inbox: &Inbox) -> Due {
        if now >= self.heard + IDLE_LIMIT {
            tracing::debug!(peer = %id, "idle timeout");
            return Due::Idle;
        }
        if self.nickname.is_some_and(|at| now >= at) {
            self.nickname = None;
            if !node.has_nickname(id) {
                tracing::debug!(peer = %id, "no nickname in time");
                let reason = "no nickname given in time".into();
                inbox.kick(Kick { code: CLOSE_TOO_SLOW, reason, flush: true });
            }
        }
        let ping = now >= self.ping;
        if ping {
            self.ping = now + PING_EVERY;
        }
        Due::Go { ping }
    }
}

/// One task per connection owns the whole socket: reading, writing what the
/// node queued, and one timer for pings, the idle limit and the nickname
/// deadline. (A socket split into halves paid a lock and a wake-up per
/// frame, and a timer armed per read.)
async fn serve(
    socket: &mut WebSocket,
    inbox: &Inbox,
    node: &Node,
    id: &PeerId,
    limits: &Limits,
    client: IpAddr,
) -> End {
    let opened = Instant::now();
    let mut rate = RateGuard::new(limits.rate, opened);
    let mut due = Deadlines::new(opened, limits);
    let timer = sleep_until(due.next().into());
    tokio::pin!(timer);
    loop {
        match inbox.take() {
            Work::Idle => {}
            Work::Send(queued) => {
                if send_all(socket, queued).await.is_err() {
                    return End::Stopped;
                }
            }
            Work::Close(kick, queued) => return End::Close(kick, queued),
            Work::Ended => return End::Stopped,
        }
        tokio::select! {
            () = inbox.ready() => {}
            next = socket.recv() => {
                let message = match next {
                    None => return End::Gone,
                    Some(Err(err)) => {
                        if let Some(kick) = read_failed(id, limits, err) {
                            inbox.kick(kick);
                            continue;
                        }
                        return End::Gone;
                    }
                    Some(Ok(message)) => message,
                };
                let now = Instant::now();
                due.heard = now;
                match read(message, now, &mut rate, node, id, limits, client).await {
                    Read::Go => {}
                    Read::Closed => return End::ClientClosed,
                    Read::Kick(kick) => inbox.kick(kick),
                }
            }
            () = &mut timer => {
                match due.fired(Instant::now(), node, id, inbox) {
                    Due::Idle => return End::Gone,
                    Due::Go { ping: false } => {}
                    Due::Go { ping: true } => {
                    let ping = socket.send(Message::Ping(Default::default()));
                    if !matches!(timeout(SEND_TIMEOUT, ping).await, Ok(Ok(()))) {
                        return End::Stopped;
                    }
                    }
                }
                timer.as_mut().reset(due.next().into());
            }
        }
    }
}

enum Read {
    Go,
    Closed,
    Kick(Kick),
}

/// One frame from the client, past the size and rate limits to the node.
async fn read(
    message: Message,
    now: Instant,
    rate: &mut RateGuard,
    node: &Node,
    id: &PeerId,
    limits: &Limits,
    client: IpAddr,
) -> Read {
    // Control frames count against the rate too: each ping costs a pong.
    let size = match &message {
        Message::Text(text) => text.len(),
        Message::Binary(bytes) => bytes.len(),
        Message::Ping(_) | Message::Pong(_) => 0,
        Message::Close(_) => return Read::Closed,
    };
    match admit(size, now, rate, node, id, limits) {
        Admit::Pass => {}
        Admit::Drop => return Read::Go,
        Admit::Kick(kick) => return Read::Kick(kick),
    }
    match message {
        Message::Ping(_) | Message::Pong(_) => {}
        Message::Text(text) => {
            node.receive(id, &text, client).await;
        }
        _ => node.reply_error(id, ErrorCode::BadMessage, "binary frames are not supported".into()),
    }
    Read::Go
}

/// What to do with one frame from a client, of either transport.
pub(crate) enum Admit {
    Pass,
    /// Over the rate: dropped (the client was told once).
    Drop,
    Kick(Kick),
}

/// The size and rate limits every frame from a client passes.
pub(crate) fn admit(
    size: usize,
    now: Instant,
    rate: &mut RateGuard,
    node: &Node,
    id: &PeerId,
    limits: &Limits,
) -> Admit {
    if size > limits.max_frame_bytes {
        return Admit::Kick(too_big(id, limits.max_frame_bytes));
    }
    match rate.check(now) {
        Rate::Pass => Admit::Pass,
        Rate::Refuse { first } => {
            if first {
                let message = format!(
                    "slow down: at most {} messages per second; these were dropped",
                    limits.rate.per_sec
                );
                node.reply_error(id, ErrorCode::RateLimited, message);
            }
            Admit::Drop
        }
        Rate::Close => {
            tracing::info!(peer = %id, "closing a connection that keeps flooding");
            Admit::Kick(Kick { code: CLOSE_TOO_SLOW, reason: "too many messages".into(), flush: true })
        }
    }
}

/// A frame the socket layer could not accept: the client is told why with
/// the close code RFC 6455 §7.4.1 gives for it, instead of a cut connection.
fn read_failed(id: &PeerId, limits: &Limits, err: axum::Error) -> Option<Kick> {
    use tungstenite::error::{Error as WsError, ProtocolError};
    let (code, reason) = match err.into_inner().downcast::<WsError>() {
        Ok(err) => match *err {
            WsError::Utf8(_) => (CLOSE_BAD_DATA, "text frame is not valid UTF-8"),
            WsError::Capacity(_) => return Some(too_big(id, limits.max_frame_bytes)),
            WsError::Protocol(ProtocolError::ResetWithoutClosingHandshake) => return None,
            WsError::Protocol(err) => {
                tracing::debug!(peer = %id, %err, "protocol error");
                (CLOSE_PROTOCOL, "WebSocket protocol error")
            }
            err => {
                tracing::debug!(peer = %id, %err, "socket error");
                return None;
            }
        },
        Err(err) => {
            tracing::debug!(peer = %id, %err, "socket error");
            return None;
        }
    };
    Some(Kick { code, reason: reason.into(), flush: true })
}

fn too_big(id: &PeerId, max: usize) -> Kick {
    tracing::debug!(peer = %id, "frame over {max} bytes");
    let reason = format!("message larger than {}", human_bytes(max));
    Kick { code: CLOSE_TOO_BIG, reason: reason.into(), flush: true }
}

fn human_bytes(n: usize) -> String {
    if n.is_multiple_of(1024) {
        format!("{} KiB", n / 1024)
    } else {
        format!("{n} bytes")
    }
}

#[cfg(test)]
mod tests {
    use super::resume_token;

    #[test]
    fn the_resume_token_comes_from_its_query_parameter() {
        assert_eq!(resume_token(Some("resume=abc_-1")), Some("abc_-1".into()));
        assert_eq!(resume_token(Some("x=1&resume=abc")), Some("abc".into()));
        for query in [None, Some(""), Some("resume="), Some("x=resume=abc"), Some("resumes=abc")] {
            assert_eq!(resume_token(query), None, "{query:?}");
        }
        assert_eq!(resume_token(Some(&format!("resume={}", "a".repeat(129)))), None);
    }
}
