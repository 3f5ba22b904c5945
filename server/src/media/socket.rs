//! The media thread: one UDP socket for every SFU session of this process,
//! and the loop that feeds the engine datagrams, commands and time. It has
//! its own single-threaded runtime, so busy signaling never delays media.

use super::cmd::{MediaCmd, MediaEvent};
use super::engine::{Engine, EngineConfig, Wire};
use super::tcp;
use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr, UdpSocket};
use std::time::{Duration, Instant};
use str0m::net::Protocol;
use tokio::sync::mpsc;

/// The hub's side of the media thread.
#[derive(Clone, Debug)]
pub struct MediaHandle {
    pub commands: mpsc::UnboundedSender<MediaCmd>,
    /// Where the socket is bound.
    pub bound: SocketAddr,
    /// What browsers are told to send to (our ICE candidate).
    pub candidate: SocketAddr,
}

/// Datagrams read in one go before the sessions are polled again.
const READ_BATCH: usize = 64;

/// How often the engine's figures are handed to `/metrics`.
const REPORT_EVERY: Duration = Duration::from_secs(1);

/// Binds `bind` and starts media thread number `index`. `public_ip` is announced in
/// place of the bound address (1:1 NAT, a cloud VM); a socket bound to
/// every interface announces the address of the default route's interface.
/// `config.candidate` is replaced by the address found here.
pub fn spawn(
    index: usize,
    bind: SocketAddr,
    public_ip: Option<IpAddr>,
    config: EngineConfig,
    events: mpsc::UnboundedSender<MediaEvent>,
) -> io::Result<MediaHandle> {
    // Every session would otherwise build its own provider.
    str0m::crypto::from_feature_flags().install_process_default();
    let socket = bind_udp(bind)?;
    let bound = socket.local_addr()?;
    let ip =
        public_ip
            .unwrap_or_else(|| if bound.ip().is_unspecified() { default_route_ip() } else { bound.ip() });
    let candidate = SocketAddr::new(ip, bound.port());
    // TCP on the same port number, so one port opens both in a firewall;
    // a call works without it, so a port taken on TCP only loses it. The
    // signaling listener's deep accept queue: after a restart every page
    // on TCP connects again at once.
    let tcp = match crate::bind(bound) {
        Ok(listener) => Some(listener),
        Err(err) => {
            tracing::warn!(%bound, %err, "media over TCP unavailable (port taken?): UDP only");
            None
        }
    };
    let tcp_candidate = tcp.as_ref().map(|_| candidate);
    let (commands, rx) = mpsc::unbounded_channel();
    let engine = Engine::new(EngineConfig { candidate, tcp_candidate, ..config });
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    std::thread::Builder::new().name(format!("noom-media-{index}")).spawn(move || {
        crate::metrics::media_thread_started();
        runtime.block_on(async move {
            let tcp = tcp.map(tokio::net::TcpListener::from_std).transpose();
            match (tokio::net::UdpSocket::from_std(socket), tcp) {
                (Ok(socket), Ok(tcp)) => run(index, socket, tcp, candidate, engine, rx, events).await,
                (Err(err), _) | (_, Err(err)) => tracing::error!(%err, "media socket"),
            }
        })
    })?;
    tracing::info!(%bound, %candidate, tcp = tcp_candidate.is_some(), "media (SFU) listening");
    Ok(MediaHandle { commands, bound, candidate })
}

/// What the media socket asks the kernel to hold for it each way. Linux
/// charges about 2.3 KB for a 1,200-byte datagram, so its usual 208 KiB
/// holds ~90: the packets of a few keyframes arriving together, or a
/// millisecond of a busy server's input. Past that, datagrams are dropped
/// before we see them and come back late through NACK (measured with
/// `scripts/bench-sfu.sh`: 40 participants lost 1,700 frames in 8 s and
/// the latency's p99 rose from 3 to 267 ms).
const SOCKET_BUFFER: usize = 4 << 20;

