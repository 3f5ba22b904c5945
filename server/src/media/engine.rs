//! Every SFU session of this node and the forwarding between them, driven
//! from outside: commands from the hub, datagrams from the socket, and the
//! passing of time go in; datagrams (through a [`Wire`]) and messages for
//! browsers ([`MediaEvent`]) come out. No socket and no thread here, so the
//! thread in `socket.rs` stays a thin loop.

use super::budget::{Downlink, Given, Want};
use super::cmd::{MediaCmd, MediaEvent};
use super::forward::{Frame, SlotTimeline};
use super::layers::{self, LayerSwitch, Layers, Upkeep};
use super::rooms::{Change, Rooms, TrackKey};
use super::session::{Session, SessionKey};
use super::speakers::Speakers;
use super::stats::{Census, Tally};
use app::protocol::{ErrorCode, MediaTransport, PeerId, SdpType, ServerMsg, SignalPayload, TrackKind};
use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use str0m::change::{SdpAnswer, SdpOffer};
use str0m::media::{Direction, KeyframeRequestKind, MediaData, MediaKind, MediaTime, Mid, Rid};
use str0m::net::{Protocol, Receive};
use str0m::{Candidate, Event, IceConnectionState, Input, Output};

/// Why a session ended (in the order of `stats::ENDS`).
#[derive(Clone, Copy, Debug)]
enum End {
    Closed,
    Lost,
    /// The browser asked for new connections.
    Restarted,
    Refused,
    Error,
    Panicked,
}

/// A subscriber's receive slot: the subscriber and the slot's mid.
type SlotKey = (PeerId, String);

/// Where packets go out: a datagram, or one RFC 4571 frame on the TCP
/// connection from `to`.
pub trait Wire {
    fn send(&mut self, proto: Protocol, to: SocketAddr, data: &[u8]);
}

#[derive(Clone, Debug)]
pub struct EngineConfig {
    /// The address browsers send media to: our UDP ICE candidate.
    pub candidate: SocketAddr,
    /// Our passive TCP candidate, for browsers whose network blocks UDP
    /// (ICE-TCP, RFC 6544), if the media thread listens on TCP.
    pub tcp_candidate: Option<SocketAddr>,
    /// Receive slots of each kind per subscriber.
    pub slots_per_kind: usize,
    /// How long a publisher's larger layers go unreceived before its
    /// browser is told to pause them.
    pub pause_unused_layers: Duration,
}

pub struct Engine {
    config: EngineConfig,
    sessions: HashMap<SessionKey, Session>,
    /// Which session a remote address belongs to, once known.
    by_addr: HashMap<SocketAddr, SessionKey>,
    rooms: Rooms,
    /// Each subscriber slot's timeline; its source is a track's layer.
    timelines: HashMap<SlotKey, SlotTimeline<(TrackKey, Option<Rid>)>>,
    /// Published video tracks sent in layers (simulcast), and which of
    /// those layers arrive.
    layers: HashMap<TrackKey, Layers>,
    /// The layer each subscriber slot carrying a simulcast track gets, and
    /// the track it was chosen for.
    switches: HashMap<SlotKey, (TrackKey, LayerSwitch)>,
    /// Members presenting their screen: everyone gets their top layer.
    presenters: HashSet<PeerId>,
    /// Whether each simulcast track's larger layers are paused.
    upkeep: HashMap<TrackKey, Upkeep>,
    /// Each subscriber's downlink, and what its simulcast slots (by mid)
    /// were given in it.
    downlinks: HashMap<PeerId, Downlink<String>>,
    /// Whose video each subscriber was last told is held back.
    held_back: HashMap<PeerId, Vec<PeerId>>,
    /// Sessions with input since they were last polled.
    dirty: HashSet<SessionKey>,
    /// Subscribe connections that need an offer, made once per poll so
    /// that a publisher's audio and video go out in one.
    to_negotiate: HashSet<PeerId>,
    events: Vec<MediaEvent>,
    /// When slots waiting for a keyframe last asked for one again.
    last_keyframe_sweep: Option<Instant>,
    speakers: Speakers,
    tally: Tally,
}

/// A slot waiting for a keyframe asks again this often: a request can be
/// throttled away (another subscriber asked just before) or lost.
const KEYFRAME_RETRY: Duration = Duration::from_millis(250);

/// What one voice is taken to cost a subscriber (bits/s): Opus as
/// browsers send it, with its headers. It comes off the video's budget.
const VOICE_BPS: u64 = 40_000;

