//! The live JS side of the call this page is in: local tracks, the shared
//! screen, the connections (one per person in a mesh, data-only ones for
//! direct chat in a room through the server, the server link) and files
//! being received. The call model says what to do through these functions
//! and hears back through one [`Emit`]; JS objects are not `Send`, so they
//! live in a thread-local here.

use super::files::{self, Receiving};
use super::js;
use super::link::PeerLink;
use super::media::{self, LevelMeter, LocalMedia};
use super::peer::{Peer, PeerEvent};
use super::screen::Screen;
use super::sfu::{SfuEvent, SfuLink};
use crate::list_map::ListMap;
use crate::protocol::{IceServer, PeerId, RoomMsg, SignalPayload};
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{HtmlVideoElement, MediaStreamTrack, RtcDataChannelState};

/// What happened to a connection.
pub enum Event {
    /// Signaling from our connection to `to`, for the server's relay.
    Signal {
        to: PeerId,
        payload: SignalPayload,
    },
    Link {
        peer: PeerId,
        link: PeerLink,
    },
    /// `peer`'s received tracks changed: re-attach their tile.
    Tracks(PeerId),
    Channel {
        peer: PeerId,
        open: bool,
    },
    Text {
        from: PeerId,
        text: String,
    },
    /// A piece of file `id` from `from`, kept if it is being received.
    Chunk {
        from: PeerId,
        id: u32,
        len: usize,
    },
    Sfu(SfuEvent),
}

pub type Emit = Rc<dyn Fn(Event)>;

#[derive(Default)]
struct Transports {
    emit: Option<Emit>,
    local: LocalMedia,
    /// The shared screen's track while sharing (sent instead of the camera).
    screen: Option<Screen>,
    peers: ListMap<PeerId, Rc<Peer>>,
    sfu: Option<Rc<SfuLink>>,
    meter: Option<LevelMeter>,
    receiving: ListMap<(PeerId, u32), Receiving>,
    object_urls: Vec<String>,
    /// Bumped on every shut-down, so async work started before it knows
    /// to throw its results away.
    epoch: u32,
}

thread_local! {
    static LIVE: RefCell<Transports> = RefCell::new(Transports::default());
}

fn with<R>(f: impl FnOnce(&mut Transports) -> R) -> R {
    LIVE.with(|t| f(&mut t.borrow_mut()))
}

impl Transports {
    fn sharing(&self) -> bool {
        self.screen.as_ref().is_some_and(|s| s.on_air)
    }

    /// What the video senders carry: the screen while sharing, else the camera.
    fn outgoing_video(&self) -> Option<MediaStreamTrack> {
        match self.screen.as_ref().filter(|s| s.on_air) {
            Some(screen) => Some(screen.track.clone()),
            None => self.local.video.clone(),
        }
    }

    /// Sends `track` as our `kind` on every connection (`replaceTrack`).
    fn replace_everywhere(&self, kind: &str, track: Option<&MediaStreamTrack>) {
        for peer in self.peers.values() {
            peer.replace(kind, track);
        }
        if let Some(sfu) = &self.sfu {
            sfu.replace(kind, track);
        }
    }
}

/// Where events go; set once per page.
pub fn install(emit: Emit) {
    with(|t| t.emit = Some(emit));
    expose_debug_counts();
}

fn emitter() -> Emit {
    with(|t| t.emit.clone()).unwrap_or_else(|| Rc::new(|_| {}))
}

pub fn epoch() -> u32 {
    with(|t| t.epoch)
}

/// A connection to `id`: with our media (a mesh) or data-only. The
/// offering side starts sending at once; the other answers an offer.
pub fn connect(me: &PeerId, id: &PeerId, ice: &[IceServer], media: bool, offer: bool) -> Result<(), String> {
    let emit = emitter();
    let from = id.clone();
    let on_event = Rc::new(move |event| on_peer_event(&emit, &from, event));
    let peer = Peer::new(me, id, ice, media, on_event).map_err(|e| js::error_name(&e))?;
    if let Some(old) = with(|t| t.peers.insert(id.clone(), peer.clone())) {
        old.close();
    }
    if offer && media {
        with(|t| peer.send_local(t.local.audio.as_ref(), t.outgoing_video().as_ref()));
    }
    Ok(())
}

