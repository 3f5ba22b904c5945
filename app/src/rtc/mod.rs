//! The browser's call engine (feature `browser`): local media, one peer
//! connection per remote member (a mesh), DataChannel chat and files.
//!
//! Components never call this directly; `call::Call` does. JS objects are
//! not `Send`, so they live here in a thread-local, and the reactive state
//! components read is plain data in `Call::state`.

mod files;
mod js;
mod media;
mod peer;
mod screen;
mod sfu;
mod stats;

pub use screen::toggle_share;
pub use stats::start_stats;

use crate::call::p2p::{self, Incoming, P2pMsg};
use crate::call::{Call, CallState, PeerView, Phase, Transfer};
use crate::protocol::{self, ClientMsg, MediaMode, Member, PeerId, RoomMsg, RoomMsgs, SignalPayload};
use crate::{browser, rules, signaling};
use leptos::prelude::*;
use media::{LevelMeter, LocalMedia};
use peer::{Peer, PeerEvent};
use sfu::{SfuEvent, SfuLink};
use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{HtmlInputElement, HtmlVideoElement, RtcDataChannelState};

#[derive(Default)]
struct Engine {
    call: Option<Call>,
    local: LocalMedia,
    /// The shared screen's track while sharing (sent instead of the camera).
    screen: Option<screen::Screen>,
    peers: HashMap<PeerId, Rc<Peer>>,
    /// In a room whose call goes through the server: our two connections
    /// to it (instead of `peers`).
    sfu: Option<Rc<SfuLink>>,
    /// How the call we are in carries media (`None` outside a call).
    mode: Option<MediaMode>,
    /// In an SFU room, the person asked for direct chat and files: keep a
    /// data-only connection to everyone.
    direct_wanted: bool,
    /// SFU messages that came before the call started (the server offers
    /// as soon as we are in the room), replayed when it starts.
    sfu_backlog: Vec<RoomMsg>,
    meter: Option<LevelMeter>,
    receiving: HashMap<(PeerId, u32), files::Receiving>,
    next_transfer: u32,
    object_urls: Vec<String>,
    /// Bumped on every shut-down, so async work started before it knows
    /// to throw its results away.
    epoch: u32,
}

thread_local! {
    static ENGINE: RefCell<Engine> = RefCell::new(Engine::default());
}

impl Engine {
    fn sharing(&self) -> bool {
        self.screen.as_ref().is_some_and(|s| s.on_air)
    }

    /// Peers whose DataChannel is open (for chat and files).
    fn open_channels(&mut self) -> Vec<(PeerId, Rc<Peer>)> {
        self.peers
            .iter()
            .filter(|(_, p)| p.dc.ready_state() == RtcDataChannelState::Open)
            .map(|(id, p)| (id.clone(), p.clone()))
            .collect()
    }

    /// Sends `track` as our `kind` on every connection (`replaceTrack`).
    fn replace_everywhere(&self, kind: &str, track: Option<&web_sys::MediaStreamTrack>) {
        for peer in self.peers.values() {
            peer.replace(kind, track);
        }
        if let Some(sfu) = &self.sfu {
            sfu.replace(kind, track);
        }
    }

    /// What the video senders carry: the screen while sharing, else the camera.
    fn outgoing_video(&self) -> Option<web_sys::MediaStreamTrack> {
        match self.screen.as_ref().filter(|s| s.on_air) {
            Some(screen) => Some(screen.track.clone()),
            None => self.local.video.clone(),
        }
    }
}

fn with<R>(f: impl FnOnce(&mut Engine) -> R) -> R {
    ENGINE.with(|e| f(&mut e.borrow_mut()))
}

fn epoch() -> u32 {
    with(|e| e.epoch)
}

