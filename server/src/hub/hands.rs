//! Raised hands and reactions: small room-wide signals, relayed to every
//! node of the room like chat, each rate-limited per person.

use super::{ClusterEvent, Delivery, Hub, HubError};
use app::protocol::{PeerId, Reaction, ServerMsg};

/// Reactions (or hand changes) one person may send per window: enough
/// for a burst of applause, too few to flood a room's screens and ears.
pub const REACTION_BURST: u8 = 6;
pub const REACTION_WINDOW_MS: u64 = 3_000;

/// A fixed window counter: when the current window began, and how many
/// went out in it.
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct Burst {
    since_ms: u64,
    sent: u8,
}

impl Burst {
    /// Counts one more at `now_ms`, or refuses it.
    fn take(&mut self, now_ms: u64) -> bool {
        if now_ms.saturating_sub(self.since_ms) >= REACTION_WINDOW_MS {
            *self = Burst { since_ms: now_ms, sent: 0 };
        }
        if self.sent >= REACTION_BURST {
            return false;
        }
        self.sent += 1;
        true
    }
}

impl Hub {
    pub(super) fn raise_hand(
        &mut self,
        from: &PeerId,
        up: bool,
        now_ms: u64,
    ) -> Result<Vec<Delivery>, HubError> {
        let room = self.room_of(from).ok_or(HubError::NotInRoom)?.to_owned();
        let peer = self.peers.get_mut(from).expect("checked in handle");
        // Raising again keeps one's place in the queue.
        let hand = if up { Some(peer.hand.unwrap_or(now_ms)) } else { None };
        if hand == peer.hand {
            return Ok(Vec::new());
        }
        // Each change chimes on everyone's page: a few at a time.
        if !peer.hand_changes.take(now_ms) {
            return Err(HubError::TooManyHandChanges);
        }
        Ok(self.set_hand(&room, from, hand))
    }

    pub(super) fn lower_hand(&mut self, from: &PeerId, id: &PeerId) -> Result<Vec<Delivery>, HubError> {
        let room = self.hosted_room(from)?;
        match self.peers.get(id) {
            Some(p) if p.room.as_deref() == Some(room.as_str()) && p.hand.is_some() => {
                Ok(self.set_hand(&room, id, None))
            }
            Some(p) if p.room.as_deref() == Some(room.as_str()) => Ok(Vec::new()),
            _ => Err(HubError::PeerNotInRoom),
        }
    }

    /// A host lowering the hand of someone another node holds asks that
    /// node too: only it writes their entry in the cluster's record.
    fn set_hand(&mut self, room: &str, id: &PeerId, hand: Option<u64>) -> Vec<Delivery> {
        if let Some(node) = self.peers.get(id).and_then(|p| p.node.clone()) {
            self.publish(Some(node), ClusterEvent::Hand { room: room.to_owned(), id: id.clone(), hand });
        }
        self.apply_hand(room, id, hand)
    }

    /// Sets `id`'s hand here and tells this node's members of `room`. The
    /// node holding `id` rewrites its entry in the cluster's record (which
    /// newcomers are shown, and nodes re-read every few seconds); that
    /// `updated` tells the other nodes, as a change of microphone does.
    pub(super) fn apply_hand(&mut self, room: &str, id: &PeerId, hand: Option<u64>) -> Vec<Delivery> {
        let Some(peer) = self.peers.get_mut(id).filter(|p| p.room.as_deref() == Some(room)) else {
            return Vec::new();
        };
        if peer.hand == hand {
            return Vec::new();
        }
        peer.hand = hand;
        let since = peer.since;
        if self.is_local(id) {
            self.publish(
                None,
                ClusterEvent::Updated { room: room.to_owned(), member: self.member(id), since },
            );
        }
        vec![Delivery::many(self.local_members_of(room), ServerMsg::PeerHand { id: id.clone(), hand })]
    }

    pub(super) fn react(
        &mut self,
        from: &PeerId,
        reaction: Reaction,
        now_ms: u64,
    ) -> Result<Vec<Delivery>, HubError> {
        let room = self.room_of(from).ok_or(HubError::NotInRoom)?.to_owned();
        let peer = self.peers.get_mut(from).expect("checked in handle");
        if !peer.reactions.take(now_ms) {
            return Err(HubError::TooManyReactions);
        }
        self.publish(None, ClusterEvent::Reacted { room: room.clone(), from: from.clone(), reaction });
        Ok(vec![Delivery::many(
            self.local_members_of(&room),
            ServerMsg::Reacted { from: from.clone(), reaction },
        )])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_window_lets_a_burst_through_then_refuses_until_it_ends() {
        let mut r = Burst::default();
        for i in 0..REACTION_BURST {
            assert!(r.take(10_000 + u64::from(i)), "reaction {i}");
        }
        assert!(!r.take(10_100));
        assert!(!r.take(10_000 + REACTION_WINDOW_MS - 1));
        assert!(r.take(10_000 + REACTION_WINDOW_MS));
    }
}
