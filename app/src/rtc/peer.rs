//! One RTCPeerConnection to one remote peer, negotiated with the rules in
//! [`super::negotiation`] over the server's `signal` relay.

use super::js::{self, Handlers, Listener};
use super::link::PeerLink;
use super::negotiation::{Negotiation, OnCandidate, OnDescription};
use crate::protocol::{IceServer, PeerId, SdpType, SignalPayload};
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{
    MediaStream, MediaStreamTrack, MessageEvent, RtcConfiguration, RtcDataChannel, RtcDataChannelInit,
    RtcDataChannelType, RtcIceCandidateInit, RtcIceServer, RtcOfferOptions, RtcPeerConnection,
    RtcPeerConnectionIceEvent, RtcPeerConnectionState, RtcRtpSender, RtcRtpTransceiver,
    RtcRtpTransceiverDirection, RtcRtpTransceiverInit, RtcSdpType, RtcSessionDescriptionInit,
    RtcSignalingState, RtcTrackEvent,
};

/// How long a "disconnected" connection gets to recover on its own before
/// we restart ICE.
pub(super) const DISCONNECTED_GRACE_MS: u32 = 3_000;

/// What a peer connection tells the engine.
pub enum PeerEvent {
    Signal(SignalPayload),
    Link(PeerLink),
    TracksChanged,
    Channel(bool),
    Message(JsValue),
}

pub type Emit = Rc<dyn Fn(PeerEvent)>;

pub struct Peer {
    pub pc: RtcPeerConnection,
    /// Negotiated (id 0) on both sides, so neither waits for the other to
    /// announce it.
    pub dc: RtcDataChannel,
    pub remote: RefCell<MediaStream>,
    neg: RefCell<Negotiation>,
    queued: RefCell<Vec<RtcIceCandidateInit>>,
    sending: Cell<bool>,
    /// False for a data-only connection (direct chat and files in a room
    /// whose media goes through the server): it never adds tracks.
    pub media: bool,
    closed: Cell<bool>,
    listeners: RefCell<Vec<Listener>>,
    emit: Emit,
}

pub fn rtc_config(ice_servers: &[IceServer]) -> RtcConfiguration {
    let list = js_sys::Array::new();
    for server in ice_servers {
        let entry = RtcIceServer::new();
        let urls: js_sys::Array = server.urls.iter().map(|u| JsValue::from_str(u)).collect();
        entry.set_urls(&urls);
        if let Some(username) = &server.username {
            entry.set_username(username);
        }
        if let Some(credential) = &server.credential {
            entry.set_credential(credential);
        }
        list.push(&entry);
    }
    let config = RtcConfiguration::new();
    config.set_ice_servers(&list);
    config
}

/// Sets the description `made` (a createOffer or createAnswer promise) as
/// `pc`'s local one; returns its SDP for the other side.
pub async fn set_local(
    pc: &RtcPeerConnection,
    kind: RtcSdpType,
    made: js_sys::Promise,
) -> Result<String, JsValue> {
    let sdp = sdp_of(&js::wait(made).await?);
    let description = RtcSessionDescriptionInit::new(kind);
    description.set_sdp(&sdp);
    js::wait(pc.set_local_description(&description)).await?;
    Ok(sdp)
}

fn sdp_type(kind: SdpType) -> RtcSdpType {
    match kind {
        SdpType::Offer => RtcSdpType::Offer,
        SdpType::Answer => RtcSdpType::Answer,
        SdpType::Pranswer => RtcSdpType::Pranswer,
        SdpType::Rollback => RtcSdpType::Rollback,
    }
}

fn sdp_of(description: &JsValue) -> String {
    js_sys::Reflect::get(description, &JsValue::from_str("sdp"))
        .ok()
        .and_then(|v| v.as_string())
        .unwrap_or_default()
}

impl Handlers for Peer {
    fn is_closed(&self) -> bool {
        self.closed.get()
    }

    fn listeners(&self) -> &RefCell<Vec<Listener>> {
        &self.listeners
    }
}

impl Peer {
    pub fn new(
        me: &PeerId,
        them: &PeerId,
        ice_servers: &[IceServer],
        media: bool,
        emit: Emit,
    ) -> Result<Rc<Peer>, JsValue> {
        let pc = RtcPeerConnection::new_with_configuration(&rtc_config(ice_servers))?;
        let init = RtcDataChannelInit::new();
        init.set_negotiated(true);
        init.set_id(0);
        let dc = pc.create_data_channel_with_data_channel_dict("noom", &init);
        dc.set_binary_type(RtcDataChannelType::Arraybuffer);
        let peer = Rc::new(Peer {
            pc,
            dc,
            remote: RefCell::new(MediaStream::new()?),
            neg: RefCell::new(Negotiation::new(me, them)),
            queued: RefCell::new(Vec::new()),
            sending: Cell::new(false),
            media,
            closed: Cell::new(false),
            listeners: RefCell::new(Vec::new()),
            emit,
        });
        peer.listen();
        Ok(peer)
    }