pub fn install(call: Call) {
    with(|e| e.call = Some(call));
    signaling::set_room_handler(move |text| on_room_message(call, text));
    screen::follow_server(call);
    // Keep one peer connection per other member while in the call.
    // Memos, so that only a change of phase or of who is in the room (not
    // every level or progress update) re-runs the sync.
    let phase = Memo::new(move |_| call.state.with(|s| s.phase));
    let roster = Memo::new(move |_| {
        call.session.model.with(|m| {
            let ids = m
                .room
                .as_ref()
                .filter(|_| m.is_open())
                .map(|r| (r.members.iter().map(|x| x.id.clone()).collect::<Vec<_>>(), r.media, r.joins));
            m.me.clone().zip(ids)
        })
    });
    Effect::new(move |_| match (phase.get(), roster.get()) {
        (Phase::InCall, Some((me, (members, media, _joins)))) => {
            // The host switched the room: the old connections go first.
            if with(|e| e.mode.replace(media)).is_some_and(|was| was != media) {
                close_all_peers(call);
            }
            match media {
                MediaMode::Mesh => sync_peers(call, &me, &members),
                // Each join (a rejoin after a reconnect too) gets its own link.
                MediaMode::Sfu => sync_sfu(call, &me, &members),
            }
        }
        _ => {
            with(|e| e.mode = None);
            close_all_peers(call);
        }
    });
    expose_debug_counts();
}

/// Members are in join order. The one who joined later makes the offer,
/// so a join costs one offer/answer per pair, not a collision.
fn sync_peers(call: Call, me: &PeerId, members: &[PeerId]) {
    let Some(my_index) = members.iter().position(|m| m == me) else { return };
    let gone: Vec<PeerId> = with(|e| e.peers.keys().filter(|id| !members.contains(id)).cloned().collect());
    for id in gone {
        drop_peer(call, &id);
    }
    for earlier in &members[..my_index] {
        if !with(|e| e.peers.contains_key(earlier)) {
            create_peer(call, me, earlier, true);
        }
    }
}

/// An SFU room: one link to the server for everyone, a tile per member.
fn sync_sfu(call: Call, me: &PeerId, members: &[PeerId]) {
    if with(|e| e.sfu.is_none()) {
        let ice = call.session.model.with_untracked(|m| m.ice_servers.clone());
        let emit = Rc::new(move |event| on_sfu_event(call, event));
        let link = match SfuLink::new(&ice, emit) {
            Ok(link) => link,
            Err(err) => {
                return leptos::logging::warn!("cannot reach the media server: {}", js::error_name(&err))
            }
        };
        let (audio, video, backlog) =
            with(|e| (e.local.audio.clone(), e.outgoing_video(), std::mem::take(&mut e.sfu_backlog)));
        with(|e| e.sfu = Some(link.clone()));
        wasm_bindgen_futures::spawn_local(link.clone().start_publishing(audio, video));
        for msg in backlog {
            on_sfu_message(&link, msg);
        }
    }
    let others: Vec<PeerId> = members.iter().filter(|id| *id != me).cloned().collect();
    let gone: Vec<Rc<Peer>> = with(|e| {
        let ids: Vec<PeerId> = e.peers.keys().filter(|id| !others.contains(id)).cloned().collect();
        ids.iter().filter_map(|id| e.peers.remove(id)).collect()
    });
    for peer in gone {
        peer.close();
    }
    if with(|e| e.direct_wanted) {
        for id in &others {
            if !with(|e| e.peers.contains_key(id)) {
                create_data_peer(call, me, id);
            }
        }
    }
    let link = with(|e| e.sfu.as_ref().map(|s| s.link()));
    call.state.update(|s| {
        s.peers.retain(|p| others.contains(&p.id));
        for id in &others {
            if !s.peers.iter().any(|p| &p.id == id) {
                let mut view = PeerView::new(id.clone());
                view.link = link.unwrap_or(view.link);
                s.peers.push(view);
            }
        }
    });
}

