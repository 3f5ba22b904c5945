//! Rooms, membership and relay rules as plain state.
//!
//! The hub knows nothing of sockets or tasks: it takes one event at a time
//! and answers with one [`Output`] (what to deliver here, what to publish to
//! other nodes, which rooms it let go). That keeps every rule testable
//! without a network, and lets the transport decide how to deliver.

mod admission;
#[cfg(test)]
mod admission_tests;
mod auto_media;
#[cfg(test)]
mod auto_media_tests;
mod cluster_event;
mod delivery;
mod error;
mod handover;
mod hands;
mod host;
mod ice;
#[cfg(test)]
mod media_tests;
mod output;
mod passcode;
mod remote;
#[cfg(test)]
mod remote_tests;
mod seat;
#[cfg(test)]
mod tests;

pub use cluster_event::{ClusterEvent, Handed, Outgoing, Placed};
pub use delivery::{Delivery, To};
pub use error::HubError;
pub use ice::{turn_credential, IceConfig};
pub use output::Output;
pub use passcode::{Passcode, Prepared};
pub use remote::MISSING_GRACE_MS;
pub use seat::{room_hash, Seat};

use crate::media::MediaCmd;
use app::protocol::{
    ClientMsg, MediaMode, MediaState, Member, PeerId, RoomSummary, ServerMsg, SignalPayload,
};
use app::rules;
use std::cmp::Reverse;
use std::collections::{BTreeSet, HashMap, HashSet};

#[derive(Default)]
struct Peer {
    nickname: Option<String>,
    /// The name the room sees when someone there already has `nickname`
    /// ("Ada (2)"); only while in that room.
    shown: Option<String>,
    room: Option<String>,
    media: MediaState,
    /// The node holding this peer's connection; `None` for our own.
    node: Option<String>,
    /// When they joined their room (ms), which orders members on every
    /// node alike, so that all agree on who the host is.
    since: u64,
    /// When they raised their hand, while it is up (in this room only).
    hand: Option<u64>,
    reactions: hands::Burst,
    hand_changes: hands::Burst,
}

#[derive(Default)]
struct Room {
    /// Join order; rooms are small, so a Vec beats a set here. The first
    /// member is the host.
    members: Vec<PeerId>,
    /// The one member sharing their screen, if any.
    sharer: Option<PeerId>,
    passcode: Option<Passcode>,
    /// Set by the host: no new joins.
    locked: bool,
    /// Browser to browser, or through this node's SFU.
    media: MediaMode,
    /// The server picks `media` by the room's size; off once the host picks.
    auto: bool,
    /// Since when (ms) an auto SFU room has been down to two people.
    small_since: Option<u64>,
    /// Switched to a mesh: its SFU sessions stay until the browsers have
    /// handed over (since when, in ms, once a tick has seen it).
    draining: Option<Option<u64>>,
}

pub use app::protocol::LOBBY_LIST_MAX;

/// Maps and sets keyed by peer id, looked up several times per relayed
/// message. The ids are 128 random bits made by a server, so a fast
/// seeded hash is safe here, where SipHash and its per-byte rounds over 32
/// characters showed in every profile. Room names come from clients and
/// keep the standard hasher.
pub type PeerMap<V> = HashMap<PeerId, V, foldhash::fast::RandomState>;
pub type PeerSet = HashSet<PeerId, foldhash::fast::RandomState>;

/// Settings the hub enforces or hands out.
#[derive(Clone, Debug)]
pub struct HubConfig {
    /// Most people in one room; a mesh call costs every member one
    /// connection per other member, so this bounds each browser's load.
    pub max_peers_per_room: usize,
    /// Most rooms at once (across the cluster, as this node sees it).
    pub max_rooms: usize,
    /// Longest chat message, at most the protocol's own limit.
    pub max_chat_chars: usize,
    pub ice: IceConfig,
    /// How new rooms carry their calls.
    pub media_mode: MediaMode,
    /// Most people in a room whose call goes through the server.
    pub max_sfu_peers: usize,
    /// `Some(n)`: rooms start as a mesh and go through the server from the
    /// join that makes them `n` people (`--media-mode auto`); `None`: they
    /// keep `media_mode`.
    pub sfu_from: Option<usize>,
    /// Most tracks this node's SFU forwards (see `admission.rs`); `None`:
    /// no limit.
    pub max_forwarded_tracks: Option<usize>,
}