/// Longest a session waits to be driven when it asks for nothing sooner.
const IDLE: Duration = Duration::from_millis(100);

/// How long a session may have no working ICE pair before it is dropped.
/// The browser gives its own side 3 s before it starts over; a session it
/// has not given up on must still be here when its checks resume.
pub const ICE_GRACE: Duration = Duration::from_secs(10);

impl Engine {
    pub fn new(config: EngineConfig) -> Self {
        let rooms = Rooms::new(config.slots_per_kind);
        Engine {
            config,
            sessions: HashMap::new(),
            by_addr: HashMap::new(),
            rooms,
            timelines: HashMap::new(),
            layers: HashMap::new(),
            switches: HashMap::new(),
            presenters: HashSet::new(),
            upkeep: HashMap::new(),
            downlinks: HashMap::new(),
            held_back: HashMap::new(),
            dirty: HashSet::new(),
            to_negotiate: HashSet::new(),
            events: Vec::new(),
            last_keyframe_sweep: None,
            speakers: Speakers::default(),
            tally: Tally::default(),
        }
    }

    /// What was forwarded, asked and ended since the engine started.
    pub fn tally(&self) -> Tally {
        self.tally
    }

    /// What the engine holds now.
    pub fn census(&self) -> Census {
        let publishing = self.sessions.keys().filter(|k| k.transport == MediaTransport::Publish).count();
        Census {
            rooms: self.rooms.all().count(),
            publishers: publishing,
            subscribers: self.sessions.len() - publishing,
            forwarded_tracks: self.rooms.forwarded(),
            paused_videos: self.held_back.values().map(Vec::len).sum(),
        }
    }

    /// Messages for browsers produced since the last call.
    pub fn take_events(&mut self) -> Vec<MediaEvent> {
        std::mem::take(&mut self.events)
    }

    pub fn session_count(&self) -> usize {
        self.sessions.len()
    }

    pub fn command(&mut self, now: Instant, cmd: MediaCmd) {
        match cmd {
            MediaCmd::Join { room, peer } => {
                let changes = self.rooms.join(&room, &peer);
                self.apply(now, changes);
                if let Some(speaker) = self.speakers.current(&room) {
                    let msg = ServerMsg::ActiveSpeaker { peer: Some(speaker.clone()) };
                    self.events.push(MediaEvent::one(&peer, msg));
                }
            }
            MediaCmd::Leave { peer } => self.leave(now, &peer),
            MediaCmd::Signal { peer, transport, payload } => self.signal(now, &peer, transport, payload),
            MediaCmd::Restart { peer } => self.restart(now, &peer),
            MediaCmd::Presenting { peer, on } => {
                if on {
                    self.presenters.insert(peer);
                } else {
                    self.presenters.remove(&peer);
                }
                self.aim_layers(now);
            }
        }
    }

    /// The browser gave up on its connections: the confirmation goes first,
    /// so that everything after it reaches its new ones; dropping the old
    /// subscribe session offers the slots again on a new one.
    fn restart(&mut self, now: Instant, peer: &PeerId) {
        if !self.rooms.contains(peer) {
            return;
        }
        self.events.push(MediaEvent::one(peer, ServerMsg::MediaRestarted));
        for transport in [MediaTransport::Publish, MediaTransport::Subscribe] {
            let key = SessionKey::new(peer, transport);
            if let Some(session) = self.sessions.get_mut(&key) {
                let _ = session.guarded(|rtc| rtc.disconnect());
                self.fail(now, &key, End::Restarted);
            }
        }
    }

    fn leave(&mut self, now: Instant, peer: &PeerId) {
        for transport in [MediaTransport::Publish, MediaTransport::Subscribe] {
            let key = SessionKey::new(peer, transport);
            if let Some(mut session) = self.sessions.remove(&key) {
                let _ = session.guarded(|rtc| rtc.disconnect());
            }
            self.dirty.remove(&key);
        }
        self.by_addr.retain(|_, key| &key.peer != peer);
        self.forget_subscriber(peer);
        self.published_media_ended(peer);
        self.presenters.remove(peer);
        self.to_negotiate.remove(peer);
        let changes = self.rooms.leave(peer);
        self.apply(now, changes);
    }

