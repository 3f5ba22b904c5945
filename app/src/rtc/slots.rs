//! Whose media is in which receive slot of an SFU room's subscribe
//! connection, as the server's `slot_map` says. Plain state: the browser
//! transport feeds it maps and asks which slots make up a person's stream.

use crate::protocol::{PeerId, Slot, TrackKind};

#[derive(Clone, Debug, Default, PartialEq)]
pub struct SlotTable {
    slots: Vec<Slot>,
}

impl SlotTable {
    /// Takes a new map; returns the people whose slots changed (their
    /// streams must be rebuilt), in a stable order.
    pub fn apply(&mut self, slots: Vec<Slot>) -> Vec<PeerId> {
        let mut changed: Vec<PeerId> = Vec::new();
        let mut note = |peer: &Option<PeerId>| {
            if let Some(p) = peer {
                if !changed.contains(p) {
                    changed.push(p.clone());
                }
            }
        };
        for slot in &slots {
            let before = self.slots.iter().find(|s| s.mid == slot.mid).and_then(|s| s.peer.clone());
            if before != slot.peer {
                note(&before);
                note(&slot.peer);
            }
        }
        for old in &self.slots {
            if !slots.iter().any(|s| s.mid == old.mid) {
                note(&old.peer);
            }
        }
        self.slots = slots;
        changed.sort();
        changed
    }

    /// Who the slot `mid` carries now.
    pub fn peer_of(&self, mid: &str) -> Option<&PeerId> {
        self.slots.iter().find(|s| s.mid == mid)?.peer.as_ref()
    }

    /// The slots carrying `peer`'s media: (mid, kind).
    pub fn slots_of<'a>(&'a self, peer: &'a PeerId) -> impl Iterator<Item = (&'a str, TrackKind)> + 'a {
        self.slots.iter().filter(move |s| s.peer.as_ref() == Some(peer)).map(|s| (s.mid.as_str(), s.kind))
    }

    /// Everyone the server sends us media of.
    pub fn peers(&self) -> Vec<PeerId> {
        let mut peers: Vec<PeerId> = self.slots.iter().filter_map(|s| s.peer.clone()).collect();
        peers.sort();
        peers.dedup();
        peers
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slot(mid: &str, kind: TrackKind, peer: Option<&str>) -> Slot {
        Slot { mid: mid.into(), kind, peer: peer.map(|p| PeerId(p.into())) }
    }

    fn id(s: &str) -> PeerId {
        PeerId(s.into())
    }

    #[test]
    fn a_map_names_whose_streams_changed() {
        let mut t = SlotTable::default();
        let changed =
            t.apply(vec![slot("0", TrackKind::Audio, Some("a")), slot("1", TrackKind::Video, Some("a"))]);
        assert_eq!(changed, vec![id("a")]);
        assert_eq!(t.slots_of(&id("a")).count(), 2);
        // b joins: a is untouched.
        let changed = t.apply(vec![
            slot("0", TrackKind::Audio, Some("a")),
            slot("1", TrackKind::Video, Some("a")),
            slot("2", TrackKind::Audio, Some("b")),
        ]);
        assert_eq!(changed, vec![id("b")]);
        assert_eq!(t.peers(), vec![id("a"), id("b")]);
    }

    #[test]
    fn a_reused_slot_changes_both_its_old_and_new_occupant() {
        let mut t = SlotTable::default();
        t.apply(vec![slot("1", TrackKind::Video, Some("a"))]);
        let changed = t.apply(vec![slot("1", TrackKind::Video, None)]);
        assert_eq!(changed, vec![id("a")]);
        assert_eq!(t.peer_of("1"), None);
        let changed = t.apply(vec![slot("1", TrackKind::Video, Some("c"))]);
        assert_eq!(changed, vec![id("c")]);
        assert_eq!(t.peer_of("1"), Some(&id("c")));
        assert!(t.peers() == vec![id("c")]);
    }
}
