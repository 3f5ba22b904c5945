//! A native SFU participant for tests: a WebSocket to the real server plus
//! two str0m peer connections (publish and subscribe), each on its own UDP
//! socket as a browser's would be. It publishes VP8-shaped video and
//! Opus-sized audio whose payloads carry (publisher tag, frame number, and
//! for simulcast video the layer), and records what it receives per slot.

use crate::support::Client;
use app::protocol::{ClientMsg, MediaTransport, PeerId, SdpType, ServerMsg, SignalPayload, Slot};
use std::collections::{HashMap, HashSet, VecDeque};
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use str0m::change::{SdpAnswer, SdpOffer, SdpPendingOffer};
use str0m::format::Codec;
use str0m::media::{Direction, MediaKind, MediaTime, Mid, Rid, Simulcast, SimulcastLayer};
use str0m::net::{Protocol, Receive};
use str0m::{Candidate, Event, Input, Output, Rtc};

/// A frame as received: who sent it (tag), its number, the layer (rid's
/// first letter, for simulcast video) and its RTP time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Got {
    pub tag: u8,
    pub number: u32,
    pub keyframe: bool,
    pub layer: u8,
    pub time: u64,
}

/// The simulcast layers a publisher can send, lowest first, as a browser
/// whose camera is too small for three sends them.
pub const LAYERS: [&str; 2] = ["q", "f"];

struct Conn {
    rtc: Rtc,
    socket: tokio::net::UdpSocket,
    addr: SocketAddr,
    connected: bool,
    /// A bottleneck on the way in (bits/s), as a slow downlink is.
    limit: Option<u64>,
    /// Datagrams through the bottleneck, with when each is through.
    queue: VecDeque<(Instant, SocketAddr, Vec<u8>)>,
    /// When the bottleneck is free for the next datagram.
    free_at: Instant,
    /// Where datagrams came from (the server's media ports).
    sources: HashSet<SocketAddr>,
}

/// A bottleneck's buffer: a datagram that would wait longer is lost, as a
/// router's full queue drops it.
const MAX_QUEUE: Duration = Duration::from_millis(500);

impl Conn {
    async fn new(now: Instant) -> Conn {
        let socket = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let addr = socket.local_addr().unwrap();
        let mut rtc = Rtc::builder().clear_codecs().enable_vp8(true).enable_opus(true, false).build(now);
        rtc.add_local_candidate(Candidate::host(addr, "udp").unwrap());
        Conn {
            rtc,
            socket,
            addr,
            connected: false,
            limit: None,
            queue: VecDeque::new(),
            free_at: now,
            sources: HashSet::new(),
        }
    }

    /// Feeds what arrived, lets time pass, sends what is due; returns events.
    fn pump(&mut self, now: Instant) -> Vec<Event> {
        let mut buf = [0u8; 2048];
        while let Ok((n, source)) = self.socket.try_recv_from(&mut buf) {
            self.sources.insert(source);
            let start = self.free_at.max(now);
            if start - now > MAX_QUEUE {
                continue;
            }
            // Through the bottleneck once the datagrams before it are.
            let took =
                self.limit.map_or(Duration::ZERO, |bps| Duration::from_micros(n as u64 * 8_000_000 / bps));
            self.free_at = start + took;
            self.queue.push_back((self.free_at, source, buf[..n].to_vec()));
        }
        while self.queue.front().is_some_and(|(at, _, _)| *at <= now) {
            let (_, source, data) = self.queue.pop_front().expect("checked");
            let Ok(contents) = data.as_slice().try_into() else { continue };
            let input = Input::Receive(
                now,
                Receive { proto: Protocol::Udp, source, destination: self.addr, contents },
            );
            self.rtc.handle_input(input).expect("client input");
        }
        self.rtc.handle_input(Input::Timeout(now)).expect("client timeout");
        let mut events = Vec::new();
        loop {
            match self.rtc.poll_output().expect("client output") {
                Output::Transmit(t) => {
                    let _ = self.socket.try_send_to(&t.contents, t.destination);
                }
                Output::Timeout(_) => break,
                Output::Event(Event::Connected) => self.connected = true,
                Output::Event(e) => events.push(e),
            }
        }
        events
    }
}

