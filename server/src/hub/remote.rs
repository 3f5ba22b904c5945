//! The hub's view of other nodes (Redis scale-out): remote members of the
//! rooms we hold, their events, and room counts for the lobby. Still plain
//! state; the transport moves the events.

use super::{ClusterEvent, Delivery, Hub, Output, Peer, Placed, Room};
use app::protocol::{Member, PeerId, ServerMsg};
use std::collections::HashMap;

/// How long a remote member may be missing from the cluster's record
/// before they count as gone. A node reconnects to Redis within its
/// 5 s backoff and registers its members at once; rooms reconcile every
/// 3 s. Members of a node that died meanwhile leave this much later.
pub const MISSING_GRACE_MS: u64 = 15_000;

impl Hub {
    /// From now on local changes are also published for other nodes.
    pub fn set_clustered(&mut self) {
        self.clustered = true;
    }

    pub fn is_replicated(&self, room: &str) -> bool {
        self.rooms.contains_key(room)
    }

    pub fn replicated_rooms(&self) -> Vec<String> {
        self.rooms.keys().cloned().collect()
    }

    /// Our own members with their rooms and join times, to register again
    /// after Redis comes back empty.
    pub fn local_members(&self) -> Vec<(String, Member, u64)> {
        self.peers
            .iter()
            .filter(|(_, p)| p.node.is_none())
            .filter_map(|(id, p)| Some((p.room.clone()?, self.member(id), p.since)))
            .collect()
    }

    /// The settings of the rooms our members are in, to store again after
    /// Redis lost them.
    pub fn room_settings(&self) -> Vec<ClusterEvent> {
        self.rooms
            .iter()
            .filter(|(_, r)| r.members.iter().any(|p| self.is_local(p)))
            .filter_map(|(room, _)| self.settings_of(room))
            .collect()
    }

    /// Stops mirroring a room none of our own members is in (the last one
    /// left, or a join was refused): its remote members then only count in
    /// the lobby. On a single node that room is simply gone.
    pub(super) fn release_if_unused(&mut self, room: &str) {
        let unused = self.rooms.get(room).is_some_and(|r| !r.members.iter().any(|p| self.is_local(p)));
        if !unused {
            return;
        }
        let Some(r) = self.rooms.remove(room) else { return };
        // Its count now comes from the cluster, or it is gone.
        self.unplaced.insert(room.to_owned());
        if self.clustered {
            self.released.push(room.to_owned());
            if !r.members.is_empty() {
                self.remote_counts.insert(room.to_owned(), r.members.len() as u32);
            }
        }
        for p in r.members {
            self.missing.remove(&p);
            self.peers.remove(&p);
        }
    }

    /// The lobby count of a room, as the cluster reports it.
    pub fn set_room_count(&mut self, room: &str, count: u32) {
        if self.remote_counts.get(room) != Some(&count) {
            if count == 0 {
                self.remote_counts.remove(room);
                self.remote_flags.remove(room);
            } else {
                self.remote_counts.insert(room.to_owned(), count);
            }
            if !self.rooms.contains_key(room) {
                self.mark_dirty(room);
            }
        }
    }

    /// Passcode and lock of a room, as lobbies here list it when only other
    /// nodes hold its members.
    pub fn set_room_flags(&mut self, room: &str, passcode: bool, locked: bool) {
        if self.remote_flags.get(room) != Some(&(passcode, locked)) {
            self.remote_flags.insert(room.to_owned(), (passcode, locked));
            if !self.rooms.contains_key(room) {
                self.mark_dirty(room);
            }
        }
    }

    pub fn set_room_counts(&mut self, counts: HashMap<String, u32>) {
        let gone: Vec<String> =
            self.remote_counts.keys().filter(|r| !counts.contains_key(*r)).cloned().collect();
        for room in gone {
            self.set_room_count(&room, 0);
        }
        for (room, count) in counts {
            self.set_room_count(&room, count);
        }
    }

    /// Brings a room's remote members in line with the cluster's record
    /// (`placed` lists everyone, ours included). Creates the replica if
    /// needed; tells our members about anyone who came or went. A member
    /// the record lacks goes only once it has lacked them for
    /// [`MISSING_GRACE_MS`]: their node may not have registered them again
    /// yet after a Redis outage, and leaving and joining again would tear
    /// down everyone's call with them.
    pub fn reconcile(&mut self, room: &str, placed: Vec<Placed>, now_ms: u64) -> Output {
        let out = self.reconcile_inner(room, placed, now_ms);
        self.output(None, Ok(out))
    }