/// A browser-to-browser connection with only the DataChannel (direct chat
/// and files in an SFU room: they never touch the server). Its tile is the
/// SFU's; this only marks it as reachable directly.
fn create_data_peer(call: Call, me: &PeerId, id: &PeerId) -> Option<Rc<Peer>> {
    let ice = call.session.model.with_untracked(|m| m.ice_servers.clone());
    let emit_id = id.clone();
    let emit = Rc::new(move |event| on_peer_event(call, &emit_id, event));
    match Peer::new(me, id, &ice, false, emit) {
        Ok(peer) => {
            with(|e| e.peers.insert(id.clone(), peer.clone()));
            Some(peer)
        }
        Err(err) => {
            leptos::logging::warn!("cannot create a direct connection: {}", js::error_name(&err));
            None
        }
    }
}

/// Direct chat and files in an SFU room: opens the data-only connections.
pub fn open_direct(call: Call) {
    if with(|e| e.sfu.is_none() || std::mem::replace(&mut e.direct_wanted, true)) {
        return;
    }
    let roster = call.session.model.with_untracked(|m| {
        m.me.clone().zip(m.room.as_ref().map(|r| r.members.iter().map(|x| x.id.clone()).collect::<Vec<_>>()))
    });
    if let Some((me, members)) = roster {
        sync_sfu(call, &me, &members);
    }
}

fn on_sfu_event(call: Call, event: SfuEvent) {
    match event {
        SfuEvent::Signal(transport, payload) => call.session.send(ClientMsg::Media { transport, payload }),
        SfuEvent::Link(link) => call.state.update(|s| s.peers.iter_mut().for_each(|p| p.link = link)),
        SfuEvent::StreamsChanged(ids) => call.state.update(|s| {
            for view in s.peers.iter_mut().filter(|p| ids.contains(&p.id)) {
                view.stream_rev += 1;
            }
        }),
    }
}

fn on_sfu_message(link: &Rc<SfuLink>, msg: RoomMsg) {
    match msg {
        RoomMsg::Media { transport, payload } => link.on_media(transport, payload),
        RoomMsg::SlotMap { slots } => link.on_slot_map(slots),
        _ => {}
    }
}

fn close_sfu() {
    if let Some(link) = with(|e| {
        e.sfu_backlog.clear();
        e.direct_wanted = false;
        e.sfu.take()
    }) {
        link.close();
    }
}

fn create_peer(call: Call, me: &PeerId, id: &PeerId, offer: bool) -> Option<Rc<Peer>> {
    let ice = call.session.model.with_untracked(|m| m.ice_servers.clone());
    let emit_id = id.clone();
    let emit = Rc::new(move |event| on_peer_event(call, &emit_id, event));
    let peer = match Peer::new(me, id, &ice, true, emit) {
        Ok(peer) => peer,
        Err(err) => {
            leptos::logging::warn!("cannot create a peer connection: {}", js::error_name(&err));
            return None;
        }
    };
    with(|e| e.peers.insert(id.clone(), peer.clone()));
    call.state.update(|s| {
        s.peers.retain(|p| &p.id != id);
        s.peers.push(PeerView::new(id.clone()));
    });
    if offer {
        with(|e| peer.send_local(e.local.audio.as_ref(), e.outgoing_video().as_ref()));
    }
    Some(peer)
}

fn drop_peer(call: Call, id: &PeerId) {
    if let Some(peer) = with(|e| {
        e.receiving.retain(|(from, _), _| from != id);
        e.peers.remove(id)
    }) {
        peer.close();
    }
    call.state.update(|s| s.peers.retain(|p| &p.id != id));
}

fn close_all_peers(call: Call) {
    let ids: Vec<PeerId> = with(|e| e.peers.keys().cloned().collect());
    for id in ids {
        drop_peer(call, &id);
    }
    if with(|e| e.sfu.is_some()) {
        close_sfu();
        call.state.update(|s| s.peers.clear());
    }
}