pub struct SfuPeer {
    pub ws: Client,
    pub tag: u8,
    publish: Conn,
    subscribe: Conn,
    pending: Option<SdpPendingOffer>,
    video: Option<Mid>,
    audio: Option<Mid>,
    sent: u32,
    next_frame: Instant,
    keyframe_wanted: bool,
    /// Layers asked for a keyframe (simulcast).
    layer_keyframes: HashSet<Rid>,
    /// Publish video in the `LAYERS` (set before `start_publishing`).
    pub simulcast: bool,
    /// Added to our media clocks (90 kHz ticks); a new connection gets a
    /// new one, as a browser's RTP timestamps start anywhere.
    clock_base: u64,
    pub slots: Vec<Slot>,
    /// What arrived, by slot mid.
    pub received: HashMap<String, Vec<Got>>,
    /// Offers the server made for the subscribe connection.
    pub subscribe_offers: usize,
    pub errors: Vec<ServerMsg>,
    /// `peer_left` messages seen.
    pub left: usize,
    /// The level (dBov, RFC 6464) our audio packets say they carry.
    pub level: i8,
    /// Every `active_speaker` the server sent, in order.
    pub speakers: Vec<Option<PeerId>>,
    /// Every `paused_layers` the server sent, in order; the layers of the
    /// last one are not sent, as a browser would stop encoding them.
    pub paused: Vec<Vec<String>>,
    /// Every `held_back` the server sent, in order.
    pub held_back: Vec<Vec<PeerId>>,
}

/// A frame every 20 ms (50 fps of audio; video alongside at the same rate).
const FRAME_EVERY: Duration = Duration::from_millis(20);
const KEYFRAME_EVERY: u32 = 50;
/// What a muted or quiet microphone's packets say.
pub const SILENT: i8 = -127;
/// A voice at a normal speaking level.
pub const SPEAKING: i8 = -15;

impl SfuPeer {
    /// Joined to `room` already (see `Client::in_room`).
    pub async fn new(ws: Client, tag: u8) -> SfuPeer {
        let now = Instant::now();
        SfuPeer {
            ws,
            tag,
            publish: Conn::new(now).await,
            subscribe: Conn::new(now).await,
            pending: None,
            video: None,
            audio: None,
            sent: 0,
            next_frame: now,
            keyframe_wanted: true,
            layer_keyframes: HashSet::new(),
            simulcast: false,
            clock_base: 0,
            slots: Vec::new(),
            received: HashMap::new(),
            subscribe_offers: 0,
            errors: Vec::new(),
            left: 0,
            level: SILENT,
            speakers: Vec::new(),
            paused: Vec::new(),
            held_back: Vec::new(),
        }
    }

