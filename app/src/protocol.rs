//! The one wire contract between the Noom server and the browser app.
//!
//! Every message on `/ws` is one of these enums as internally tagged JSON
//! (`{"type": "join", "room": "standup"}`). Both the server and the WASM
//! client compile this file, so a change here changes both sides at once.
//! [`ServerMsg`] and [`SignalPayload`] are decoded tag first (see
//! `tag_first`): their tag must be the object's first field, which is how
//! serde encodes them.

pub use crate::tag_first::VariantFilter;
use serde::{Deserialize, Serialize};
use std::fmt;

/// Longest nickname, in characters, after trimming.
pub const MAX_NICKNAME_CHARS: usize = 32;
/// Longest room name, in characters.
pub const MAX_ROOM_CHARS: usize = 64;
/// Longest chat message, in characters.
pub const MAX_CHAT_CHARS: usize = 2000;
/// Largest WebSocket message the server accepts; larger ones close the socket.
pub const MAX_FRAME_BYTES: usize = 64 * 1024;
/// WebSocket close code the server uses for frames over [`MAX_FRAME_BYTES`].
pub const CLOSE_TOO_BIG: u16 = 1009;
/// WebSocket close code ("policy violation") the server uses when a client
/// cannot keep up, or keeps sending faster than it may.
pub const CLOSE_TOO_SLOW: u16 = 1008;
/// WebSocket close code ("service restart") after [`ServerMsg::Restarting`].
pub const CLOSE_RESTARTING: u16 = 1012;
/// WebSocket close code for a text frame that is not valid UTF-8.
pub const CLOSE_BAD_DATA: u16 = 1007;
/// WebSocket close code for frames that break RFC 6455 itself (unmasked,
/// reserved bits, a fragmented control frame).
pub const CLOSE_PROTOCOL: u16 = 1002;
/// WebSocket close code for a connection whose session another connection
/// resumed (the same browser, back on a new socket).
pub const CLOSE_RESUMED_ELSEWHERE: u16 = 4001;

/// The HTTP fallback, for networks that refuse WebSocket upgrades: under
/// the socket's own path (`/ws/events`, `/ws/send`), server-sent events
/// carry the server's messages down and POSTs carry the client's up.
pub const HTTP_EVENTS_PATH: &str = "/events";
pub const HTTP_SEND_PATH: &str = "/send";

/// A connection's identity, chosen by the server: unguessable, so knowing
/// one is not a way to reach a peer outside your room.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct PeerId(pub String);

impl fmt::Display for PeerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Whether a participant is sending audio and video right now; shown as
/// muted / camera-off indicators on their tile.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MediaState {
    pub audio: bool,
    pub video: bool,
}

/// A participant as others see them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Member {
    pub id: PeerId,
    pub nickname: String,
    #[serde(default)]
    pub media: MediaState,
    /// When they raised their hand (server time, ms), while it is up:
    /// hands are listed in this order.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hand: Option<u64>,
}

/// The reactions one can send to the room: a fixed few, so that nobody can
/// float arbitrary text over other people's video.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reaction {
    ThumbsUp,
    Heart,
    Laugh,
    Wow,
    Clap,
    Party,
}

impl Reaction {
    pub const ALL: [Reaction; 6] = [
        Reaction::ThumbsUp,
        Reaction::Heart,
        Reaction::Laugh,
        Reaction::Wow,
        Reaction::Clap,
        Reaction::Party,
    ];

    pub fn emoji(self) -> &'static str {
        match self {
            Reaction::ThumbsUp => "👍",
            Reaction::Heart => "❤️",
            Reaction::Laugh => "😂",
            Reaction::Wow => "😮",
            Reaction::Clap => "👏",
            Reaction::Party => "🎉",
        }
    }

    /// What a screen reader says for it.
    pub fn name(self) -> &'static str {
        match self {
            Reaction::ThumbsUp => "thumbs up",
            Reaction::Heart => "heart",
            Reaction::Laugh => "laughing",
            Reaction::Wow => "surprised",
            Reaction::Clap => "applause",
            Reaction::Party => "celebration",
        }
    }
}

/// One entry of `RTCConfiguration.iceServers`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IceServer {
    pub urls: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential: Option<String>,
}

/// One public room as the lobby lists it.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct RoomSummary {
    pub name: String,
    pub count: u32,
    /// Joining needs the passcode its creator set.
    #[serde(default, skip_serializing_if = "is_false")]
    pub passcode: bool,
    /// The host locked it: nobody new may join.
    #[serde(default, skip_serializing_if = "is_false")]
    pub locked: bool,
}

impl RoomSummary {
    pub fn open(name: impl Into<String>, count: u32) -> Self {
        RoomSummary { name: name.into(), count, passcode: false, locked: false }
    }
}

/// How a room's calls carry media.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MediaMode {
    /// Browser to browser, end-to-end encrypted; each member sends to every other.
    #[default]
    Mesh,
    /// Through the server (an SFU): each member sends once and receives
    /// everyone's media from the server, which decrypts it to forward it.
    Sfu,
}

impl MediaMode {
    pub fn is_mesh(&self) -> bool {
        *self == MediaMode::Mesh
    }
}

/// One of a member's two connections to the server in an SFU room: it
/// publishes on one (the browser offers) and receives on the other (the
/// server offers), so offers only ever go one way on each.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MediaTransport {
    Publish,
    Subscribe,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TrackKind {
    Audio,
    Video,
}

/// A receive slot of the subscribe connection: the m-line `mid` carries
/// `peer`'s media of `kind`, or nobody's while free. Slots are reused as
/// people come and go, so this map (not the SDP) says whose media it is.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Slot {
    pub mid: String,
    pub kind: TrackKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peer: Option<PeerId>,
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// Rooms in the list someone entering the lobby gets (the busiest); the
/// lobby shows at most this many.
pub const LOBBY_LIST_MAX: usize = 100;

