//! Admission to the SFU: a node forwards at most `--max-forwarded-tracks`
//! tracks, each member of an SFU room counted as sending sound and picture
//! to each of the others. A join or a switch that would go past it is
//! refused ("this server is full"): one room too many would otherwise make
//! every room's call worse.

use super::{Hub, Room};
use app::protocol::MediaMode;

/// What a room of `n` forwards through the SFU: two tracks from each member
/// to each of the others.
pub(super) fn tracks_for(n: usize) -> usize {
    2 * n * n.saturating_sub(1)
}

fn through_sfu(room: &Room) -> bool {
    room.media == MediaMode::Sfu
}

impl Hub {
    /// What this node's SFU rooms forward, counted as above.
    pub(super) fn forwarded_tracks(&self) -> usize {
        self.rooms.values().filter(|r| through_sfu(r)).map(|r| tracks_for(r.members.len())).sum()
    }

    /// Whether a room may go from forwarding for `now` members (0: not
    /// through the SFU yet) to `then` members within the budget.
    pub(super) fn sfu_admits(&self, now: usize, then: usize) -> bool {
        let Some(max) = self.config.max_forwarded_tracks else { return true };
        self.forwarded_tracks() - tracks_for(now) + tracks_for(then) <= max
    }
}