    fn reconcile_inner(&mut self, room: &str, placed: Vec<Placed>, now_ms: u64) -> Vec<Delivery> {
        let mut out = Vec::new();
        let media = self.config.media_mode;
        self.rooms.entry(room.to_owned()).or_insert_with(|| Room { media, ..Room::default() });
        self.remote_counts.remove(room);
        self.unplaced.insert(room.to_owned());
        let remote_now: Vec<PeerId> = self
            .rooms
            .get(room)
            .map(|r| r.members.iter().filter(|p| !self.is_local(p)).cloned().collect())
            .unwrap_or_default();
        for id in remote_now {
            if placed.iter().any(|p| p.member.id == id) {
                self.missing.remove(&id);
                continue;
            }
            let since = *self.missing.entry(id.clone()).or_insert(now_ms);
            if now_ms.saturating_sub(since) >= MISSING_GRACE_MS {
                let member = self.member(&id);
                out.extend(self.remove_remote(room, member));
            }
        }
        for p in placed {
            if !self.is_local(&p.member.id) {
                out.extend(self.add_remote(room, p.member, p.node, p.since));
            }
        }
        out
    }

    /// An event published by `from_node`.
    pub fn apply(&mut self, from_node: &str, event: ClusterEvent) -> Output {
        let out = self.apply_inner(from_node, event);
        self.output(None, Ok(out))
    }

    fn apply_inner(&mut self, from_node: &str, event: ClusterEvent) -> Vec<Delivery> {
        match event {
            ClusterEvent::Joined { room, member, since } => {
                if self.rooms.contains_key(&room) {
                    return self.add_remote(&room, member, from_node.to_owned(), since);
                }
                Vec::new()
            }
            ClusterEvent::Settings { room, passcode, locked, media } => {
                let Some(r) = self.rooms.get_mut(&room) else { return Vec::new() };
                let lock_changed = r.locked != locked;
                let media_changed = r.media != media;
                r.passcode = passcode;
                r.locked = locked;
                self.mark_dirty(&room);
                if media_changed {
                    self.switch_media(&room, media);
                }
                // Who changed it is not carried; the room learns it changed.
                let Some(host) = self.rooms.get(&room).and_then(|r| r.members.first().cloned()) else {
                    return Vec::new();
                };
                let by = self.member(&host);
                let to = self.local_members_of(&room);
                let mut out = Vec::new();
                if lock_changed {
                    out.push(Delivery::many(to.clone(), ServerMsg::RoomLocked { locked, by: by.clone() }));
                }
                if media_changed {
                    out.push(Delivery::many(to, ServerMsg::RoomMedia { media, by: Some(by) }));
                }
                out
            }
            ClusterEvent::Remove { room, id, by } => self.remove_local(&room, &id, by),
            ClusterEvent::Hand { room, id, hand } => self.apply_hand(&room, &id, hand),
            ClusterEvent::Reacted { room, from, reaction } => {
                vec![Delivery::many(self.local_members_of(&room), ServerMsg::Reacted { from, reaction })]
            }
            ClusterEvent::MuteAll { room, by } => {
                let to: Vec<PeerId> =
                    self.local_members_of(&room).into_iter().filter(|p| *p != by.id).collect();
                vec![Delivery::many(to, ServerMsg::MuteRequested { by })]
            }
            ClusterEvent::Left { room, member } => self.remove_remote(&room, member),
            ClusterEvent::Updated { room, member, .. } => {
                let Some(peer) = self.peers.get_mut(&member.id).filter(|p| p.node.is_some()) else {
                    return Vec::new();
                };
                let renamed = peer.nickname.as_deref() != Some(member.nickname.as_str());
                let media_changed = peer.media != member.media;
                let hand_changed = peer.hand != member.hand;
                peer.nickname = Some(member.nickname.clone());
                peer.media = member.media;
                peer.hand = member.hand;
                let to = self.local_members_of(&room);
                let mut out = Vec::new();
                if renamed {
                    out.push(Delivery::many(to.clone(), ServerMsg::PeerRenamed { peer: member.clone() }));
                }
                if media_changed {
                    out.push(Delivery::many(
                        to.clone(),
                        ServerMsg::PeerMedia { id: member.id.clone(), media: member.media },
                    ));
                }
                if hand_changed {
                    out.push(Delivery::many(to, ServerMsg::PeerHand { id: member.id, hand: member.hand }));
                }
                out
            }
            ClusterEvent::Chat { room, from, text, ts, nonce } => {
                let to = self.local_members_of(&room);
                if to.is_empty() {
                    return Vec::new();
                }
                vec![Delivery::many(to, ServerMsg::Chat { from, text, ts, nonce })]
            }
            ClusterEvent::ShareStarted { room, id } => {
                let Some(r) = self.rooms.get_mut(&room) else { return Vec::new() };
                r.sharer = Some(id.clone());
                vec![Delivery::many(self.local_members_of(&room), ServerMsg::ShareStarted { id })]
            }
            ClusterEvent::ShareStopped { room, id } => {
                let Some(r) = self.rooms.get_mut(&room).filter(|r| r.sharer.as_ref() == Some(&id)) else {
                    return Vec::new();
                };
                r.sharer = None;
                vec![Delivery::many(self.local_members_of(&room), ServerMsg::ShareStopped { id })]
            }
            // Between two nodes' transports: the hub answers through
            // `hand_over` and `adopt`.
            ClusterEvent::HandoverAsk { .. }
            | ClusterEvent::HandedOver { .. }
            | ClusterEvent::HandoverRefused { .. } => Vec::new(),
            ClusterEvent::Signal { to, from, payload } => {
                // Still only within one room, as we see it.
                let same_room = self.is_local(&to)
                    && self.room_of(&to).is_some()
                    && self.room_of(&to) == self.room_of(&from);
                if !same_room {
                    return Vec::new();
                }
                vec![Delivery::one(&to, ServerMsg::Signal { from, payload })]
            }
        }
    }