    fn refuse(&mut self, peer: &PeerId, message: String) {
        tracing::debug!(%peer, %message, "refused media signaling");
        let msg = ServerMsg::Error { code: ErrorCode::BadMedia, message };
        self.events.push(MediaEvent::one(peer, msg));
    }

    fn signal(&mut self, now: Instant, peer: &PeerId, transport: MediaTransport, payload: SignalPayload) {
        if !self.rooms.contains(peer) {
            // Raced its own leave: nothing to answer.
            return;
        }
        match (transport, payload) {
            (MediaTransport::Publish, SignalPayload::Description { sdp_type: SdpType::Offer, sdp }) => {
                self.publish_offer(now, peer, &sdp)
            }
            (MediaTransport::Subscribe, SignalPayload::Description { sdp_type: SdpType::Answer, sdp }) => {
                self.subscribe_answer(now, peer, &sdp)
            }
            (transport, SignalPayload::Candidate { candidate, .. }) => {
                self.remote_candidate(peer, transport, &candidate)
            }
            (MediaTransport::Publish, SignalPayload::Description { .. }) => {
                self.refuse(peer, "the publish connection takes only your offers".into())
            }
            (MediaTransport::Subscribe, SignalPayload::Description { .. }) => {
                self.refuse(peer, "the subscribe connection takes only answers to the server's offers".into())
            }
        }
    }

    fn publish_offer(&mut self, now: Instant, peer: &PeerId, sdp: &str) {
        let offer = match SdpOffer::from_sdp_string(sdp) {
            Ok(offer) => offer,
            Err(err) => return self.refuse(peer, format!("unreadable offer: {err}")),
        };
        let key = SessionKey::new(peer, MediaTransport::Publish);
        let (candidate, tcp) = (self.config.candidate, self.config.tcp_candidate);
        let session =
            self.sessions.entry(key.clone()).or_insert_with(|| Session::new(candidate, tcp, now, false));
        match session.guarded(|rtc| rtc.sdp_api().accept_offer(offer)) {
            Ok(Ok(answer)) => {
                self.dirty.insert(key);
                let payload =
                    SignalPayload::Description { sdp_type: SdpType::Answer, sdp: answer.to_sdp_string() };
                let msg = ServerMsg::Media { transport: MediaTransport::Publish, payload };
                self.events.push(MediaEvent::one(peer, msg));
            }
            Ok(Err(err)) => self.refuse(peer, format!("offer refused: {err}")),
            Err(_) => self.fail(now, &key, End::Panicked),
        }
    }

    fn subscribe_answer(&mut self, now: Instant, peer: &PeerId, sdp: &str) {
        let key = SessionKey::new(peer, MediaTransport::Subscribe);
        let Some(pending) = self.sessions.get_mut(&key).and_then(|s| s.pending.take()) else {
            return self.refuse(peer, "an answer with no offer from the server".into());
        };
        let answer = match SdpAnswer::from_sdp_string(sdp) {
            Ok(answer) => answer,
            Err(err) => {
                // The offer is spent: start the subscribe connection over.
                self.refuse(peer, format!("unreadable answer: {err}"));
                return self.fail(now, &key, End::Refused);
            }
        };
        let session = self.sessions.get_mut(&key).expect("had a pending offer");
        match session.guarded(|rtc| rtc.sdp_api().accept_answer(pending, answer)) {
            Ok(Ok(())) => {
                self.dirty.insert(key);
                let changes = self.rooms.answered(peer);
                self.apply(now, changes);
            }
            Ok(Err(err)) => {
                self.refuse(peer, format!("answer refused: {err}"));
                self.fail(now, &key, End::Refused);
            }
            Err(_) => self.fail(now, &key, End::Panicked),
        }
    }

    /// ICE-lite learns the browser's address from its checks, so a
    /// candidate we cannot read (an mDNS name) costs nothing. A TCP one is
    /// left out: a browser's TCP candidates are active (they connect to
    /// our passive one, and we learn them from their checks), and one
    /// trickled before any check made str0m find "no possible pairs" and
    /// declare the connection lost while it was still coming up.
    fn remote_candidate(&mut self, peer: &PeerId, transport: MediaTransport, candidate: &str) {
        let key = SessionKey::new(peer, transport);
        let Some(session) = self.sessions.get_mut(&key) else { return };
        if candidate.is_empty() {
            return;
        }
        match Candidate::from_sdp_string(candidate) {
            Ok(c) if c.proto() != Protocol::Udp => tracing::trace!(%peer, "left out a TCP candidate"),
            Ok(c) => {
                if session.guarded(|rtc| rtc.add_remote_candidate(c)).is_ok() {
                    self.dirty.insert(key);
                } else {
                    self.fail(Instant::now(), &key, End::Panicked);
                }
            }
            Err(err) => tracing::debug!(%peer, %err, "ignored a candidate"),
        }
    }

