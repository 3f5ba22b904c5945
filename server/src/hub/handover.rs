//! A session moving between nodes (Redis scale-out). A page whose socket
//! dropped may come back through any node; its room must not see it leave
//! and join again, which would tear down everyone's call with it.

use super::{ClusterEvent, Delivery, Handed, Hub, Output, Peer, Room};
use crate::media::MediaCmd;
use app::protocol::{MediaMode, PeerId, ServerMsg};

impl Hub {
    /// Hands `id`, one of ours, to `node`, where its page came back with
    /// the token of generation `generation`. It stays in its room as a
    /// member held there; the answer to `ask` carries what `node` needs.
    /// Someone we do not hold is refused as ended.
    pub fn hand_over(&mut self, id: &PeerId, generation: u32, node: &str, ask: u64) -> Output {
        let to = Some(node.to_owned());
        let Some(peer) = self.peers.get_mut(id).filter(|p| p.node.is_none()) else {
            self.publish(to, ClusterEvent::HandoverRefused { ask, ended: true });
            return self.output(None, Ok(Vec::new()));
        };
        let session = Handed {
            id: id.clone(),
            generation,
            nickname: peer.nickname.clone(),
            shown: peer.shown.clone(),
            room: peer.room.clone(),
            since: peer.since,
            media: peer.media,
            hand: peer.hand,
        };
        match &session.room {
            Some(room) => {
                // As other nodes' members are kept: under the name the room shows.
                peer.node = to.clone();
                if let Some(shown) = peer.shown.take() {
                    peer.nickname = Some(shown);
                }
                let sfu =
                    self.rooms.get(room).is_some_and(|r| r.media == MediaMode::Sfu || r.draining.is_some());
                if sfu {
                    self.media.push(MediaCmd::Leave { peer: id.clone() });
                }
                self.release_if_unused(room);
            }
            None => {
                self.peers.remove(id);
            }
        }
        self.lobby.remove(id);
        self.seats.remove(id);
        self.publish(to, ClusterEvent::HandedOver { ask, session });
        self.output(None, Ok(Vec::new()))
    }

    /// Takes on a session another node handed over: ours from now on, in
    /// the room it was in (which the transport mirrors first), in the place
    /// it had. Roommates here knew it already as another node's member;
    /// one who did not (it was missing from the record) hears it joined.
    pub fn adopt(&mut self, session: Handed) -> Output {
        let Handed { id, nickname, shown, room, since, media, hand, .. } = session;
        self.missing.remove(&id);
        let mut out = Vec::new();
        let Some(room) = room else {
            self.peers.insert(id.clone(), Peer { nickname, shown, media, since, ..Peer::default() });
            self.lobby.insert(id);
            return self.output(None, Ok(out));
        };
        let mode = self.config.media_mode;
        let known = self
            .rooms
            .entry(room.clone())
            .or_insert_with(|| Room { media: mode, ..Room::default() })
            .members
            .contains(&id);
        if !known {
            let at = self.place_in_order(&room, since, &id);
            self.rooms.get_mut(&room).expect("just made").members.insert(at, id.clone());
        }
        let peer = Peer { nickname, shown, room: Some(room.clone()), media, since, hand, ..Peer::default() };
        self.peers.insert(id.clone(), peer);
        self.mark_dirty(&room);
        if self.rooms.get(&room).is_some_and(|r| r.media == MediaMode::Sfu) {
            self.media.push(MediaCmd::Join { room: room.clone(), peer: id.clone() });
        }
        // Where the cluster's record finds it now.
        self.publish(None, ClusterEvent::Joined { room: room.clone(), member: self.member(&id), since });
        if !known {
            let to: Vec<PeerId> = self.local_members_of(&room).into_iter().filter(|p| *p != id).collect();
            if !to.is_empty() {
                out.push(Delivery::many(to, ServerMsg::PeerJoined { peer: self.member(&id) }));
            }
        }
        self.output(None, Ok(out))
    }
}
