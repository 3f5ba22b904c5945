//! The call's decisions as plain state, like the server's hub: events in
//! through [`CallCore::handle`], a list of [`Action`]s out for the browser
//! layer to carry out with the transports. Who gets a connection, who
//! offers, which connections a switch of the room's route closes, what a
//! DataChannel message means and how far each file got are decided here,
//! and unit-tested without a browser.
//!
//! The core keeps the connections' part of [`CallState`] (tiles, files)
//! up to date as it goes; everything else in it is the local media's.

use super::{CallState, PeerView, Transfer};
use crate::list_map::ListMap;
use crate::protocol::{MediaMode, MediaTransport, Member, PeerId, RoomMsg, SignalPayload};
use crate::rtc::link::PeerLink;
use crate::rtc::p2p::{sanitize_file_name, Incoming, P2pMsg};
use crate::rules;

mod hand_over;
pub use hand_over::HAND_OVER_MS;

/// Who is in the room with us and how it carries media.
#[derive(Clone, Debug, PartialEq)]
pub struct Roster {
    pub me: PeerId,
    /// In join order (the later one of a pair offers).
    pub members: Vec<PeerId>,
    pub media: MediaMode,
}

/// A file the person chose to send.
#[cfg_attr(test, derive(Clone, Debug, PartialEq, Eq))]
pub struct Outgoing {
    pub name: String,
    pub size: u64,
}

#[cfg_attr(test, derive(Clone, Debug, PartialEq))]
pub enum Input {
    /// We are in the call with these people; `None`: not (any more).
    Roster(Option<Roster>),
    /// The server confirmed a (re)join: connections to the media server
    /// start over, and what it sends next is for the new ones.
    Joined,
    /// Relayed from another browser by the server.
    Signal {
        from: PeerId,
        payload: SignalPayload,
    },
    /// `media` or `slot_map` from the server.
    FromSfu(RoomMsg),
    /// The person asked for direct chat and files in a room through the server.
    OpenDirect,
    Leave,
    /// A connection could not even be created.
    ConnectFailed(PeerId),
    SfuFailed,
    /// Our link to the server failed, or stayed down past its grace.
    SfuLost,
    // What the transports report.
    PeerSignal {
        to: PeerId,
        payload: SignalPayload,
    },
    PeerLink {
        peer: PeerId,
        link: PeerLink,
    },
    PeerTracks(PeerId),
    Channel {
        peer: PeerId,
        open: bool,
    },
    /// Signaling from our link to the server, for it.
    SfuSignal {
        transport: MediaTransport,
        payload: SignalPayload,
    },
    SfuLink(PeerLink),
    SfuStreams(Vec<PeerId>),
    /// While the room's route changes: this person's media decoded on the
    /// new path.
    Decoded(PeerId),
    /// The route change had its time: whoever is still on the old path
    /// moves now.
    HandOverDue,
    Text {
        from: Member,
        text: String,
    },
    Chunk {
        from: PeerId,
        id: u32,
        len: usize,
    },
    /// A received file was put together (its object URL) or could not be.
    Saved {
        key: String,
        result: Result<String, String>,
    },
    // The person's own chat and files.
    SendChat {
        me: Member,
        text: String,
    },
    /// `people`: the room's members, for the names on the transfers.
    SendFiles {
        files: Vec<Outgoing>,
        people: Vec<Member>,
    },
    Progress {
        key: String,
        done: u64,
    },
    SendFailed {
        key: String,
        error: String,
    },
}

impl Input {
    /// Whether handling it may change the tiles or the file list (the
    /// rest only moves signaling along).
    pub fn touches_view(&self) -> bool {
        !matches!(
            self,
            Input::Signal { .. }
                | Input::FromSfu(_)
                | Input::PeerSignal { .. }
                | Input::SfuSignal { .. }
                | Input::SendChat { .. }
        )
    }
}