    /// Drops a session that ended or failed (closed by the browser, ICE
    /// gone, a broken negotiation, a str0m panic): only its member's media
    /// on that connection stops.
    fn fail(&mut self, now: Instant, key: &SessionKey, why: End) {
        let (peer, transport) = (&key.peer, key.transport);
        match why {
            End::Closed => tracing::debug!(%peer, ?transport, "media session closed"),
            End::Lost => tracing::info!(%peer, ?transport, "media session lost (ICE)"),
            End::Restarted => tracing::info!(%peer, ?transport, "media session restarted by the browser"),
            End::Refused => tracing::info!(%peer, ?transport, "media session dropped after bad signaling"),
            End::Error => tracing::warn!(%peer, ?transport, "media session dropped on an error"),
            End::Panicked => tracing::error!(%peer, ?transport, "str0m panicked: media session dropped"),
        }
        self.tally.ended[why as usize] += 1;
        self.sessions.remove(key);
        self.dirty.remove(key);
        self.by_addr.retain(|_, k| k != key);
        let changes = match key.transport {
            MediaTransport::Publish => {
                self.published_media_ended(&key.peer);
                self.rooms.unpublish_all(&key.peer)
            }
            MediaTransport::Subscribe => {
                self.forget_subscriber(&key.peer);
                self.rooms.reset_subscriber(&key.peer)
            }
        };
        self.apply(now, changes);
    }

    fn apply(&mut self, now: Instant, changes: Vec<Change>) {
        for change in changes {
            match change {
                Change::SlotMap(peer) => {
                    let msg = ServerMsg::SlotMap { slots: self.rooms.slot_map(&peer) };
                    self.events.push(MediaEvent::one(&peer, msg));
                }
                Change::Negotiate(peer) => {
                    self.to_negotiate.insert(peer);
                }
                // A new subscriber may start on any layer that arrives.
                Change::Keyframe(track) => {
                    let live = self.layers.get(&track).map(|l| l.live(now)).unwrap_or_default();
                    if live.is_empty() {
                        self.request_keyframe(now, &track, None);
                    }
                    for rid in live {
                        self.request_keyframe(now, &track, Some(rid));
                    }
                }
            }
        }
    }

    /// Offers the subscribe connection the m-lines its new slots need.
    fn negotiate(&mut self, now: Instant, peer: &PeerId) {
        if self.rooms.is_negotiating(peer) {
            // The answer to the offer out now triggers the next one.
            return;
        }
        let slots = self.rooms.unnegotiated(peer);
        if slots.is_empty() {
            return;
        }
        let key = SessionKey::new(peer, MediaTransport::Subscribe);
        let (candidate, tcp) = (self.config.candidate, self.config.tcp_candidate);
        let session =
            self.sessions.entry(key.clone()).or_insert_with(|| Session::new(candidate, tcp, now, true));
        let made = session.guarded(|rtc| {
            let mut api = rtc.sdp_api();
            let mids: Vec<(usize, String)> = slots
                .iter()
                .map(|(index, kind)| {
                    let kind = match kind {
                        TrackKind::Audio => MediaKind::Audio,
                        TrackKind::Video => MediaKind::Video,
                    };
                    (*index, api.add_media(kind, Direction::SendOnly, None, None, None).to_string())
                })
                .collect();
            api.apply().map(|(offer, pending)| (mids, offer, pending))
        });
        match made {
            Ok(Some((mids, offer, pending))) => {
                session.pending = Some(pending);
                self.dirty.insert(key);
                // The map first: the page must know whose media a slot
                // carries before its track arrives.
                let changes = self.rooms.offered(peer, mids);
                self.apply(now, changes);
                let payload =
                    SignalPayload::Description { sdp_type: SdpType::Offer, sdp: offer.to_sdp_string() };
                let msg = ServerMsg::Media { transport: MediaTransport::Subscribe, payload };
                self.events.push(MediaEvent::one(peer, msg));
            }
            Ok(None) => {}
            Err(_) => self.fail(now, &key, End::Panicked),
        }
    }