    pub(super) fn has_remote_members(&self, room: &str) -> bool {
        self.rooms.get(room).is_some_and(|r| r.members.iter().any(|p| !self.is_local(p)))
    }

    pub(super) fn local_members_of(&self, room: &str) -> Vec<PeerId> {
        self.rooms
            .get(room)
            .map(|r| r.members.iter().filter(|p| self.is_local(p)).cloned().collect())
            .unwrap_or_default()
    }

    fn add_remote(&mut self, room: &str, member: Member, node: String, since: u64) -> Vec<Delivery> {
        self.missing.remove(&member.id);
        let Some(r) = self.rooms.get(room) else { return Vec::new() };
        if r.members.contains(&member.id) {
            // Its session may have moved to another node (a page that came
            // back through it): signals for it go there from now on.
            if let Some(peer) = self.peers.get_mut(&member.id).filter(|p| p.node.is_some()) {
                peer.nickname = Some(member.nickname);
                peer.media = member.media;
                peer.hand = member.hand;
                peer.node = Some(node);
            }
            return Vec::new();
        }
        let at = self.place_in_order(room, since, &member.id);
        self.rooms.get_mut(room).expect("checked").members.insert(at, member.id.clone());
        self.peers.insert(
            member.id.clone(),
            Peer {
                nickname: Some(member.nickname.clone()),
                // Their own node made the name unique when they joined.
                shown: None,
                room: Some(room.to_owned()),
                media: member.media,
                node: Some(node),
                since,
                hand: member.hand,
                ..Peer::default()
            },
        );
        self.mark_dirty(room);
        let to: Vec<PeerId> = self.local_members_of(room).into_iter().filter(|p| *p != member.id).collect();
        if to.is_empty() {
            return Vec::new();
        }
        vec![Delivery::many(to, ServerMsg::PeerJoined { peer: member })]
    }

    fn remove_remote(&mut self, room: &str, member: Member) -> Vec<Delivery> {
        if self.is_local(&member.id) {
            return Vec::new();
        }
        self.missing.remove(&member.id);
        let Some(r) = self.rooms.get_mut(room).filter(|r| r.members.contains(&member.id)) else {
            return Vec::new();
        };
        r.members.retain(|p| *p != member.id);
        let was_sharing = r.sharer.as_ref() == Some(&member.id);
        if was_sharing {
            r.sharer = None;
        }
        self.peers.remove(&member.id);
        self.mark_dirty(room);
        let to = self.local_members_of(room);
        let mut out = Vec::new();
        if was_sharing {
            out.push(Delivery::many(to.clone(), ServerMsg::ShareStopped { id: member.id.clone() }));
        }
        out.push(Delivery::many(to, ServerMsg::PeerLeft { peer: member }));
        out
    }
}
