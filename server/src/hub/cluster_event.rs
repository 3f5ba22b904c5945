use super::Passcode;
use app::protocol::{MediaMode, Member, PeerId, SignalPayload};
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
            | ClusterEvent::MuteAll { room, .. } => Some(room),
            ClusterEvent::Signal { .. } | ClusterEvent::Remove { .. } => None,
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