    fn listen(self: &Rc<Self>) {
        let (pc, dc) = (self.pc.clone(), self.dc.clone());
        self.on(
            |f| pc.set_onicecandidate(Some(f)),
            |peer, event| {
                let event: RtcPeerConnectionIceEvent = event.unchecked_into();
                if let Some(c) = event.candidate().filter(|c| !c.candidate().is_empty()) {
                    (peer.emit)(PeerEvent::Signal(SignalPayload::Candidate {
                        candidate: c.candidate(),
                        sdp_mid: c.sdp_mid(),
                        sdp_m_line_index: c.sdp_m_line_index(),
                    }));
                }
            },
        );
        self.on(
            |f| pc.set_ontrack(Some(f)),
            |peer, event| {
                let event: RtcTrackEvent = event.unchecked_into();
                // A new stream object, so a <video> showing the old one
                // picks the change up when re-attached.
                let tracks = peer.remote.borrow().get_tracks();
                tracks.push(&event.track());
                if let Ok(stream) = MediaStream::new_with_tracks(&tracks) {
                    *peer.remote.borrow_mut() = stream;
                }
                (peer.emit)(PeerEvent::TracksChanged);
            },
        );
        self.on(
            |f| pc.set_onnegotiationneeded(Some(f)),
            |peer, _| {
                wasm_bindgen_futures::spawn_local(peer.clone().make_offer(false));
            },
        );
        self.on(|f| pc.set_onconnectionstatechange(Some(f)), |peer, _| peer.on_connection_state());
        self.on(|f| dc.set_onopen(Some(f)), |peer, _| (peer.emit)(PeerEvent::Channel(true)));
        self.on(|f| dc.set_onclose(Some(f)), |peer, _| (peer.emit)(PeerEvent::Channel(false)));
        self.on(
            |f| dc.set_onmessage(Some(f)),
            |peer, event| {
                let event: MessageEvent = event.unchecked_into();
                (peer.emit)(PeerEvent::Message(event.data()));
            },
        );
    }

    fn on_connection_state(self: &Rc<Self>) {
        match self.pc.connection_state() {
            RtcPeerConnectionState::Connected => (self.emit)(PeerEvent::Link(PeerLink::Connected)),
            RtcPeerConnectionState::Disconnected => {
                (self.emit)(PeerEvent::Link(PeerLink::Reconnecting));
                let peer = self.clone();
                wasm_bindgen_futures::spawn_local(async move {
                    js::sleep_ms(DISCONNECTED_GRACE_MS).await;
                    if !peer.closed.get()
                        && peer.pc.connection_state() == RtcPeerConnectionState::Disconnected
                    {
                        peer.restart_ice().await;
                    }
                });
            }
            RtcPeerConnectionState::Failed => {
                (self.emit)(PeerEvent::Link(PeerLink::Reconnecting));
                wasm_bindgen_futures::spawn_local(self.clone().restart_ice());
            }
            RtcPeerConnectionState::New | RtcPeerConnectionState::Connecting => {
                (self.emit)(PeerEvent::Link(PeerLink::Connecting))
            }
            _ => {}
        }
    }

    /// Only the impolite side restarts, so a failure seen by both ends does
    /// not start two restarts that collide.
    async fn restart_ice(self: Rc<Self>) {
        if !self.neg.borrow().polite {
            self.make_offer(true).await;
        }
    }

    /// Starts sending our tracks. The first call on the offering side adds
    /// an audio and a video transceiver; on the answering side it takes over
    /// the transceivers the remote offer created. Either way every later
    /// change is `replaceTrack`, with no renegotiation.
    pub fn send_local(&self, audio: Option<&MediaStreamTrack>, video: Option<&MediaStreamTrack>) {
        if !self.sending.replace(true) {
            if self.pc.get_transceivers().length() == 0 {
                let init = RtcRtpTransceiverInit::new();
                init.set_direction(RtcRtpTransceiverDirection::Sendrecv);
                self.pc.add_transceiver_with_str_and_init("audio", &init);
                self.pc.add_transceiver_with_str_and_init("video", &init);
            } else {
                for t in self.pc.get_transceivers().iter() {
                    t.unchecked_into::<RtcRtpTransceiver>()
                        .set_direction(RtcRtpTransceiverDirection::Sendrecv);
                }
            }
        }
        self.replace("audio", audio);
        self.replace("video", video);
    }

    pub fn replace(&self, kind: &str, track: Option<&MediaStreamTrack>) {
        if let Some(sender) = self.sender(kind) {
            let _ = sender.replace_track(track);
        }
    }