/// A nonblocking UDP socket on `bind` with room for bursts. The kernel
/// caps the buffers at `net.core.rmem_max`/`wmem_max`; a smaller grant is
/// logged, for the operator to raise them.
fn bind_udp(bind: SocketAddr) -> io::Result<UdpSocket> {
    use socket2::{Domain, Protocol, Socket, Type};
    let socket = Socket::new(Domain::for_address(bind), Type::DGRAM, Some(Protocol::UDP))?;
    // Best effort: a smaller buffer still works, only drops sooner.
    let _ = socket.set_recv_buffer_size(SOCKET_BUFFER);
    let _ = socket.set_send_buffer_size(SOCKET_BUFFER);
    socket.bind(&bind.into())?;
    socket.set_nonblocking(true)?;
    // Linux reports twice what it grants (its bookkeeping share included).
    let granted = socket.recv_buffer_size().unwrap_or(0) / 2;
    if granted < SOCKET_BUFFER {
        tracing::warn!(
            granted,
            wanted = SOCKET_BUFFER,
            "media socket's receive buffer is smaller than asked: bursts of video may be \
             dropped; raise it with `sysctl -w net.core.rmem_max={SOCKET_BUFFER}`"
        );
    }
    Ok(socket.into())
}

/// The local address traffic to the internet would leave from, found
/// without sending anything (connecting a UDP socket only picks a route);
/// loopback when there is no route.
fn default_route_ip() -> IpAddr {
    let probe = || -> io::Result<IpAddr> {
        let socket = UdpSocket::bind((Ipv4Addr::UNSPECIFIED, 0))?;
        socket.connect((Ipv4Addr::new(192, 0, 2, 1), 9))?;
        Ok(socket.local_addr()?.ip())
    };
    probe().unwrap_or(IpAddr::V4(Ipv4Addr::LOCALHOST))
}

struct SocketWire<'a> {
    udp: &'a tokio::net::UdpSocket,
    tcp: &'a mut tcp::Conns,
}

impl Wire for SocketWire<'_> {
    fn send(&mut self, proto: Protocol, to: SocketAddr, data: &[u8]) {
        if proto != Protocol::Udp {
            return self.tcp.send(to, data);
        }
        // A full send buffer drops the datagram, as a network would; media
        // recovers (NACK, keyframes) and the loop never waits on it.
        if let Err(err) = self.udp.try_send_to(data, to) {
            tracing::trace!(%to, %err, "media datagram dropped");
        }
    }
}

/// The next connection to a listener, or never without one.
async fn accept(
    listener: Option<&tokio::net::TcpListener>,
) -> io::Result<(tokio::net::TcpStream, SocketAddr)> {
    match listener {
        Some(listener) => listener.accept().await,
        None => std::future::pending().await,
    }
}

async fn run(
    index: usize,
    socket: tokio::net::UdpSocket,
    listener: Option<tokio::net::TcpListener>,
    candidate: SocketAddr,
    mut engine: Engine,
    mut commands: mpsc::UnboundedReceiver<MediaCmd>,
    events: mpsc::UnboundedSender<MediaEvent>,
) {
    let mut buf = vec![0u8; 2048];
    let mut reported = Instant::now();
    let (inbound_tx, mut inbound) = mpsc::channel(1024);
    let mut conns = tcp::Conns::new(inbound_tx);
    loop {
        let next = engine.poll(Instant::now(), &mut SocketWire { udp: &socket, tcp: &mut conns });
        if reported.elapsed() >= REPORT_EVERY {
            crate::metrics::sfu(index, engine.tally(), engine.census());
            reported = Instant::now();
        }
        for event in engine.take_events() {
            if events.send(event).is_err() {
                return;
            }
        }
        tokio::select! {
            read = socket.recv_from(&mut buf) => {
                if let Ok((n, from)) = read {
                    engine.receive(Instant::now(), from, candidate, &buf[..n]);
                }
                for _ in 1..READ_BATCH {
                    let Ok((n, from)) = socket.try_recv_from(&mut buf) else { break };
                    engine.receive(Instant::now(), from, candidate, &buf[..n]);
                }
            }
            accepted = accept(listener.as_ref()) => {
                match accepted {
                    Ok((stream, from)) => conns.accept(stream, from),
                    Err(err) => tracing::debug!(%err, "media TCP accept"),
                }
            }
            Some(packet) = inbound.recv() => {
                let mut next = Some(packet);
                let mut read = 0;
                while let Some(tcp::Inbound { from, conn, data }) = next.take() {
                    match data {
                        Some(data) => engine.receive_on(Instant::now(), Protocol::Tcp, from, candidate, &data),
                        None => conns.closed(from, conn),
                    }
                    read += 1;
                    next = if read < READ_BATCH { inbound.try_recv().ok() } else { None };
                }
            }
            cmd = commands.recv() => {
                let Some(cmd) = cmd else { return };
                engine.command(Instant::now(), cmd);
                while let Ok(cmd) = commands.try_recv() {
                    engine.command(Instant::now(), cmd);
                }
            }
            () = tokio::time::sleep_until(next.into()) => {}
        }
    }
}