    /// Asks `track`'s publisher for a keyframe of layer `rid` (throttled
    /// per layer, so many subscribers never make a storm of requests).
    fn request_keyframe(&mut self, now: Instant, track: &TrackKey, rid: Option<Rid>) {
        let key = SessionKey::new(&track.peer, MediaTransport::Publish);
        let Some(session) = self.sessions.get_mut(&key) else { return };
        let mid = Mid::from(track.mid.as_str());
        if !session.may_request_keyframe(mid, rid, now) {
            return;
        }
        match session
            .guarded(|rtc| rtc.writer(mid).map(|mut w| w.request_keyframe(rid, KeyframeRequestKind::Pli)))
        {
            Ok(Some(Err(err))) => tracing::debug!(peer = %track.peer, %err, "keyframe request"),
            Ok(asked) => {
                self.tally.keyframe_requests += u64::from(asked.is_some());
                self.dirty.insert(key);
            }
            Err(_) => self.fail(now, &key, End::Panicked),
        }
    }

    /// One datagram from the socket.
    pub fn receive(&mut self, now: Instant, source: SocketAddr, destination: SocketAddr, data: &[u8]) {
        self.receive_on(now, Protocol::Udp, source, destination, data);
    }

    /// A packet that came over `proto`: UDP, or a frame from the TCP
    /// connection whose remote end is `source`.
    pub fn receive_on(
        &mut self,
        now: Instant,
        proto: Protocol,
        source: SocketAddr,
        destination: SocketAddr,
        data: &[u8],
    ) {
        let Ok(contents) = data.try_into() else { return };
        let input = Input::Receive(now, Receive { proto, source, destination, contents });
        let known = self
            .by_addr
            .get(&source)
            .filter(|key| self.sessions.get(*key).is_some_and(|s| s.accepts(&input)));
        let key = match known {
            Some(key) => key.clone(),
            None => {
                // A new address: whose STUN username (or DTLS peer) it is.
                let Some((key, _)) = self.sessions.iter().find(|(_, s)| s.accepts(&input)) else {
                    tracing::trace!(%source, "a datagram no session accepts");
                    return;
                };
                let key = key.clone();
                self.by_addr.insert(source, key.clone());
                key
            }
        };
        let session = self.sessions.get_mut(&key).expect("found above");
        match session.guarded(|rtc| rtc.handle_input(input)) {
            Ok(Ok(())) => {
                self.dirty.insert(key);
            }
            Ok(Err(err)) => {
                tracing::debug!(peer = %key.peer, %err, "bad media input");
                self.dirty.insert(key);
            }
            Err(_) => self.fail(now, &key, End::Panicked),
        }
    }

    /// Drives every session that is due or has had input: sends what they
    /// produce through `wire`, forwards media, and returns when to come back.
    pub fn poll(&mut self, now: Instant, wire: &mut impl Wire) -> Instant {
        if self.last_keyframe_sweep.is_none_or(|at| now.saturating_duration_since(at) >= KEYFRAME_RETRY) {
            self.last_keyframe_sweep = Some(now);
            self.aim_layers(now);
            let mut waiting: HashSet<(TrackKey, Option<Rid>)> =
                self.timelines.values().filter_map(|t| t.waiting_for().cloned()).collect();
            waiting.extend(
                self.switches
                    .values()
                    .filter_map(|(track, s)| s.pending().map(|rid| (track.clone(), Some(rid)))),
            );
            for (track, rid) in waiting {
                self.request_keyframe(now, &track, rid);
            }
        }
        let changes = self.speakers.tick(now, self.rooms.all());
        if !changes.is_empty() {
            self.aim_layers(now);
        }
        for (room, speaker) in changes {
            let to = self.rooms.members_of(&room).to_vec();
            self.events.push(MediaEvent { to, msg: ServerMsg::ActiveSpeaker { peer: speaker } });
        }
        let lost: Vec<SessionKey> = self
            .sessions
            .iter()
            .filter(|(_, s)| {
                s.ice_down_since.is_some_and(|at| now.saturating_duration_since(at) >= ICE_GRACE)
            })
            .map(|(k, _)| k.clone())
            .collect();
        for key in lost {
            self.fail(now, &key, End::Lost);
        }
        let due: Vec<SessionKey> =
            self.sessions.iter().filter(|(_, s)| s.next <= now).map(|(k, _)| k.clone()).collect();
        for key in due {
            let Some(session) = self.sessions.get_mut(&key) else { continue };
            match session.guarded(|rtc| rtc.handle_input(Input::Timeout(now))) {
                Ok(_) => {
                    self.dirty.insert(key);
                }
                Err(_) => self.fail(now, &key, End::Panicked),
            }
        }
        // Forwarding and offers mark other sessions dirty: go on until all
        // are quiet.
        loop {
            while let Some(key) = self.dirty.iter().next().cloned() {
                self.dirty.remove(&key);
                self.drain(now, &key, wire);
            }
            let Some(peer) = self.to_negotiate.iter().next().cloned() else { break };
            self.to_negotiate.remove(&peer);
            self.negotiate(now, &peer);
        }
        let next = self.sessions.values().map(|s| s.next).min().unwrap_or(now + IDLE).min(now + IDLE);
        next.min(self.speakers.next_tick(now))
    }

