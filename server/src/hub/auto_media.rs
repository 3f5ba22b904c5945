//! `--media-mode auto`: a room is a mesh while small (lowest latency, end
//! to end encrypted) and goes through the SFU from `--sfu-from` people,
//! when every browser uploading to every other stops working. Back to a
//! mesh only once it has been down to two for a while, so a room of four
//! or five does not flap.

use super::{Delivery, Hub, Output};
use crate::media::MediaCmd;
use app::protocol::{MediaMode, ServerMsg};

/// A room this small goes back to a mesh...
pub const MESH_AGAIN_AT: usize = 2;
/// ...after staying this small this long (ms).
pub const MESH_AGAIN_AFTER_MS: u64 = 5_000;
/// How long SFU sessions outlive a switch to a mesh (ms): the browsers
/// drop them as soon as each person's mesh media decodes, this is the cap.
pub const DRAIN_MS: u64 = 12_000;

impl Hub {
    /// Whether rooms switch by themselves here. Not with Redis scale-out
    /// yet: each node's SFU forwards only its own members' media, so a
    /// room spread over nodes stays a mesh.
    pub(super) fn auto_media(&self) -> bool {
        self.config.sfu_from.is_some() && !self.clustered
    }

    /// After a join: an auto mesh that reached `--sfu-from` people goes
    /// through the SFU. Returns whether it did.
    pub(super) fn grow_to_sfu(&mut self, room: &str) -> bool {
        let Some(from) = self.config.sfu_from.filter(|_| self.auto_media()) else { return false };
        let Some(r) = self.rooms.get(room) else { return false };
        if !r.auto || r.media != MediaMode::Mesh || r.members.len() < from {
            return false;
        }
        // Past the SFU's budget the room stays a mesh while it can; the
        // next join tries again.
        if !self.sfu_admits(0, r.members.len()) {
            return false;
        }
        self.switch_media(room, MediaMode::Sfu);
        if let Some(event) = self.settings_of(room) {
            self.publish(None, event);
        }
        true
    }

    /// Time-driven changes, called on a timer: auto rooms that stayed down
    /// to two go back to a mesh; SFU sessions of rooms that did are closed
    /// once the hand-over had its time.
    pub fn tick(&mut self, now_ms: u64) -> Output {
        let mut out = Vec::new();
        let auto = self.auto_media();
        let mut shrunk = Vec::new();
        let mut drained = Vec::new();
        for (name, r) in self.rooms.iter_mut() {
            if let Some(since) = r.draining.as_mut() {
                let since = *since.get_or_insert(now_ms);
                if now_ms.saturating_sub(since) >= DRAIN_MS {
                    r.draining = None;
                    drained.push(name.clone());
                }
            }
            if !(auto && r.auto && r.media == MediaMode::Sfu) {
                continue;
            }
            if r.members.len() > MESH_AGAIN_AT.min(self.config.max_peers_per_room) {
                r.small_since = None;
                continue;
            }
            let since = *r.small_since.get_or_insert(now_ms);
            if now_ms.saturating_sub(since) >= MESH_AGAIN_AFTER_MS {
                shrunk.push(name.clone());
            }
        }
        for room in drained {
            for peer in self.local_members_of(&room) {
                self.media.push(MediaCmd::Leave { peer });
            }
        }
        for room in shrunk {
            self.switch_media(&room, MediaMode::Mesh);
            if let Some(event) = self.settings_of(&room) {
                self.publish(None, event);
            }
            let to = self.local_members_of(&room);
            out.push(Delivery::many(to, ServerMsg::RoomMedia { media: MediaMode::Mesh, by: None }));
        }
        self.output(None, Ok(out))
    }
}