/// Longest room passcode.
pub const MAX_PASSCODE_CHARS: usize = 64;

/// What a browser says to the server.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ClientMsg {
    SetNickname {
        nickname: String,
    },
    /// Joining while in another room moves the peer.
    Join {
        room: String,
        /// Sets the passcode when this join creates the room; must match it
        /// when the room has one.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        passcode: Option<String>,
    },
    Leave,
    /// What this peer sends; others see it on its tile.
    SetMedia {
        media: MediaState,
    },
    /// Ask to be the room's one screen sharer.
    StartShare,
    StopShare,
    /// `nonce` is echoed back so the sender can match its optimistic copy.
    Chat {
        text: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        nonce: Option<u64>,
    },
    /// Relayed to `to` only if both are in the same room.
    Signal {
        to: PeerId,
        payload: SignalPayload,
    },
    /// Host only: stop (or allow again) new people joining.
    LockRoom {
        locked: bool,
    },
    /// Host only: send a participant out of the room.
    RemovePeer {
        id: PeerId,
    },
    /// Host only: ask everyone else to mute (they can unmute themselves).
    MuteAll,
    /// SDP or ICE for one of your connections to the server (SFU rooms).
    Media {
        transport: MediaTransport,
        payload: SignalPayload,
    },
    /// Host only: route the room's call through the server, or back to a
    /// mesh (browser to browser).
    SetRoomMedia {
        media: MediaMode,
    },
    /// Your connections to the server failed (SFU rooms): drop both and
    /// start over. Answered with `media_restarted`.
    RestartMedia,
    /// Raise your hand, or lower it.
    RaiseHand {
        up: bool,
    },
    /// Host only: lower someone's raised hand.
    LowerHand {
        id: PeerId,
    },
    /// Float a reaction over your tile for everyone in the room (a few a
    /// second at most).
    React {
        reaction: Reaction,
    },
}

impl ClientMsg {
    /// The wire `type` tag of this message (for metrics and logs).
    pub fn kind(&self) -> &'static str {
        match self {
            ClientMsg::SetNickname { .. } => "set_nickname",
            ClientMsg::Join { .. } => "join",
            ClientMsg::Leave => "leave",
            ClientMsg::SetMedia { .. } => "set_media",
            ClientMsg::StartShare => "start_share",
            ClientMsg::StopShare => "stop_share",
            ClientMsg::Chat { .. } => "chat",
            ClientMsg::Signal { .. } => "signal",
            ClientMsg::LockRoom { .. } => "lock_room",
            ClientMsg::RemovePeer { .. } => "remove_peer",
            ClientMsg::MuteAll => "mute_all",
            ClientMsg::Media { .. } => "media",
            ClientMsg::SetRoomMedia { .. } => "set_room_media",
            ClientMsg::RestartMedia => "restart_media",
            ClientMsg::RaiseHand { .. } => "raise_hand",
            ClientMsg::LowerHand { .. } => "lower_hand",
            ClientMsg::React { .. } => "react",
        }
    }

    /// Every `type` tag of [`ClientMsg`]; lets the decoder tell an unknown
    /// message type from a known one with bad fields.
    pub const TYPES: &'static [&'static str] = &[
        "set_nickname",
        "join",
        "leave",
        "set_media",
        "start_share",
        "stop_share",
        "chat",
        "signal",
        "lock_room",
        "remove_peer",
        "mute_all",
        "media",
        "set_room_media",
        "restart_media",
        "raise_hand",
        "lower_hand",
        "react",
    ];
}

tag_first_enum! {
#[tag = "kind", rename_all = "snake_case"]
/// What the WebRTC code exchanges through the server, opaque to the server
/// apart from being well-formed.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub enum SignalPayload {
    Description {
        sdp_type: SdpType,
        sdp: String,
    },
    Candidate {
        candidate: String,
        #[serde(default)]
        sdp_mid: Option<String>,
        #[serde(default)]
        sdp_m_line_index: Option<u16>,
    },
}
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SdpType {
    Offer,
    Answer,
    Pranswer,
    Rollback,
}

