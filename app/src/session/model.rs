//! What the page knows about its server session, as plain data.
//!
//! The model keeps what the user *wants* (nickname, room) apart from what
//! the server has *confirmed*, so that after a reconnect it can ask for the
//! same things again. Every method returns the messages to send; the
//! reactive glue in `session::mod` sends them. No browser APIs here, so the
//! rules are unit-tested natively.

use crate::endpoint::Transport;
use crate::protocol::{
    ClientMsg, ErrorCode, IceServer, LobbyMsg, MediaMode, MediaState, Member, PeerId, Reaction, RoomMsg,
    RoomSummary, Routed, ServerMsg,
};
use crate::rules;

/// Chat history kept per room; older entries are dropped.
pub const MAX_LOG: usize = 500;

/// After the server restarted, how long the people we were in a call with
/// stay on screen while they find their way back (their pages reconnect
/// with backoff, at most 8 s apart); whoever is not back by then has left.
pub const RETURN_GRACE_MS: u64 = 30_000;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Conn {
    /// First connection attempt since the page loaded.
    Connecting,
    Open,
    /// The socket dropped; the next attempt is in `retry_ms`.
    Reconnecting {
        retry_ms: u32,
    },
    /// The server said it is restarting; we keep trying until it is back.
    Restarting,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LogEntry {
    Chat {
        from: Member,
        text: String,
        ts: u64,
        mine: bool,
        /// Shown at once when typed; cleared when the server's copy arrives.
        pending: bool,
        nonce: Option<u64>,
        /// Sent browser to browser over the call's DataChannel, not the server.
        p2p: bool,
    },
    Notice {
        text: String,
        ts: u64,
    },
}

impl LogEntry {
    pub fn is_pending(&self) -> bool {
        matches!(self, LogEntry::Chat { pending: true, .. })
    }
}

/// A log entry with a number unique within its room, for keyed rendering.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Logged {
    pub seq: u64,
    pub entry: LogEntry,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RoomView {
    pub name: String,
    pub members: Vec<Member>,
    pub log: Vec<Logged>,
    /// Who is sharing their screen, if anyone.
    pub sharer: Option<PeerId>,
    /// The host stopped new joins.
    pub locked: bool,
    /// Joining needs a passcode.
    pub passcode: bool,
    /// Whether the call goes browser to browser or through the server.
    pub media: MediaMode,
    /// `joined` messages so far (1, then one more per rejoin after a
    /// reconnect): a rejoin means new connections to the media server.
    pub joins: u32,
    /// After a server restart: members not (yet) back in the room, kept
    /// until they are or until `returning_until` (ms), so that a call with
    /// them carries on instead of being torn down and set up again.
    pub returning: Vec<PeerId>,
    returning_until: u64,
    next_seq: u64,
    /// Reactions floating over tiles now, oldest first.
    pub reactions: Vec<Floating>,
}

/// A reaction on its way up someone's tile.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Floating {
    /// Tells two of the same reaction apart.
    pub seq: u64,
    pub from: PeerId,
    pub reaction: Reaction,
    pub at_ms: u64,
}

/// How long a reaction floats (the stylesheet's animation is as long).
pub const REACTION_SHOWN_MS: u64 = 4_000;
/// Reactions kept at once: a room's burst of applause, no more.
const MAX_FLOATING: usize = 24;

impl RoomView {
    fn new(name: String, members: Vec<Member>) -> Self {
        RoomView {
            name,
            members,
            log: Vec::new(),
            sharer: None,
            locked: false,
            passcode: false,
            media: MediaMode::Mesh,
            joins: 1,
            returning: Vec::new(),
            returning_until: 0,
            next_seq: 0,
            reactions: Vec::new(),
        }
    }

    /// Starts a reaction floating, and lets go of those that have landed.
    fn float(&mut self, from: PeerId, reaction: Reaction, now_ms: u64) {
        self.reactions.retain(|r| r.at_ms + REACTION_SHOWN_MS > now_ms);
        if self.reactions.len() >= MAX_FLOATING {
            self.reactions.remove(0);
        }
        self.reactions.push(Floating { seq: self.next_seq, from, reaction, at_ms: now_ms });
        self.next_seq += 1;
    }

    /// Raised hands, the first raised first.
    pub fn raised_hands(&self) -> Vec<&Member> {
        let mut hands: Vec<&Member> = self.members.iter().filter(|m| m.hand.is_some()).collect();
        hands.sort_by(|a, b| (a.hand, &a.id.0).cmp(&(b.hand, &b.id.0)));
        hands
    }