#[cfg_attr(test, derive(Clone, Debug, PartialEq))]
pub enum Action {
    /// A browser-to-browser connection: with our media (a mesh) or only a
    /// DataChannel; `offer`: we start the negotiation.
    Connect {
        id: PeerId,
        media: bool,
        offer: bool,
    },
    Disconnect(PeerId),
    OpenSfu,
    CloseSfu,
    /// The room's route changed and some tiles still show the old path:
    /// report each person's media decoding on the new one
    /// ([`Input::Decoded`]), and [`Input::HandOverDue`] at the latest after
    /// [`HAND_OVER_MS`].
    HandOver,
    /// Ask the server to drop our connections to it (`restart_media`).
    RestartMedia,
    /// Signaling for our connection to `id`.
    ToPeer {
        id: PeerId,
        payload: SignalPayload,
    },
    ToSfu(RoomMsg),
    /// Over the server: `signal` to `to`.
    Relay {
        to: PeerId,
        payload: SignalPayload,
    },
    /// Over the server: `media` for our link to it.
    RelayMedia {
        transport: MediaTransport,
        payload: SignalPayload,
    },
    ShowChat {
        from: Member,
        text: String,
        mine: bool,
    },
    ChatRefused(String),
    /// One DataChannel text to each of `to`.
    SendText {
        to: Vec<PeerId>,
        frame: String,
    },
    /// File number `file` of the last [`Input::SendFiles`] to `to`.
    SendFile {
        to: PeerId,
        file: usize,
        id: u32,
        key: String,
    },
    /// Keep the chunks of file `id` from `from`.
    Receive {
        from: PeerId,
        id: u32,
    },
    Discard {
        from: PeerId,
        id: u32,
    },
    /// Put file `id` together; answer with [`Input::Saved`].
    Save {
        from: PeerId,
        id: u32,
        key: String,
        mime: String,
    },
}

/// What a browser-to-browser connection carries; a media one, how its
/// link is (the tile shows it once it shows that connection's media).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Carries {
    Media(PeerLink),
    DataOnly,
}

/// Our browser-to-browser connections, in the order they were made (a
/// room holds tens, so a list beats a map in code size and order).
#[derive(Default)]
struct Connections(Vec<(PeerId, Carries)>);

impl Connections {
    fn get(&self, id: &PeerId) -> Option<Carries> {
        self.0.iter().find(|(p, _)| p == id).map(|(_, c)| *c)
    }

    fn contains(&self, id: &PeerId) -> bool {
        self.get(id).is_some()
    }

    fn insert(&mut self, id: PeerId, carries: Carries) {
        self.remove(&id);
        self.0.push((id, carries));
    }

    /// `id`'s media connection now has `link` (in place: the order stays).
    fn set_link(&mut self, id: &PeerId, link: PeerLink) {
        for (_, c) in self.0.iter_mut().filter(|(p, _)| p == id) {
            *c = Carries::Media(link);
        }
    }

    fn remove(&mut self, id: &PeerId) -> Option<Carries> {
        let at = self.0.iter().position(|(p, _)| p == id)?;
        Some(self.0.remove(at).1)
    }

    fn ids(&self) -> impl Iterator<Item = &PeerId> {
        self.0.iter().map(|(p, _)| p)
    }

    fn into_ids(self) -> impl Iterator<Item = PeerId> {
        self.0.into_iter().map(|(p, _)| p)
    }
}

#[derive(Default)]
pub struct CallCore {
    /// How the call we are in carries media (`None` outside a call).
    mode: Option<MediaMode>,
    /// Who we are in it: every connection was made as this peer.
    me: Option<PeerId>,
    /// Everyone else in the room (each has a tile).
    others: Vec<PeerId>,
    peers: Connections,
    sfu: Option<PeerLink>,
    /// Our link to the server was lost and the server asked to start over:
    /// until it confirms, its media messages are for the old connections.
    restarting: bool,
    /// In a room through the server, direct chat and files were asked for:
    /// keep a data-only connection to everyone.
    direct_wanted: bool,
    /// The server's media messages that came before the link opened (it
    /// offers as soon as we are in the room), replayed when it does.
    sfu_backlog: Vec<RoomMsg>,
    receiving: ListMap<(PeerId, u32), (Incoming, String)>,
    next_transfer: u32,
}

