//! A call through the server (SFU rooms): two peer connections to it.
//! On `publish` we offer our microphone and camera (later changes are
//! `replaceTrack`, as in the mesh); on `subscribe` the server offers the
//! others' media in reusable slots and we answer. Offers only go one way
//! on each, so there is nothing to collide. Which slot is whose comes from
//! `slot_map` ([`SlotTable`]), not from the SDP.

use super::js::{self, Handlers, Listener};
use super::link::PeerLink;
use super::peer::{rtc_config, set_local, DISCONNECTED_GRACE_MS};
use super::slots::SlotTable;
use crate::protocol::{IceServer, MediaTransport, PeerId, SdpType, SignalPayload, Slot};
use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::rc::Rc;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{
    MediaStream, MediaStreamTrack, RtcPeerConnection, RtcPeerConnectionIceEvent, RtcPeerConnectionState,
    RtcRtpSender, RtcRtpTransceiver, RtcRtpTransceiverDirection, RtcRtpTransceiverInit, RtcSdpType,
    RtcSessionDescriptionInit, RtcTrackEvent,
};

/// What the SFU link tells the engine.
pub enum SfuEvent {
    /// Signaling for the server.
    Signal(MediaTransport, SignalPayload),
    /// How the link to the server is doing (shown on every remote tile).
    Link(PeerLink),
    /// These people's media changed: re-attach their tiles.
    StreamsChanged(Vec<PeerId>),
    /// A connection failed, or stayed disconnected past its grace: this
    /// link is done (said once).
    Lost,
}

pub type Emit = Rc<dyn Fn(SfuEvent)>;

pub struct SfuLink {
    pub publish: RtcPeerConnection,
    pub subscribe: RtcPeerConnection,
    slots: RefCell<SlotTable>,
    /// Received tracks by the mid of their slot (a list: a map would be
    /// its own code in the download, for a few dozen entries).
    tracks: RefCell<Vec<(String, MediaStreamTrack)>>,
    /// Offers from the server, answered one at a time.
    offers: RefCell<VecDeque<String>>,
    answering: Cell<bool>,
    lost: Cell<bool>,
    closed: Cell<bool>,
    /// A screen goes out instead of the camera: its top layer only.
    screen: Cell<bool>,
    /// Layers (rids) the server says nobody receives now.
    paused: RefCell<Vec<String>>,
    listeners: RefCell<Vec<Listener>>,
    emit: Emit,
}

impl Handlers for SfuLink {
    fn is_closed(&self) -> bool {
        self.closed.get()
    }

    fn listeners(&self) -> &RefCell<Vec<Listener>> {
        &self.listeners
    }
}

impl SfuLink {
    pub fn new(ice_servers: &[IceServer], emit: Emit) -> Result<Rc<SfuLink>, JsValue> {
        let config = rtc_config(ice_servers);
        let link = Rc::new(SfuLink {
            publish: RtcPeerConnection::new_with_configuration(&config)?,
            subscribe: RtcPeerConnection::new_with_configuration(&config)?,
            slots: RefCell::default(),
            tracks: RefCell::default(),
            offers: RefCell::default(),
            answering: Cell::new(false),
            lost: Cell::new(false),
            closed: Cell::new(false),
            screen: Cell::new(false),
            paused: RefCell::default(),
            listeners: RefCell::default(),
            emit,
        });
        link.listen();
        Ok(link)
    }

    fn listen(self: &Rc<Self>) {
        for (pc, transport) in [
            (self.publish.clone(), MediaTransport::Publish),
            (self.subscribe.clone(), MediaTransport::Subscribe),
        ] {
            self.on(
                |f| pc.set_onicecandidate(Some(f)),
                move |link, event| {
                    let event: RtcPeerConnectionIceEvent = event.unchecked_into();
                    if let Some(c) = event.candidate().filter(|c| !c.candidate().is_empty()) {
                        let payload = SignalPayload::Candidate {
                            candidate: c.candidate(),
                            sdp_mid: c.sdp_mid(),
                            sdp_m_line_index: c.sdp_m_line_index(),
                        };
                        (link.emit)(SfuEvent::Signal(transport, payload));
                    }
                },
            );
        }
        let subscribe = self.subscribe.clone();
        self.on(
            |f| subscribe.set_ontrack(Some(f)),
            |link, event| {
                let event: RtcTrackEvent = event.unchecked_into();
                let Some(mid) = event.transceiver().mid() else { return };
                let mut tracks = link.tracks.borrow_mut();
                tracks.retain(|(m, _)| *m != mid);
                tracks.push((mid.clone(), event.track()));
                drop(tracks);
                let peer = link.slots.borrow().peer_of(&mid).cloned();
                if let Some(peer) = peer {
                    (link.emit)(SfuEvent::StreamsChanged(vec![peer]));
                }
            },
        );
        self.on(|f| subscribe.set_onconnectionstatechange(Some(f)), |link, _| link.on_connection_state());
    }