impl Default for HubConfig {
    fn default() -> Self {
        HubConfig {
            max_peers_per_room: 6,
            max_rooms: 10_000,
            max_chat_chars: app::protocol::MAX_CHAT_CHARS,
            ice: IceConfig::default(),
            media_mode: MediaMode::Mesh,
            max_sfu_peers: 50,
            sfu_from: None,
            max_forwarded_tracks: None,
        }
    }
}

#[derive(Default)]
pub struct Hub {
    config: HubConfig,
    peers: PeerMap<Peer>,
    rooms: HashMap<String, Room>,
    /// Peers not in a room: they watch the public room list.
    lobby: PeerSet,
    /// Rooms whose count changed since the last lobby update.
    dirty: BTreeSet<String>,
    /// Listed rooms in lobby order (busiest first, then by name), so a
    /// newcomer's list is the first `LOBBY_LIST_MAX` entries instead of a
    /// scan of every room: in a join storm, that scan was most of the
    /// hub's time. Rooms in `unplaced` are moved to their place before the
    /// order is read, each with the count it is filed under in `placed`.
    by_count: BTreeSet<(Reverse<u32>, String)>,
    placed: HashMap<String, u32>,
    unplaced: BTreeSet<String>,
    /// Set when other nodes share our rooms (Redis scale-out).
    clustered: bool,
    /// Events for the other nodes and rooms we stopped replicating, gathered
    /// while one input is handled and moved into its [`Output`].
    outgoing: Vec<Outgoing>,
    released: Vec<String>,
    /// Commands for this node's SFU, gathered the same way.
    media: Vec<MediaCmd>,
    /// Counts of rooms held only by other nodes, for the lobby.
    remote_counts: HashMap<String, u32>,
    /// Their (passcode, locked) flags.
    remote_flags: HashMap<String, (bool, bool)>,
    /// Remote members the cluster's record lacks, and since when (ms):
    /// after Redis comes back empty, their node needs a moment to register
    /// them again, and they must not be seen to leave and join meanwhile.
    missing: PeerMap<u64>,
    /// Places in a room's join order that peers brought back from before a
    /// restart (their resume tokens), taken by their next join of it.
    seats: PeerMap<(Seat, u64)>,
}

impl Hub {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn with_config(config: HubConfig) -> Self {
        Hub { config, ..Self::default() }
    }

    /// Peers connected to this node.
    pub fn peer_count(&self) -> usize {
        self.peers.values().filter(|p| p.node.is_none()).count()
    }

    fn is_local(&self, id: &PeerId) -> bool {
        self.peers.get(id).is_some_and(|p| p.node.is_none())
    }

    fn publish(&mut self, node: Option<String>, event: ClusterEvent) {
        if self.clustered {
            self.outgoing.push(Outgoing { node, event });
        }
    }

    pub fn room_count(&self) -> usize {
        self.rooms.len()
    }

    /// The one way out of every input: its deliveries (and the sender's
    /// error, if refused) with everything gathered for other nodes.
    fn output(&mut self, from: Option<&PeerId>, result: Result<Vec<Delivery>, HubError>) -> Output {
        let (mut deliveries, refused) = match result {
            Ok(deliveries) => (deliveries, None),
            Err(err) => (Vec::new(), Some(err)),
        };
        if let (Some(err), Some(from)) = (&refused, from) {
            let msg = ServerMsg::Error { code: err.code(), message: err.to_string() };
            deliveries.push(Delivery::one(from, msg));
        }
        Output {
            deliveries,
            publish: std::mem::take(&mut self.outgoing),
            released: std::mem::take(&mut self.released),
            media: std::mem::take(&mut self.media),
            refused,
        }
    }

    /// A new connection: it starts in the lobby with the current room list.
    /// A new connection (or, with the same id, a session restored after a
    /// restart), handed the token `resume` to come back with.
    pub fn connect(&mut self, id: &PeerId, now_ms: u64, resume: Option<String>) -> Output {
        self.peers.insert(id.clone(), Peer::default());
        self.lobby.insert(id.clone());
        let out = vec![
            Delivery::one(id, self.welcome(id, now_ms, resume, false)),
            Delivery::one(id, ServerMsg::Rooms { rooms: self.lobby_list() }),
        ];
        self.output(None, Ok(out))
    }