/// Messages about the room, decoded here rather than in the lobby's first
/// load: signals go to their peer connection, the rest to the session.
fn on_room_message(call: Call, text: String) {
    match protocol::decode_server_some::<RoomMsgs>(&text).map(|msg| msg.map(protocol::ServerMsg::into_room)) {
        Ok(Some(Ok(RoomMsg::Signal { from, payload }))) => on_signal(from, payload),
        Ok(Some(Ok(msg @ (RoomMsg::Media { .. } | RoomMsg::SlotMap { .. })))) => {
            match with(|e| e.sfu.clone()) {
                Some(link) => on_sfu_message(&link, msg),
                None => with(|e| e.sfu_backlog.push(msg)),
            }
        }
        Ok(Some(Ok(msg))) => {
            if let RoomMsg::Joined { .. } = msg {
                // A (re)join starts new connections to the media server:
                // what comes next is for them, not for the old ones.
                close_sfu();
            }
            let now = browser::now_ms();
            call.session.model.update(|m| m.on_room_msg(msg, now));
        }
        // The filter decoded only the room's messages.
        Ok(Some(Err(_)) | None) => {}
        Err(err) => leptos::logging::warn!("unreadable server message: {err}"),
    }
}

fn on_signal(from: PeerId, payload: SignalPayload) {
    let Some(call) = with(|e| e.call) else { return };
    if call.state.with_untracked(|s| s.phase) != Phase::InCall {
        return;
    }
    let Some(me) = call.session.model.with_untracked(|m| m.me.clone()) else { return };
    let via_server = with(|e| e.sfu.is_some());
    let peer = match with(|e| e.peers.get(&from).cloned()) {
        Some(peer) => peer,
        // Someone in our SFU room opened a direct (data-only) connection.
        None if via_server => match create_data_peer(call, &me, &from) {
            Some(peer) => peer,
            None => return,
        },
        // The newer member offers first; we answer on a fresh connection.
        None => match create_peer(call, &me, &from, false) {
            Some(peer) => peer,
            None => return,
        },
    };
    match payload {
        SignalPayload::Description { sdp_type, sdp } => {
            let (audio, video) = with(|e| (e.local.audio.clone(), e.outgoing_video()));
            wasm_bindgen_futures::spawn_local(peer.on_description(sdp_type, sdp, audio, video));
        }
        SignalPayload::Candidate { candidate, sdp_mid, sdp_m_line_index } => {
            wasm_bindgen_futures::spawn_local(peer.on_candidate(candidate, sdp_mid, sdp_m_line_index));
        }
    }
}

fn on_peer_event(call: Call, id: &PeerId, event: PeerEvent) {
    let update = |f: &dyn Fn(&mut PeerView)| {
        call.state.update(|s| {
            if let Some(view) = s.peers.iter_mut().find(|p| &p.id == id) {
                f(view);
            }
        })
    };
    // A direct connection in an SFU room carries no media: the tile's link
    // and stream are the server's.
    let data_only = with(|e| e.sfu.is_some());
    match event {
        PeerEvent::Signal(payload) => call.session.send(ClientMsg::Signal { to: id.clone(), payload }),
        PeerEvent::Link(_) | PeerEvent::TracksChanged if data_only => {}
        PeerEvent::Link(link) => update(&|v| v.link = link),
        PeerEvent::TracksChanged => update(&|v| v.stream_rev += 1),
        PeerEvent::Channel(open) => update(&|v| v.p2p_open = open),
        PeerEvent::Message(data) => on_p2p_message(call, id, data),
    }
}

fn member(call: Call, id: &PeerId) -> Member {
    call.session.model.with_untracked(|m| {
        m.room.as_ref().and_then(|r| r.members.iter().find(|x| &x.id == id).cloned()).unwrap_or(Member {
            id: id.clone(),
            nickname: "Someone".into(),
            media: Default::default(),
        })
    })
}

