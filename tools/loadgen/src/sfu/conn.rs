//! One WebRTC connection of a load-generator participant: a str0m `Rtc` on
//! its own UDP socket, as a browser's peer connection has.

use std::net::SocketAddr;
use std::time::Instant;
use str0m::net::{Protocol, Receive};
use str0m::{Candidate, Event, Input, Output, Rtc, RtcError};

pub struct Conn {
    pub rtc: Rtc,
    pub socket: tokio::net::UdpSocket,
    addr: SocketAddr,
    pub connected: bool,
    /// When str0m next wants `Input::Timeout`.
    pub timeout: Instant,
    /// Datagrams the socket would not take (its buffer was full).
    pub dropped: u64,
}

/// A browser's sockets get bursts of a few pictures at once; the kernel's
/// usual 208 KiB holds ~90 datagrams. A generator that drops what the
/// server sent would blame the server for it.
const SOCKET_BUFFER: usize = 1 << 20;

fn bind_udp(addr: SocketAddr) -> std::io::Result<std::net::UdpSocket> {
    use socket2::{Domain, Protocol, Socket, Type};
    let socket = Socket::new(Domain::for_address(addr), Type::DGRAM, Some(Protocol::UDP))?;
    let _ = socket.set_recv_buffer_size(SOCKET_BUFFER);
    let _ = socket.set_send_buffer_size(SOCKET_BUFFER);
    socket.bind(&addr.into())?;
    socket.set_nonblocking(true)?;
    Ok(socket.into())
}

impl Conn {
    pub async fn new(ip: std::net::IpAddr, now: Instant) -> std::io::Result<Conn> {
        let socket = tokio::net::UdpSocket::from_std(bind_udp(SocketAddr::new(ip, 0))?)?;
        let addr = socket.local_addr()?;
        let mut rtc = Rtc::builder().clear_codecs().enable_vp8(true).enable_opus(true, false).build(now);
        let candidate = Candidate::host(addr, "udp").map_err(std::io::Error::other)?;
        rtc.add_local_candidate(candidate);
        Ok(Conn { rtc, socket, addr, connected: false, timeout: now, dropped: 0 })
    }

    /// Hands str0m a datagram that arrived.
    pub fn feed(&mut self, now: Instant, source: SocketAddr, data: &[u8]) -> Result<(), RtcError> {
        let Ok(contents) = data.try_into() else { return Ok(()) };
        let receive = Receive { proto: Protocol::Udp, source, destination: self.addr, contents };
        self.rtc.handle_input(Input::Receive(now, receive))
    }

    /// Lets str0m's time pass if it asked to be woken by now.
    pub fn tick(&mut self, now: Instant) -> Result<(), RtcError> {
        if now >= self.timeout {
            self.rtc.handle_input(Input::Timeout(now))?;
        }
        Ok(())
    }

    /// Sends what str0m has to send and collects its events.
    pub fn poll(&mut self, events: &mut Vec<Event>) -> Result<(), RtcError> {
        loop {
            match self.rtc.poll_output()? {
                Output::Transmit(t) => {
                    if self.socket.try_send_to(&t.contents, t.destination).is_err() {
                        self.dropped += 1;
                    }
                }
                Output::Timeout(at) => {
                    self.timeout = at;
                    return Ok(());
                }
                Output::Event(Event::Connected) => self.connected = true,
                Output::Event(e) => events.push(e),
            }
        }
    }
}
