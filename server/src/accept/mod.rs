//! The door every TCP connection comes through: the [`gate`]'s caps, a
//! deadline for the TLS handshake and for every request head (hyper's, so a
//! slowloris or a socket that never speaks is closed), and a lingering close
//! so that a close frame or an error is not destroyed by a TCP reset.

pub mod gate;

use crate::client_ip::TrustedProxies;
use axum::extract::ConnectInfo;
use axum::Router;
use gate::{Admit, ConnId, Gate, GateLimits, Refusal};
use hyper::body::Incoming;
use hyper::server::conn::{http1, http2};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use std::collections::HashMap;
use std::io;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;
use tokio_rustls::TlsAcceptor;
use tower::Service;

/// How long a closed connection keeps reading what the client still sends,
/// and how much of it, before the socket is let go.
const LINGER_TIME: Duration = Duration::from_secs(2);
const LINGER_BYTES: usize = 256 * 1024;
/// How often an HTTP/2 connection is pinged, and how long the answer may take.
const H2_PING: Duration = Duration::from_secs(20);

/// Descriptors kept free for what is not a client connection (Redis, the
/// site's files, logs): a twentieth of the limit, at least 64.
pub fn open_total_for(fd_limit: u64) -> usize {
    let headroom = (fd_limit / 20).max(64);
    fd_limit.saturating_sub(headroom).max(1) as usize
}

/// Raises the soft open-files limit to the hard one and returns it.
#[allow(unsafe_code)] // the crate's one FFI call; std has no setrlimit
pub fn raise_fd_limit() -> u64 {
    let mut limit = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: getrlimit/setrlimit only read and write the struct we pass.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) != 0 {
            return 1024;
        }
        if limit.rlim_cur < limit.rlim_max {
            let raised = libc::rlimit { rlim_cur: limit.rlim_max, rlim_max: limit.rlim_max };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) == 0 {
                limit = raised;
            }
        }
    }
    limit.rlim_cur
}

/// The gate, shared by the accept loop and every connection's [`Ticket`].
pub struct Admission {
    inner: Mutex<Inner>,
    proxies: TrustedProxies,
}

struct Inner {
    gate: Gate,
    /// Wakes an evicted connection's task.
    evictions: HashMap<ConnId, Arc<Notify>>,
}

impl Admission {
    pub fn new(limits: GateLimits, proxies: TrustedProxies) -> Arc<Self> {
        let inner = Mutex::new(Inner { gate: Gate::new(limits), evictions: HashMap::new() });
        Arc::new(Admission { inner, proxies })
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn limits(&self) -> GateLimits {
        self.lock().gate.limits()
    }

    /// A ticket for a new connection from `ip`, and whether older ones were
    /// evicted to make room for it.
    fn admit(self: &Arc<Self>, ip: IpAddr) -> Result<(Ticket, bool), Refusal> {
        let capped = !self.proxies.is_trusted(ip);
        let mut inner = self.lock();
        let (id, evict) = match inner.gate.admit(ip, capped) {
            Admit::Accept { id, evict } => (id, evict),
            Admit::Refuse(refusal) => return Err(refusal),
        };
        let evicted_any = !evict.is_empty();
        for old in evict {
            if let Some(notify) = inner.evictions.remove(&old) {
                notify.notify_one();
            }
        }
        let evicted = Arc::new(Notify::new());
        inner.evictions.insert(id, evicted.clone());
        Ok((Ticket(Arc::new(TicketInner { id, admission: self.clone(), evicted })), evicted_any))
    }
}

/// A connection's place at the gate; the place is given back when the last
/// clone is dropped (the connection, its request handlers and its lingering
/// close all hold one).
#[derive(Clone)]
pub struct Ticket(Arc<TicketInner>);

struct TicketInner {
    id: ConnId,
    admission: Arc<Admission>,
    evicted: Arc<Notify>,
}

impl Ticket {
    /// The connection became a WebSocket.
    pub fn upgraded(&self) {
        let mut inner = self.0.admission.lock();
        inner.gate.upgraded(self.0.id);
        inner.evictions.remove(&self.0.id);
    }

    fn is_open(&self) -> bool {
        self.0.admission.lock().gate.is_open(self.0.id)
    }