    /// A session this node held took a new socket: it is told so, with
    /// fresh ICE credentials, the room list and its room as they are now
    /// (what went out on the dead socket may never have arrived). Nobody
    /// else hears of it.
    pub fn resume(&mut self, id: &PeerId, now_ms: u64, resume: Option<String>) -> Output {
        let mut out = vec![
            Delivery::one(id, self.welcome(id, now_ms, resume, true)),
            Delivery::one(id, ServerMsg::Rooms { rooms: self.lobby_list() }),
        ];
        if let Some(room) = self.room_of(id).map(str::to_owned) {
            out.push(Delivery::one(id, self.joined(room, true)));
        }
        self.output(None, Ok(out))
    }

    fn welcome(&self, id: &PeerId, now_ms: u64, resume: Option<String>, resumed: bool) -> ServerMsg {
        let ice_servers = self.config.ice.servers_for(id, now_ms / 1000);
        ServerMsg::Welcome { id: id.clone(), ice_servers, resume, resumed }
    }

    /// Whether `id` is anyone's here: ours, or a member on another node.
    pub fn knows(&self, id: &PeerId) -> bool {
        self.peers.contains_key(id)
    }

    /// A connection went away, for whatever reason. Unknown ids are ignored
    /// so the transport may call this more than once.
    pub fn disconnect(&mut self, id: &PeerId) -> Output {
        let mut out = Vec::new();
        self.leave_room(id, &mut out);
        self.lobby.remove(id);
        self.peers.remove(id);
        self.seats.remove(id);
        self.output(None, Ok(out))
    }

    /// `id` was in a room before this process started (its resume token
    /// says where it sat): its next join of that room, until `until_ms`
    /// (the end of the restart's grace), takes that place.
    pub fn claim_seat(&mut self, id: &PeerId, seat: Seat, until_ms: u64) {
        if self.peers.contains_key(id) {
            self.seats.insert(id.clone(), (seat, until_ms));
        }
    }

    /// Where one of this node's peers sits now, for its resume token.
    pub fn seat_of(&self, id: &PeerId) -> Option<Seat> {
        let peer = self.peers.get(id).filter(|p| p.node.is_none())?;
        let room = peer.room.as_deref()?;
        let locked = self.rooms.get(room).is_some_and(|r| r.locked);
        Some(Seat { room: room_hash(room), since_ms: peer.since, locked })
    }

    /// Where a member who joined at `since` goes in `room`'s join order:
    /// (join time, id) decides, the same on every node and after a restart,
    /// so that all agree on who the host (the first) is.
    fn place_in_order(&self, room: &str, since: u64, id: &PeerId) -> usize {
        let members = self.rooms.get(room).map_or(&[][..], |r| &r.members[..]);
        let since_of = |other: &PeerId| self.peers.get(other).map_or(0, |p| p.since);
        members.iter().position(|other| (since_of(other), other) > (since, id)).unwrap_or(members.len())
    }

    /// Everyone in `id`'s room, `id` included: whose tokens a lock changes.
    pub fn roommates(&self, id: &PeerId) -> Vec<PeerId> {
        self.room_of(id).map(|room| self.members(room)).unwrap_or_default()
    }

    /// A message from one of this node's connections. A refusal comes back
    /// as `refused` plus an `error` delivery to the sender.
    pub fn handle(&mut self, from: &PeerId, msg: ClientMsg, now_ms: u64) -> Output {
        if !self.peers.contains_key(from) {
            // A message racing its own disconnect: nothing to answer.
            return Output::default();
        }
        let result = self.handle_inner(from, msg, now_ms);
        self.output(Some(from), result)
    }