fn on_p2p_message(call: Call, from: &PeerId, data: JsValue) {
    if let Some(text) = data.as_string() {
        match serde_json::from_str::<P2pMsg>(&text) {
            Ok(P2pMsg::Chat { text }) => {
                if rules::validate_chat(&text).is_ok() {
                    let sender = member(call, from);
                    call.session.model.update(|m| m.push_p2p_chat(sender, text, browser::now_ms(), false));
                }
            }
            Ok(P2pMsg::FileStart { id, name, size, mime }) => {
                let key = format!("in-{from}-{id}");
                let peer_name = member(call, from).nickname;
                let transfer = |name: String, error: Option<String>| Transfer {
                    key: key.clone(),
                    name,
                    size,
                    done: 0,
                    outgoing: false,
                    peer_name: peer_name.clone(),
                    url: None,
                    error,
                };
                match Incoming::start(id, name.clone(), size, mime) {
                    Ok(meta) => {
                        let view = transfer(meta.name.clone(), None);
                        with(|e| {
                            e.receiving.insert((from.clone(), id), files::Receiving::new(meta, key.clone()))
                        });
                        call.state.update(|s| s.transfers.push(view));
                    }
                    Err(err) => {
                        call.state.update(|s| s.transfers.push(transfer(name, Some(err.to_string()))))
                    }
                }
            }
            Ok(P2pMsg::FileEnd { id }) => {
                if let Some(receiving) = with(|e| e.receiving.remove(&(from.clone(), id))) {
                    let key = receiving.key.clone();
                    let result = receiving.finish();
                    if let Ok(url) = &result {
                        with(|e| e.object_urls.push(url.clone()));
                    }
                    set_transfer(call, &key, |t| match result {
                        Ok(url) => {
                            t.done = t.size;
                            t.url = Some(url);
                        }
                        Err(err) => t.error = Some(err),
                    });
                }
            }
            Err(err) => leptos::logging::warn!("unreadable peer message: {err}"),
        }
    } else if let Ok(buffer) = data.dyn_into::<js_sys::ArrayBuffer>() {
        let bytes = js_sys::Uint8Array::new(&buffer);
        if bytes.length() < 4 {
            return;
        }
        let mut head = [0u8; 4];
        bytes.subarray(0, 4).copy_to(&mut head);
        let id = u32::from_be_bytes(head);
        let chunk = bytes.subarray(4, bytes.length());
        let progress = with(|e| {
            let receiving = e.receiving.get_mut(&(from.clone(), id))?;
            let result = receiving.push(&chunk);
            Some((receiving.key.clone(), receiving.meta.received, result))
        });
        if let Some((key, received, result)) = progress {
            if let Err(err) = result {
                with(|e| e.receiving.remove(&(from.clone(), id)));
                set_transfer(call, &key, |t| t.error = Some(err.to_string()));
            } else {
                set_transfer(call, &key, |t| t.done = received);
            }
        }
    }
}

fn set_transfer(call: Call, key: &str, f: impl FnOnce(&mut Transfer)) {
    call.state.update(|s| {
        if let Some(t) = s.transfers.iter_mut().find(|t| t.key == key) {
            f(t);
        }
    });
}

pub fn send_p2p_chat(call: Call, text: &str) -> Result<(), String> {
    rules::validate_chat(text).map_err(|e| e.to_string())?;
    let frame = serde_json::to_string(&P2pMsg::Chat { text: text.to_owned() }).expect("serializable");
    let sent = with(Engine::open_channels).iter().filter(|(_, p)| p.dc.send_with_str(&frame).is_ok()).count();
    if sent == 0 {
        return Err("no one is connected peer-to-peer yet".into());
    }
    let me = call.session.model.with_untracked(|m| m.me_as_member());
    call.session.model.update(|m| m.push_p2p_chat(me, text.to_owned(), browser::now_ms(), true));
    Ok(())
}

