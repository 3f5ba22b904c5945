//! Who is in which SFU room, what each member publishes, and which receive
//! slot of each member's subscribe connection carries which track. Plain
//! state: the engine feeds it what str0m reports and carries out the
//! [`Change`]s it answers with.
//!
//! A slot is an m-line of the subscribe connection. Slots are added (one
//! negotiation) only when every slot of that kind is taken, and a freed
//! slot is handed to the next track that needs one without renegotiating,
//! so a join or leave in a big room costs no SDP round trip.

use app::protocol::{PeerId, Slot, TrackKind};
use std::collections::HashMap;

/// A published track: its publisher and the m-line (mid) of their publish
/// connection that carries it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct TrackKey {
    pub peer: PeerId,
    pub mid: String,
}

/// What the engine must do after a change of state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Change {
    /// Send this member its slot map (whose media is in which slot).
    SlotMap(PeerId),
    /// This member's subscribe connection needs new m-lines: make an offer.
    Negotiate(PeerId),
    /// A subscriber starts receiving this track: it needs a keyframe.
    Keyframe(TrackKey),
}

#[derive(Clone, Debug)]
struct SlotState {
    kind: TrackKind,
    /// Set once the m-line is in an offer.
    mid: Option<String>,
    /// The browser accepted the m-line: media may flow.
    open: bool,
    occupant: Option<TrackKey>,
}

#[derive(Debug)]
struct Member {
    room: String,
    /// Published tracks, by mid of the publish connection.
    tracks: Vec<(String, TrackKind)>,
    slots: Vec<SlotState>,
    /// An offer for the subscribe connection awaits its answer.
    negotiating: bool,
}

#[derive(Debug)]
pub struct Rooms {
    members: HashMap<PeerId, Member>,
    rooms: HashMap<String, Vec<PeerId>>,
    /// Most slots of each kind per subscriber ("last N"): bounds the SDP.
    slots_per_kind: usize,
}

impl Rooms {
    pub fn new(slots_per_kind: usize) -> Self {
        Rooms { members: HashMap::new(), rooms: HashMap::new(), slots_per_kind: slots_per_kind.max(1) }
    }

    pub fn contains(&self, peer: &PeerId) -> bool {
        self.members.contains_key(peer)
    }

    /// Every room and its members.
    pub fn all(&self) -> impl Iterator<Item = (&str, &[PeerId])> {
        self.rooms.iter().map(|(room, members)| (room.as_str(), members.as_slice()))
    }

    pub fn room_of(&self, peer: &PeerId) -> Option<&str> {
        self.members.get(peer).map(|m| m.room.as_str())
    }

    pub fn members_of(&self, room: &str) -> &[PeerId] {
        self.rooms.get(room).map_or(&[], Vec::as_slice)
    }

    pub fn join(&mut self, room: &str, peer: &PeerId) -> Vec<Change> {
        let mut changes = Vec::new();
        match self.members.get(peer) {
            Some(m) if m.room == room => return changes,
            Some(_) => changes = self.leave(peer),
            None => {}
        }
        let member =
            Member { room: room.to_owned(), tracks: Vec::new(), slots: Vec::new(), negotiating: false };
        self.members.insert(peer.clone(), member);
        let others = self.rooms.entry(room.to_owned()).or_default();
        others.push(peer.clone());
        self.refill(peer, &mut changes);
        changes
    }

    /// Takes `peer` out: its tracks leave every slot they were in, and the
    /// freed slots go to tracks that were waiting for one.
    pub fn leave(&mut self, peer: &PeerId) -> Vec<Change> {
        let mut changes = Vec::new();
        let Some(member) = self.members.remove(peer) else { return changes };
        let Some(list) = self.rooms.get_mut(&member.room) else { return changes };
        list.retain(|p| p != peer);
        let others = list.clone();
        if others.is_empty() {
            self.rooms.remove(&member.room);
        }
        for other in &others {
            self.free_slots_of(other, peer, &mut changes);
            self.refill(other, &mut changes);
        }
        changes
    }