tag_first_enum! {
#[tag = "type", rename_all = "snake_case"]
/// What the server says to a browser (decoded tag first: see `tag_first`).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub enum ServerMsg {
    /// First message on every connection, with the ICE servers to use
    /// (TURN credentials in it are time-limited and tied to `id`).
    Welcome {
        id: PeerId,
        #[serde(default)]
        ice_servers: Vec<IceServer>,
        /// Presented as `?resume=` when the socket is opened again, to come
        /// back as the same peer (see PROTOCOL.md, "Resuming").
        #[serde(default, skip_serializing_if = "Option::is_none")]
        resume: Option<String>,
        /// The server still held this session: nothing needs asking again.
        #[serde(default, skip_serializing_if = "is_false")]
        resumed: bool,
    },
    /// The nickname as the server stored it (trimmed).
    NicknameSet {
        nickname: String,
    },
    /// The whole public room list; sent when a peer enters the lobby.
    Rooms {
        rooms: Vec<RoomSummary>,
    },
    /// Coalesced changes to the room list since the last update.
    RoomsChanged {
        changed: Vec<RoomSummary>,
        removed: Vec<String>,
    },
    /// You are in `room`; `members` includes you, in join order.
    /// `members` are in join order; the first is the host.
    Joined {
        room: String,
        members: Vec<Member>,
        #[serde(default, skip_serializing_if = "is_false")]
        locked: bool,
        #[serde(default, skip_serializing_if = "is_false")]
        passcode: bool,
        /// Who is sharing their screen, if anyone.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        sharer: Option<PeerId>,
        /// How this room's call carries media (absent: a mesh).
        #[serde(default, skip_serializing_if = "MediaMode::is_mesh")]
        media: MediaMode,
        /// The room as it is now, after a resumed session: not a new join.
        #[serde(default, skip_serializing_if = "is_false")]
        resumed: bool,
    },
    /// You left `room` and are back in the lobby.
    Left {
        room: String,
    },
    PeerJoined {
        peer: Member,
    },
    PeerLeft {
        peer: Member,
    },
    PeerRenamed {
        peer: Member,
    },
    PeerMedia {
        id: PeerId,
        media: MediaState,
    },
    ShareStarted {
        id: PeerId,
    },
    ShareStopped {
        id: PeerId,
    },
    Chat {
        from: Member,
        text: String,
        /// Server time, milliseconds since the Unix epoch.
        ts: u64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        nonce: Option<u64>,
    },
    Signal {
        from: PeerId,
        payload: SignalPayload,
    },
    Error {
        code: ErrorCode,
        message: String,
    },
    /// The host locked or unlocked the room.
    RoomLocked {
        locked: bool,
        by: Member,
    },
    /// The host sent you out of `room`; you are back in the lobby.
    Removed {
        room: String,
        by: Member,
    },
    /// The host asks everyone to mute.
    MuteRequested {
        by: Member,
    },
    /// The server is stopping (a deploy, a restart): the socket closes next,
    /// and the page should come back and rejoin once it can.
    Restarting,
    /// A newer token to present as `?resume=` instead of the `welcome`'s,
    /// sent after joining or leaving a room: it also keeps your place in
    /// the room's join order (the host is the first) if the server restarts.
    ResumeToken {
        resume: String,
    },
    /// SDP from the server for one of your connections to it (SFU rooms):
    /// the answer to your publish offer, or an offer for your subscribe
    /// connection. The server's one candidate is in its SDP.
    Media {
        transport: MediaTransport,
        payload: SignalPayload,
    },
    /// Whose media each receive slot of your subscribe connection carries
    /// now (all slots, each time one changes).
    SlotMap {
        slots: Vec<Slot>,
    },
    /// The room's call now carries media this way: the host switched it
    /// (`by`), or the server did (`by` null) as the room grew to
    /// `--sfu-from` people or stayed down to two.
    RoomMedia {
        media: MediaMode,
        by: Option<Member>,
    },
    /// Your old connections to the server are gone (after `restart_media`):
    /// every `media` and `slot_map` from here on is for new ones.
    MediaRestarted,
    /// Who the server hears speaking in your SFU room now (`None`: nobody
    /// any more, they left). Sent when it changes, and on joining the call.
    ActiveSpeaker {
        peer: Option<PeerId>,
    },
    /// The simulcast layers of your camera (by rid) that nobody receives
    /// now: stop encoding them until a `paused_layers` without them (empty:
    /// send every layer). SFU rooms only.
    PausedLayers {
        rids: Vec<String>,
    },
    /// The people whose video the server holds back from you now (empty:
    /// nobody), because your connection cannot take it: their sound still
    /// comes, and their tiles say why. Sent when it changes. SFU rooms only.
    HeldBack {
        peers: Vec<PeerId>,
    },
    /// `id` raised their hand at `hand` (server ms), or it went down (null).
    PeerHand {
        id: PeerId,
        hand: Option<u64>,
    },
    /// `from` sent a reaction to the room (you too, for your own).
    Reacted {
        from: PeerId,
        reaction: Reaction,
    },
}
}

/// Why the server refused something; the UI keys its wording off this.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    BadMessage,
    UnknownType,
    InvalidNickname,
    InvalidRoom,
    InvalidChat,
    ChatTooLong,
    NicknameRequired,
    NotInRoom,
    PeerNotInRoom,
    RoomFull,
    ShareTaken,
    /// Too many messages too fast; persisting closes the connection.
    RateLimited,
    /// The server holds as many rooms as it is configured to.
    TooManyRooms,
    /// The room has a passcode and none was given.
    PasscodeRequired,
    WrongPasscode,
    /// The host locked the room.
    RoomLocked,
    /// Only the host may do that.
    NotHost,
    /// The room lives on other servers that cannot be reached right now.
    Unavailable,
    /// Too many wrong passcodes for this room from here: wait, then retry.
    TooManyGuesses,
    /// A `media` message from someone not in a room routed through the server.
    NotSfuRoom,
    /// Media signaling the server could not use: malformed SDP, an offer
    /// for the wrong connection, an answer nobody asked for.
    BadMedia,
    /// The room has more people than a mesh call allows.
    TooManyForMesh,
    /// The `resume` token was refused (forged, expired, already used, or
    /// for a session on another server): this is a new session.
    ResumeRefused,
    /// A chat reached the people on this server but not those on other
    /// servers of the room, which this one lost touch with for too long.
    NotDelivered,
    /// The server forwards as many calls as it is configured to.
    ServerFull,
}