impl CallCore {
    pub fn handle(&mut self, view: &mut CallState, input: Input) -> Vec<Action> {
        let mut out = Vec::new();
        match input {
            Input::Roster(Some(roster)) => self.sync(view, roster, &mut out),
            Input::Roster(None) | Input::Leave => {
                self.mode = None;
                self.me = None;
                self.close_all(view, &mut out);
            }
            Input::Joined => self.end_sfu_link(&mut out),
            // Handing over to a mesh: the server's media was on its way out.
            Input::SfuLost if self.mode == Some(MediaMode::Mesh) => self.hand_over(view, None, &mut out),
            Input::SfuLost => {
                if self.sfu.take().is_some() {
                    self.restarting = true;
                    out.push(Action::CloseSfu);
                    out.push(Action::RestartMedia);
                    view.peers.iter_mut().for_each(|p| p.link = PeerLink::Reconnecting);
                }
            }
            // New connections to the server: what it held back on the old
            // ones is news of the past.
            Input::FromSfu(RoomMsg::MediaRestarted) => {
                view.held_back.clear();
                if std::mem::take(&mut self.restarting) && self.mode == Some(MediaMode::Sfu) {
                    self.open_sfu(PeerLink::Reconnecting, &mut out);
                }
            }
            Input::FromSfu(_) if self.restarting => {}
            Input::Signal { from, payload } => self.on_signal(view, from, payload, &mut out),
            Input::FromSfu(msg) => match self.sfu {
                Some(_) => out.push(Action::ToSfu(msg)),
                None => self.sfu_backlog.push(msg),
            },
            Input::OpenDirect => {
                if self.sfu.is_some() && !std::mem::replace(&mut self.direct_wanted, true) {
                    self.connect_direct(&mut out);
                }
            }
            Input::ConnectFailed(id) => self.drop_peer(view, &id, &mut Vec::new()),
            Input::SfuFailed => self.sfu = None,
            Input::PeerSignal { to, payload } => out.push(Action::Relay { to, payload }),
            Input::SfuSignal { transport, payload } => out.push(Action::RelayMedia { transport, payload }),
            // A direct connection in a room through the server carries no
            // media: the tile's link and stream are the server's.
            Input::PeerLink { peer, link } if matches!(self.peers.get(&peer), Some(Carries::Media(_))) => {
                self.peers.set_link(&peer, link);
                update(view, &peer, |v| {
                    if !v.via_server {
                        v.link = link
                    }
                })
            }
            Input::PeerTracks(peer) if matches!(self.peers.get(&peer), Some(Carries::Media(_))) => {
                update(view, &peer, |v| v.stream_rev += u32::from(!v.via_server))
            }
            Input::PeerLink { .. } | Input::PeerTracks(_) => {}
            Input::Channel { peer, open } => update(view, &peer, |v| v.p2p_open = open),
            Input::SfuLink(link) => {
                if self.sfu.is_some() {
                    self.sfu = Some(link);
                    view.peers.iter_mut().filter(|p| p.via_server).for_each(|p| p.link = link);
                }
            }
            Input::SfuStreams(ids) => {
                for v in view.peers.iter_mut().filter(|p| p.via_server && ids.contains(&p.id)) {
                    v.stream_rev += 1;
                }
            }
            Input::Decoded(peer) => self.hand_over(view, Some(&peer), &mut out),
            Input::HandOverDue => self.hand_over(view, None, &mut out),
            Input::Text { from, text } => self.on_text(view, from, &text, &mut out),
            Input::Chunk { from, id, len } => self.on_chunk(view, from, id, len, &mut out),
            Input::Saved { key, result } => set_transfer(view, &key, |t| match result {
                Ok(url) => {
                    t.done = t.size;
                    t.url = Some(url);
                }
                Err(err) => t.error = Some(err),
            }),
            Input::SendChat { me, text } => self.send_chat(view, me, text, &mut out),
            Input::SendFiles { files, people } => self.send_files(view, files, &people, &mut out),
            Input::Progress { key, done } => set_transfer(view, &key, |t| t.done = done),
            Input::SendFailed { key, error } => set_transfer(view, &key, |t| t.error = Some(error)),
        }
        out
    }

    fn sync(&mut self, view: &mut CallState, roster: Roster, out: &mut Vec<Action>) {
        // The server lost our session and we came back as someone else:
        // the others see a newcomer, so every connection starts over.
        if self.me.replace(roster.me.clone()).is_some_and(|was| was != roster.me) {
            self.mode = None;
            self.close_all(view, out);
        }
        let switched = self.mode.replace(roster.media).is_some_and(|was| was != roster.media);
        if switched {
            self.begin_hand_over(roster.media, out);
        }
        self.others = roster.members.iter().filter(|id| **id != roster.me).cloned().collect();
        match roster.media {
            MediaMode::Mesh => self.sync_mesh(view, &roster, out),
            MediaMode::Sfu => self.sync_sfu(view, out),
        }
        let to_server = roster.media == MediaMode::Sfu;
        if switched && view.peers.iter().any(|p| p.via_server != to_server) {
            out.push(Action::HandOver);
        } else if switched {
            // Nobody is seen, or sees us, on the old path: it goes now,
            // not when the server drops it (a camera left at the server's
            // size, a link nobody uses).
            self.hand_over(view, None, out);
        }
    }