    /// Polls one session until it has nothing more to say.
    fn drain(&mut self, now: Instant, key: &SessionKey, wire: &mut impl Wire) {
        let mut events = Vec::new();
        loop {
            let Some(session) = self.sessions.get_mut(key) else { return };
            if !session.is_alive() {
                return self.fail(now, key, End::Closed);
            }
            match session.guarded(|rtc| rtc.poll_output()) {
                Ok(Ok(Output::Transmit(t))) => wire.send(t.proto, t.destination, &t.contents),
                Ok(Ok(Output::Timeout(at))) => {
                    session.next = at;
                    break;
                }
                Ok(Ok(Output::Event(event))) => events.push(event),
                Ok(Err(err)) => {
                    tracing::debug!(peer = %key.peer, %err, "media session error");
                    return self.fail(now, key, End::Error);
                }
                Err(_) => return self.fail(now, key, End::Panicked),
            }
        }
        for event in events {
            self.on_event(now, key, event);
        }
    }

    fn on_event(&mut self, now: Instant, key: &SessionKey, event: Event) {
        match event {
            Event::IceConnectionStateChange(state) => {
                if let Some(session) = self.sessions.get_mut(key) {
                    session.ice_down_since = match state {
                        IceConnectionState::Disconnected => session.ice_down_since.or(Some(now)),
                        _ => None,
                    };
                }
            }
            Event::MediaAdded(added) if key.transport == MediaTransport::Publish => {
                let kind = if added.kind.is_audio() { TrackKind::Audio } else { TrackKind::Video };
                if let Some(simulcast) = &added.simulcast {
                    let track = TrackKey { peer: key.peer.clone(), mid: added.mid.to_string() };
                    self.layers.insert(track, Layers::new(simulcast.recv.iter().map(|l| l.rid).collect()));
                }
                if added.direction.is_receiving() {
                    let changes = self.rooms.publish(&key.peer, &added.mid.to_string(), kind);
                    self.apply(now, changes);
                }
            }
            Event::MediaData(data) if key.transport == MediaTransport::Publish => {
                if let Some(dbov) = data.ext_vals.audio_level {
                    self.speakers.heard(&key.peer, dbov);
                }
                self.forward(now, &key.peer, data)
            }
            // Once a second: what the browser lost of what we sent it.
            Event::PeerStats(stats) if key.transport == MediaTransport::Subscribe => {
                if let Some(loss) = stats.egress_loss_fraction {
                    let downlink = self.downlinks.entry(key.peer.clone()).or_default();
                    downlink.report_loss(now, loss);
                    tracing::trace!(peer = %key.peer, loss, budget = ?downlink.budget(), "downlink");
                    let peer = key.peer.clone();
                    self.aim_for(now, &peer);
                }
            }
            Event::KeyframeRequest(req) if key.transport == MediaTransport::Subscribe => {
                let slot = (key.peer.clone(), req.mid.to_string());
                if let Some(track) = self.rooms.source(&key.peer, &slot.1).cloned() {
                    // The layer this subscriber gets now.
                    let rid = self.switches.get(&slot).and_then(|(_, s)| s.current());
                    self.request_keyframe(now, &track, rid);
                }
            }
            _ => {}
        }
    }

    /// Whether everyone gets `track`'s top layer: its publisher speaks or
    /// presents.
    fn prominent(&self, track: &TrackKey) -> bool {
        let speaker = self.rooms.room_of(&track.peer).and_then(|room| self.speakers.current(room));
        speaker == Some(&track.peer) || self.presenters.contains(&track.peer)
    }