    /// Both connections carry the call: it is as good as the worse one
    /// (publishing nothing yet does not count against it).
    pub fn link(&self) -> PeerLink {
        use RtcPeerConnectionState as S;
        match (self.publish.connection_state(), self.subscribe.connection_state()) {
            (S::Connected | S::New, S::Connected) => PeerLink::Connected,
            (S::Disconnected | S::Failed, _) | (_, S::Disconnected | S::Failed) => PeerLink::Reconnecting,
            _ => PeerLink::Connecting,
        }
    }

    fn on_connection_state(self: &Rc<Self>) {
        use RtcPeerConnectionState as S;
        (self.emit)(SfuEvent::Link(self.link()));
        let states = [self.publish.connection_state(), self.subscribe.connection_state()];
        if states.contains(&S::Failed) {
            self.lose();
        } else if states.contains(&S::Disconnected) {
            // A blip may heal by itself, as in the mesh.
            let link = self.clone();
            wasm_bindgen_futures::spawn_local(async move {
                js::sleep_ms(DISCONNECTED_GRACE_MS).await;
                if link.link() == PeerLink::Reconnecting {
                    link.lose();
                }
            });
        }
    }

    fn lose(&self) {
        if !self.closed.get() && !self.lost.replace(true) {
            (self.emit)(SfuEvent::Lost);
        }
    }

    /// Offers our microphone and camera to the server.
    pub async fn start_publishing(
        self: Rc<Self>,
        audio: Option<MediaStreamTrack>,
        video: Option<MediaStreamTrack>,
    ) {
        let init = RtcRtpTransceiverInit::new();
        init.set_direction(RtcRtpTransceiverDirection::Sendonly);
        self.publish.add_transceiver_with_str_and_init("audio", &init);
        init.set_send_encodings(&simulcast_layers(video.as_ref()));
        self.publish.add_transceiver_with_str_and_init("video", &init);
        self.replace("audio", audio.as_ref());
        self.replace("video", video.as_ref());
        let pc = self.publish.clone();
        let state = pc.clone();
        self.on(|f| state.set_onconnectionstatechange(Some(f)), |link, _| link.on_connection_state());
        let offered = set_local(&pc, RtcSdpType::Offer, pc.create_offer()).await;
        match offered {
            Ok(sdp) if !self.closed.get() => (self.emit)(SfuEvent::Signal(
                MediaTransport::Publish,
                SignalPayload::Description { sdp_type: SdpType::Offer, sdp },
            )),
            Ok(_) => {}
            Err(err) => leptos::logging::warn!("publish offer failed: {}", js::error_name(&err)),
        }
    }

    /// Sends only the top simulcast layer (a screen: the server gives
    /// everyone a presenter's top layer, and a smaller copy of a screen is
    /// unreadable anyway), or the camera's layers again.
    pub fn top_layer_only(&self, only: bool) {
        self.screen.set(only);
        self.apply_layers();
    }

    /// Stops encoding the layers nobody receives (`rids`), and resumes
    /// the others.
    pub fn pause_layers(&self, rids: Vec<String>) {
        *self.paused.borrow_mut() = rids;
        self.apply_layers();
    }

    fn apply_layers(&self) {
        let only = self.screen.get();
        let Some(sender) = self.sender("video") else { return };
        let call = |name: &str, args: &js_sys::Array| js::call(&sender, name, args);
        let result = (|| {
            let params = call("getParameters", &js_sys::Array::new())?;
            let encodings: js_sys::Array =
                js_sys::Reflect::get(&params, &JsValue::from_str("encodings"))?.dyn_into()?;
            let layers = layers_of(encodings.length());
            let set = |target: &JsValue, key: &str, value: JsValue| {
                js_sys::Reflect::set(target, &JsValue::from_str(key), &value).map(|_| ())
            };
            let paused = self.paused.borrow();
            for (i, encoding) in encodings.iter().enumerate() {
                let top = i + 1 == layers.len();
                let rid = js_sys::Reflect::get(&encoding, &JsValue::from_str("rid"))?.as_string();
                let active = if only { top } else { !rid.is_some_and(|r| paused.contains(&r)) };
                set(&encoding, "active", JsValue::from_bool(active))?;
                // A screen's text needs more than a camera's top layer gets.
                let bitrate = if only && top { SCREEN_BITRATE } else { layers.get(i).map_or(0.0, |l| l.2) };
                set(&encoding, "maxBitrate", JsValue::from_f64(bitrate))?;
            }
            let keep = if only { "maintain-resolution" } else { "balanced" };
            set(&params, "degradationPreference", JsValue::from_str(keep))?;
            call("setParameters", &js_sys::Array::of1(&params))
        })();
        if let Err(err) = result {
            leptos::logging::warn!("could not change the simulcast layers: {}", js::error_name(&err));
        }
    }

    pub fn replace(&self, kind: &str, track: Option<&MediaStreamTrack>) {
        if let Some(sender) = self.sender(kind) {
            let _ = sender.replace_track(track);
        }
    }

    fn sender(&self, kind: &str) -> Option<RtcRtpSender> {
        self.publish
            .get_transceivers()
            .iter()
            .map(|t| t.unchecked_into::<RtcRtpTransceiver>())
            .find_map(|t| (t.receiver().track().kind() == kind).then(|| t.sender()))
    }