impl ErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::BadMessage => "bad_message",
            ErrorCode::UnknownType => "unknown_type",
            ErrorCode::InvalidNickname => "invalid_nickname",
            ErrorCode::InvalidRoom => "invalid_room",
            ErrorCode::InvalidChat => "invalid_chat",
            ErrorCode::ChatTooLong => "chat_too_long",
            ErrorCode::NicknameRequired => "nickname_required",
            ErrorCode::NotInRoom => "not_in_room",
            ErrorCode::PeerNotInRoom => "peer_not_in_room",
            ErrorCode::RoomFull => "room_full",
            ErrorCode::ShareTaken => "share_taken",
            ErrorCode::RateLimited => "rate_limited",
            ErrorCode::TooManyRooms => "too_many_rooms",
            ErrorCode::PasscodeRequired => "passcode_required",
            ErrorCode::WrongPasscode => "wrong_passcode",
            ErrorCode::RoomLocked => "room_locked",
            ErrorCode::NotHost => "not_host",
            ErrorCode::Unavailable => "unavailable",
            ErrorCode::TooManyGuesses => "too_many_guesses",
            ErrorCode::NotSfuRoom => "not_sfu_room",
            ErrorCode::BadMedia => "bad_media",
            ErrorCode::TooManyForMesh => "too_many_for_mesh",
            ErrorCode::ResumeRefused => "resume_refused",
            ErrorCode::NotDelivered => "not_delivered",
            ErrorCode::ServerFull => "server_full",
        }
    }

    /// The answer to a `join` that did not let you in: the page stops
    /// asking for that room and shows why.
    pub fn refuses_join(self) -> bool {
        matches!(
            self,
            ErrorCode::InvalidRoom
                | ErrorCode::NicknameRequired
                | ErrorCode::RoomFull
                | ErrorCode::RoomLocked
                | ErrorCode::TooManyRooms
                | ErrorCode::ServerFull
                | ErrorCode::Unavailable
                | ErrorCode::PasscodeRequired
                | ErrorCode::WrongPasscode
                | ErrorCode::TooManyGuesses
        )
    }

    /// The room asks for a passcode (again).
    pub fn asks_passcode(self) -> bool {
        matches!(self, ErrorCode::PasscodeRequired | ErrorCode::WrongPasscode | ErrorCode::TooManyGuesses)
    }
}

/// Input that breaks the contract, with a reason a person can read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum InputError {
    #[error("message is not valid JSON: {0}")]
    Malformed(String),
    #[error("message has no string `type` field")]
    MissingType,
    #[error("unknown message type `{0}`")]
    UnknownType(String),
    #[error("bad `{kind}` message: {detail}")]
    BadFields { kind: String, detail: String },
    #[error(
        "nickname must be 1 to {MAX_NICKNAME_CHARS} characters with something visible, \
         without control or invisible formatting characters"
    )]
    Nickname,
    #[error(
        "room name must be 1 to {MAX_ROOM_CHARS} letters, digits, '-', '_' or '.', not only dots, \
         and not mixing Latin, Greek and Cyrillic letters"
    )]
    Room,
    #[error("chat message has nothing visible")]
    EmptyChat,
    #[error("chat message is longer than {MAX_CHAT_CHARS} characters")]
    ChatTooLong,
    #[error("passcode must be 1 to {MAX_PASSCODE_CHARS} characters, without control characters")]
    Passcode,
}

impl InputError {
    pub fn code(&self) -> ErrorCode {
        match self {
            InputError::Malformed(_) | InputError::MissingType | InputError::BadFields { .. } => {
                ErrorCode::BadMessage
            }
            InputError::UnknownType(_) => ErrorCode::UnknownType,
            InputError::Nickname => ErrorCode::InvalidNickname,
            InputError::Room => ErrorCode::InvalidRoom,
            InputError::EmptyChat => ErrorCode::InvalidChat,
            InputError::ChatTooLong => ErrorCode::ChatTooLong,
            InputError::Passcode => ErrorCode::WrongPasscode,
        }
    }
}

/// Decodes one text frame from a browser. The fast path is a single parse;
/// only a failure pays for working out which kind of failure it was.
pub fn decode_client(text: &str) -> Result<ClientMsg, InputError> {
    let err = match serde_json::from_str::<ClientMsg>(text) {
        Ok(msg) => return Ok(msg),
        Err(err) => err,
    };
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|e| InputError::Malformed(e.to_string()))?;
    let kind = value.get("type").and_then(|t| t.as_str()).ok_or(InputError::MissingType)?;
    if !ClientMsg::TYPES.contains(&kind) {
        return Err(InputError::UnknownType(truncate(kind, 40)));
    }
    Err(InputError::BadFields { kind: kind.to_owned(), detail: err.to_string() })
}

fn truncate(s: &str, max_chars: usize) -> String {
    s.chars().take(max_chars).collect()
}

/// Encodes a server message. Our own types always serialize.
pub fn encode<T: Serialize>(msg: &T) -> String {
    serde_json::to_string(msg).expect("protocol types serialize infallibly")
}

/// Decodes a server message (browser and test side).
pub fn decode_server(text: &str) -> Result<ServerMsg, serde_json::Error> {
    serde_json::from_str(text)
}

/// Decodes a server message if `F` wants its kind, else `Ok(None)`.
pub fn decode_server_some<F: VariantFilter>(text: &str) -> Result<Option<ServerMsg>, serde_json::Error> {
    let mut de = serde_json::Deserializer::from_str(text);
    let msg = ServerMsg::deserialize_some::<F, _>(&mut de)?;
    de.end()?;
    Ok(msg)
}