pub fn send_files(call: Call, input: &HtmlInputElement) {
    let Some(list) = input.files() else { return };
    let chosen: Vec<web_sys::File> = (0..list.length()).filter_map(|i| list.get(i)).collect();
    input.set_value("");
    let targets = with(Engine::open_channels);
    for file in chosen {
        for (peer_id, peer) in &targets {
            let id = with(|e| {
                e.next_transfer += 1;
                e.next_transfer
            });
            let key = format!("out-{peer_id}-{id}");
            call.state.update(|s| {
                s.transfers.push(Transfer {
                    key: key.clone(),
                    name: p2p::sanitize_file_name(&file.name()),
                    size: file.size() as u64,
                    done: 0,
                    outgoing: true,
                    peer_name: member(call, peer_id).nickname,
                    url: None,
                    error: None,
                })
            });
            let (peer, file) = (peer.clone(), file.clone());
            wasm_bindgen_futures::spawn_local(async move {
                let result =
                    files::send(&peer.dc, &file, id, |done| set_transfer(call, &key, |t| t.done = done))
                        .await;
                if let Err(err) = result {
                    set_transfer(call, &key, |t| t.error = Some(err));
                }
            });
        }
    }
}

/// Asks for the camera and/or microphone for the pre-join screen.
pub fn start_preview(call: Call, audio: bool, video: bool) {
    call.state.update(|s| {
        s.phase = Phase::Preview;
        s.starting = true;
        s.problem = None;
        s.camera_on = video;
    });
    let started = epoch();
    wasm_bindgen_futures::spawn_local(async move {
        let (mic_id, cam_id) = call.state.with_untracked(|s| (s.mic_id.clone(), s.camera_id.clone()));
        let wanted = (audio.then_some(mic_id.as_deref()), video.then_some(cam_id.as_deref()));
        let Some(result) = acquire_unless_left(started, wanted.0, wanted.1).await else { return };
        match result {
            Ok((a, v)) => {
                set_local(call, "audio", a);
                set_local(call, "video", v);
                refresh_devices(call).await;
                call.state.update(|s| s.starting = false);
            }
            Err(err) => call.state.update(|s| {
                s.starting = false;
                s.problem = Some(media::classify(&err));
            }),
        }
    });
}

/// `media::acquire`, unless the call was left meanwhile (a new epoch): then
/// the tracks just obtained are stopped and `None` is returned.
async fn acquire_unless_left(
    started: u32,
    audio: Option<Option<&str>>,
    video: Option<Option<&str>>,
) -> Option<Result<(Option<web_sys::MediaStreamTrack>, Option<web_sys::MediaStreamTrack>), JsValue>> {
    let result = media::acquire(audio, video).await;
    if epoch() == started {
        return Some(result);
    }
    if let Ok((a, v)) = result {
        a.iter().chain(v.iter()).for_each(|t| t.stop());
    }
    None
}

async fn refresh_devices(call: Call) {
    let (cameras, mics) = media::devices().await;
    call.state.update(|s| {
        s.cameras = cameras;
        s.mics = mics;
    });
}

/// Makes `track` our `kind` track everywhere: self view, every peer's
/// sender (replaceTrack, no renegotiation), the level meter.
fn set_local(call: Call, kind: &str, track: Option<web_sys::MediaStreamTrack>) {
    let id = track.as_ref().and_then(media::device_id);
    let live = track.is_some();
    if kind == "audio" {
        if let Some(t) = &track {
            t.set_enabled(call.state.with_untracked(|s| s.mic_on));
        }
    }
    with(|e| {
        // While the screen is shared it stays on the senders; the camera
        // change shows again when sharing stops.
        if kind == "audio" || !e.sharing() {
            e.replace_everywhere(kind, track.as_ref());
        }
        if kind == "audio" {
            e.meter = track.as_ref().and_then(|t| LevelMeter::start(t, move |level| call.level.set(level)));
        }
        e.local.set(kind, track);
    });
    if kind == "audio" && !live {
        call.level.set(0.0);
    }
    call.state.update(|s| {
        s.local_rev += 1;
        if kind == "audio" {
            s.has_mic = live;
            s.mic_id = id.or(s.mic_id.take());
        } else {
            s.has_camera = live;
            s.camera_id = id.or(s.camera_id.take());
        }
    });
    announce_media(call);
}

