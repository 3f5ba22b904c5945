//! The video call as components see it: plain reactive state plus actions.
//!
//! Decisions about connections are [`core::CallCore`]'s (plain state,
//! unit-tested); the browser-only `engine` (feature `browser`) carries
//! events into it and its actions out to the transports in `rtc`. During
//! server rendering the actions do nothing, so components carry no WebRTC
//! or media code and never touch web-sys themselves.

pub mod core;
pub mod cues;
#[cfg(feature = "browser")]
mod engine;
pub mod quality;
pub mod tile;

pub use crate::rtc::devices::{Device, MediaProblem};
pub use crate::rtc::link::PeerLink;
pub use crate::rtc::p2p::human_size;

use crate::protocol::{MediaState, PeerId};
use crate::session::Session;
use leptos::prelude::*;
use leptos::web_sys::{HtmlInputElement, HtmlVideoElement};
use quality::{Quality, StatSample};
use std::collections::VecDeque;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// Nothing started (server rendering, or before the pre-join screen).
    Idle,
    /// The pre-join screen: local preview, pickers, level meter.
    Preview,
    InCall,
}

#[derive(Clone, Debug, PartialEq)]
pub struct PeerView {
    pub id: PeerId,
    pub link: PeerLink,
    /// Bumped when the peer's received tracks change, so its tile
    /// re-attaches the stream.
    pub stream_rev: u32,
    pub p2p_open: bool,
    /// The picture comes through the server (else over our own connection
    /// to them); differs from the room's route only while it changes.
    pub via_server: bool,
    /// The last minute of call statistics, one sample a second.
    pub stats: VecDeque<StatSample>,
    pub quality: Option<Quality>,
}

impl PeerView {
    pub fn new(id: PeerId) -> Self {
        PeerView {
            id,
            link: PeerLink::Connecting,
            stream_rev: 0,
            p2p_open: false,
            via_server: false,
            stats: VecDeque::new(),
            quality: None,
        }
    }
}

/// One file going to or coming from one peer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Transfer {
    pub key: String,
    pub name: String,
    pub size: u64,
    pub done: u64,
    pub outgoing: bool,
    pub peer_name: String,
    /// The received file, once complete.
    pub url: Option<String>,
    pub error: Option<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct CallState {
    pub phase: Phase,
    /// Waiting for getUserMedia.
    pub starting: bool,
    pub problem: Option<MediaProblem>,
    /// The person's choices: send the microphone / camera.
    pub mic_on: bool,
    pub camera_on: bool,
    /// Whether we hold a live track of each kind.
    pub has_mic: bool,
    pub has_camera: bool,
    pub cameras: Vec<Device>,
    pub mics: Vec<Device>,
    pub camera_id: Option<String>,
    pub mic_id: Option<String>,
    /// Bumped when the local tracks change, so the self view re-attaches.
    pub local_rev: u32,
    pub peers: Vec<PeerView>,
    pub transfers: Vec<Transfer>,
    /// Our screen is what we send instead of the camera.
    pub sharing: bool,
    pub active_speaker: Option<PeerId>,
    /// People whose video the server holds back from us: our connection
    /// cannot take it now (SFU rooms).
    pub held_back: Vec<PeerId>,
    /// Layout: the speaker (or the shared screen) large, the rest in a strip.
    pub speaker_view: bool,
    /// Shown large for us alone, whoever speaks or presents.
    pub pinned: Option<PeerId>,
    /// Our own video small in a corner instead of a tile of the grid.
    pub self_minimised: bool,
}

impl Default for CallState {
    fn default() -> Self {
        CallState {
            phase: Phase::Idle,
            starting: false,
            problem: None,
            mic_on: true,
            camera_on: true,
            has_mic: false,
            has_camera: false,
            cameras: Vec::new(),
            mics: Vec::new(),
            camera_id: None,
            mic_id: None,
            local_rev: 0,
            peers: Vec::new(),
            transfers: Vec::new(),
            sharing: false,
            active_speaker: None,
            held_back: Vec::new(),
            speaker_view: false,
            pinned: None,
            self_minimised: false,
        }
    }
}

impl CallState {
    /// What others should see on our tile.
    pub fn media(&self) -> MediaState {
        MediaState { audio: self.mic_on && self.has_mic, video: self.camera_on && self.has_camera }
    }

    pub fn peer(&self, id: &PeerId) -> Option<&PeerView> {
        self.peers.iter().find(|p| &p.id == id)
    }
}

#[derive(Clone, Copy)]
pub struct Call {
    pub state: RwSignal<CallState>,
    /// Microphone level, 0.0–1.0, updated a few times a second.
    pub level: RwSignal<f32>,
    pub session: Session,
    /// Whether the engine is installed (see [`Call::activate`]).
    active: StoredValue<bool>,
}

impl Call {
    /// Plain state only: the app provides this at its root, but the engine
    /// (and its code) is only reached from the room page, so the lobby's
    /// wasm chunk never carries the WebRTC code.
    pub fn provide(session: Session) -> Self {
        let call = Call {
            state: RwSignal::new(CallState::default()),
            level: RwSignal::new(0.0),
            session,
            active: StoredValue::new(false),
        };
        provide_context(call);
        call
    }