    /// `publisher`'s media ended (it left, or its publish connection went):
    /// its layers and their upkeep are forgotten (a new connection starts
    /// with every layer on), the others' switches for it go, and the slots
    /// that carried it restart on a keyframe of whatever comes next,
    /// possibly its own new connection.
    fn published_media_ended(&mut self, publisher: &PeerId) {
        self.layers.retain(|track, _| &track.peer != publisher);
        self.upkeep.retain(|track, _| &track.peer != publisher);
        self.switches.retain(|_, (track, _)| &track.peer != publisher);
        for timeline in self.timelines.values_mut() {
            if timeline.source().is_some_and(|(track, _)| &track.peer == publisher) {
                timeline.release();
            }
        }
    }

    /// `sub`'s subscribe connection is gone: what it received, and how,
    /// starts over with the next one.
    fn forget_subscriber(&mut self, sub: &PeerId) {
        self.timelines.retain(|(s, _), _| s != sub);
        self.switches.retain(|(s, _), _| s != sub);
        self.downlinks.remove(sub);
        self.held_back.remove(sub);
    }

    /// Tells publishers to pause the larger layers nobody has received for
    /// a while, and to resume them once somebody should.
    fn upkeep_layers(&mut self, now: Instant) {
        let grace = self.config.pause_unused_layers;
        let tracks: Vec<(TrackKey, bool, Vec<Rid>)> = self
            .layers
            .iter()
            .map(|(track, layers)| (track.clone(), self.prominent(track), layers.above_lowest()))
            .filter(|(_, _, above)| !above.is_empty())
            .collect();
        for (track, needed, above) in tracks {
            let Some(pause) = self.upkeep.entry(track.clone()).or_default().update(needed, now, grace) else {
                continue;
            };
            let rids = if pause { above.iter().map(|r| r.to_string()).collect() } else { Vec::new() };
            tracing::debug!(peer = %track.peer, ?rids, "paused layers");
            self.events.push(MediaEvent::one(&track.peer, ServerMsg::PausedLayers { rids }));
        }
    }

    /// Points every simulcast slot at the layer it should carry now (the
    /// speaker changed, someone presents, a layer came or went), and asks
    /// for the keyframes the switches wait for.
    fn aim_layers(&mut self, now: Instant) {
        self.upkeep_layers(now);
        // One pass over every slot, not one per subscriber.
        let mut by_subscriber: HashMap<PeerId, Vec<(String, TrackKey)>> = HashMap::new();
        for ((sub, mid), (track, _)) in &self.switches {
            by_subscriber.entry(sub.clone()).or_default().push((mid.clone(), track.clone()));
        }
        for (sub, slots) in by_subscriber {
            self.aim_slots(now, &sub, slots);
        }
    }

    /// [`Self::aim_slots`] for `sub` alone (its downlink changed, or it
    /// got a slot).
    fn aim_for(&mut self, now: Instant, sub: &PeerId) {
        let slots = self
            .switches
            .iter()
            .filter(|((s, _), _)| s == sub)
            .map(|((_, mid), (track, _))| (mid.clone(), track.clone()))
            .collect();
        self.aim_slots(now, sub, slots);
    }

