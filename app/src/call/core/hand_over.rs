//! Changing a live call's route (mesh ↔ SFU) make-before-break: the new
//! connections open while the old ones still carry everyone, and each
//! tile moves over once that person's media decodes on the new path (or
//! when [`HAND_OVER_MS`] is up), so nobody's picture stops for the switch.
//! The old path is let go of only then, for everyone at once: a connection
//! has two ends, and the other one may still be showing what it carries.

use super::{Action, CallCore, Carries};
use crate::call::CallState;
use crate::protocol::{MediaMode, PeerId};
use crate::rtc::link::PeerLink;

/// The longest a tile waits for the new path. Shorter than the server's
/// own grace for SFU sessions after a switch to a mesh (12 s), so the old
/// path is still there when the page lets go of it.
pub const HAND_OVER_MS: u32 = 10_000;

impl CallCore {
    /// The room's route changed to `to`: set up what the new path needs
    /// without closing what carries media now.
    pub(super) fn begin_hand_over(&mut self, to: MediaMode, out: &mut Vec<Action>) {
        match to {
            // A link still on its way out from a switch just before starts
            // over. What the server sent for the new one is kept.
            MediaMode::Sfu => {
                if self.sfu.take().is_some() {
                    out.push(Action::CloseSfu);
                }
                self.restarting = false;
            }
            // A mesh connection carries chat and files too: data-only ones
            // make way for it. The server link stays until the hand-over.
            MediaMode::Mesh => {
                let data_only: Vec<PeerId> = self
                    .peers
                    .0
                    .iter()
                    .filter(|(_, c)| *c == Carries::DataOnly)
                    .map(|(p, _)| p.clone())
                    .collect();
                for id in data_only {
                    self.peers.remove(&id);
                    out.push(Action::Disconnect(id));
                }
                self.direct_wanted = false;
                self.sfu_backlog.clear();
                if self.restarting {
                    self.end_sfu_link(out);
                }
            }
        }
    }

    /// Moves `who`'s tile to the current route; `None`: time is up, every
    /// tile moves and the old path goes.
    pub(super) fn hand_over(&mut self, view: &mut CallState, who: Option<&PeerId>, out: &mut Vec<Action>) {
        let Some(mode) = self.mode else { return };
        let to_server = mode == MediaMode::Sfu;
        let sfu_link = self.sfu.unwrap_or(PeerLink::Connecting);
        for v in view.peers.iter_mut().filter(|v| v.via_server != to_server && who.is_none_or(|w| *w == v.id))
        {
            v.via_server = to_server;
            v.stream_rev += 1;
            v.link = match (to_server, self.peers.get(&v.id)) {
                (true, _) => sfu_link,
                (false, Some(Carries::Media(link))) => link,
                (false, _) => PeerLink::Connecting,
            };
        }
        if who.is_some() {
            return;
        }
        if to_server {
            let mesh: Vec<PeerId> = self
                .peers
                .0
                .iter()
                .filter(|(_, c)| matches!(c, Carries::Media(_)))
                .map(|(p, _)| p.clone())
                .collect();
            for id in mesh {
                self.peers.remove(&id);
                self.receiving.retain(|(from, _), _| *from != id);
                out.push(Action::Disconnect(id));
            }
        } else {
            self.end_sfu_link(out);
        }
    }
}