    /// Installs the call engine once, the first time a room page opens. It
    /// is owned by the app's root, like the state, so that leaving a room
    /// (which disposes the page) cannot strand callbacks that still fire.
    pub fn activate(&self) {
        if self.active.get_value() {
            return;
        }
        self.active.set_value(true);
        let call = *self;
        let root = root_owner();
        let install = move || {
            #[cfg(feature = "browser")]
            engine::install(call);
            // The host asked everyone to mute: do it (unmuting stays ours).
            let requests = Memo::new(move |_| call.session.model.with(|m| m.mute_requests));
            Effect::new(move |seen: Option<u64>| {
                let now = requests.get();
                let in_call = call.state.with_untracked(|s| s.phase == Phase::InCall && s.mic_on);
                if seen.is_some_and(|seen| now > seen) && in_call {
                    call.toggle_mic();
                }
                now
            });
        };
        match root {
            Some(root) => root.with(install),
            None => install(),
        }
    }

    /// Opens the pre-join screen: asks for camera and microphone.
    pub fn start_preview(&self) {
        #[cfg(feature = "browser")]
        engine::start_preview(*self, true, true);
    }

    /// After a refusal: try again with the microphone only.
    pub fn retry_audio_only(&self) {
        #[cfg(feature = "browser")]
        engine::start_preview(*self, true, false);
    }

    /// Enter the room: the call starts with whatever media we have.
    pub fn join(&self, room: String) {
        self.join_with(room, None);
    }

    /// Enter a room that asked for a passcode.
    pub fn join_with(&self, room: String, passcode: Option<String>) {
        let asked = self.session.model.with_untracked(|m| m.needs_passcode_for(&room));
        if asked && passcode.is_none() {
            // The passcode prompt is on screen; joining needs its answer.
            return;
        }
        self.state.update(|s| s.phase = Phase::InCall);
        #[cfg(feature = "browser")]
        engine::start_stats(*self);
        let media = self.state.with_untracked(CallState::media);
        self.session.act(|m| {
            let mut msgs = m.set_media(media);
            msgs.extend(match passcode {
                Some(code) => m.enter_room_with_passcode(room, code),
                None => m.enter_room(room),
            });
            msgs
        });
    }

    /// Stops every track and closes every connection.
    pub fn leave(&self) {
        #[cfg(feature = "browser")]
        engine::shut_down(*self);
        self.state.set(CallState::default());
        self.level.set(0.0);
    }

    pub fn toggle_mic(&self) {
        #[cfg(feature = "browser")]
        engine::toggle_mic(*self);
    }

    /// Shares the screen instead of the camera, or stops sharing.
    pub fn toggle_share(&self) {
        #[cfg(feature = "browser")]
        engine::toggle_share(*self);
    }

    pub fn toggle_speaker_view(&self) {
        self.state.update(|s| s.speaker_view = !s.speaker_view);
    }

    /// A short sound for something that happened in the room.
    pub fn play(&self, cue: cues::Cue) {
        #[cfg(feature = "browser")]
        crate::rtc::sounds::play(cue);
        #[cfg(not(feature = "browser"))]
        let _ = cue;
    }

    pub fn toggle_self_view(&self) {
        self.state.update(|s| s.self_minimised = !s.self_minimised);
    }

    /// Pins `id` large (for us only), or unpins them.
    pub fn toggle_pin(&self, id: &PeerId) {
        self.state.update(|s| s.pinned = if s.pinned.as_ref() == Some(id) { None } else { Some(id.clone()) });
    }

    pub fn toggle_camera(&self) {
        #[cfg(feature = "browser")]
        engine::toggle_camera(*self);
    }

    pub fn use_camera(&self, _device_id: String) {
        #[cfg(feature = "browser")]
        engine::switch_device(*self, "video", _device_id);
    }

    pub fn use_mic(&self, _device_id: String) {
        #[cfg(feature = "browser")]
        engine::switch_device(*self, "audio", _device_id);
    }

    /// Sends a chat message straight to every connected peer.
    pub fn send_p2p_chat(&self, _text: &str) -> Result<(), String> {
        #[cfg(feature = "browser")]
        return engine::send_p2p_chat(*self, _text);
        #[cfg(not(feature = "browser"))]
        Err("not in a call".into())
    }

    /// Sends the files chosen in `input` to every connected peer.
    /// In a room whose call goes through the server: connect directly to
    /// everyone for direct chat and files (a mesh always is).
    pub fn open_direct(&self) {
        #[cfg(feature = "browser")]
        engine::open_direct(*self);
    }

    pub fn send_files(&self, _input: &HtmlInputElement) {
        #[cfg(feature = "browser")]
        engine::send_files(*self, _input);
    }

    pub fn attach_local(&self, _video: &HtmlVideoElement) {
        #[cfg(feature = "browser")]
        engine::attach_local(_video);
    }

    pub fn attach_remote(&self, _video: &HtmlVideoElement, _peer: &PeerId) {
        #[cfg(feature = "browser")]
        {
            let via_server = self.state.with_untracked(|s| s.peer(_peer).is_some_and(|p| p.via_server));
            engine::attach_remote(_video, _peer, via_server);
        }
    }
}

fn root_owner() -> Option<Owner> {
    let mut owner = Owner::current()?;
    while let Some(parent) = owner.parent() {
        owner = parent;
    }
    Some(owner)
}

pub fn use_call() -> Call {
    expect_context::<Call>()
}
