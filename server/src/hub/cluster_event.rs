use super::Passcode;
use app::protocol::{MediaMode, MediaState, Member, PeerId, Reaction, SignalPayload};
use serde::{Deserialize, Serialize};

/// A change one node tells the others about. Room events go to everyone
/// with members in that room; a signal goes to the node holding its target.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ClusterEvent {
    Joined {
        room: String,
        member: Member,
        /// Join time (ms): members are ordered by it, so every node agrees
        /// on who the host is.
        #[serde(default)]
        since: u64,
    },
    Left {
        room: String,
        member: Member,
    },
    Updated {
        room: String,
        member: Member,
        #[serde(default)]
        since: u64,
    },
    Chat {
        room: String,
        from: Member,
        text: String,
        ts: u64,
        nonce: Option<u64>,
    },
    ShareStarted {
        room: String,
        id: PeerId,
    },
    ShareStopped {
        room: String,
        id: PeerId,
    },
    Signal {
        to: PeerId,
        from: PeerId,
        payload: SignalPayload,
    },
    /// A room's passcode (as a digest), lock and media mode, on creation
    /// and on change.
    Settings {
        room: String,
        passcode: Option<Passcode>,
        locked: bool,
        #[serde(default)]
        media: MediaMode,
    },
    /// To the node holding `id`: the host removed them.
    Remove {
        room: String,
        id: PeerId,
        by: Member,
    },
    MuteAll {
        room: String,
        by: Member,
    },
    /// To the node holding `id`: the host (on another node) lowered their
    /// hand. The change itself reaches everyone as that node's `updated`.
    Hand {
        room: String,
        id: PeerId,
        hand: Option<u64>,
    },
    Reacted {
        room: String,
        from: PeerId,
        reaction: Reaction,
    },
    /// To the node a resume token names: a page came back through the
    /// sender with that token (generation `generation` of `id`'s). `ask`
    /// pairs the answer with the waiting socket.
    HandoverAsk {
        id: PeerId,
        generation: u32,
        ask: u64,
    },
    /// The answer: the session is the asker's now.
    HandedOver {
        ask: u64,
        session: Handed,
    },
    /// The answer: not handed over, because the token is not the newest
    /// (`ended`: the session is over, or was never here).
    HandoverRefused {
        ask: u64,
        ended: bool,
    },
}

/// A session moving from one node to another, as its new node needs it:
/// the room's other members must not notice the move.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Handed {
    pub id: PeerId,
    /// Of its newest token, which the page brings to its new node.
    pub generation: u32,
    pub nickname: Option<String>,
    /// The name its room shows, when that differs ("Ada (2)").
    pub shown: Option<String>,
    pub room: Option<String>,
    pub since: u64,
    pub media: MediaState,
    /// A raised hand stays up across the move.
    #[serde(default)]
    pub hand: Option<u64>,
}

impl ClusterEvent {
    pub fn room(&self) -> Option<&str> {
        match self {
            ClusterEvent::Joined { room, .. }
            | ClusterEvent::Left { room, .. }
            | ClusterEvent::Updated { room, .. }
            | ClusterEvent::Chat { room, .. }
            | ClusterEvent::ShareStarted { room, .. }
            | ClusterEvent::ShareStopped { room, .. }
            | ClusterEvent::Settings { room, .. }
            | ClusterEvent::MuteAll { room, .. }
            | ClusterEvent::Reacted { room, .. } => Some(room),
            ClusterEvent::Signal { .. }
            | ClusterEvent::Remove { .. }
            | ClusterEvent::Hand { .. }
            | ClusterEvent::HandoverAsk { .. }
            | ClusterEvent::HandedOver { .. }
            | ClusterEvent::HandoverRefused { .. } => None,
        }
    }
}

/// An event to publish: to a room's channel, or to one node's inbox.
#[derive(Clone, Debug, PartialEq)]
pub struct Outgoing {
    pub node: Option<String>,
    pub event: ClusterEvent,
}

/// A member as stored cluster-wide: who, and which node holds them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Placed {
    pub member: Member,
    pub node: String,
    #[serde(default)]
    pub since: u64,
}