fn on_peer_event(emit: &Emit, from: &PeerId, event: PeerEvent) {
    let event = match event {
        PeerEvent::Signal(payload) => Event::Signal { to: from.clone(), payload },
        PeerEvent::Link(link) => Event::Link { peer: from.clone(), link },
        PeerEvent::TracksChanged => Event::Tracks(from.clone()),
        PeerEvent::Channel(open) => Event::Channel { peer: from.clone(), open },
        PeerEvent::Message(data) => match message(from, data) {
            Some(event) => event,
            None => return,
        },
    };
    emit(event);
}

/// Text as it is; a binary chunk (4-byte transfer id, then data) kept
/// with its file when that file is being received.
fn message(from: &PeerId, data: JsValue) -> Option<Event> {
    if let Some(text) = data.as_string() {
        return Some(Event::Text { from: from.clone(), text });
    }
    let buffer = data.dyn_into::<js_sys::ArrayBuffer>().ok()?;
    let bytes = js_sys::Uint8Array::new(&buffer);
    if bytes.length() < 4 {
        return None;
    }
    let mut head = [0u8; 4];
    bytes.subarray(0, 4).copy_to(&mut head);
    let id = u32::from_be_bytes(head);
    let chunk = bytes.subarray(4, bytes.length());
    with(|t| {
        if let Some(receiving) = t.receiving.get_mut(&(from.clone(), id)) {
            receiving.push(&chunk);
        }
    });
    Some(Event::Chunk { from: from.clone(), id, len: chunk.length() as usize })
}

pub fn disconnect(id: &PeerId) {
    if let Some(peer) = with(|t| {
        t.receiving.retain(|(from, _), _| from != id);
        t.peers.remove(id)
    }) {
        peer.close();
    }
}

/// Our two connections to the media server; publishing starts at once.
pub fn open_sfu(ice: &[IceServer]) -> Result<(), String> {
    let emit = emitter();
    let link =
        SfuLink::new(ice, Rc::new(move |event| emit(Event::Sfu(event)))).map_err(|e| js::error_name(&e))?;
    let (audio, video, old) =
        with(|t| (t.local.audio.clone(), t.outgoing_video(), t.sfu.replace(link.clone())));
    if let Some(old) = old {
        old.close();
    }
    let presenting = with(|t| t.screen.as_ref().is_some_and(|s| s.on_air));
    let camera = with(|t| t.local.video.clone());
    wasm_bindgen_futures::spawn_local(async move {
        // Larger first: the layers offered follow the camera's size.
        media::size_camera(camera, true).await;
        let video = if presenting { video } else { with(|t| t.local.video.clone()) };
        link.clone().start_publishing(audio, video).await;
        if presenting {
            link.top_layer_only(true);
        }
    });
    Ok(())
}

pub fn close_sfu() {
    if let Some(link) = with(|t| t.sfu.take()) {
        link.close();
    }
    let camera = with(|t| t.local.video.clone());
    wasm_bindgen_futures::spawn_local(media::size_camera(camera, false));
}

/// Signaling from `id` (over the server's relay) for our connection to them.
pub fn to_peer(id: &PeerId, payload: SignalPayload) {
    let Some(peer) = with(|t| t.peers.get(id).cloned()) else { return };
    match payload {
        SignalPayload::Description { sdp_type, sdp } => {
            let (audio, video) = with(|t| (t.local.audio.clone(), t.outgoing_video()));
            wasm_bindgen_futures::spawn_local(peer.on_description(sdp_type, sdp, audio, video));
        }
        SignalPayload::Candidate { candidate, sdp_mid, sdp_m_line_index } => {
            wasm_bindgen_futures::spawn_local(peer.on_candidate(candidate, sdp_mid, sdp_m_line_index));
        }
    }
}

/// `media` or `slot_map` from the server, for our link to it.
pub fn to_sfu(msg: RoomMsg) {
    let Some(link) = with(|t| t.sfu.clone()) else { return };
    match msg {
        RoomMsg::Media { transport, payload } => link.on_media(transport, payload),
        RoomMsg::SlotMap { slots } => link.on_slot_map(slots),
        _ => {}
    }
}