/// Declares an enum and `NAMES`, its variants' names, from which the
/// decoders' filters are made.
macro_rules! named_enum {
    (
        $(#[$attr:meta])*
        $vis:vis enum $name:ident {
            $( $variant:ident $({ $( $field:ident : $ty:ty ),* $(,)? })? ),* $(,)?
        }
    ) => {
        $(#[$attr])*
        $vis enum $name {
            $( $variant $({ $( $field: $ty ),* })? ),*
        }

        impl $name {
            pub const NAMES: &'static [&'static str] = &[$(stringify!($variant)),*];
        }
    };
}

named_enum! {
    /// The server messages the lobby handles (`SessionModel::on_lobby_msg`).
    /// The browser's main module decodes only these; the rest ([`RoomMsg`])
    /// are decoded by the room's lazily loaded code. Same fields as the
    /// [`ServerMsg`] variant of the same name.
    #[derive(Clone, Debug, PartialEq)]
    pub enum LobbyMsg {
        Welcome { id: PeerId, ice_servers: Vec<IceServer>, resume: Option<String>, resumed: bool },
        NicknameSet { nickname: String },
        Rooms { rooms: Vec<RoomSummary> },
        RoomsChanged { changed: Vec<RoomSummary>, removed: Vec<String> },
        Error { code: ErrorCode, message: String },
        Restarting,
        ResumeToken { resume: String },
    }
}

named_enum! {
    /// The server messages about the room you are in
    /// (`SessionModel::on_room_msg`, signals: the call engine).
    #[derive(Clone, Debug, PartialEq)]
    pub enum RoomMsg {
        Joined { room: String, members: Vec<Member>, locked: bool, passcode: bool, sharer: Option<PeerId>, media: MediaMode, resumed: bool },
        Left { room: String },
        PeerJoined { peer: Member },
        PeerLeft { peer: Member },
        PeerRenamed { peer: Member },
        PeerMedia { id: PeerId, media: MediaState },
        ShareStarted { id: PeerId },
        ShareStopped { id: PeerId },
        Chat { from: Member, text: String, ts: u64, nonce: Option<u64> },
        Signal { from: PeerId, payload: SignalPayload },
        RoomLocked { locked: bool, by: Member },
        Removed { room: String, by: Member },
        MuteRequested { by: Member },
        Media { transport: MediaTransport, payload: SignalPayload },
        SlotMap { slots: Vec<Slot> },
        RoomMedia { media: MediaMode, by: Option<Member> },
        MediaRestarted,
        ActiveSpeaker { peer: Option<PeerId> },
        PausedLayers { rids: Vec<String> },
        HeldBack { peers: Vec<PeerId> },
        PeerHand { id: PeerId, hand: Option<u64> },
        Reacted { from: PeerId, reaction: Reaction },
    }
}

/// A server message on its way to the side that handles it.
#[derive(Clone, Debug, PartialEq)]
pub enum Routed {
    Lobby(LobbyMsg),
    Room(RoomMsg),
}

impl ServerMsg {
    /// Which side handles the message. Both halves match every variant
    /// (no wildcard): a new server message does not compile until it is
    /// placed, nor then until that side's handler handles it.
    pub fn route(self) -> Routed {
        match self.into_lobby() {
            Ok(msg) => Routed::Lobby(msg),
            Err(msg) => Routed::Room(msg.into_room().expect("not the lobby's, so the room's")),
        }
    }

    /// The lobby's own messages; any other comes back unchanged. Apart from
    /// `into_room` so the lobby's first load carries no room conversions.
    pub fn into_lobby(self) -> Result<LobbyMsg, ServerMsg> {
        match self {
            ServerMsg::Welcome { id, ice_servers, resume, resumed } => {
                Ok(LobbyMsg::Welcome { id, ice_servers, resume, resumed })
            }
            ServerMsg::NicknameSet { nickname } => Ok(LobbyMsg::NicknameSet { nickname }),
            ServerMsg::Rooms { rooms } => Ok(LobbyMsg::Rooms { rooms }),
            ServerMsg::RoomsChanged { changed, removed } => Ok(LobbyMsg::RoomsChanged { changed, removed }),
            ServerMsg::Error { code, message } => Ok(LobbyMsg::Error { code, message }),
            ServerMsg::Restarting => Ok(LobbyMsg::Restarting),
            ServerMsg::ResumeToken { resume } => Ok(LobbyMsg::ResumeToken { resume }),
            msg @ (ServerMsg::Joined { .. }
            | ServerMsg::Left { .. }
            | ServerMsg::PeerJoined { .. }
            | ServerMsg::PeerLeft { .. }
            | ServerMsg::PeerRenamed { .. }
            | ServerMsg::PeerMedia { .. }
            | ServerMsg::ShareStarted { .. }
            | ServerMsg::ShareStopped { .. }
            | ServerMsg::Chat { .. }
            | ServerMsg::Signal { .. }
            | ServerMsg::RoomLocked { .. }
            | ServerMsg::Removed { .. }
            | ServerMsg::MuteRequested { .. }
            | ServerMsg::Media { .. }
            | ServerMsg::SlotMap { .. }
            | ServerMsg::RoomMedia { .. }
            | ServerMsg::MediaRestarted
            | ServerMsg::ActiveSpeaker { .. }
            | ServerMsg::PausedLayers { .. }
            | ServerMsg::HeldBack { .. }
            | ServerMsg::PeerHand { .. }
            | ServerMsg::Reacted { .. }) => Err(msg),
        }
    }

    /// The messages about your room; any other comes back unchanged.
    pub fn into_room(self) -> Result<RoomMsg, ServerMsg> {
        match self {
            ServerMsg::Joined { room, members, locked, passcode, sharer, media, resumed } => {
                Ok(RoomMsg::Joined { room, members, locked, passcode, sharer, media, resumed })
            }
            ServerMsg::Left { room } => Ok(RoomMsg::Left { room }),
            ServerMsg::PeerJoined { peer } => Ok(RoomMsg::PeerJoined { peer }),
            ServerMsg::PeerLeft { peer } => Ok(RoomMsg::PeerLeft { peer }),
            ServerMsg::PeerRenamed { peer } => Ok(RoomMsg::PeerRenamed { peer }),
            ServerMsg::PeerMedia { id, media } => Ok(RoomMsg::PeerMedia { id, media }),
            ServerMsg::ShareStarted { id } => Ok(RoomMsg::ShareStarted { id }),
            ServerMsg::ShareStopped { id } => Ok(RoomMsg::ShareStopped { id }),
            ServerMsg::Chat { from, text, ts, nonce } => Ok(RoomMsg::Chat { from, text, ts, nonce }),
            ServerMsg::Signal { from, payload } => Ok(RoomMsg::Signal { from, payload }),
            ServerMsg::RoomLocked { locked, by } => Ok(RoomMsg::RoomLocked { locked, by }),
            ServerMsg::Removed { room, by } => Ok(RoomMsg::Removed { room, by }),
            ServerMsg::MuteRequested { by } => Ok(RoomMsg::MuteRequested { by }),
            ServerMsg::Media { transport, payload } => Ok(RoomMsg::Media { transport, payload }),
            ServerMsg::SlotMap { slots } => Ok(RoomMsg::SlotMap { slots }),
            ServerMsg::RoomMedia { media, by } => Ok(RoomMsg::RoomMedia { media, by }),
            ServerMsg::MediaRestarted => Ok(RoomMsg::MediaRestarted),
            ServerMsg::ActiveSpeaker { peer } => Ok(RoomMsg::ActiveSpeaker { peer }),
            ServerMsg::PausedLayers { rids } => Ok(RoomMsg::PausedLayers { rids }),
            ServerMsg::HeldBack { peers } => Ok(RoomMsg::HeldBack { peers }),
            ServerMsg::PeerHand { id, hand } => Ok(RoomMsg::PeerHand { id, hand }),
            ServerMsg::Reacted { from, reaction } => Ok(RoomMsg::Reacted { from, reaction }),
            msg @ (ServerMsg::Welcome { .. }
            | ServerMsg::NicknameSet { .. }
            | ServerMsg::Rooms { .. }
            | ServerMsg::RoomsChanged { .. }
            | ServerMsg::Error { .. }
            | ServerMsg::Restarting
            | ServerMsg::ResumeToken { .. }) => Err(msg),
        }
    }
}

/// Decodes only [`LobbyMsg`]'s messages (the browser's first load).
pub struct LobbyMsgs;

impl VariantFilter for LobbyMsgs {
    const NAMES: &'static [&'static str] = LobbyMsg::NAMES;
    const EXCEPT: bool = false;
}