    /// The sender for `kind`, found through its transceiver's receiver
    /// (whose track kind is fixed even while we send nothing).
    fn sender(&self, kind: &str) -> Option<RtcRtpSender> {
        self.pc
            .get_transceivers()
            .iter()
            .map(|t| t.unchecked_into::<RtcRtpTransceiver>())
            .find_map(|t| (t.receiver().track().kind() == kind && !t.stopped()).then(|| t.sender()))
    }

    pub async fn make_offer(self: Rc<Self>, ice_restart: bool) {
        if self.closed.get() || !self.neg.borrow_mut().begin_offer() {
            return;
        }
        let pc = self.pc.clone();
        let result: Result<Option<String>, JsValue> = async {
            let options = RtcOfferOptions::new();
            options.set_ice_restart(ice_restart);
            let offer = js::wait(pc.create_offer_with_rtc_offer_options(&options)).await?;
            if pc.signaling_state() != RtcSignalingState::Stable {
                // A remote offer got in first and is being answered.
                return Ok(None);
            }
            let sdp = sdp_of(&offer);
            let description = RtcSessionDescriptionInit::new(RtcSdpType::Offer);
            description.set_sdp(&sdp);
            js::wait(pc.set_local_description(&description)).await?;
            Ok(Some(sdp))
        }
        .await;
        self.neg.borrow_mut().end_offer();
        match result {
            Ok(Some(sdp)) if !self.closed.get() => {
                (self.emit)(PeerEvent::Signal(SignalPayload::Description { sdp_type: SdpType::Offer, sdp }))
            }
            Ok(_) => {}
            Err(err) => leptos::logging::warn!("offer failed: {}", js::error_name(&err)),
        }
    }

    pub async fn on_description(
        self: Rc<Self>,
        kind: SdpType,
        sdp: String,
        audio: Option<MediaStreamTrack>,
        video: Option<MediaStreamTrack>,
    ) {
        let stable = self.pc.signaling_state() == RtcSignalingState::Stable;
        let action = self.neg.borrow_mut().on_description(kind, stable);
        let OnDescription::Apply { answer } = action else { return };
        let description = RtcSessionDescriptionInit::new(sdp_type(kind));
        description.set_sdp(&sdp);
        let applied = js::wait(self.pc.set_remote_description(&description)).await;
        self.neg.borrow_mut().description_applied(applied.is_ok());
        if let Err(err) = applied {
            leptos::logging::warn!("remote description refused: {}", js::error_name(&err));
            return;
        }
        let queued = std::mem::take(&mut *self.queued.borrow_mut());
        for candidate in queued {
            self.add_candidate(&candidate).await;
        }
        if !answer || self.closed.get() {
            return;
        }
        if self.media {
            self.send_local(audio.as_ref(), video.as_ref());
        }
        let result = set_local(&self.pc, RtcSdpType::Answer, self.pc.create_answer()).await;
        match result {
            Ok(sdp) => {
                (self.emit)(PeerEvent::Signal(SignalPayload::Description { sdp_type: SdpType::Answer, sdp }))
            }
            Err(err) => leptos::logging::warn!("answer failed: {}", js::error_name(&err)),
        }
    }

    pub async fn on_candidate(self: Rc<Self>, candidate: String, mid: Option<String>, index: Option<u16>) {
        let init = RtcIceCandidateInit::new(&candidate);
        init.set_sdp_mid(mid.as_deref());
        init.set_sdp_m_line_index(index);
        let action = self.neg.borrow().on_candidate();
        match action {
            OnCandidate::Add => self.add_candidate(&init).await,
            OnCandidate::Queue => self.queued.borrow_mut().push(init),
            OnCandidate::Drop => {}
        }
    }

    async fn add_candidate(&self, init: &RtcIceCandidateInit) {
        let added = js::wait(self.pc.add_ice_candidate_with_opt_rtc_ice_candidate_init(Some(init))).await;
        if let Err(err) = added {
            if self.neg.borrow().candidate_error_matters() {
                leptos::logging::warn!("ICE candidate refused: {}", js::error_name(&err));
            }
        }
    }

    /// Closes the connection and releases every handler.
    pub fn close(&self) {
        self.closed.set(true);
        self.pc.set_onicecandidate(None);
        self.pc.set_ontrack(None);
        self.pc.set_onnegotiationneeded(None);
        self.pc.set_onconnectionstatechange(None);
        self.dc.set_onopen(None);
        self.dc.set_onclose(None);
        self.dc.set_onmessage(None);
        self.dc.set_onbufferedamountlow(None);
        self.dc.close();
        self.pc.close();
        self.listeners.borrow_mut().clear();
    }
}