    /// What a browser does when its connections to the server fail: asks
    /// the server to start over, drops what came before its confirmation
    /// (it was for the old connections), then publishes on new ones.
    pub async fn restart(&mut self) {
        self.ws.send(&ClientMsg::RestartMedia).await;
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            assert!(Instant::now() < deadline, "no media_restarted");
            match self.ws.try_recv(Duration::from_millis(50)).await {
                Some(ServerMsg::MediaRestarted) => break,
                Some(msg @ ServerMsg::Error { .. }) => self.errors.push(msg),
                _ => {}
            }
        }
        let now = Instant::now();
        self.publish = Conn::new(now).await;
        self.subscribe = Conn::new(now).await;
        self.pending = None;
        self.slots.clear();
        self.received.clear();
        self.keyframe_wanted = true;
        self.clock_base += 900_000_000;
        self.start_publishing().await;
    }

    /// Narrows (or, with `None`, widens again) what can reach our subscribe
    /// connection to `bps` bits/s.
    pub fn limit_downlink(&mut self, bps: Option<u64>) {
        self.subscribe.limit = bps;
    }

    /// The addresses the server sent us media from.
    pub fn server_addrs(&self) -> HashSet<SocketAddr> {
        self.publish.sources.union(&self.subscribe.sources).copied().collect()
    }

    /// How many frames it has sent: the number the last one carries.
    pub fn sent(&self) -> u32 {
        self.sent
    }

    pub fn id(&self) -> &PeerId {
        &self.ws.id
    }

    /// Offers to publish one audio and one video track.
    pub async fn start_publishing(&mut self) {
        let mut api = self.publish.rtc.sdp_api();
        let stream = format!("peer{}", self.tag);
        self.audio =
            Some(api.add_media(MediaKind::Audio, Direction::SendOnly, Some(stream.clone()), None, None));
        let simulcast = self.simulcast.then(|| {
            let mut s = Simulcast::new();
            for rid in LAYERS {
                s.add_send_layer(SimulcastLayer::new(rid));
            }
            s
        });
        self.video =
            Some(api.add_media(MediaKind::Video, Direction::SendOnly, Some(stream), None, simulcast));
        let (offer, pending) = api.apply().expect("an offer");
        self.pending = Some(pending);
        let payload = SignalPayload::Description { sdp_type: SdpType::Offer, sdp: offer.to_sdp_string() };
        self.ws.send(&ClientMsg::Media { transport: MediaTransport::Publish, payload }).await;
    }

    /// Whose media the slot `mid` carries now.
    pub fn slot_peer(&self, mid: &str) -> Option<&PeerId> {
        self.slots.iter().find(|s| s.mid == mid)?.peer.as_ref()
    }

    /// The mid of the slot carrying `peer`'s media of `kind`.
    pub fn slot_of(&self, peer: &PeerId, kind: app::protocol::TrackKind) -> Option<String> {
        self.slots.iter().find(|s| s.peer.as_ref() == Some(peer) && s.kind == kind).map(|s| s.mid.clone())
    }

    /// One round: signaling, datagrams, time, and a frame when due.
    pub async fn step(&mut self) {
        while let Some(msg) = self.ws.try_recv(Duration::from_millis(1)).await {
            self.on_server(msg).await;
        }
        let now = Instant::now();
        for event in self.publish.pump(now) {
            if let Event::KeyframeRequest(req) = event {
                match req.rid {
                    Some(rid) => {
                        self.layer_keyframes.insert(rid);
                    }
                    None => self.keyframe_wanted = true,
                }
            }
        }
        for event in self.subscribe.pump(now) {
            if let Event::MediaData(data) = event {
                let video = data.params.spec().codec == Codec::Vp8;
                let at = if video { 10 } else { 0 };
                if data.data.len() >= at + 5 {
                    let number = u32::from_be_bytes(data.data[at + 1..at + 5].try_into().unwrap());
                    let got = Got {
                        tag: data.data[at],
                        number,
                        keyframe: data.is_keyframe(),
                        layer: data.data.get(at + 5).copied().unwrap_or(0),
                        time: data.time.numer(),
                    };
                    self.received.entry(data.mid.to_string()).or_default().push(got);
                }
            }
        }
        if self.publish.connected && now >= self.next_frame && self.video.is_some() {
            self.next_frame = now + FRAME_EVERY;
            self.send_frames(now);
        }
    }

    fn send_frames(&mut self, now: Instant) {
        self.sent += 1;
        let periodic = self.sent.is_multiple_of(KEYFRAME_EVERY);
        let all_keyframes = std::mem::take(&mut self.keyframe_wanted) || periodic;
        let number = self.sent.to_be_bytes();
        let ticks = u64::from(self.sent) * 20;
        let mut frames = Vec::new();
        let layers: Vec<Option<&str>> =
            if self.simulcast { LAYERS.iter().copied().map(Some).collect() } else { vec![None] };
        let paused = self.paused.last().cloned().unwrap_or_default();
        for (index, layer) in layers.into_iter().enumerate() {
            if layer.is_some_and(|l| paused.iter().any(|p| p == l)) {
                // A resumed layer starts on a keyframe, as an encoder does.
                self.layer_keyframes.insert(Rid::from(layer.unwrap_or_default()));
                continue;
            }
            let rid = layer.map(Rid::from);
            let keyframe = all_keyframes || rid.is_some_and(|r| self.layer_keyframes.remove(&r));
            // A VP8 frame tag (P bit clear on keyframes), the keyframe start
            // code and a 320x180 size, then our tag, the frame number and
            // the layer.
            let mut video = vec![
                if keyframe { 0x10 } else { 0x11 },
                0x02,
                0x00,
                0x9d,
                0x01,
                0x2a,
                0x40,
                0x01,
                0xb4,
                0x00,
            ];
            video.push(self.tag);
            video.extend_from_slice(&number);
            video.push(layer.map_or(0x55, |l| l.as_bytes()[0]));
            video.resize(600, 0x55);
            // Each layer has its own RTP clock, as a browser's do.
            let base = self.clock_base + index as u64 * 7_000_000;
            frames.push((self.video, rid, video, MediaTime::from_90khz(base + ticks * 90)));
        }
        let mut audio = vec![self.tag];
        audio.extend_from_slice(&number);
        audio.resize(80, 0x33);
        frames.push((
            self.audio,
            None,
            audio,
            MediaTime::new(self.clock_base / 90 * 48 + ticks * 48, str0m::media::Frequency::FORTY_EIGHT_KHZ),
        ));
        for (mid, rid, data, time) in frames {
            let Some(mid) = mid else { continue };
            let mut writer = self.publish.rtc.writer(mid).expect("a writer");
            if Some(mid) == self.audio {
                writer = writer.audio_level(self.level, self.level > -40);
            }
            if let Some(rid) = rid {
                writer = writer.rid(rid);
            }
            let pt = writer.payload_params().next().expect("a codec").pt();
            writer.write(pt, now, time, data).expect("write");
        }
    }

    async fn on_server(&mut self, msg: ServerMsg) {
        match msg {
            ServerMsg::Media {
                transport: MediaTransport::Publish,
                payload: SignalPayload::Description { sdp, .. },
            } => {
                let answer = SdpAnswer::from_sdp_string(&sdp).expect("an answer");
                let pending = self.pending.take().expect("an offer out");
                self.publish.rtc.sdp_api().accept_answer(pending, answer).expect("answer accepted");
            }
            ServerMsg::Media {
                transport: MediaTransport::Subscribe,
                payload: SignalPayload::Description { sdp, .. },
            } => {
                self.subscribe_offers += 1;
                let offer = SdpOffer::from_sdp_string(&sdp).expect("an offer");
                let answer = self.subscribe.rtc.sdp_api().accept_offer(offer).expect("offer accepted");
                let payload =
                    SignalPayload::Description { sdp_type: SdpType::Answer, sdp: answer.to_sdp_string() };
                self.ws.send(&ClientMsg::Media { transport: MediaTransport::Subscribe, payload }).await;
            }
            ServerMsg::SlotMap { slots } => self.slots = slots,
            msg @ ServerMsg::Error { .. } => self.errors.push(msg),
            ServerMsg::PeerLeft { .. } => self.left += 1,
            ServerMsg::ActiveSpeaker { peer } => self.speakers.push(peer),
            ServerMsg::PausedLayers { rids } => self.paused.push(rids),
            ServerMsg::HeldBack { peers } => self.held_back.push(peers),
            _ => {}
        }
    }
}

/// Steps every peer until `done` holds; panics after `limit`.
pub async fn run_until(peers: &mut [&mut SfuPeer], limit: Duration, done: impl Fn(&[&mut SfuPeer]) -> bool) {
    let deadline = Instant::now() + limit;
    while !done(peers) {
        assert!(Instant::now() < deadline, "not done in {limit:?}");
        for peer in peers.iter_mut() {
            peer.step().await;
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

/// The frames in `got` are numbered one after another (for video, from the
/// first keyframe on, where a slot starts): none lost, none out of order.
pub fn in_order(got: &[Got], video: bool) -> bool {
    let start = if video { got.iter().position(|g| g.keyframe) } else { Some(0) };
    let Some(start) = start else { return false };
    got[start..].windows(2).all(|w| w[1].number == w[0].number + 1)
}
