//! The HTTP fallback transport, for networks whose proxies refuse WebSocket
//! upgrades (what Socket.IO's polling was for): server-sent events carry
//! the server's messages down (`GET /ws/events`), POSTs carry the client's
//! up (`POST /ws/send`: the session's key on the first line, then one
//! message per line; the key is not in the URL, which proxies log). The
//! same node, the same messages and the same limits as the socket; only
//! framing differs.

use crate::limits::{RateGuard, Slot};
use crate::node::Node;
use crate::outbox::{outbox_pair, Inbox, Kick, Work};
use crate::ws::{self, Admit, Deadlines, Due, Signaling};
use app::protocol::PeerId;
use axum::body::{Body, Bytes};
use axum::extract::ws::Utf8Bytes;
use axum::extract::{ConnectInfo, Extension, RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use std::collections::{HashMap, VecDeque};
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;
use tokio::sync::mpsc;
use tokio::time::{sleep_until, timeout};

/// The open sessions, by the secret key their POSTs present. The key is not
/// the peer id: everyone in a room knows that one.
#[derive(Default)]
pub struct Sessions(Mutex<HashMap<String, Arc<Upstream>>>);

/// What a POST needs to speak for its session.
struct Upstream {
    id: PeerId,
    client: IpAddr,
    inbox: Arc<Inbox>,
    /// Held while a POST's lines go to the node: two requests racing would
    /// reorder a page's messages, and the rate is the session's, not the
    /// request's.
    rate: tokio::sync::Mutex<RateGuard>,
    /// The last POST (the page sends an empty one every 20 s): a page that
    /// vanished without closing its connection is noticed by its silence,
    /// as a socket's is.
    heard: Mutex<Instant>,
}

impl Upstream {
    fn heard(&self) -> Instant {
        *self.heard.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn hear(&self) {
        *self.heard.lock().unwrap_or_else(|poisoned| poisoned.into_inner()) = Instant::now();
    }
}

impl Sessions {
    fn lock(&self) -> MutexGuard<'_, HashMap<String, Arc<Upstream>>> {
        self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn get(&self, key: &str) -> Option<Arc<Upstream>> {
        self.lock().get(key).cloned()
    }
}

/// Unguessable, like a peer id: 128 bits from the OS-seeded CSPRNG.
fn new_key() -> String {
    format!("{:032x}", rand::random::<u128>())
}

/// One SSE event per message; JSON never holds a raw line break, so one
/// `data:` line carries it.
fn event(kind: Option<&str>, data: &str) -> String {
    match kind {
        Some(kind) => format!("event: {kind}\ndata: {data}\n\n"),
        None => format!("data: {data}\n\n"),
    }
}

/// Lets the static build, served from another origin the operator allowed,
/// read the stream and the answers to its POSTs.
fn allow_origin(headers: &HeaderMap, response: &mut Response) {
    if let Some(origin) = headers.get(header::ORIGIN) {
        response.headers_mut().insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin.clone());
        response.headers_mut().insert(header::VARY, HeaderValue::from_static("Origin"));
    }
}

/// `GET /ws/events[?resume=…]`: opens a session and streams its messages.
pub async fn events(
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    ticket: Option<Extension<crate::accept::Ticket>>,
    State(Signaling { node, origins, limits, http }): State<Signaling>,
) -> Response {
    if let Err(refused) = ws::check_origin(&origins, &headers) {
        return refused.into_response();
    }
    let (client, slot) = match ws::take_slot(&limits, peer, &headers) {
        Ok(taken) => taken,
        Err(refused) => return refused.into_response(),
    };
    // A signaling connection like a socket, not a page load to evict.
    if let Some(Extension(ticket)) = ticket {
        ticket.upgraded();
    }
    let (outbox, inbox) = outbox_pair();
    let id = node.connect(outbox, ws::resume_token(query.as_deref()).as_deref()).await;
    let key = new_key();
    let inbox = Arc::new(inbox);
    let now = Instant::now();
    let rate = tokio::sync::Mutex::new(RateGuard::new(limits.rate, now));
    let up = Arc::new(Upstream { id: id.clone(), client, inbox, rate, heard: Mutex::new(now) });
    http.lock().insert(key.clone(), up.clone());
    crate::metrics::http_sessions(1.0);
    tracing::debug!(peer = %id, "connected over HTTP");
    // Room for one write: the task waits for the body to take each batch,
    // which is how a client that stops reading is noticed.
    let (tx, rx) = mpsc::channel::<Bytes>(1);
    let down = Down { node, up, key, http, slot: Some(slot), limits };
    tokio::spawn(down.run(tx));
    let body = futures::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|bytes| (Ok::<_, std::convert::Infallible>(bytes), rx))
    });
    let mut response = Body::from_stream(body).into_response();
    let set = response.headers_mut();
    set.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/event-stream"));
    set.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    // nginx would otherwise hold the stream back in its buffer.
    set.insert("x-accel-buffering", HeaderValue::from_static("no"));
    allow_origin(&headers, &mut response);
    response
}