    /// `peer`'s publish connection carries a new track on `mid`.
    pub fn publish(&mut self, peer: &PeerId, mid: &str, kind: TrackKind) -> Vec<Change> {
        let mut changes = Vec::new();
        let Some(member) = self.members.get_mut(peer) else { return changes };
        if member.tracks.iter().any(|(m, _)| m == mid) {
            return changes;
        }
        member.tracks.push((mid.to_owned(), kind));
        let key = TrackKey { peer: peer.clone(), mid: mid.to_owned() };
        for other in self.others(peer) {
            self.assign(&other, &key, kind, &mut changes);
        }
        changes
    }

    /// `peer`'s publish connection is gone: its tracks leave every slot.
    pub fn unpublish_all(&mut self, peer: &PeerId) -> Vec<Change> {
        let mut changes = Vec::new();
        let Some(member) = self.members.get_mut(peer) else { return changes };
        member.tracks.clear();
        for other in self.others(peer) {
            self.free_slots_of(&other, peer, &mut changes);
            self.refill(&other, &mut changes);
        }
        changes
    }

    /// `peer`'s subscribe connection is gone: its slots start over on a new
    /// one, keeping who is in them.
    pub fn reset_subscriber(&mut self, peer: &PeerId) -> Vec<Change> {
        let Some(member) = self.members.get_mut(peer) else { return Vec::new() };
        member.negotiating = false;
        for slot in &mut member.slots {
            slot.mid = None;
            slot.open = false;
        }
        member.slots.retain(|s| s.occupant.is_some());
        if member.slots.is_empty() {
            Vec::new()
        } else {
            vec![Change::Negotiate(peer.clone())]
        }
    }

    /// Slots that need an m-line in the next offer: (index, kind).
    pub fn unnegotiated(&self, peer: &PeerId) -> Vec<(usize, TrackKind)> {
        let Some(member) = self.members.get(peer) else { return Vec::new() };
        member.slots.iter().enumerate().filter(|(_, s)| s.mid.is_none()).map(|(i, s)| (i, s.kind)).collect()
    }

    pub fn is_negotiating(&self, peer: &PeerId) -> bool {
        self.members.get(peer).is_some_and(|m| m.negotiating)
    }

    /// An offer adding these slots' m-lines went out.
    pub fn offered(&mut self, peer: &PeerId, mids: Vec<(usize, String)>) -> Vec<Change> {
        let Some(member) = self.members.get_mut(peer) else { return Vec::new() };
        for (index, mid) in mids {
            if let Some(slot) = member.slots.get_mut(index) {
                slot.mid = Some(mid);
            }
        }
        member.negotiating = true;
        vec![Change::SlotMap(peer.clone())]
    }

    /// The browser answered: the offered slots carry media from now on.
    pub fn answered(&mut self, peer: &PeerId) -> Vec<Change> {
        let mut changes = Vec::new();
        let Some(member) = self.members.get_mut(peer) else { return changes };
        member.negotiating = false;
        for slot in member.slots.iter_mut().filter(|s| s.mid.is_some() && !s.open) {
            slot.open = true;
            if let Some(key) = &slot.occupant {
                changes.push(Change::Keyframe(key.clone()));
            }
        }
        if member.slots.iter().any(|s| s.mid.is_none()) {
            changes.push(Change::Negotiate(peer.clone()));
        }
        changes
    }

    /// The open slots `key` goes out on: (subscriber, slot mid).
    pub fn route<'a>(&'a self, key: &'a TrackKey) -> impl Iterator<Item = (&'a PeerId, &'a str)> + 'a {
        let room = self.members.get(&key.peer).map(|m| m.room.as_str());
        let list = room.and_then(|r| self.rooms.get(r)).map(Vec::as_slice).unwrap_or_default();
        list.iter().filter(move |p| **p != key.peer).flat_map(move |sub| {
            let slots = self.members.get(sub).map(|m| m.slots.as_slice()).unwrap_or_default();
            slots
                .iter()
                .filter(move |s| s.open && s.occupant.as_ref() == Some(key))
                .filter_map(move |s| s.mid.as_deref().map(|mid| (sub, mid)))
        })
    }

    /// Which track `peer`'s slot `mid` carries now.
    pub fn source(&self, peer: &PeerId, mid: &str) -> Option<&TrackKey> {
        let member = self.members.get(peer)?;
        member.slots.iter().find(|s| s.mid.as_deref() == Some(mid))?.occupant.as_ref()
    }

