//! What the host (the room's first member) may do, and nobody else: lock
//! the room, remove a participant, ask everyone to mute, route the call
//! through the server or back to a mesh. The server checks
//! the role on every request; the page only decides what to show.

use super::{ClusterEvent, Delivery, Hub, HubError};
use crate::media::MediaCmd;
use app::protocol::{MediaMode, Member, PeerId, ServerMsg};

impl Hub {
    /// The host of the sender's room, if the sender is it.
    pub(super) fn hosted_room(&self, from: &PeerId) -> Result<String, HubError> {
        let room = self.room_of(from).ok_or(HubError::NotInRoom)?.to_owned();
        match self.rooms.get(&room).and_then(|r| r.members.first()) {
            Some(host) if host == from => Ok(room),
            _ => Err(HubError::NotHost),
        }
    }

    pub(super) fn lock_room(&mut self, from: &PeerId, locked: bool) -> Result<Vec<Delivery>, HubError> {
        let room = self.hosted_room(from)?;
        self.rooms.get_mut(&room).expect("hosted").locked = locked;
        self.mark_dirty(&room);
        let event = self.settings_of(&room).expect("hosted");
        self.publish(None, event);
        let by = self.member(from);
        Ok(vec![Delivery::many(self.members(&room), ServerMsg::RoomLocked { locked, by })])
    }

    pub(super) fn remove_peer(&mut self, from: &PeerId, id: &PeerId) -> Result<Vec<Delivery>, HubError> {
        let room = self.hosted_room(from)?;
        if id == from || self.room_of(id) != Some(room.as_str()) {
            return Err(HubError::PeerNotInRoom);
        }
        let by = self.member(from);
        match self.peers.get(id).and_then(|p| p.node.clone()) {
            // Their node removes them and tells the room, as for a leave.
            Some(node) => {
                self.publish(Some(node), ClusterEvent::Remove { room, id: id.clone(), by });
                Ok(Vec::new())
            }
            None => Ok(self.remove_local(&room, id, by)),
        }
    }

    /// Sends `id` back to the lobby with the reason; the others see them leave.
    pub(super) fn remove_local(&mut self, room: &str, id: &PeerId, by: Member) -> Vec<Delivery> {
        if !self.is_local(id) || self.room_of(id) != Some(room) {
            return Vec::new();
        }
        let mut out = Vec::new();
        self.leave_room(id, &mut out);
        self.lobby.insert(id.clone());
        out.push(Delivery::one(id, ServerMsg::Removed { room: room.to_owned(), by }));
        out.push(Delivery::one(id, ServerMsg::Rooms { rooms: self.lobby_list() }));
        out
    }

    pub(super) fn set_room_media(
        &mut self,
        from: &PeerId,
        media: MediaMode,
    ) -> Result<Vec<Delivery>, HubError> {
        let room = self.hosted_room(from)?;
        let r = self.rooms.get(&room).expect("hosted");
        if r.media == media {
            return Ok(Vec::new());
        }
        if media == MediaMode::Mesh && r.members.len() > self.config.max_peers_per_room {
            return Err(HubError::TooManyForMesh(self.config.max_peers_per_room));
        }
        if media == MediaMode::Sfu && !self.sfu_admits(0, r.members.len()) {
            return Err(HubError::ServerFull);
        }
        self.rooms.get_mut(&room).expect("hosted").auto = false;
        self.switch_media(&room, media);
        let event = self.settings_of(&room).expect("hosted");
        self.publish(None, event);
        let by = self.member(from);
        Ok(vec![Delivery::many(self.members(&room), ServerMsg::RoomMedia { media, by: Some(by) })])
    }

    /// Moves the room's local members onto this node's SFU, or off it.
    /// Off is make-before-break: their SFU sessions stay while the browsers
    /// open the mesh, and end on a later tick ([`Hub::tick`]).
    pub(super) fn switch_media(&mut self, room: &str, media: MediaMode) {
        let Some(r) = self.rooms.get_mut(room) else { return };
        r.media = media;
        r.small_since = None;
        let sharer = r.sharer.clone();
        let was_draining = std::mem::replace(&mut r.draining, (media == MediaMode::Mesh).then_some(None));
        if media == MediaMode::Mesh {
            return;
        }
        for peer in self.local_members_of(room) {
            // Sessions from before a switch back and forth start over.
            if was_draining.is_some() {
                self.media.push(MediaCmd::Leave { peer: peer.clone() });
            }
            self.media.push(MediaCmd::Join { room: room.to_owned(), peer: peer.clone() });
            if sharer.as_ref() == Some(&peer) {
                self.media.push(MediaCmd::Presenting { peer, on: true });
            }
        }
    }

    pub(super) fn mute_all(&mut self, from: &PeerId) -> Result<Vec<Delivery>, HubError> {
        let room = self.hosted_room(from)?;
        let by = self.member(from);
        self.publish(None, ClusterEvent::MuteAll { room: room.clone(), by: by.clone() });
        let others: Vec<PeerId> = self.members(&room).into_iter().filter(|p| p != from).collect();
        Ok(vec![Delivery::many(others, ServerMsg::MuteRequested { by })])
    }
}