    fn handle_inner(
        &mut self,
        from: &PeerId,
        msg: ClientMsg,
        now_ms: u64,
    ) -> Result<Vec<Delivery>, HubError> {
        match msg {
            ClientMsg::SetNickname { nickname } => self.set_nickname(from, &nickname),
            ClientMsg::Join { room, passcode } => {
                self.join_checked(from, &room, passcode.as_deref(), &Prepared::default(), now_ms)
            }
            ClientMsg::Leave => Ok(self.leave(from)),
            ClientMsg::SetMedia { media } => Ok(self.set_media(from, media)),
            ClientMsg::StartShare => self.start_share(from),
            ClientMsg::StopShare => Ok(self.stop_share(from)),
            ClientMsg::Chat { text, nonce } => self.chat(from, text, nonce, now_ms),
            ClientMsg::Signal { to, payload } => self.signal(from, to, payload),
            ClientMsg::LockRoom { locked } => self.lock_room(from, locked),
            ClientMsg::RemovePeer { id } => self.remove_peer(from, &id),
            ClientMsg::MuteAll => self.mute_all(from),
            ClientMsg::Media { transport, payload } => {
                self.media_cmd(from, MediaCmd::Signal { peer: from.clone(), transport, payload })
            }
            ClientMsg::RestartMedia => self.media_cmd(from, MediaCmd::Restart { peer: from.clone() }),
            ClientMsg::SetRoomMedia { media } => self.set_room_media(from, media),
            ClientMsg::RaiseHand { up } => self.raise_hand(from, up, now_ms),
            ClientMsg::LowerHand { id } => self.lower_hand(from, &id),
            ClientMsg::React { reaction } => self.react(from, reaction, now_ms),
        }
    }

    /// The coalesced room-list update for everyone in the lobby, if any room
    /// changed since the last call. The transport calls this on a timer, so
    /// lobby traffic is bounded by the timer, not by the join rate.
    pub fn flush_lobby(&mut self) -> Option<Delivery> {
        if self.dirty.is_empty() {
            return None;
        }
        let dirty = std::mem::take(&mut self.dirty);
        if self.lobby.is_empty() {
            return None;
        }
        let mut changed = Vec::new();
        let mut removed = Vec::new();
        for name in dirty {
            match self.summary(&name) {
                Some(summary) => changed.push(summary),
                None => removed.push(name),
            }
        }
        let to = self.lobby.iter().cloned().collect();
        Some(Delivery::many(to, ServerMsg::RoomsChanged { changed, removed }))
    }

    fn remote_summary(&self, name: &str, count: u32) -> RoomSummary {
        let (passcode, locked) = self.remote_flags.get(name).copied().unwrap_or_default();
        RoomSummary { name: name.to_owned(), count, passcode, locked }
    }

    /// Rooms with anyone in them, here or on other nodes.
    fn open_room_count(&self) -> usize {
        let here = self.rooms.values().filter(|r| !r.members.is_empty()).count();
        let elsewhere = self
            .remote_counts
            .iter()
            .filter(|(name, count)| **count > 0 && !self.rooms.contains_key(*name))
            .count();
        here + elsewhere
    }

    /// What someone entering the lobby gets: the busiest rooms only. With
    /// thousands of rooms the whole list would cost every new connection
    /// (and the server encoding it) time and memory in proportion to the
    /// rooms; later changes arrive as deltas either way.
    pub fn lobby_list(&mut self) -> Vec<RoomSummary> {
        for name in std::mem::take(&mut self.unplaced) {
            if let Some(count) = self.placed.remove(&name) {
                self.by_count.remove(&(Reverse(count), name.clone()));
            }
            if let Some(summary) = self.summary(&name) {
                self.placed.insert(name.clone(), summary.count);
                self.by_count.insert((Reverse(summary.count), name));
            }
        }
        self.by_count.iter().take(LOBBY_LIST_MAX).filter_map(|(_, name)| self.summary(name)).collect()
    }

    /// `room`'s count or flags may have changed: the lobby hears of it on
    /// the next update, and the room takes its new place in the order.
    fn mark_dirty(&mut self, room: &str) {
        self.dirty.insert(room.to_owned());
        self.unplaced.insert(room.to_owned());
    }

    /// A room's passcode and lock as other nodes learn them.
    fn settings_of(&self, room: &str) -> Option<ClusterEvent> {
        let r = self.rooms.get(room)?;
        Some(ClusterEvent::Settings {
            room: room.to_owned(),
            passcode: r.passcode.clone(),
            locked: r.locked,
            media: r.media,
        })
    }