    /// The slot map as the browser gets it: every slot with an m-line.
    pub fn slot_map(&self, peer: &PeerId) -> Vec<Slot> {
        let Some(member) = self.members.get(peer) else { return Vec::new() };
        member
            .slots
            .iter()
            .filter_map(|s| {
                let mid = s.mid.clone()?;
                Some(Slot { mid, kind: s.kind, peer: s.occupant.as_ref().map(|k| k.peer.clone()) })
            })
            .collect()
    }

    /// Tracks going out now: every open slot that carries someone.
    pub fn forwarded(&self) -> usize {
        let carrying = |s: &&SlotState| s.open && s.occupant.is_some();
        self.members.values().map(|m| m.slots.iter().filter(carrying).count()).sum()
    }

    /// How many others `peer` hears now: its negotiated audio slots that
    /// carry someone.
    pub fn voices_of(&self, peer: &PeerId) -> usize {
        let Some(member) = self.members.get(peer) else { return 0 };
        let heard = |s: &&SlotState| s.kind == TrackKind::Audio && s.mid.is_some() && s.occupant.is_some();
        member.slots.iter().filter(heard).count()
    }

    fn others(&self, peer: &PeerId) -> Vec<PeerId> {
        let Some(member) = self.members.get(peer) else { return Vec::new() };
        let list = self.rooms.get(&member.room).map(Vec::as_slice).unwrap_or_default();
        list.iter().filter(|p| *p != peer).cloned().collect()
    }

    fn free_slots_of(&mut self, sub: &PeerId, publisher: &PeerId, changes: &mut Vec<Change>) {
        let Some(member) = self.members.get_mut(sub) else { return };
        let mut freed = false;
        for slot in &mut member.slots {
            if slot.occupant.as_ref().is_some_and(|k| &k.peer == publisher) {
                slot.occupant = None;
                freed |= slot.mid.is_some();
            }
        }
        // A slot never offered has nothing to keep: drop it.
        member.slots.retain(|s| s.mid.is_some() || s.occupant.is_some());
        if freed {
            changes.push(Change::SlotMap(sub.clone()));
        }
    }

    /// Gives `sub` a slot for every track in its room it does not receive
    /// yet, while slots last (the room's earlier members first).
    fn refill(&mut self, sub: &PeerId, changes: &mut Vec<Change>) {
        let wanted: Vec<(TrackKey, TrackKind)> = self
            .others(sub)
            .into_iter()
            .flat_map(|other| {
                let tracks = self.members.get(&other).map(|m| m.tracks.clone()).unwrap_or_default();
                tracks.into_iter().map(move |(mid, kind)| (TrackKey { peer: other.clone(), mid }, kind))
            })
            .collect();
        for (key, kind) in wanted {
            self.assign(sub, &key, kind, changes);
        }
    }

    fn assign(&mut self, sub: &PeerId, key: &TrackKey, kind: TrackKind, changes: &mut Vec<Change>) {
        let cap = self.slots_per_kind;
        let Some(member) = self.members.get_mut(sub) else { return };
        if member.slots.iter().any(|s| s.occupant.as_ref() == Some(key)) {
            return;
        }
        if let Some(slot) = member.slots.iter_mut().find(|s| s.kind == kind && s.occupant.is_none()) {
            slot.occupant = Some(key.clone());
            if slot.mid.is_some() {
                push_once(changes, Change::SlotMap(sub.clone()));
            }
            if slot.open {
                changes.push(Change::Keyframe(key.clone()));
            }
        } else if member.slots.iter().filter(|s| s.kind == kind).count() < cap {
            member.slots.push(SlotState { kind, mid: None, open: false, occupant: Some(key.clone()) });
            push_once(changes, Change::Negotiate(sub.clone()));
        }
        // Otherwise every slot is taken: the track waits for one to free.
    }
}

fn push_once(changes: &mut Vec<Change>, change: Change) {
    if !changes.contains(&change) {
        changes.push(change);
    }
}

#[cfg(test)]
#[path = "rooms_tests.rs"]
mod tests;