    /// One connection per other member. The one who joined later makes
    /// the offer, so a join costs one offer/answer per pair, not a collision.
    fn sync_mesh(&mut self, view: &mut CallState, roster: &Roster, out: &mut Vec<Action>) {
        let Some(mine) = roster.members.iter().position(|m| *m == roster.me) else { return };
        let gone: Vec<PeerId> = self.peers.ids().filter(|id| !roster.members.contains(id)).cloned().collect();
        for id in gone {
            self.drop_peer(view, &id, out);
        }
        // Tiles still showing the server's media (a hand-over) go with their person.
        view.peers.retain(|p| roster.members.contains(&p.id));
        for earlier in &roster.members[..mine] {
            if !self.peers.contains(earlier) {
                self.add_media_peer(view, earlier.clone(), true, out);
            }
        }
    }

    /// One link to the server for everyone, a tile per member, and direct
    /// connections only when asked for.
    fn sync_sfu(&mut self, view: &mut CallState, out: &mut Vec<Action>) {
        if self.sfu.is_none() && !self.restarting {
            self.open_sfu(PeerLink::Connecting, out);
        }
        let gone: Vec<PeerId> = self.peers.ids().filter(|id| !self.others.contains(id)).cloned().collect();
        for id in gone {
            self.drop_peer(view, &id, out);
        }
        if self.direct_wanted {
            self.connect_direct(out);
        }
        let link =
            self.sfu.unwrap_or(if self.restarting { PeerLink::Reconnecting } else { PeerLink::Connecting });
        view.peers.retain(|p| self.others.contains(&p.id));
        for id in &self.others {
            if view.peer(id).is_none() {
                let mut tile = PeerView::new(id.clone());
                tile.link = link;
                tile.via_server = true;
                view.peers.push(tile);
            }
        }
    }

    fn open_sfu(&mut self, link: PeerLink, out: &mut Vec<Action>) {
        self.sfu = Some(link);
        out.push(Action::OpenSfu);
        out.extend(self.sfu_backlog.drain(..).map(Action::ToSfu));
    }

    /// Data-only connections to every tile that has none.
    fn connect_direct(&mut self, out: &mut Vec<Action>) {
        let missing: Vec<PeerId> =
            self.others.iter().filter(|id| !self.peers.contains(id)).cloned().collect();
        for id in missing {
            self.peers.insert(id.clone(), Carries::DataOnly);
            out.push(Action::Connect { id, media: false, offer: true });
        }
    }

    fn add_media_peer(&mut self, view: &mut CallState, id: PeerId, offer: bool, out: &mut Vec<Action>) {
        self.peers.insert(id.clone(), Carries::Media(PeerLink::Connecting));
        // A tile showing the server's media keeps it until this connection's decodes.
        if !view.peer(&id).is_some_and(|p| p.via_server && self.sfu.is_some()) {
            view.peers.retain(|p| p.id != id);
            view.peers.push(PeerView::new(id.clone()));
        }
        out.push(Action::Connect { id, media: true, offer });
    }

    fn drop_peer(&mut self, view: &mut CallState, id: &PeerId, out: &mut Vec<Action>) {
        self.receiving.retain(|(from, _), _| from != id);
        if self.peers.remove(id).is_some() {
            out.push(Action::Disconnect(id.clone()));
        }
        // In an SFU room the tile stays while the person does.
        if self.mode != Some(MediaMode::Sfu) || !self.others.contains(id) {
            view.peers.retain(|p| &p.id != id);
        }
    }

    /// The link to the server and everything that belongs to it (its
    /// backlog, a restart under way, the ask for direct connections) end
    /// together: on a rejoin and when the call closes.
    fn end_sfu_link(&mut self, out: &mut Vec<Action>) {
        if self.sfu.take().is_some() {
            out.push(Action::CloseSfu);
        }
        self.sfu_backlog.clear();
        self.direct_wanted = false;
        self.restarting = false;
    }

    fn close_all(&mut self, view: &mut CallState, out: &mut Vec<Action>) {
        for id in std::mem::take(&mut self.peers).into_ids() {
            out.push(Action::Disconnect(id));
        }
        self.end_sfu_link(out);
        self.receiving.clear();
        self.others.clear();
        view.peers.clear();
    }

    fn on_signal(
        &mut self,
        view: &mut CallState,
        from: PeerId,
        payload: SignalPayload,
        out: &mut Vec<Action>,
    ) {
        let Some(mode) = self.mode else { return };
        if !self.peers.contains(&from) {
            match mode {
                // Someone in our SFU room opened a direct (data-only) connection.
                MediaMode::Sfu => {
                    self.peers.insert(from.clone(), Carries::DataOnly);
                    out.push(Action::Connect { id: from.clone(), media: false, offer: false });
                }
                // The newer member offers first; we answer on a fresh connection.
                MediaMode::Mesh => self.add_media_peer(view, from.clone(), false, out),
            }
        }
        out.push(Action::ToPeer { id: from, payload });
    }