    /// The first member (join order) is the host; the server decides, this
    /// only chooses what to show.
    pub fn host(&self) -> Option<&PeerId> {
        self.members.first().map(|m| &m.id)
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    pub code: ErrorCode,
    pub message: String,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Model {
    pub conn: Conn,
    /// What carries the connection; the status pill says when it is HTTP.
    pub transport: Transport,
    pub me: Option<PeerId>,
    /// From `welcome`: what the call's peer connections use.
    pub ice_servers: Vec<IceServer>,
    /// What this page sends (mic on, camera on); others see it on our tile.
    pub media: MediaState,
    pub wanted_nickname: Option<String>,
    pub nickname: Option<String>,
    pub wanted_room: Option<String>,
    /// The room as last confirmed by the server. Kept (not cleared) while
    /// reconnecting, so the chat history stays on screen.
    pub room: Option<RoomView>,
    pub rooms: Vec<RoomSummary>,
    /// False until the first room list arrives, so the lobby can say "loading".
    pub rooms_known: bool,
    pub problem: Option<Problem>,
    /// The passcode to join `wanted_room` with (creating it sets it).
    pub wanted_passcode: Option<String>,
    /// The room that refused us for want of the right passcode.
    pub passcode_needed: Option<String>,
    /// Counts the host's "mute everyone" requests; the call mutes on each.
    pub mute_requests: u64,
    /// The server came back without our session but gave us our id back
    /// (it restarted): the people we were with are coming back too.
    restored: bool,
    /// Left a room while the socket was down: a resumed session is still
    /// in it on the server.
    left_offline: bool,
    next_nonce: u64,
}

impl Default for Model {
    fn default() -> Self {
        Model {
            conn: Conn::Connecting,
            transport: Transport::WebSocket,
            me: None,
            ice_servers: Vec::new(),
            media: MediaState::default(),
            wanted_nickname: None,
            nickname: None,
            wanted_room: None,
            room: None,
            rooms: Vec::new(),
            rooms_known: false,
            problem: None,
            wanted_passcode: None,
            passcode_needed: None,
            mute_requests: 0,
            restored: false,
            left_offline: false,
            next_nonce: 1,
        }
    }
}

impl Model {
    pub fn with_nickname(nickname: Option<String>) -> Self {
        Model { wanted_nickname: nickname, ..Model::default() }
    }

    pub fn is_open(&self) -> bool {
        self.conn == Conn::Open
    }

    /// Whether the server has confirmed we are in `name`.
    pub fn in_room(&self, name: &str) -> bool {
        self.room.as_ref().is_some_and(|r| r.name == name) && self.wanted_room.as_deref() == Some(name)
    }

    fn when_open(&self, msgs: Vec<ClientMsg>) -> Vec<ClientMsg> {
        if self.is_open() {
            msgs
        } else {
            // Not lost: `Welcome` replays what is wanted.
            Vec::new()
        }
    }

    pub fn set_nickname(&mut self, nickname: String) -> Vec<ClientMsg> {
        self.wanted_nickname = Some(nickname.clone());
        self.when_open(vec![ClientMsg::SetNickname { nickname }])
    }

    pub fn enter_room(&mut self, room: String) -> Vec<ClientMsg> {
        if self.wanted_room.as_deref() == Some(room.as_str()) {
            return Vec::new();
        }
        if self.needs_passcode_for(&room) {
            // Asked already: wait for the passcode instead of failing again.
            return Vec::new();
        }
        self.join_msgs(room)
    }

    /// Joins (or creates) `room` with a passcode; a blank one means none.
    pub fn enter_room_with_passcode(&mut self, room: String, passcode: String) -> Vec<ClientMsg> {
        self.passcode_needed = None;
        self.wanted_passcode = Some(passcode).filter(|p| !p.is_empty());
        self.wanted_room = None;
        self.join_msgs(room)
    }

    /// Remembers a passcode typed in the lobby for the room about to open.
    pub fn prepare_passcode(&mut self, room: &str, passcode: String) {
        if self.wanted_room.as_deref() != Some(room) {
            self.wanted_room = None;
        }
        self.passcode_needed = None;
        self.wanted_passcode = Some(passcode).filter(|p| !p.is_empty());
    }

    /// `room` refused us for want of the right passcode; joining it again
    /// needs one.
    pub fn needs_passcode_for(&self, room: &str) -> bool {
        self.passcode_needed.as_deref() == Some(room)
    }

    /// Why the call this page wanted ended before or after it began: the
    /// server refused the join (`ErrorCode::refuses_join`) or the host
    /// removed us (kept as `NotInRoom`). `None` while a join is still wanted
    /// (a reconnect will retry it). The one rule the room page follows to go
    /// back to its pre-join screen with the reason in the banner.
    pub fn join_refusal(&self) -> Option<&Problem> {
        if self.wanted_room.is_some() {
            return None;
        }
        self.problem.as_ref().filter(|p| p.code.refuses_join() || p.code == ErrorCode::NotInRoom)
    }

    pub fn is_host(&self) -> bool {
        self.room.as_ref().and_then(RoomView::host).is_some_and(|h| Some(h) == self.me.as_ref())
    }

    fn join_msgs(&mut self, room: String) -> Vec<ClientMsg> {
        self.wanted_room = Some(room.clone());
        self.problem = None;
        if self.room.as_ref().is_some_and(|r| r.name != room) {
            self.room = None;
        }
        let mut msgs = Vec::new();
        if self.nickname.is_none() {
            if let Some(nickname) = self.wanted_nickname.clone() {
                msgs.push(ClientMsg::SetNickname { nickname });
            }
        }
        msgs.push(ClientMsg::SetMedia { media: self.media });
        msgs.push(ClientMsg::Join { room, passcode: self.wanted_passcode.clone() });
        self.when_open(msgs)
    }

    /// Records what we send and tells the room if we are in one.
    pub fn set_media(&mut self, media: MediaState) -> Vec<ClientMsg> {
        if self.media == media {
            return Vec::new();
        }
        self.media = media;
        self.when_open(vec![ClientMsg::SetMedia { media }])
    }

    pub fn leave_room(&mut self) -> Vec<ClientMsg> {
        self.wanted_passcode = None;
        self.passcode_needed = None;
        if self.wanted_room.take().is_none() && self.room.is_none() {
            return Vec::new();
        }
        self.room = None;
        self.left_offline = !self.is_open();
        self.when_open(vec![ClientMsg::Leave])
    }

    /// Shows the message at once and returns it to send, or says why not.
    pub fn send_chat(&mut self, text: &str, now_ms: u64) -> Result<Vec<ClientMsg>, String> {
        rules::validate_chat(text).map_err(|e| e.to_string())?;
        if !self.is_open() {
            return Err("not connected; wait a moment".into());
        }
        let from = self.me_as_member();
        let room = self.room.as_mut().ok_or("you are not in a room yet")?;
        let nonce = self.next_nonce;
        self.next_nonce += 1;
        push_log(
            room,
            LogEntry::Chat {
                from,
                text: text.to_owned(),
                ts: now_ms,
                mine: true,
                pending: true,
                nonce: Some(nonce),
                p2p: false,
            },
        );
        Ok(vec![ClientMsg::Chat { text: text.to_owned(), nonce: Some(nonce) }])
    }

    /// Ourselves as others see us (for our own messages in the log).
    pub fn me_as_member(&self) -> Member {
        Member {
            id: self.me.clone().unwrap_or(PeerId(String::new())),
            nickname: self.nickname.clone().unwrap_or_default(),
            media: self.media,
            hand: None,
        }
    }

    /// A chat message that came (or went) over the call's DataChannel.
    pub fn push_p2p_chat(&mut self, from: Member, text: String, ts: u64, mine: bool) {
        if let Some(room) = self.room.as_mut() {
            push_log(room, LogEntry::Chat { from, text, ts, mine, pending: false, nonce: None, p2p: true });
        }
    }

    pub fn dismiss_problem(&mut self) {
        self.problem = None;
    }

    pub fn on_connecting(&mut self, retry_ms: u32) {
        self.conn = match self.conn {
            Conn::Connecting if self.me.is_none() => Conn::Connecting,
            Conn::Restarting => Conn::Restarting,
            _ => Conn::Reconnecting { retry_ms },
        };
        // Pending chats were not confirmed; they may or may not have arrived.
        if let Some(room) = self.room.as_mut() {
            for logged in &mut room.log {
                if let LogEntry::Chat { pending, .. } = &mut logged.entry {
                    *pending = false;
                }
            }
        }
    }

    /// Applies one server message; returns what to send in reply.
    pub fn on_server(&mut self, msg: ServerMsg, now_ms: u64) -> Vec<ClientMsg> {
        match msg.route() {
            Routed::Lobby(msg) => self.on_lobby_msg(msg),
            Routed::Room(msg) => {
                self.on_room_msg(msg, now_ms);
                Vec::new()
            }
        }
    }

    /// The lobby's messages.
    /// Kept apart from `on_room_msg` so that the browser's first load, which
    /// only calls this one, carries none of the room's handling.
    pub fn on_lobby_msg(&mut self, msg: LobbyMsg) -> Vec<ClientMsg> {
        match msg {
            LobbyMsg::Welcome { id, ice_servers, resume: _, resumed } => {
                self.conn = Conn::Open;
                self.restored = !resumed && self.me.as_ref() == Some(&id);
                let left_offline = std::mem::take(&mut self.left_offline);
                self.me = Some(id);
                self.ice_servers = ice_servers;
                if !resumed {
                    self.nickname = None;
                }
                return self.replay(resumed, resumed && left_offline);
            }
            LobbyMsg::NicknameSet { nickname } => {
                self.nickname = Some(nickname.clone());
                self.wanted_nickname = Some(nickname);
            }
            LobbyMsg::Rooms { rooms } => {
                self.rooms = rooms;
                self.rooms_known = true;
            }
            LobbyMsg::RoomsChanged { changed, removed } => self.apply_room_changes(changed, removed),
            // The page simply goes on as a new session, as it did before
            // sessions could resume; the rejoin says "Reconnected".
            LobbyMsg::Error { code: ErrorCode::ResumeRefused, .. } => {}
            LobbyMsg::Error { code, message } => {
                if code.asks_passcode() {
                    self.passcode_needed = self.wanted_room.clone();
                }
                if code.refuses_join() {
                    // The join failed: stop asking for it after reconnects.
                    self.wanted_room = None;
                }
                self.problem = Some(Problem { code, message });
            }
            LobbyMsg::Restarting => self.conn = Conn::Restarting,
            // The signaling socket keeps it for its next attempt.
            LobbyMsg::ResumeToken { .. } => {}
        }
        Vec::new()
    }

    /// Messages about the room you are in; in the browser these are decoded
    /// and applied by the room's own wasm chunk.
    pub fn on_room_msg(&mut self, msg: RoomMsg, now_ms: u64) {
        match msg {
            RoomMsg::Joined { room, members, sharer, locked, passcode, media, resumed } => {
                self.on_joined(room, members, resumed, now_ms);
                if let Some(room) = self.room.as_mut() {
                    room.sharer = sharer;
                    room.locked = locked;
                    room.passcode = passcode;
                    room.media = media;
                }
            }
            RoomMsg::RoomLocked { locked, by } => {
                if let Some(room) = self.room.as_mut() {
                    room.locked = locked;
                    let what =
                        if locked { "locked the room: nobody new can join" } else { "unlocked the room" };
                    push_log(room, LogEntry::Notice { text: format!("{} {what}", by.nickname), ts: now_ms });
                }
            }
            RoomMsg::Removed { room, by } => {
                if self.room.as_ref().is_some_and(|r| r.name == room) {
                    self.room = None;
                }
                if self.wanted_room.as_deref() == Some(room.as_str()) {
                    self.wanted_room = None;
                    self.wanted_passcode = None;
                }
                let message = format!("{} removed you from {room}", by.nickname);
                self.problem = Some(Problem { code: ErrorCode::NotInRoom, message });
            }
            RoomMsg::RoomMedia { media, by } => {
                if let Some(room) = self.room.as_mut() {
                    room.media = media;
                    let text = match (media, by) {
                        (MediaMode::Sfu, Some(by)) => format!("{} routed the call through the server", by.nickname),
                        (MediaMode::Mesh, Some(by)) => {
                            format!(
                                "{} made the call browser to browser again (end-to-end encrypted)",
                                by.nickname
                            )
                        }
                        (MediaMode::Sfu, None) => format!(
                            "With {} people here, the call now goes through the server so that it stays smooth",
                            room.members.len()
                        ),
                        (MediaMode::Mesh, None) => {
                            "Just the two of you: the call is browser to browser again (end-to-end encrypted)".into()
                        }
                    };
                    push_log(room, LogEntry::Notice { text, ts: now_ms });
                }
            }
            RoomMsg::MuteRequested { by } => {
                self.mute_requests += 1;
                if let Some(room) = self.room.as_mut() {
                    let text = format!("{} asked everyone to mute", by.nickname);
                    push_log(room, LogEntry::Notice { text, ts: now_ms });
                }
            }
            RoomMsg::ShareStarted { id } => {
                if let Some(room) = self.room.as_mut() {
                    let who = room.members.iter().find(|m| m.id == id).map(|m| m.nickname.clone());
                    room.sharer = Some(id);
                    if let Some(who) = who {
                        push_log(
                            room,
                            LogEntry::Notice { text: format!("{who} is sharing their screen"), ts: now_ms },
                        );
                    }
                }
            }
            RoomMsg::ShareStopped { id } => {
                if let Some(room) = self.room.as_mut().filter(|r| r.sharer.as_ref() == Some(&id)) {
                    room.sharer = None;
                    let who = room.members.iter().find(|m| m.id == id).map(|m| m.nickname.clone());
                    if let Some(who) = who {
                        let text = format!("{who} stopped sharing their screen");
                        push_log(room, LogEntry::Notice { text, ts: now_ms });
                    }
                }
            }
            RoomMsg::Left { room } => {
                if self.room.as_ref().is_some_and(|r| r.name == room) {
                    self.room = None;
                }
            }
            RoomMsg::PeerJoined { peer } => {
                if let Some(room) = self.room.as_mut() {
                    if let Some(at) = room.returning.iter().position(|id| *id == peer.id) {
                        // Back after the restart: in their place, not news.
                        room.returning.remove(at);
                        if let Some(m) = room.members.iter_mut().find(|m| m.id == peer.id) {
                            *m = peer;
                        }
                        return;
                    }
                    let text = format!("{} joined", peer.nickname);
                    room.members.retain(|m| m.id != peer.id);
                    room.members.push(peer);
                    push_log(room, LogEntry::Notice { text, ts: now_ms });
                }
            }
            RoomMsg::PeerLeft { peer } => {
                if let Some(room) = self.room.as_mut() {
                    if room.sharer.as_ref() == Some(&peer.id) {
                        room.sharer = None;
                    }
                    room.members.retain(|m| m.id != peer.id);
                    push_log(room, LogEntry::Notice { text: format!("{} left", peer.nickname), ts: now_ms });
                }
            }
            RoomMsg::PeerRenamed { peer } => {
                if let Some(room) = self.room.as_mut() {
                    if let Some(m) = room.members.iter_mut().find(|m| m.id == peer.id) {
                        if m.nickname != peer.nickname {
                            let text = format!("{} is now {}", m.nickname, peer.nickname);
                            m.nickname = peer.nickname;
                            push_log(room, LogEntry::Notice { text, ts: now_ms });
                        }
                    }
                }
            }
            RoomMsg::PeerMedia { id, media } => {
                if let Some(m) = self.room.as_mut().and_then(|r| r.members.iter_mut().find(|m| m.id == id)) {
                    m.media = media;
                }
            }
            RoomMsg::Chat { from, text, ts, nonce } => self.on_chat(from, text, ts, nonce),
            RoomMsg::PeerHand { id, hand } => {
                if let Some(m) = self.room.as_mut().and_then(|r| r.members.iter_mut().find(|m| m.id == id)) {
                    m.hand = hand;
                }
            }
            RoomMsg::Reacted { from, reaction } => {
                if let Some(room) = self.room.as_mut() {
                    room.float(from, reaction, now_ms);
                }
            }
            // The call engine takes these before they reach the model:
            // signals and the SFU's messages belong to the transports, the
            // server's active speaker to the call's state.
            RoomMsg::Signal { .. }
            | RoomMsg::Media { .. }
            | RoomMsg::SlotMap { .. }
            | RoomMsg::MediaRestarted
            | RoomMsg::ActiveSpeaker { .. }
            | RoomMsg::PausedLayers { .. }
            | RoomMsg::HeldBack { .. } => {}
        }
    }

    /// After (re)connecting, ask again for what the user wanted; a session
    /// the server still held (`resumed`) kept our name and room, so only
    /// what changed meanwhile is asked for.
    fn replay(&mut self, resumed: bool, left_offline: bool) -> Vec<ClientMsg> {
        let mut msgs = Vec::new();
        if let Some(nickname) = self.wanted_nickname.clone() {
            if self.nickname.as_ref() != Some(&nickname) {
                msgs.push(ClientMsg::SetNickname { nickname });
            }
            msgs.push(ClientMsg::SetMedia { media: self.media });
            let in_it = resumed && self.room.as_ref().map(|r| &r.name) == self.wanted_room.as_ref();
            match self.wanted_room.clone() {
                Some(room) if !in_it => {
                    msgs.push(ClientMsg::Join { room, passcode: self.wanted_passcode.clone() })
                }
                None if left_offline => msgs.push(ClientMsg::Leave),
                _ => {}
            }
        }
        msgs
    }

    pub fn returning_due(&self, now_ms: u64) -> bool {
        self.room.as_ref().is_some_and(|r| !r.returning.is_empty() && r.returning_until <= now_ms)
    }

    pub fn expire_returning(&mut self, now_ms: u64) {
        let Some(room) = self.room.as_mut().filter(|r| r.returning_until <= now_ms) else { return };
        let gone = std::mem::take(&mut room.returning);
        let gone: Vec<Member> = room.members.iter().filter(|m| gone.contains(&m.id)).cloned().collect();
        for peer in gone {
            self.on_room_msg(RoomMsg::PeerLeft { peer }, now_ms);
        }
    }

    fn on_joined(&mut self, name: String, members: Vec<Member>, resumed: bool, now_ms: u64) {
        if self.wanted_room.as_deref() != Some(name.as_str()) {
            return;
        }
        let restored = std::mem::take(&mut self.restored);
        match self.room.as_mut() {
            // The session never ended: this is the room as it is now.
            Some(room) if room.name == name && resumed => {
                room.members = members;
                room.returning.clear();
            }
            // A rejoin after reconnecting keeps the history, and after a
            // restart, the people who are on their way back.
            Some(room) if room.name == name => {
                room.returning.clear();
                let before = std::mem::replace(&mut room.members, members);
                if restored {
                    // In the order they had: the server gives those coming
                    // back their old places (their resume tokens), so the
                    // host shown is the host it will have.
                    room.returning_until = now_ms + RETURN_GRACE_MS;
                    let mut back = std::mem::take(&mut room.members);
                    for m in before {
                        match back.iter().position(|x| x.id == m.id) {
                            Some(at) => room.members.push(back.remove(at)),
                            None => {
                                room.returning.push(m.id.clone());
                                room.members.push(m);
                            }
                        }
                    }
                    room.members.extend(back);
                }
                room.joins += 1;
                push_log(room, LogEntry::Notice { text: "Reconnected".into(), ts: now_ms });
            }
            _ => {
                let text = format!("You joined {name}");
                let mut room = RoomView::new(name, members);
                push_log(&mut room, LogEntry::Notice { text, ts: now_ms });
                self.room = Some(room);
            }
        }
    }

    fn on_chat(&mut self, from: Member, text: String, ts: u64, nonce: Option<u64>) {
        let mine = self.me.as_ref() == Some(&from.id);
        let Some(room) = self.room.as_mut() else { return };
        if mine && nonce.is_some() {
            let echo = room
                .log
                .iter_mut()
                .rev()
                .map(|l| &mut l.entry)
                .find(|e| matches!(e, LogEntry::Chat { mine: true, nonce: n, .. } if *n == nonce));
            if let Some(LogEntry::Chat { pending, ts: shown_ts, .. }) = echo {
                *pending = false;
                *shown_ts = ts;
                return;
            }
        }
        push_log(room, LogEntry::Chat { from, text, ts, mine, pending: false, nonce, p2p: false });
    }

    fn apply_room_changes(&mut self, changed: Vec<RoomSummary>, removed: Vec<String>) {
        self.rooms.retain(|r| !removed.contains(&r.name));
        for summary in changed {
            match self.rooms.iter_mut().find(|r| r.name == summary.name) {
                Some(existing) => *existing = summary,
                None => self.rooms.push(summary),
            }
        }
        self.rooms.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.name.cmp(&b.name)));
    }
}

fn push_log(room: &mut RoomView, entry: LogEntry) {
    room.log.push(Logged { seq: room.next_seq, entry });
    room.next_seq += 1;
    if room.log.len() > MAX_LOG {
        let excess = room.log.len() - MAX_LOG;
        room.log.drain(..excess);
    }
}