/// Sends `frame` on the DataChannels of `to` that are open; how many took it.
pub fn send_text(to: &[PeerId], frame: &str) -> usize {
    let channels: Vec<_> =
        with(|t| to.iter().filter_map(|id| t.peers.get(id).map(|p| p.dc.clone())).collect());
    channels
        .iter()
        .filter(|dc| dc.ready_state() == RtcDataChannelState::Open && dc.send_with_str(frame).is_ok())
        .count()
}

/// Keeps the chunks of file `id` from `from` as they come.
pub fn receive(from: &PeerId, id: u32) {
    with(|t| t.receiving.insert((from.clone(), id), Receiving::default()));
}

pub fn discard(from: &PeerId, id: u32) {
    with(|t| t.receiving.remove(&(from.clone(), id)));
}

/// The received file as an object URL for a download link.
pub fn save(from: &PeerId, id: u32, mime: &str) -> Result<String, String> {
    let receiving = with(|t| t.receiving.remove(&(from.clone(), id))).ok_or("the file was dropped")?;
    let url = receiving.finish(mime)?;
    with(|t| t.object_urls.push(url.clone()));
    Ok(url)
}

/// Sends `file` to `to` as transfer `id`; `progress` gets the bytes sent.
pub async fn send_file(
    to: &PeerId,
    file: web_sys::File,
    id: u32,
    progress: impl Fn(u64),
) -> Result<(), String> {
    let dc = with(|t| t.peers.get(to).map(|p| p.dc.clone())).ok_or("the connection closed")?;
    files::send(&dc, &file, id, progress).await
}

/// Makes `track` our `kind` track: every sender (`replaceTrack`, no
/// renegotiation) unless the screen holds the video senders; the old
/// track stops.
pub fn set_local(kind: &str, track: Option<MediaStreamTrack>) {
    with(|t| {
        // While the screen is shared it stays on the senders; the camera
        // change shows again when sharing stops.
        if kind == "audio" || !t.sharing() {
            t.replace_everywhere(kind, track.as_ref());
        }
        t.local.set(kind, track);
    });
}

pub fn set_mic_enabled(on: bool) {
    with(|t| {
        if let Some(track) = &t.local.audio {
            track.set_enabled(on);
        }
    });
}

/// The level meter on our microphone (`None` stops it).
pub fn set_meter(meter: Option<LevelMeter>) {
    with(|t| t.meter = meter);
}

pub fn has_screen() -> bool {
    with(|t| t.screen.is_some())
}

/// The server's word on which of our camera's layers nobody receives.
pub fn pause_layers(rids: Vec<String>) {
    if let Some(sfu) = with(|t| t.sfu.clone()) {
        sfu.pause_layers(rids);
    }
}

/// A screen captured and waiting for the server's go-ahead.
pub fn hold_screen(screen: Screen) {
    with(|t| t.screen = Some(screen));
}

/// Puts the waiting screen on every video sender; false if there is none.
pub fn screen_on_air() -> bool {
    with(|t| match t.screen.as_mut() {
        Some(screen) => {
            screen.on_air = true;
            let track = screen.track.clone();
            t.replace_everywhere("video", Some(&track));
            if let Some(sfu) = &t.sfu {
                sfu.top_layer_only(true);
            }
            true
        }
        None => false,
    })
}

/// Drops a screen the server did not let on air.
pub fn drop_waiting_screen() {
    with(|t| t.screen.take_if(|s| !s.on_air));
}

/// Stops the screen and puts the camera back; whether there was one.
pub fn stop_screen() -> bool {
    let screen = with(|t| {
        let screen = t.screen.take();
        t.replace_everywhere("video", t.local.video.clone().as_ref());
        if let (Some(sfu), Some(_)) = (&t.sfu, &screen) {
            sfu.top_layer_only(false);
        }
        screen
    });
    // Dropped outside the borrow: it stops the track, whose handler is ours.
    screen.is_some()
}

pub fn attach_local(video: &HtmlVideoElement) {
    let stream = with(|t| media::stream_of(&[t.local.audio.clone(), t.outgoing_video()]));
    video.set_src_object(Some(&stream));
}