    fn on_text(&mut self, view: &mut CallState, from: Member, text: &str, out: &mut Vec<Action>) {
        let msg = match serde_json::from_str::<P2pMsg>(text) {
            Ok(msg) => msg,
            Err(err) => return leptos::logging::warn!("unreadable peer message: {err}"),
        };
        match msg {
            P2pMsg::Chat { text } => {
                if rules::validate_chat(&text).is_ok() {
                    out.push(Action::ShowChat { from, text, mine: false });
                }
            }
            P2pMsg::FileStart { id, name, size, mime } => {
                let key = format!("in-{}-{id}", from.id);
                let transfer = |name: String, error: Option<String>| Transfer {
                    key: key.clone(),
                    name,
                    size,
                    done: 0,
                    outgoing: false,
                    peer_name: from.nickname.clone(),
                    url: None,
                    error,
                };
                match Incoming::start(id, name.clone(), size, mime) {
                    Ok(meta) => {
                        view.transfers.push(transfer(meta.name.clone(), None));
                        self.receiving.insert((from.id.clone(), id), (meta, key.clone()));
                        out.push(Action::Receive { from: from.id, id });
                    }
                    Err(err) => view.transfers.push(transfer(name, Some(err.to_string()))),
                }
            }
            P2pMsg::FileEnd { id } => {
                let Some((meta, key)) = self.receiving.remove(&(from.id.clone(), id)) else { return };
                match meta.finish() {
                    Ok(()) => out.push(Action::Save { from: from.id, id, key, mime: meta.mime }),
                    Err(err) => {
                        out.push(Action::Discard { from: from.id, id });
                        set_transfer(view, &key, |t| t.error = Some(err.to_string()));
                    }
                }
            }
        }
    }

    fn on_chunk(&mut self, view: &mut CallState, from: PeerId, id: u32, len: usize, out: &mut Vec<Action>) {
        let Some((meta, key)) = self.receiving.get_mut(&(from.clone(), id)) else { return };
        match meta.accept(len) {
            Ok(()) => {
                let received = meta.received;
                let key = key.clone();
                set_transfer(view, &key, |t| t.done = received);
            }
            Err(err) => {
                let key = key.clone();
                self.receiving.remove(&(from.clone(), id));
                out.push(Action::Discard { from, id });
                set_transfer(view, &key, |t| t.error = Some(err.to_string()));
            }
        }
    }

    /// Everyone whose DataChannel is open.
    fn reachable(view: &CallState) -> Vec<PeerId> {
        view.peers.iter().filter(|p| p.p2p_open).map(|p| p.id.clone()).collect()
    }

    fn send_chat(&mut self, view: &CallState, me: Member, text: String, out: &mut Vec<Action>) {
        if let Err(err) = rules::validate_chat(&text) {
            return out.push(Action::ChatRefused(err.to_string()));
        }
        let to = Self::reachable(view);
        if to.is_empty() {
            return out.push(Action::ChatRefused("no one is connected peer-to-peer yet".into()));
        }
        let frame = serde_json::to_string(&P2pMsg::Chat { text: text.clone() }).expect("serializable");
        out.push(Action::SendText { to, frame });
        out.push(Action::ShowChat { from: me, text, mine: true });
    }

    fn send_files(
        &mut self,
        view: &mut CallState,
        files: Vec<Outgoing>,
        people: &[Member],
        out: &mut Vec<Action>,
    ) {
        let targets = Self::reachable(view);
        for (file, chosen) in files.iter().enumerate() {
            for to in &targets {
                self.next_transfer += 1;
                let id = self.next_transfer;
                let key = format!("out-{to}-{id}");
                view.transfers.push(Transfer {
                    key: key.clone(),
                    name: sanitize_file_name(&chosen.name),
                    size: chosen.size,
                    done: 0,
                    outgoing: true,
                    peer_name: people
                        .iter()
                        .find(|p| &p.id == to)
                        .map_or_else(|| "Someone".to_owned(), |p| p.nickname.clone()),
                    url: None,
                    error: None,
                });
                out.push(Action::SendFile { to: to.clone(), file, id, key });
            }
        }
    }
}

fn update(view: &mut CallState, id: &PeerId, f: impl FnOnce(&mut PeerView)) {
    if let Some(tile) = view.peers.iter_mut().find(|p| &p.id == id) {
        f(tile);
    }
}

fn set_transfer(view: &mut CallState, key: &str, f: impl FnOnce(&mut Transfer)) {
    if let Some(t) = view.transfers.iter_mut().find(|t| t.key == key) {
        f(t);
    }
}

#[cfg(test)]
#[path = "core_tests.rs"]
mod tests;