    async fn evicted(&self) {
        self.0.evicted.notified().await;
    }
}

impl Drop for TicketInner {
    fn drop(&mut self) {
        let mut inner = self.admission.lock();
        inner.gate.closed(self.id);
        inner.evictions.remove(&self.id);
    }
}

/// Accepts connections until the future is dropped. `head_timeout` bounds
/// the TLS handshake and the wait for each request head, the first one and
/// every later one on a kept-alive connection.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    tls: Option<TlsAcceptor>,
    admission: Arc<Admission>,
    head_timeout: Duration,
) {
    // HTTP/1 by default, chosen outright rather than sniffed: the sniffing
    // read has no deadline, so a silent socket would wait there forever.
    let mut h1 = http1::Builder::new();
    h1.timer(TokioTimer::new()).header_read_timeout(head_timeout);
    // HTTP/2 only where TLS negotiated it; pings find dead connections.
    let mut h2 = http2::Builder::new(TokioExecutor::new());
    h2.timer(TokioTimer::new()).keep_alive_interval(Some(H2_PING)).keep_alive_timeout(H2_PING);
    let builders = Arc::new((h1, h2));
    let mut last_warning: Option<Instant> = None;
    loop {
        let (tcp, client) = match listener.accept().await {
            Ok(pair) => pair,
            Err(err) => {
                // Out of descriptors or memory: say so once a second, not
                // once per try, and give closing connections time.
                if last_warning.is_none_or(|t| t.elapsed() >= Duration::from_secs(1)) {
                    tracing::warn!(%err, "accept failed");
                    last_warning = Some(Instant::now());
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
                continue;
            }
        };
        let ticket = match admission.admit(client.ip()) {
            Ok((ticket, evicted_any)) => {
                if evicted_any {
                    // Let the evicted connections close (and free their
                    // descriptors) before the next accept.
                    tokio::task::yield_now().await;
                }
                ticket
            }
            Err(refusal) => {
                tracing::debug!(ip = %client.ip(), ?refusal, "connection refused at the door");
                crate::metrics::refused_connection(refusal);
                continue;
            }
        };
        // Signaling is small messages that should leave at once.
        let _ = tcp.set_nodelay(true);
        let (app, builders, tls) = (app.clone(), builders.clone(), tls.clone());
        tokio::spawn(async move {
            let service = {
                let ticket = ticket.clone();
                hyper::service::service_fn(move |mut request: hyper::Request<Incoming>| {
                    request.extensions_mut().insert(ConnectInfo(client));
                    request.extensions_mut().insert(ticket.clone());
                    let mut app = app.clone();
                    async move { app.call(request).await }
                })
            };
            let io = Lingering { tcp: Some(tcp), ticket: Some(ticket.clone()) };
            let (h1, h2) = &*builders;
            let connection = async {
                match tls {
                    Some(tls) => match tokio::time::timeout(head_timeout, tls.accept(io)).await {
                        Ok(Ok(stream)) if stream.get_ref().1.alpn_protocol() == Some(b"h2") => {
                            let _ = h2.serve_connection(TokioIo::new(stream), service).await;
                        }
                        Ok(Ok(stream)) => {
                            let _ = h1.serve_connection(TokioIo::new(stream), service).with_upgrades().await;
                        }
                        _ => tracing::debug!(ip = %client.ip(), "TLS handshake failed or too slow"),
                    },
                    None => {
                        let _ = h1.serve_connection(TokioIo::new(io), service).with_upgrades().await;
                    }
                }
            };
            tokio::select! {
                () = connection => {}
                () = ticket.evicted() => tracing::debug!(ip = %client.ip(), "evicted an idle connection"),
            }
        });
    }
}

/// A TCP stream that, when dropped, half-closes and reads what the client
/// still sends (for a while, up to a limit) before the socket is closed.
/// Closing with unread data makes the kernel send a reset, which can destroy
/// the last frames the client has not read yet.
struct Lingering {
    tcp: Option<TcpStream>,
    ticket: Option<Ticket>,
}

impl Drop for Lingering {
    fn drop(&mut self) {
        let (Some(tcp), Some(ticket)) = (self.tcp.take(), self.ticket.take()) else { return };
        // An evicted connection is closed at once: its place is already given.
        if !ticket.is_open() || tokio::runtime::Handle::try_current().is_err() {
            return;
        }
        tokio::spawn(async move {
            let _ = tokio::time::timeout(LINGER_TIME, linger(tcp)).await;
            drop(ticket);
        });
    }
}

async fn linger(mut tcp: TcpStream) {
    let _ = tcp.shutdown().await;
    let mut buf = [0u8; 4096];
    let mut read = 0;
    while read < LINGER_BYTES {
        match tcp.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => read += n,
        }
    }
}

impl Lingering {
    fn tcp(&mut self) -> Pin<&mut TcpStream> {
        Pin::new(self.tcp.as_mut().expect("present until dropped"))
    }
}

impl AsyncRead for Lingering {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        self.tcp().poll_read(cx, buf)
    }
}

impl AsyncWrite for Lingering {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, data: &[u8]) -> Poll<io::Result<usize>> {
        self.tcp().poll_write(cx, data)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.tcp().poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.tcp.as_ref().is_some_and(|t| t.is_write_vectored())
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.tcp().poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.tcp().poll_shutdown(cx)
    }
}

/// What [`Admission`] is given, from the flags and the open-files limit.
pub fn limits_for(
    max_pending_per_ip: usize,
    max_pending: usize,
    max_connections: usize,
    fd_limit: u64,
) -> GateLimits {
    let open_total = match max_connections {
        0 => open_total_for(fd_limit),
        n => n.min(open_total_for(fd_limit)),
    };
    GateLimits { pending_per_ip: max_pending_per_ip, pending_total: max_pending.min(open_total), open_total }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn descriptors_are_kept_for_what_is_not_a_client() {
        assert_eq!(open_total_for(20_000), 19_000);
        assert_eq!(open_total_for(128), 64);
        assert_eq!(open_total_for(10), 1);
        let limits = limits_for(16, 1024, 0, 128);
        assert_eq!((limits.open_total, limits.pending_total), (64, 64));
        assert_eq!(limits_for(16, 1024, 500, 20_000).open_total, 500);
    }
}