/// Decodes every other message: [`RoomMsg`]'s.
pub struct RoomMsgs;

impl VariantFilter for RoomMsgs {
    const NAMES: &'static [&'static str] = LobbyMsgs::NAMES;
    const EXCEPT: bool = true;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip_client(msg: ClientMsg) {
        let text = encode(&msg);
        assert_eq!(decode_client(&text).unwrap(), msg, "{text}");
    }

    #[test]
    fn client_messages_round_trip() {
        round_trip_client(ClientMsg::SetNickname { nickname: "Ada".into() });
        round_trip_client(ClientMsg::Join { room: "standup".into(), passcode: None });
        round_trip_client(ClientMsg::Leave);
        round_trip_client(ClientMsg::SetMedia { media: MediaState { audio: true, video: false } });
        round_trip_client(ClientMsg::Chat { text: "hi".into(), nonce: Some(7) });
        round_trip_client(ClientMsg::Chat { text: "hi".into(), nonce: None });
        round_trip_client(ClientMsg::Signal {
            to: PeerId("p1".into()),
            payload: SignalPayload::Description { sdp_type: SdpType::Offer, sdp: "v=0".into() },
        });
        round_trip_client(ClientMsg::Signal {
            to: PeerId("p1".into()),
            payload: SignalPayload::Candidate {
                candidate: "candidate:1 1 udp 1 127.0.0.1 5000 typ host".into(),
                sdp_mid: Some("0".into()),
                sdp_m_line_index: Some(0),
            },
        });
        round_trip_client(ClientMsg::RaiseHand { up: true });
        round_trip_client(ClientMsg::LowerHand { id: PeerId("p1".into()) });
        for reaction in Reaction::ALL {
            round_trip_client(ClientMsg::React { reaction });
        }
        assert_eq!(
            encode(&ClientMsg::React { reaction: Reaction::ThumbsUp }),
            r#"{"type":"react","reaction":"thumbs_up"}"#
        );
        assert!(decode_client(r#"{"type":"react","reaction":"<b>spam</b>"}"#).is_err(), "only the fixed few");
    }

    /// One of every server message (both signal payloads, with and without options).
    fn every_server_msg() -> Vec<ServerMsg> {
        let member = Member {
            id: PeerId("a".into()),
            nickname: "Ada".into(),
            media: MediaState::default(),
            hand: None,
        };
        vec![
            ServerMsg::Welcome {
                id: PeerId("a".into()),
                ice_servers: vec![IceServer {
                    urls: vec!["turn:turn.example:3478".into()],
                    username: Some("1:a".into()),
                    credential: Some("c".into()),
                }],
                resume: None,
                resumed: false,
            },
            ServerMsg::Welcome {
                id: PeerId("b".into()),
                ice_servers: vec![],
                resume: Some("token".into()),
                resumed: true,
            },
            ServerMsg::PeerMedia { id: PeerId("a".into()), media: MediaState { audio: false, video: true } },
            ServerMsg::PeerHand { id: PeerId("a".into()), hand: Some(1_700_000_000_000) },
            ServerMsg::PeerHand { id: PeerId("a".into()), hand: None },
            ServerMsg::Reacted { from: PeerId("a".into()), reaction: Reaction::Heart },
            ServerMsg::Joined {
                room: "x".into(),
                members: vec![Member { hand: Some(5), ..member.clone() }],
                sharer: None,
                locked: false,
                passcode: false,
                media: MediaMode::Sfu,
                resumed: false,
            },
            ServerMsg::NicknameSet { nickname: "Ada".into() },
            ServerMsg::Rooms {
                rooms: vec![
                    RoomSummary::open("x", 2),
                    RoomSummary { name: "y".into(), count: 1, passcode: true, locked: true },
                ],
            },
            ServerMsg::RoomsChanged { changed: vec![], removed: vec!["y".into()] },
            ServerMsg::Joined {
                room: "x".into(),
                members: vec![member.clone()],
                sharer: None,
                locked: false,
                passcode: false,
                media: MediaMode::Mesh,
                resumed: false,
            },
            ServerMsg::Joined {
                room: "x".into(),
                members: vec![member.clone()],
                sharer: Some(PeerId("a".into())),
                locked: true,
                passcode: true,
                media: MediaMode::Sfu,
                resumed: true,
            },
            ServerMsg::Media {
                transport: MediaTransport::Subscribe,
                payload: SignalPayload::Description { sdp_type: SdpType::Offer, sdp: "v=0".into() },
            },
            ServerMsg::SlotMap {
                slots: vec![
                    Slot { mid: "a1".into(), kind: TrackKind::Audio, peer: Some(PeerId("a".into())) },
                    Slot { mid: "v1".into(), kind: TrackKind::Video, peer: None },
                ],
            },
            ServerMsg::RoomMedia { media: MediaMode::Sfu, by: Some(member.clone()) },
            ServerMsg::RoomMedia { media: MediaMode::Mesh, by: None },
            ServerMsg::MediaRestarted,
            ServerMsg::ActiveSpeaker { peer: Some(PeerId("a".into())) },
            ServerMsg::ActiveSpeaker { peer: None },
            ServerMsg::PausedLayers { rids: vec!["f".into()] },
            ServerMsg::PausedLayers { rids: vec![] },
            ServerMsg::HeldBack { peers: vec![PeerId("a".into())] },
            ServerMsg::HeldBack { peers: vec![] },
            ServerMsg::RoomLocked { locked: true, by: member.clone() },
            ServerMsg::Removed { room: "x".into(), by: member.clone() },
            ServerMsg::MuteRequested { by: member.clone() },
            ServerMsg::ShareStarted { id: PeerId("a".into()) },
            ServerMsg::ShareStopped { id: PeerId("a".into()) },
            ServerMsg::Left { room: "x".into() },
            ServerMsg::PeerJoined { peer: member.clone() },
            ServerMsg::PeerLeft { peer: member.clone() },
            ServerMsg::PeerRenamed { peer: member.clone() },
            ServerMsg::Chat { from: member, text: "hi".into(), ts: 1, nonce: Some(3) },
            ServerMsg::Error { code: ErrorCode::ChatTooLong, message: "long".into() },
            ServerMsg::Signal {
                from: PeerId("a".into()),
                payload: SignalPayload::Description { sdp_type: SdpType::Answer, sdp: "v=0".into() },
            },
            ServerMsg::Signal {
                from: PeerId("a".into()),
                payload: SignalPayload::Candidate {
                    candidate: "c".into(),
                    sdp_mid: None,
                    sdp_m_line_index: Some(1),
                },
            },
            ServerMsg::Restarting,
            ServerMsg::ResumeToken { resume: "token".into() },
        ]
    }

    #[test]
    fn server_messages_round_trip() {
        for msg in every_server_msg() {
            let text = encode(&msg);
            assert_eq!(decode_server(&text).unwrap(), msg, "{text}");
        }
    }

    #[test]
    fn lobby_and_room_decoders_split_the_messages_between_them() {
        for name in LobbyMsg::NAMES.iter().chain(RoomMsg::NAMES) {
            assert!(ServerMsg::VARIANTS.contains(name), "{name} is not a variant");
        }
        assert_eq!(LobbyMsg::NAMES.len() + RoomMsg::NAMES.len(), ServerMsg::VARIANTS.len());
        let all = every_server_msg();
        for name in ServerMsg::VARIANTS {
            assert!(all.iter().any(|m| m.variant_name() == *name), "no {name} in the sample");
        }
        for msg in all {
            let text = encode(&msg);
            let lobby = decode_server_some::<LobbyMsgs>(&text).unwrap();
            let room = decode_server_some::<RoomMsgs>(&text).unwrap();
            // Each decoder takes exactly the messages routed to its side,
            // under the same variant name.
            let name = msg.variant_name();
            match msg.clone().route() {
                Routed::Lobby(_) => {
                    assert!(LobbyMsg::NAMES.contains(&name), "{name} routed to the lobby");
                    assert_eq!((lobby, room), (Some(msg), None), "{text}");
                }
                Routed::Room(_) => {
                    assert!(RoomMsg::NAMES.contains(&name), "{name} routed to the room");
                    assert_eq!((lobby, room), (None, Some(msg)), "{text}");
                }
            }
        }
        // A skipped message is read to its end, nested values and all; what
        // follows it is still checked.
        let chat = r#"{"type":"chat","from":{"id":"a","nickname":"A","media":{"audio":true,"video":true}},"text":"}","ts":1}"#;
        assert_eq!(decode_server_some::<LobbyMsgs>(chat).unwrap(), None);
        assert!(decode_server_some::<LobbyMsgs>(&format!("{chat} x")).is_err());
        assert!(decode_server_some::<LobbyMsgs>(r#"{"type":"teleport"}"#).is_err());
        assert!(decode_server_some::<RoomMsgs>(r#"{"id":"a","type":"welcome"}"#).is_err());
    }

    #[test]
    fn server_messages_decode_tag_first() {
        // Unknown fields are ignored and optional ones default, as before.
        let msg = decode_server(r#"{"type":"welcome","id":"a","extra":[1,{"x":2}]}"#).unwrap();
        assert_eq!(
            msg,
            ServerMsg::Welcome { id: PeerId("a".into()), ice_servers: vec![], resume: None, resumed: false }
        );
        let signal = r#"{"type":"signal","from":"b","payload":{"kind":"candidate","candidate":"c"}}"#;
        assert_eq!(
            decode_server(signal).unwrap(),
            ServerMsg::Signal {
                from: PeerId("b".into()),
                payload: SignalPayload::Candidate {
                    candidate: "c".into(),
                    sdp_mid: None,
                    sdp_m_line_index: None
                },
            }
        );
        assert_eq!(decode_server(r#"{"type":"restarting"}"#).unwrap(), ServerMsg::Restarting);
        // What our encoder never writes is refused, with a reason.
        let late_tag = decode_server(r#"{"id":"a","type":"welcome"}"#).unwrap_err();
        assert!(late_tag.to_string().contains("`type` must be the first field"), "{late_tag}");
        let unknown = decode_server(r#"{"type":"teleport"}"#).unwrap_err();
        assert!(unknown.to_string().contains("unknown variant `teleport`"), "{unknown}");
        let missing = decode_server(r#"{"type":"left"}"#).unwrap_err();
        assert!(missing.to_string().contains("missing field `room`"), "{missing}");
        assert!(decode_server(r#"["type","left"]"#).is_err());
        assert!(decode_server(r#"{"type":"signal","from":"b","payload":{"sdp":"x","kind":"description"}}"#)
            .is_err());
    }

    #[test]
    fn client_signals_still_decode_through_the_tagged_client_enum() {
        let text =
            r#"{"type":"signal","to":"p","payload":{"kind":"description","sdp_type":"offer","sdp":"v=0"}}"#;
        assert_eq!(
            decode_client(text).unwrap(),
            ClientMsg::Signal {
                to: PeerId("p".into()),
                payload: SignalPayload::Description { sdp_type: SdpType::Offer, sdp: "v=0".into() },
            }
        );
    }

    #[test]
    fn wire_format_is_tagged_snake_case() {
        assert_eq!(
            encode(&ClientMsg::Join { room: "a".into(), passcode: None }),
            r#"{"type":"join","room":"a"}"#
        );
        assert_eq!(encode(&ClientMsg::Leave), r#"{"type":"leave"}"#);
        let err = ServerMsg::Error { code: ErrorCode::NotInRoom, message: "m".into() };
        assert_eq!(encode(&err), r#"{"type":"error","code":"not_in_room","message":"m"}"#);
    }

    #[test]
    fn every_client_type_tag_is_listed() {
        let samples = [
            ClientMsg::SetNickname { nickname: String::new() },
            ClientMsg::Join { room: String::new(), passcode: None },
            ClientMsg::Leave,
            ClientMsg::SetMedia { media: MediaState::default() },
            ClientMsg::StartShare,
            ClientMsg::StopShare,
            ClientMsg::Chat { text: String::new(), nonce: None },
            ClientMsg::Signal {
                to: PeerId(String::new()),
                payload: SignalPayload::Description { sdp_type: SdpType::Answer, sdp: String::new() },
            },
            ClientMsg::LockRoom { locked: true },
            ClientMsg::RemovePeer { id: PeerId(String::new()) },
            ClientMsg::MuteAll,
            ClientMsg::Media {
                transport: MediaTransport::Publish,
                payload: SignalPayload::Candidate {
                    candidate: String::new(),
                    sdp_mid: None,
                    sdp_m_line_index: None,
                },
            },
            ClientMsg::SetRoomMedia { media: MediaMode::Sfu },
            ClientMsg::RestartMedia,
            ClientMsg::RaiseHand { up: false },
            ClientMsg::LowerHand { id: PeerId(String::new()) },
            ClientMsg::React { reaction: Reaction::Laugh },
        ];
        for msg in samples {
            let value: serde_json::Value = serde_json::from_str(&encode(&msg)).unwrap();
            let tag = value["type"].as_str().unwrap();
            assert!(ClientMsg::TYPES.contains(&tag), "{tag} missing from ClientMsg::TYPES");
            assert_eq!(msg.kind(), tag);
        }
        assert_eq!(ClientMsg::TYPES.len(), 17);
    }

    #[test]
    fn error_code_strings_match_serde() {
        for code in [
            ErrorCode::BadMessage,
            ErrorCode::UnknownType,
            ErrorCode::InvalidNickname,
            ErrorCode::InvalidRoom,
            ErrorCode::InvalidChat,
            ErrorCode::ChatTooLong,
            ErrorCode::NicknameRequired,
            ErrorCode::NotInRoom,
            ErrorCode::PeerNotInRoom,
            ErrorCode::RoomFull,
            ErrorCode::ShareTaken,
            ErrorCode::RateLimited,
            ErrorCode::TooManyRooms,
            ErrorCode::PasscodeRequired,
            ErrorCode::WrongPasscode,
            ErrorCode::RoomLocked,
            ErrorCode::NotHost,
            ErrorCode::Unavailable,
            ErrorCode::TooManyGuesses,
            ErrorCode::ResumeRefused,
            ErrorCode::NotDelivered,
            ErrorCode::ServerFull,
        ] {
            assert_eq!(encode(&code), format!("\"{}\"", code.as_str()));
        }
    }

    #[test]
    fn decoder_classifies_failures() {
        assert!(matches!(decode_client("{not json"), Err(InputError::Malformed(_))));
        assert_eq!(decode_client("[1,2]"), Err(InputError::MissingType));
        assert_eq!(decode_client(r#"{"room":"x"}"#), Err(InputError::MissingType));
        assert_eq!(decode_client(r#"{"type":"teleport"}"#), Err(InputError::UnknownType("teleport".into())));
        let bad = decode_client(r#"{"type":"join","room":5}"#).unwrap_err();
        assert!(matches!(bad, InputError::BadFields { ref kind, .. } if kind == "join"));
        assert_eq!(bad.code(), ErrorCode::BadMessage);
    }
}