/// The task behind one event stream: the socket's `serve` loop with SSE
/// framing. Ending it ends the session the way a socket's end does.
struct Down {
    node: Arc<Node>,
    up: Arc<Upstream>,
    key: String,
    http: Arc<Sessions>,
    slot: Option<Slot>,
    limits: ws::Limits,
}

enum End {
    /// We closed it (a kick, or the page said goodbye).
    Closed,
    /// The client stopped reading, went away, or the node let go.
    Lost,
}

impl Down {
    async fn run(mut self, tx: mpsc::Sender<Bytes>) {
        let end = self.serve(&tx).await;
        self.http.lock().remove(&self.key);
        crate::metrics::http_sessions(-1.0);
        let lost = matches!(end, End::Lost);
        if let Some(slot) = self.slot.take() {
            self.node.disconnect(&self.up.id, &self.up.inbox, lost, slot);
        }
        tracing::debug!(peer = %self.up.id, lost, "HTTP session ended");
    }

    async fn serve(&self, tx: &mpsc::Sender<Bytes>) -> End {
        let send = async |text: String| {
            matches!(timeout(ws::SEND_TIMEOUT, tx.send(Bytes::from(text))).await, Ok(Ok(())))
        };
        let (id, inbox) = (&self.up.id, &self.up.inbox);
        if !send(event(Some("session"), &self.key)).await {
            return End::Lost;
        }
        let mut due = Deadlines::new(Instant::now(), &self.limits);
        loop {
            match inbox.take() {
                Work::Idle => {}
                Work::Send(queued) => {
                    if !send(batch(queued)).await {
                        return End::Lost;
                    }
                    continue;
                }
                Work::Close(kick, queued) => {
                    let close = serde_json::json!({ "code": kick.code, "reason": kick.reason });
                    let mut last = batch(queued);
                    last.push_str(&event(Some("close"), &close.to_string()));
                    let _ = send(last).await;
                    return End::Closed;
                }
                Work::Ended => return End::Lost,
            }
            // The POSTs are what the page sends, heartbeats included.
            due.heard = self.up.heard();
            tokio::select! {
                () = inbox.ready() => {}
                // The page closed the stream: hyper dropped the body.
                () = tx.closed() => return End::Lost,
                () = sleep_until(due.next().into()) => {
                    match due.fired(Instant::now(), &self.node, id, inbox) {
                        Due::Idle => return End::Lost,
                        Due::Go { ping: false } => {}
                        // A comment line: keeps proxies from timing the
                        // stream out.
                        Due::Go { ping: true } => {
                            if !send(":\n\n".to_owned()).await {
                                return End::Lost;
                            }
                        }
                    }
                }
            }
        }
    }
}

fn batch(queued: VecDeque<Utf8Bytes>) -> String {
    let mut out = String::with_capacity(queued.iter().map(|t| t.len() + 8).sum());
    for text in queued {
        out.push_str(&event(None, &text));
    }
    out
}

/// `POST /ws/send`: the session's key, then the page's messages, one per
/// line, in order (none: a heartbeat). `?end=1` (sent with
/// `navigator.sendBeacon` as a page goes away) ends the session as a
/// socket's close frame would: the others see the leave now, not after the
/// resume grace.
pub async fn send(
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    State(Signaling { node, origins, limits, http }): State<Signaling>,
    body: Bytes,
) -> Response {
    if let Err(refused) = ws::check_origin(&origins, &headers) {
        return refused.into_response();
    }
    let end = query.is_some_and(|q| q.split('&').any(|pair| pair == "end=1"));
    let mut response = match std::str::from_utf8(&body) {
        Err(_) => (StatusCode::BAD_REQUEST, "messages must be UTF-8 text").into_response(),
        Ok(text) => {
            let (key, lines) = text.split_once('\n').unwrap_or((text, ""));
            match http.get(key.trim_end_matches('\r')) {
                None => (StatusCode::NOT_FOUND, "no such session: open a new one").into_response(),
                Some(up) if end => {
                    up.inbox.kick(Kick { code: 1000, reason: "the page went away".into(), flush: false });
                    StatusCode::NO_CONTENT.into_response()
                }
                Some(up) => {
                    up.hear();
                    deliver(&up, lines, &node, &limits).await;
                    StatusCode::NO_CONTENT.into_response()
                }
            }
        }
    };
    allow_origin(&headers, &mut response);
    response
}

async fn deliver(up: &Upstream, text: &str, node: &Node, limits: &ws::Limits) {
    let mut rate = up.rate.lock().await;
    for line in text.split('\n').filter(|line| !line.is_empty()) {
        // A request still on its way when the page resumed on a new stream
        // no longer speaks for the peer.
        if !node.speaks_for(&up.id, &up.inbox) {
            return;
        }
        match ws::admit(line.len(), Instant::now(), &mut rate, node, &up.id, limits) {
            Admit::Pass => {
                node.receive(&up.id, line, up.client).await;
            }
            Admit::Drop => {}
            Admit::Kick(kick) => {
                up.inbox.kick(kick);
                return;
            }
        }
    }
}