    /// Points `sub`'s simulcast `slots` (mid, track) at the layers they
    /// should carry, fitted into its downlink: the presenter first, then
    /// the speaker, then everyone else; whoever does not fit is held back,
    /// and `sub` is told who that is when it changes.
    fn aim_slots(&mut self, now: Instant, sub: &PeerId, slots: Vec<(String, TrackKey)>) {
        let mut wants: Vec<(u8, Want<String>)> = Vec::new();
        let mut idle: Vec<String> = Vec::new();
        for (mid, track) in slots {
            let usable = self.layers.get(&track).map(|l| (l, l.usable(now)));
            let Some((layers, usable)) = usable.filter(|(_, u)| !u.is_empty()) else {
                // Nothing arrives to choose from: it keeps what it has.
                idle.push(mid);
                continue;
            };
            let rank = match (self.presenters.contains(&track.peer), self.prominent(&track)) {
                (true, _) => 0,
                (false, true) => 1,
                (false, false) => 2,
            };
            let wanted = layers::wanted(usable.len(), rank < 2);
            let layers = usable.iter().map(|rid| (*rid, layers.bitrate(*rid))).collect();
            wants.push((rank, Want { key: mid, layers, wanted }));
        }
        wants.sort_by(|(ra, a), (rb, b)| ra.cmp(rb).then_with(|| a.key.cmp(&b.key)));
        let wants: Vec<Want<String>> = wants.into_iter().map(|(_, want)| want).collect();
        let voices = self.rooms.voices_of(sub);
        let allocation =
            self.downlinks.entry(sub.clone()).or_default().allocate(now, &wants, voices as u64 * VOICE_BPS);
        let mut held = Vec::new();
        for (mid, given) in allocation.given {
            let Some((track, switch)) = self.switches.get_mut(&(sub.clone(), mid)) else { continue };
            match given {
                Given::Held => {
                    switch.hold();
                    held.push(track.peer.clone());
                }
                Given::Layer(rid) => {
                    if switch.aim(Some(rid)) {
                        self.tally.layer_switches += 1;
                        let track = track.clone();
                        self.request_keyframe(now, &track, Some(rid));
                    }
                }
            }
        }
        for mid in idle {
            if let Some((_, switch)) = self.switches.get_mut(&(sub.clone(), mid)) {
                switch.aim(None);
            }
        }
        held.sort_unstable();
        if self.held_back.get(sub).map_or(!held.is_empty(), |before| *before != held) {
            let budget = self.downlinks.get(sub).and_then(Downlink::budget);
            tracing::debug!(%sub, ?held, ?budget, "held back");
            self.events.push(MediaEvent::one(sub, ServerMsg::HeldBack { peers: held.clone() }));
            self.held_back.insert(sub.clone(), held);
        }
    }

    /// One frame from a publisher to every slot its track is in: of a
    /// simulcast track, only to the slots that carry its layer.
    fn forward(&mut self, now: Instant, publisher: &PeerId, data: MediaData) {
        let track = TrackKey { peer: publisher.clone(), mid: data.mid.to_string() };
        // A layer that appears (or resumes) may be what slots wait for.
        if let Some(rid) = data.rid {
            let bytes = data.data.len();
            let appeared = match self.layers.get_mut(&track) {
                Some(layers) => layers.saw(rid, now, bytes),
                None => self.layers.entry(track.clone()).or_default().saw(rid, now, bytes),
            };
            if appeared {
                self.aim_layers(now);
            }
        }
        let targets: Vec<(PeerId, String)> =
            self.rooms.route(&track).map(|(sub, mid)| (sub.clone(), mid.to_owned())).collect();
        let video = data.params.spec().codec.is_video();
        let keyframe = data.is_keyframe();
        let source = (track.clone(), data.rid);
        for (sub, slot) in targets {
            let slot_key = (sub.clone(), slot.clone());
            if let Some(rid) = data.rid {
                // A slot new to this track starts from the layer it should get.
                if self.switches.get(&slot_key).is_none_or(|(t, _)| *t != track) {
                    self.switches.insert(slot_key.clone(), (track.clone(), LayerSwitch::default()));
                    self.aim_for(now, &sub);
                }
                let (_, switch) = self.switches.get_mut(&slot_key).expect("inserted above");
                if !switch.admit(rid, keyframe) {
                    continue;
                }
            }
            let frame = Frame {
                source: &source,
                video,
                keyframe,
                ticks: data.time.numer(),
                clock_hz: data.time.denom(),
            };
            let timeline = self.timelines.entry(slot_key).or_default();
            let Some(ticks) = timeline.admit(frame, now) else { continue };
            let key = SessionKey::new(&sub, MediaTransport::Subscribe);
            let Some(session) = self.sessions.get_mut(&key) else { continue };
            let time = MediaTime::new(ticks, data.time.frequency());
            let written = session.guarded(|rtc| {
                let writer = rtc.writer(Mid::from(slot.as_str()))?;
                let pt = writer.match_params(data.params)?;
                // Sent now, in the order written: str0m queues by this
                // time, and two layers' frames reach us in either order.
                Some(writer.write(pt, now, time, data.data.clone()))
            });
            match written {
                Ok(Some(Err(err))) => tracing::debug!(peer = %sub, %err, "forwarding a frame"),
                Ok(sent) => {
                    if sent.is_some() {
                        self.tally.frames += 1;
                        self.tally.bytes += data.data.len() as u64;
                    }
                    self.dirty.insert(key);
                }
                Err(_) => self.fail(now, &key, End::Panicked),
            }
        }
    }
}

#[cfg(test)]
#[path = "engine_tests.rs"]
mod tests;
