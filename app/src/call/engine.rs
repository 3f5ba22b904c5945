//! The call model in the browser: carries events from the server, from the
//! transports and from the person into [`CallCore`], and its actions out to
//! the transports (`rtc`) and the session. Local media, screen sharing and
//! statistics are in the submodules.

mod local;
mod share;
mod stats;

pub use local::{start_preview, switch_device, toggle_camera, toggle_mic};
pub use share::toggle_share;
pub use stats::start_stats;

use super::core::{Action, CallCore, Input, Outgoing, Roster, HAND_OVER_MS};
use super::{Call, Phase};
use crate::protocol::{self, ClientMsg, Member, PeerId, RoomMsg, RoomMsgs};
use crate::rtc::transports::{self, Event};
use crate::rtc::SfuEvent;
use crate::{browser, signaling};
use leptos::prelude::*;
use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::rc::Rc;
use web_sys::{HtmlInputElement, HtmlVideoElement};

thread_local! {
    static CORE: RefCell<CallCore> = RefCell::new(CallCore::default());
    /// Inputs raised while one is being handled (an action's result), taken
    /// in order after it rather than inside it.
    static QUEUE: RefCell<VecDeque<Input>> = const { RefCell::new(VecDeque::new()) };
    static BUSY: Cell<bool> = const { Cell::new(false) };
    /// Bumped per route change: only the latest one's time-out counts.
    static HAND_OVERS: Cell<u32> = const { Cell::new(0) };
    /// The files of the last "send files", by their index in it.
    static CHOSEN: RefCell<Vec<web_sys::File>> = const { RefCell::new(Vec::new()) };
    /// Why the last chat could not be sent directly.
    static REFUSED: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// The one door into the core.
fn dispatch(call: Call, input: Input) {
    QUEUE.with(|q| q.borrow_mut().push_back(input));
    if BUSY.replace(true) {
        return;
    }
    while let Some(input) = QUEUE.with(|q| q.borrow_mut().pop_front()) {
        let touches = input.touches_view();
        let mut actions = Vec::new();
        call.state.maybe_update(|view| {
            actions = CORE.with(|core| core.borrow_mut().handle(view, input));
            touches
        });
        for action in actions {
            execute(call, action);
        }
    }
    BUSY.set(false);
}

fn execute(call: Call, action: Action) {
    match action {
        Action::Connect { id, media, offer } => {
            let (me, ice) = call.session.model.with_untracked(|m| (m.me.clone(), m.ice_servers.clone()));
            let Some(me) = me else { return };
            if let Err(err) = transports::connect(&me, &id, &ice, media, offer) {
                leptos::logging::warn!("cannot create a peer connection: {err}");
                dispatch(call, Input::ConnectFailed(id));
            }
        }
        Action::Disconnect(id) => transports::disconnect(&id),
        Action::OpenSfu => {
            let ice = call.session.model.with_untracked(|m| m.ice_servers.clone());
            if let Err(err) = transports::open_sfu(&ice) {
                leptos::logging::warn!("cannot reach the media server: {err}");
                dispatch(call, Input::SfuFailed);
            }
        }
        Action::CloseSfu => transports::close_sfu(),
        // Each person's tile moves as the stats loop sees their media on
        // the new path; this is when the old path goes regardless.
        Action::HandOver => {
            let this = HAND_OVERS.with(|h| h.replace(h.get().wrapping_add(1)).wrapping_add(1));
            gloo_timers::callback::Timeout::new(HAND_OVER_MS, move || {
                if HAND_OVERS.with(Cell::get) == this {
                    dispatch(call, Input::HandOverDue);
                }
            })
            .forget();
        }
        Action::RestartMedia => call.session.send(ClientMsg::RestartMedia),
        Action::ToPeer { id, payload } => transports::to_peer(&id, payload),
        Action::ToSfu(msg) => transports::to_sfu(msg),
        Action::Relay { to, payload } => call.session.send(ClientMsg::Signal { to, payload }),
        Action::RelayMedia { transport, payload } => {
            call.session.send(ClientMsg::Media { transport, payload })
        }
        Action::ShowChat { from, text, mine } => {
            call.session.model.update(|m| m.push_p2p_chat(from, text, browser::now_ms(), mine))
        }
        Action::ChatRefused(why) => REFUSED.with(|r| *r.borrow_mut() = Some(why)),
        Action::SendText { to, frame } => {
            transports::send_text(&to, &frame);
        }
        Action::SendFile { to, file, id, key } => {
            let Some(file) = CHOSEN.with(|c| c.borrow().get(file).cloned()) else { return };
            wasm_bindgen_futures::spawn_local(async move {
                let progress = {
                    let key = key.clone();
                    move |done| dispatch(call, Input::Progress { key: key.clone(), done })
                };
                if let Err(error) = transports::send_file(&to, file, id, progress).await {
                    dispatch(call, Input::SendFailed { key, error });
                }
            });
        }
        Action::Receive { from, id } => transports::receive(&from, id),
        Action::Discard { from, id } => transports::discard(&from, id),
        Action::Save { from, id, key, mime } => {
            let result = transports::save(&from, id, &mime);
            dispatch(call, Input::Saved { key, result });
        }
    }
}

/// What the transports report, as the core's input.
fn from_transport(call: Call, event: Event) -> Input {
    match event {
        Event::Signal { to, payload } => Input::PeerSignal { to, payload },
        Event::Link { peer, link } => Input::PeerLink { peer, link },
        Event::Tracks(peer) => Input::PeerTracks(peer),
        Event::Channel { peer, open } => Input::Channel { peer, open },
        Event::Text { from, text } => Input::Text { from: member(call, &from), text },
        Event::Chunk { from, id, len } => Input::Chunk { from, id, len },
        Event::Sfu(SfuEvent::Signal(transport, payload)) => Input::SfuSignal { transport, payload },
        Event::Sfu(SfuEvent::Link(link)) => Input::SfuLink(link),
        Event::Sfu(SfuEvent::StreamsChanged(ids)) => Input::SfuStreams(ids),
        Event::Sfu(SfuEvent::Lost) => Input::SfuLost,
    }
}

/// Whether `id` sends a picture: their camera is on, or they share a screen.
fn sends_video(call: Call, id: &PeerId) -> bool {
    call.session.model.with_untracked(|m| {
        m.room.as_ref().is_some_and(|r| {
            r.members.iter().any(|x| &x.id == id && x.media.video) || r.sharer.as_ref() == Some(id)
        })
    })
}

fn member(call: Call, id: &PeerId) -> Member {
    call.session.model.with_untracked(|m| {
        m.room.as_ref().and_then(|r| r.members.iter().find(|x| &x.id == id).cloned()).unwrap_or(Member {
            id: id.clone(),
            nickname: "Someone".into(),
            media: Default::default(),
            hand: None,
        })
    })
}

pub fn install(call: Call) {
    transports::install(Rc::new(move |event| dispatch(call, from_transport(call, event))));
    signaling::set_room_handler(move |text| on_room_message(call, text));
    share::follow_server(call);
    // Memos, so that only a change of phase or of who is in the room (not
    // every level or progress update) reaches the core.
    let phase = Memo::new(move |_| call.state.with(|s| s.phase));
    let roster = Memo::new(move |_| {
        call.session.model.with(|m| {
            // Not tied to the socket being open: the call goes browser to
            // browser (or over its own link to the media server) and
            // carries on while signaling reconnects.
            let room = m.room.as_ref()?;
            let members = room.members.iter().map(|x| x.id.clone()).collect::<Vec<_>>();
            // Each join (a rejoin after a reconnect too) counts: it gets a
            // new link to the media server.
            Some((Roster { me: m.me.clone()?, members, media: room.media }, room.joins))
        })
    });
    Effect::new(move |_| {
        let roster = match phase.get() {
            Phase::InCall => roster.get().map(|(roster, _joins)| roster),
            _ => None,
        };
        dispatch(call, Input::Roster(roster));
    });
}

/// Messages about the room, decoded here rather than in the lobby's first
/// load: signaling goes to the core, the rest to the session.
fn on_room_message(call: Call, text: String) {
    match protocol::decode_server_some::<RoomMsgs>(&text).map(|msg| msg.map(protocol::ServerMsg::into_room)) {
        Ok(Some(Ok(RoomMsg::Signal { from, payload }))) => dispatch(call, Input::Signal { from, payload }),
        Ok(Some(Ok(msg @ (RoomMsg::Media { .. } | RoomMsg::SlotMap { .. } | RoomMsg::MediaRestarted)))) => {
            dispatch(call, Input::FromSfu(msg))
        }
        // Through the server, the server hears everyone and decides; the
        // stats loop decides only in a mesh.
        Ok(Some(Ok(RoomMsg::ActiveSpeaker { peer }))) => call.state.update(|s| s.active_speaker = peer),
        // Only our camera's encoder is concerned: no decision to make.
        Ok(Some(Ok(RoomMsg::PausedLayers { rids }))) => transports::pause_layers(rids),
        Ok(Some(Ok(RoomMsg::HeldBack { peers }))) => call.state.update(|s| s.held_back = peers),
        Ok(Some(Ok(msg))) => {
            // A resumed session's room, as it is now: the same call.
            let rejoined = matches!(msg, RoomMsg::Joined { resumed: false, .. });
            if rejoined {
                dispatch(call, Input::Joined);
            }
            let now = browser::now_ms();
            call.session.model.update(|m| m.on_room_msg(msg, now));
        }
        // The filter decoded only the room's messages.
        Ok(Some(Err(_)) | None) => {}
        Err(err) => leptos::logging::warn!("unreadable server message: {err}"),
    }
}

pub fn send_p2p_chat(call: Call, text: &str) -> Result<(), String> {
    let me = call.session.model.with_untracked(|m| m.me_as_member());
    REFUSED.with(|r| r.borrow_mut().take());
    dispatch(call, Input::SendChat { me, text: text.to_owned() });
    match REFUSED.with(|r| r.borrow_mut().take()) {
        Some(why) => Err(why),
        None => Ok(()),
    }
}

/// Direct chat and files in a room through the server: data-only
/// connections to everyone.
pub fn open_direct(call: Call) {
    dispatch(call, Input::OpenDirect);
}

pub fn send_files(call: Call, input: &HtmlInputElement) {
    let Some(list) = input.files() else { return };
    let chosen: Vec<web_sys::File> = (0..list.length()).filter_map(|i| list.get(i)).collect();
    input.set_value("");
    let files = chosen.iter().map(|f| Outgoing { name: f.name(), size: f.size() as u64 }).collect();
    CHOSEN.with(|c| *c.borrow_mut() = chosen);
    let people =
        call.session.model.with_untracked(|m| m.room.as_ref().map(|r| r.members.clone()).unwrap_or_default());
    dispatch(call, Input::SendFiles { files, people });
}

pub fn attach_local(video: &HtmlVideoElement) {
    transports::attach_local(video);
}

pub fn attach_remote(video: &HtmlVideoElement, id: &PeerId, via_server: bool) {
    transports::attach_remote(video, id, via_server);
}

/// Leaving: every connection closed, every track stopped, every handler
/// and object URL released.
pub fn shut_down(call: Call) {
    dispatch(call, Input::Leave);
    CHOSEN.with(|c| c.borrow_mut().clear());
    transports::shut_down();
}