    /// SDP from the server.
    pub fn on_media(self: &Rc<Self>, transport: MediaTransport, payload: SignalPayload) {
        let SignalPayload::Description { sdp_type, sdp } = payload else {
            // The server's one candidate is in its SDP.
            return;
        };
        match (transport, sdp_type) {
            (MediaTransport::Publish, SdpType::Answer) => {
                let pc = self.publish.clone();
                wasm_bindgen_futures::spawn_local(async move {
                    let description = RtcSessionDescriptionInit::new(RtcSdpType::Answer);
                    description.set_sdp(&sdp);
                    if let Err(err) = js::wait(pc.set_remote_description(&description)).await {
                        leptos::logging::warn!("publish answer refused: {}", js::error_name(&err));
                    }
                });
            }
            (MediaTransport::Subscribe, SdpType::Offer) => {
                self.offers.borrow_mut().push_back(sdp);
                if !self.answering.replace(true) {
                    wasm_bindgen_futures::spawn_local(self.clone().answer_offers());
                }
            }
            _ => leptos::logging::warn!("unexpected {sdp_type:?} on {transport:?}"),
        }
    }

    async fn answer_offers(self: Rc<Self>) {
        loop {
            let Some(sdp) = self.offers.borrow_mut().pop_front() else { break };
            if self.closed.get() {
                break;
            }
            let pc = self.subscribe.clone();
            let answered: Result<String, JsValue> = async {
                let description = RtcSessionDescriptionInit::new(RtcSdpType::Offer);
                description.set_sdp(&sdp);
                js::wait(pc.set_remote_description(&description)).await?;
                set_local(&pc, RtcSdpType::Answer, pc.create_answer()).await
            }
            .await;
            match answered {
                Ok(sdp) if !self.closed.get() => (self.emit)(SfuEvent::Signal(
                    MediaTransport::Subscribe,
                    SignalPayload::Description { sdp_type: SdpType::Answer, sdp },
                )),
                Ok(_) => {}
                Err(err) => leptos::logging::warn!("subscribe offer failed: {}", js::error_text(&err)),
            }
        }
        self.answering.set(false);
    }

    /// A new slot map; the people whose media moved get their tiles redone.
    pub fn on_slot_map(&self, slots: Vec<Slot>) {
        let changed = self.slots.borrow_mut().apply(slots);
        if !changed.is_empty() {
            (self.emit)(SfuEvent::StreamsChanged(changed));
        }
    }

    /// `peer`'s received audio and video, as one stream for their tile.
    pub fn stream_of(&self, peer: &PeerId) -> Option<MediaStream> {
        let tracks = js_sys::Array::new();
        let slots = self.slots.borrow();
        let received = self.tracks.borrow();
        for (mid, _) in slots.slots_of(peer) {
            if let Some((_, track)) = received.iter().find(|(m, _)| m == mid) {
                tracks.push(track);
            }
        }
        MediaStream::new_with_tracks(&tracks).ok()
    }

    /// Everyone whose media the server sends us.
    pub fn peers(&self) -> Vec<PeerId> {
        self.slots.borrow().peers()
    }

    /// The mids of `peer`'s slots (their rows in `getStats`).
    pub fn mids_of(&self, peer: &PeerId) -> Vec<String> {
        self.slots.borrow().slots_of(peer).map(|(mid, _)| mid.to_owned()).collect()
    }

    pub fn close(&self) {
        self.closed.set(true);
        for pc in [&self.publish, &self.subscribe] {
            pc.set_onicecandidate(None);
            pc.set_ontrack(None);
            pc.set_onconnectionstatechange(None);
            pc.close();
        }
        self.listeners.borrow_mut().clear();
    }
}

/// A simulcast layer: rid, how much smaller than the camera, most bits/s.
type Layer = (&'static str, f64, f64);

/// The top layer's ceiling while it carries a screen.
const SCREEN_BITRATE: f64 = 2_500_000.0;

fn layers_of(count: u32) -> &'static [Layer] {
    if count >= 3 {
        &[("q", 4.0, 150_000.0), ("h", 2.0, 500_000.0), ("f", 1.0, 1_500_000.0)]
    } else {
        &[("q", 2.0, 250_000.0), ("f", 1.0, 1_000_000.0)]
    }
}

/// Our camera in simulcast layers, lowest first: the server forwards the
/// speaker's top layer and everyone else's lowest, so each person downloads
/// one large picture rather than one per person. Chromium drops the largest
/// of three layers from a camera under 960×540, so a smaller one gets two.
fn simulcast_layers(camera: Option<&MediaStreamTrack>) -> js_sys::Array {
    let height = camera.and_then(|t| t.get_settings().get_height()).unwrap_or(0);
    layers_of(if height >= 540 { 3 } else { 2 })
        .iter()
        .map(|(rid, scale, bitrate)| {
            let encoding = js::object(&[
                ("rid", JsValue::from_str(rid)),
                ("scaleResolutionDownBy", JsValue::from_f64(*scale)),
                ("maxBitrate", JsValue::from_f64(*bitrate)),
            ]);
            JsValue::from(encoding)
        })
        .collect()
}