/// Tells the room what we send now (for the indicators on our tile).
fn announce_media(call: Call) {
    let media = call.state.with_untracked(CallState::media);
    call.session.act(|m| m.set_media(media));
}

pub fn toggle_mic(call: Call) {
    let (on, has) = call.state.with_untracked(|s| (s.mic_on, s.has_mic));
    if !has {
        call.state.update(|s| s.mic_on = true);
        acquire_one(call, "audio", None);
        return;
    }
    with(|e| {
        if let Some(t) = &e.local.audio {
            t.set_enabled(!on);
        }
    });
    call.state.update(|s| s.mic_on = !on);
    announce_media(call);
}

/// Camera off releases the camera (its light goes out); on asks for it again.
pub fn toggle_camera(call: Call) {
    if call.state.with_untracked(|s| s.camera_on && s.has_camera) {
        call.state.update(|s| s.camera_on = false);
        set_local(call, "video", None);
    } else {
        call.state.update(|s| s.camera_on = true);
        acquire_one(call, "video", None);
    }
}

pub fn switch_device(call: Call, kind: &'static str, device_id: String) {
    let active =
        call.state.with_untracked(|s| if kind == "audio" { s.has_mic } else { s.camera_on && s.has_camera });
    call.state.update(|s| {
        if kind == "audio" {
            s.mic_id = Some(device_id.clone());
        } else {
            s.camera_id = Some(device_id.clone());
        }
    });
    if active {
        acquire_one(call, kind, Some(device_id));
    }
}

fn acquire_one(call: Call, kind: &'static str, device_id: Option<String>) {
    let started = epoch();
    wasm_bindgen_futures::spawn_local(async move {
        let device_id = device_id.or_else(|| {
            call.state
                .with_untracked(|s| if kind == "audio" { s.mic_id.clone() } else { s.camera_id.clone() })
        });
        let wanted = Some(device_id.as_deref());
        let result = if kind == "audio" {
            acquire_unless_left(started, wanted, None).await
        } else {
            acquire_unless_left(started, None, wanted).await
        };
        let Some(result) = result else { return };
        match result {
            Ok((audio, video)) => set_local(call, kind, if kind == "audio" { audio } else { video }),
            Err(err) => call.state.update(|s| {
                s.problem = Some(media::classify(&err));
                if kind == "video" {
                    s.camera_on = false;
                }
            }),
        }
    });
}

pub fn attach_local(video: &HtmlVideoElement) {
    let stream = with(|e| media::stream_of(&[e.local.audio.clone(), e.outgoing_video()]));
    video.set_src_object(Some(&stream));
}

pub fn attach_remote(video: &HtmlVideoElement, id: &PeerId) {
    let stream = with(|e| match &e.sfu {
        Some(sfu) => sfu.stream_of(id),
        None => e.peers.get(id).map(|p| p.remote.borrow().clone()),
    });
    if let Some(stream) = stream {
        video.set_src_object(Some(&stream));
    }
}

/// Leaving: every track stopped, every connection closed, every handler
/// and object URL released.
pub fn shut_down(call: Call) {
    close_all_peers(call);
    let urls = with(|e| {
        e.epoch += 1;
        e.meter = None;
        e.local.stop_all();
        e.screen = None;
        e.receiving.clear();
        std::mem::take(&mut e.object_urls)
    });
    for url in urls {
        let _ = web_sys::Url::revoke_object_url(&url);
    }
}

/// `window.__noomRtc()` → `{ peers, listeners, liveTracks }`, so browser
/// tests can check that leaving releases everything.
fn expose_debug_counts() {
    let counts = wasm_bindgen::closure::Closure::<dyn Fn() -> JsValue>::new(|| {
        let (peers, tracks) =
            with(|e| (e.peers.len() + 2 * usize::from(e.sfu.is_some()), e.local.live_tracks()));
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
