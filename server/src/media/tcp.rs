//! ICE over TCP (RFC 6544), for browsers whose network lets no UDP
//! through and that have no TURN server: a listener beside the UDP socket
//! and, on each connection, packets framed by a 2-byte length (RFC 4571).
//! The media loop sees packets in and frames out, keyed by the remote
//! address as datagrams are; these tasks only carry them.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::mpsc;

/// Connections held at once: each costs two small tasks, and nobody needs
/// more than one per connection to us.
const MAX_CONNECTIONS: usize = 1000;
/// A connection must send its first packet (an ICE check) this soon, and
/// then something at least this often (consent checks come every ~5 s).
const FIRST_PACKET: Duration = Duration::from_secs(10);
const IDLE: Duration = Duration::from_secs(30);
/// Frames queued for one connection; past it they are dropped, as a full
/// link drops datagrams, and media recovers as it does from loss.
const QUEUE: usize = 256;
/// Larger than any packet str0m reads or writes (it caps datagrams at 2 KB).
const MAX_FRAME: usize = 4096;

/// A packet from a connection, or `None` when it closed.
pub struct Inbound {
    pub from: SocketAddr,
    /// Which connection from that address (a closed one's port may be
    /// taken again before its close is seen).
    pub conn: u64,
    pub data: Option<Vec<u8>>,
}

/// The open connections' outgoing queues.
pub struct Conns {
    out: HashMap<SocketAddr, (u64, mpsc::Sender<Vec<u8>>)>,
    inbound: mpsc::Sender<Inbound>,
    next: u64,
}

impl Conns {
    pub fn new(inbound: mpsc::Sender<Inbound>) -> Self {
        Conns { out: HashMap::new(), inbound, next: 0 }
    }

    /// Starts carrying `stream`'s packets (on the current runtime).
    pub fn accept(&mut self, stream: TcpStream, from: SocketAddr) {
        if self.out.len() >= MAX_CONNECTIONS {
            tracing::debug!(%from, "media TCP connection refused: too many");
            return;
        }
        let _ = stream.set_nodelay(true);
        let (read, write) = stream.into_split();
        let (tx, rx) = mpsc::channel(QUEUE);
        self.next += 1;
        self.out.insert(from, (self.next, tx));
        tokio::spawn(read_frames(read, from, self.next, self.inbound.clone()));
        tokio::spawn(write_frames(write, rx));
    }

    /// Queues a packet for the connection from `to`; dropped when it has
    /// none or its queue is full.
    pub fn send(&mut self, to: SocketAddr, data: &[u8]) {
        match self.out.get(&to) {
            Some((_, queue)) => {
                if queue.try_send(data.to_vec()).is_err() {
                    tracing::trace!(%to, "media TCP frame dropped");
                }
            }
            None => tracing::trace!(%to, "media TCP frame for no connection"),
        }
    }

    /// Connection `conn` from `from` closed: its writer ends with its
    /// queue.
    pub fn closed(&mut self, from: SocketAddr, conn: u64) {
        if self.out.get(&from).is_some_and(|(open, _)| *open == conn) {
            self.out.remove(&from);
        }
    }
}

async fn read_frames(
    mut read: tokio::net::tcp::OwnedReadHalf,
    from: SocketAddr,
    conn: u64,
    inbound: mpsc::Sender<Inbound>,
) {
    let mut limit = FIRST_PACKET;
    let mut len = [0u8; 2];
    loop {
        let frame = tokio::time::timeout(limit, async {
            read.read_exact(&mut len).await?;
            let n = usize::from(u16::from_be_bytes(len));
            if n == 0 || n > MAX_FRAME {
                return Err(std::io::Error::other("bad frame length"));
            }
            let mut data = vec![0u8; n];
            read.read_exact(&mut data).await?;
            Ok::<_, std::io::Error>(data)
        })
        .await;
        match frame {
            Ok(Ok(data)) => {
                if inbound.send(Inbound { from, conn, data: Some(data) }).await.is_err() {
                    return;
                }
                limit = IDLE;
            }
            Ok(Err(err)) => {
                tracing::debug!(%from, %err, "media TCP connection ended");
                break;
            }
            Err(_) => {
                tracing::debug!(%from, "media TCP connection timed out");
                break;
            }
        }
    }
    let _ = inbound.send(Inbound { from, conn, data: None }).await;
}

async fn write_frames(mut write: tokio::net::tcp::OwnedWriteHalf, mut queue: mpsc::Receiver<Vec<u8>>) {
    let mut buf = Vec::new();
    while let Some(data) = queue.recv().await {
        // Everything queued goes out in one write.
        buf.clear();
        let mut next = Some(data);
        while let Some(data) = next.take() {
            if let Ok(n) = u16::try_from(data.len()) {
                buf.extend_from_slice(&n.to_be_bytes());
                buf.extend_from_slice(&data);
            }
            next = queue.try_recv().ok();
        }
        if write.write_all(&buf).await.is_err() {
            return;
        }
    }
}