    /// How the lobby lists `name`; `None` once nobody is in it.
    fn summary(&self, name: &str) -> Option<RoomSummary> {
        let summary = match self.rooms.get(name) {
            Some(room) => RoomSummary {
                name: name.to_owned(),
                count: room.members.len() as u32,
                passcode: room.passcode.is_some(),
                locked: room.locked,
            },
            None => self.remote_summary(name, *self.remote_counts.get(name)?),
        };
        (summary.count > 0).then_some(summary)
    }

    /// Public rooms, busiest first (all of them; the lobby gets `lobby_list`).
    pub fn room_list(&self) -> Vec<RoomSummary> {
        let elsewhere = self.remote_counts.keys().filter(|name| !self.rooms.contains_key(*name));
        let mut list: Vec<RoomSummary> =
            self.rooms.keys().chain(elsewhere).filter_map(|n| self.summary(n)).collect();
        list.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.name.cmp(&b.name)));
        list
    }

    fn member(&self, id: &PeerId) -> Member {
        match self.peers.get(id) {
            Some(p) => {
                let nickname = p.shown.as_ref().or(p.nickname.as_ref()).cloned().unwrap_or_default();
                Member { id: id.clone(), nickname, media: p.media, hand: p.hand }
            }
            None => {
                Member { id: id.clone(), nickname: String::new(), media: MediaState::default(), hand: None }
            }
        }
    }

    pub fn has_nickname(&self, id: &PeerId) -> bool {
        self.peers.get(id).is_some_and(|p| p.nickname.is_some())
    }

    fn room_of(&self, id: &PeerId) -> Option<&str> {
        self.peers.get(id)?.room.as_deref()
    }

    fn members(&self, room: &str) -> Vec<PeerId> {
        self.rooms.get(room).map(|r| r.members.clone()).unwrap_or_default()
    }

    fn set_nickname(&mut self, from: &PeerId, input: &str) -> Result<Vec<Delivery>, HubError> {
        let nickname = rules::normalize_nickname(input)?;
        let peer = self.peers.get_mut(from).expect("checked in handle");
        peer.nickname = Some(nickname.clone());
        let room = peer.room.clone();
        let mut out = vec![Delivery::one(from, ServerMsg::NicknameSet { nickname })];
        if let Some(room) = room {
            self.make_name_unique(from, &room);
            let peer = self.member(from);
            let since = self.peers.get(from).map_or(0, |p| p.since);
            self.publish(None, ClusterEvent::Updated { room: room.clone(), member: peer.clone(), since });
            out.push(Delivery::many(self.members(&room), ServerMsg::PeerRenamed { peer }));
        }
        Ok(out)
    }

    fn set_media(&mut self, from: &PeerId, media: MediaState) -> Vec<Delivery> {
        let peer = self.peers.get_mut(from).expect("checked in handle");
        peer.media = media;
        match peer.room.clone() {
            Some(room) => {
                let since = self.peers.get(from).map_or(0, |p| p.since);
                self.publish(
                    None,
                    ClusterEvent::Updated { room: room.clone(), member: self.member(from), since },
                );
                vec![Delivery::many(self.members(&room), ServerMsg::PeerMedia { id: from.clone(), media })]
            }
            None => Vec::new(),
        }
    }

    /// A join whose passcode the caller has already hashed (see [`Prepared`]).
    pub fn join_prepared(
        &mut self,
        from: &PeerId,
        room: &str,
        passcode: Option<&str>,
        prepared: &Prepared,
        now_ms: u64,
    ) -> Output {
        if !self.peers.contains_key(from) {
            return Output::default();
        }
        let result = self.join_checked(from, room, passcode, prepared, now_ms);
        self.output(Some(from), result)
    }

    fn join_checked(
        &mut self,
        from: &PeerId,
        room: &str,
        passcode: Option<&str>,
        prepared: &Prepared,
        now_ms: u64,
    ) -> Result<Vec<Delivery>, HubError> {
        let joined = self.join(from, room, passcode, prepared, now_ms);
        if joined.is_err() {
            // The transport may have started mirroring the room
            // for this join (scale-out); nobody local uses it now.
            self.release_if_unused(room);
        }
        joined
    }

    /// The passcode a join into `room` would be checked against now.
    pub fn passcode_of(&self, room: &str) -> Option<Passcode> {
        self.rooms.get(room).filter(|r| !r.members.is_empty()).and_then(|r| r.passcode.clone())
    }

    fn join(
        &mut self,
        from: &PeerId,
        room: &str,
        passcode: Option<&str>,
        prepared: &Prepared,
        now_ms: u64,
    ) -> Result<Vec<Delivery>, HubError> {
        let room = rules::validate_room(room)?.to_owned();
        let passcode = rules::normalize_passcode(passcode)?;
        let peer = self.peers.get(from).expect("checked in handle");
        if peer.nickname.is_none() {
            return Err(HubError::NicknameRequired);
        }
        let mut out = Vec::new();
        if peer.room.as_deref() == Some(room.as_str()) {
            // A repeated join (e.g. a retried request) just re-sends the state.
            out.push(Delivery::one(from, self.joined(room, false)));
            return Ok(out);
        }
        let others = self.members(&room);
        let creating = others.is_empty();
        if creating && self.remote_counts.get(&room).is_some_and(|c| *c > 0) {
            // Others are in it but we could not learn its members and
            // settings (Redis slow or gone): creating it afresh here would
            // drop its passcode and lock.
            return Err(HubError::Unavailable);
        }
        // Back from before a restart, in this room: the lock that the first
        // of them put back does not keep out the others.
        let seat = self
            .seats
            .get(from)
            .filter(|(s, until)| s.room == room_hash(&room) && now_ms <= *until)
            .map(|(s, _)| *s);
        if let Some(existing) = self.rooms.get(&room).filter(|_| !creating) {
            if existing.locked && seat.is_none() {
                return Err(HubError::RoomLocked);
            }
            match (&existing.passcode, passcode) {
                (Some(_), None) => return Err(HubError::PasscodeRequired),
                (Some(expected), Some(given)) if !prepared.matches(expected, given) => {
                    return Err(HubError::WrongPasscode)
                }
                _ => {}
            }
        }
        let existing = self.rooms.get(&room).filter(|_| !creating);
        let mode = existing.map_or(self.config.media_mode, |r| r.media);
        let auto = existing.is_none_or(|r| r.auto) && self.auto_media();
        // An auto room takes the SFU's size: the mesh hands over before it
        // gets big.
        let cap = match mode {
            _ if auto => self.config.max_sfu_peers,
            MediaMode::Mesh => self.config.max_peers_per_room,
            MediaMode::Sfu => self.config.max_sfu_peers,
        };
        if others.len() >= cap {
            return Err(HubError::RoomFull(cap));
        }
        let sfu_now = if mode == MediaMode::Sfu { others.len() } else { 0 };
        let through_sfu = mode == MediaMode::Sfu && !creating;
        // An auto mesh past its size for a mesh can only go on through the SFU.
        let must_grow = auto && mode == MediaMode::Mesh && others.len() >= self.config.max_peers_per_room;
        if (through_sfu || must_grow) && !self.sfu_admits(sfu_now, others.len() + 1) {
            return Err(HubError::ServerFull);
        }
        if creating && self.open_room_count() >= self.config.max_rooms {
            return Err(HubError::TooManyRooms(self.config.max_rooms));
        }
        self.leave_room(from, &mut out);
        let entry = self.rooms.entry(room.clone()).or_default();
        if creating {
            // A new room (or one left empty): its creator's settings, and
            // every other node told, replacing whatever an earlier room of
            // that name had.
            entry.passcode = passcode.map(|given| prepared.passcode_for_new_room(given));
            entry.locked = seat.is_some_and(|s| s.locked);
            entry.media = self.config.media_mode;
            entry.auto = self.config.sfu_from.is_some();
            entry.small_since = None;
            entry.draining = None;
            let event = self.settings_of(&room).expect("just made");
            self.publish(None, event);
        }
        self.make_name_unique(from, &room);
        // Back from before a restart: in the place they had, as the others
        // coming back keep theirs, so the host is who it was.
        self.seats.remove(from);
        let since = seat.map_or(now_ms, |s| s.since_ms);
        let at = match seat {
            Some(_) => self.place_in_order(&room, since, from),
            None => self.rooms.get(&room).map_or(0, |r| r.members.len()),
        };
        self.rooms.get_mut(&room).expect("just made").members.insert(at, from.clone());
        let peer = self.peers.get_mut(from).expect("checked in handle");
        peer.room = Some(room.clone());
        peer.since = since;
        self.lobby.remove(from);
        self.mark_dirty(&room);
        if mode == MediaMode::Sfu {
            self.media.push(MediaCmd::Join { room: room.clone(), peer: from.clone() });
        }
        self.publish(None, ClusterEvent::Joined { room: room.clone(), member: self.member(from), since });
        let grown = self.grow_to_sfu(&room);
        if !others.is_empty() {
            out.push(Delivery::many(others.clone(), ServerMsg::PeerJoined { peer: self.member(from) }));
            if grown {
                out.push(Delivery::many(others, ServerMsg::RoomMedia { media: MediaMode::Sfu, by: None }));
            }
        }
        out.push(Delivery::one(from, self.joined(room, false)));
        Ok(out)
    }

    /// The room's state for one member: on a join, or (`resumed`) for a
    /// session that took a new socket.
    fn joined(&self, room: String, resumed: bool) -> ServerMsg {
        let state = self.rooms.get(&room);
        let sharer = state.and_then(|r| r.sharer.clone());
        let locked = state.is_some_and(|r| r.locked);
        let passcode = state.is_some_and(|r| r.passcode.is_some());
        let media = state.map_or(MediaMode::Mesh, |r| r.media);
        ServerMsg::Joined { members: self.member_list(&room), room, sharer, locked, passcode, media, resumed }
    }

    fn start_share(&mut self, from: &PeerId) -> Result<Vec<Delivery>, HubError> {
        let room_name = self.room_of(from).ok_or(HubError::NotInRoom)?.to_owned();
        let current = self.rooms.get(&room_name).and_then(|r| r.sharer.clone());
        match current {
            Some(sharer) if &sharer != from => Err(HubError::ShareTaken(self.member(&sharer).nickname)),
            _ => {
                if let Some(room) = self.rooms.get_mut(&room_name) {
                    room.sharer = Some(from.clone());
                    if room.media == MediaMode::Sfu {
                        self.media.push(MediaCmd::Presenting { peer: from.clone(), on: true });
                    }
                }
                self.publish(None, ClusterEvent::ShareStarted { room: room_name.clone(), id: from.clone() });
                Ok(vec![Delivery::many(
                    self.members(&room_name),
                    ServerMsg::ShareStarted { id: from.clone() },
                )])
            }
        }
    }

    /// Stopping when not sharing is a no-op: the page may stop twice (its
    /// button and the browser's own "stop sharing").
    fn stop_share(&mut self, from: &PeerId) -> Vec<Delivery> {
        let Some(room_name) = self.room_of(from).map(str::to_owned) else { return Vec::new() };
        let Some(room) = self.rooms.get_mut(&room_name).filter(|r| r.sharer.as_ref() == Some(from)) else {
            return Vec::new();
        };
        room.sharer = None;
        if room.media == MediaMode::Sfu {
            self.media.push(MediaCmd::Presenting { peer: from.clone(), on: false });
        }
        self.publish(None, ClusterEvent::ShareStopped { room: room_name.clone(), id: from.clone() });
        vec![Delivery::many(self.members(&room_name), ServerMsg::ShareStopped { id: from.clone() })]
    }

    /// Two people shown with the same name in one room would let one pass
    /// for the other: the later one is shown as "Ada (2)".
    fn make_name_unique(&mut self, id: &PeerId, room: &str) {
        let others: Vec<String> =
            self.member_list(room).into_iter().filter(|m| &m.id != id).map(|m| m.nickname).collect();
        let Some(peer) = self.peers.get_mut(id) else { return };
        let Some(nickname) = peer.nickname.as_deref() else { return };
        let shown = rules::unique_nickname(nickname, others.iter().map(String::as_str));
        peer.shown = (shown != nickname).then_some(shown);
    }

    fn member_list(&self, room: &str) -> Vec<Member> {
        self.members(room).iter().map(|id| self.member(id)).collect()
    }

    /// Leaving when not in a room is not an error: a page that navigates
    /// away after a failed join sends it, and nothing is wrong.
    fn leave(&mut self, from: &PeerId) -> Vec<Delivery> {
        let mut out = Vec::new();
        if let Some(room) = self.leave_room(from, &mut out) {
            self.lobby.insert(from.clone());
            out.push(Delivery::one(from, ServerMsg::Left { room }));
            out.push(Delivery::one(from, ServerMsg::Rooms { rooms: self.lobby_list() }));
        }
        out
    }

    /// Takes `id` out of its room, telling the others; returns the room left.
    fn leave_room(&mut self, id: &PeerId, out: &mut Vec<Delivery>) -> Option<String> {
        let local = self.is_local(id);
        let peer = self.peers.get_mut(id)?;
        peer.hand = None;
        let room_name = peer.room.take()?;
        let room = self.rooms.get_mut(&room_name)?;
        room.members.retain(|m| m != id);
        if (room.media == MediaMode::Sfu || room.draining.is_some()) && local {
            self.media.push(MediaCmd::Leave { peer: id.clone() });
        }
        let stopped_sharing = room.sharer.as_ref() == Some(id);
        if stopped_sharing {
            room.sharer = None;
        }
        let remaining = room.members.clone();
        let member = self.member(id);
        if stopped_sharing {
            self.publish(None, ClusterEvent::ShareStopped { room: room_name.clone(), id: id.clone() });
        }
        self.publish(None, ClusterEvent::Left { room: room_name.clone(), member });
        self.release_if_unused(&room_name);
        self.mark_dirty(&room_name);
        if !remaining.is_empty() {
            if stopped_sharing {
                out.push(Delivery::many(remaining.clone(), ServerMsg::ShareStopped { id: id.clone() }));
            }
            out.push(Delivery::many(remaining, ServerMsg::PeerLeft { peer: self.member(id) }));
        }
        if let Some(peer) = self.peers.get_mut(id) {
            peer.shown = None;
        }
        Some(room_name)
    }

    fn chat(
        &mut self,
        from: &PeerId,
        text: String,
        nonce: Option<u64>,
        now_ms: u64,
    ) -> Result<Vec<Delivery>, HubError> {
        let room = self.room_of(from).ok_or(HubError::NotInRoom)?.to_owned();
        rules::validate_chat(&text)?;
        if text.chars().count() > self.config.max_chat_chars {
            return Err(HubError::ChatTooLong(self.config.max_chat_chars));
        }
        let from = self.member(from);
        // Chat is the bulk of the traffic: it goes to Redis only when some
        // other node has people in the room (joins and leaves always do).
        if self.has_remote_members(&room) {
            let event = ClusterEvent::Chat {
                room: room.clone(),
                from: from.clone(),
                text: text.clone(),
                ts: now_ms,
                nonce,
            };
            self.publish(None, event);
        }
        let msg = ServerMsg::Chat { from, text, ts: now_ms, nonce };
        Ok(vec![Delivery::many(self.members(&room), msg)])
    }

    /// SDP or ICE for the sender's own connections to this node's SFU.
    /// For the media engine, from a member of an SFU room only.
    fn media_cmd(&mut self, from: &PeerId, cmd: MediaCmd) -> Result<Vec<Delivery>, HubError> {
        let room = self.room_of(from).ok_or(HubError::NotInRoom)?;
        // A room handing over to a mesh still carries its SFU sessions.
        if self.rooms.get(room).is_none_or(|r| r.media != MediaMode::Sfu && r.draining.is_none()) {
            return Err(HubError::NotSfuRoom);
        }
        self.media.push(cmd);
        Ok(Vec::new())
    }

    fn signal(
        &mut self,
        from: &PeerId,
        to: PeerId,
        payload: SignalPayload,
    ) -> Result<Vec<Delivery>, HubError> {
        let room = self.room_of(from).ok_or(HubError::NotInRoom)?;
        if to == *from || self.room_of(&to) != Some(room) {
            return Err(HubError::PeerNotInRoom);
        }
        if let Some(node) = self.peers.get(&to).and_then(|p| p.node.clone()) {
            self.publish(Some(node), ClusterEvent::Signal { to, from: from.clone(), payload });
            return Ok(Vec::new());
        }
        Ok(vec![Delivery::one(&to, ServerMsg::Signal { from: from.clone(), payload })])
    }
}