/// `id`'s picture and sound, from the server (`via_server`) or over our
/// own connection to them; the other one if that is all there is.
pub fn attach_remote(video: &HtmlVideoElement, id: &PeerId, via_server: bool) {
    let stream = with(|t| {
        let direct = || t.peers.get(id).map(|p| p.remote.borrow().clone());
        match &t.sfu {
            Some(sfu) if via_server || !t.peers.get(id).is_some_and(|p| p.media) => sfu.stream_of(id),
            _ => direct(),
        }
    });
    if let Some(stream) = stream {
        show(video, &stream);
    }
}

/// Puts `stream`'s tracks on `video`. The element keeps a stream of its
/// own whose tracks are swapped in place: a new `srcObject` would reload
/// the element, which shows nothing until its first frame (up to a second
/// on a busy machine), so a tile moving to another path would blink.
fn show(video: &HtmlVideoElement, stream: &web_sys::MediaStream) {
    let Some(own) = video.src_object() else {
        video.set_src_object(Some(&media::stream_of(&[])));
        return show(video, stream);
    };
    let wanted: Vec<MediaStreamTrack> = stream.get_tracks().iter().map(|t| t.unchecked_into()).collect();
    // In before out: the stream is never without a picture.
    let old = own.get_tracks();
    for track in &wanted {
        if own.get_track_by_id(&track.id()).is_none() {
            own.add_track(track);
        }
    }
    for track in old.iter().map(|t| t.unchecked_into::<MediaStreamTrack>()) {
        if !wanted.iter().any(|w| w.id() == track.id()) {
            own.remove_track(&track);
        }
    }
}

/// What to read stats from: each person's connection (a mesh), or each
/// person's slots on the server's subscribe connection plus our publish
/// connection (no person). While the room's route changes, a person
/// reachable both ways is read on the room's route (`via_server`), the
/// path their tile is moving to.
pub fn stats_sources(via_server: bool) -> Vec<super::stats::Source> {
    with(|t| {
        let mut sources: Vec<super::stats::Source> = Vec::new();
        let mut served = Vec::new();
        if let Some(sfu) = &t.sfu {
            sources.push((None, sfu.publish.clone(), Some(Vec::new())));
            for id in sfu.peers() {
                if via_server || !t.peers.get(&id).is_some_and(|p| p.media) {
                    sources.push((Some(id.clone()), sfu.subscribe.clone(), Some(sfu.mids_of(&id))));
                    served.push(id);
                }
            }
        }
        for (id, p) in t.peers.iter().filter(|(id, p)| p.media && !served.contains(id)) {
            sources.push((Some(id.clone()), p.pc.clone(), None));
        }
        sources
    })
}

/// Leaving: every track stopped, every connection closed, every handler
/// and object URL released.
pub fn shut_down() {
    let (peers, sfu, screen, urls) = with(|t| {
        t.epoch += 1;
        t.meter = None;
        t.local.stop_all();
        t.receiving.clear();
        let peers: Vec<_> = t.peers.drain().map(|(_, p)| p).collect();
        (peers, t.sfu.take(), t.screen.take(), std::mem::take(&mut t.object_urls))
    });
    for peer in peers {
        peer.close();
    }
    if let Some(sfu) = sfu {
        sfu.close();
    }
    drop(screen);
    for url in urls {
        let _ = web_sys::Url::revoke_object_url(&url);
    }
}

/// `window.__noomRtc()` → `{ peers, listeners, liveTracks }`, so browser
/// tests can check that leaving releases everything.
fn expose_debug_counts() {
    let counts = wasm_bindgen::closure::Closure::<dyn Fn() -> JsValue>::new(|| {
        let (peers, tracks) =
            with(|t| (t.peers.len() + 2 * usize::from(t.sfu.is_some()), t.local.live_tracks()));
        js::object(&[
            ("peers", (peers as u32).into()),
            ("listeners", (js::live_listeners() as u32).into()),
            ("liveTracks", (tracks as u32).into()),
        ])
        .into()
    });
    if let Some(window) = web_sys::window() {
        let _ = js_sys::Reflect::set(&window, &JsValue::from_str("__noomRtc"), counts.as_ref());
    }
    // Installed once per page for its whole life.
    counts.forget();
}
