//! Which media thread carries each room's call, with `--media-threads`
//! above one. Plain state: commands in, (thread, command) pairs out.
//!
//! A room lives on one thread (its members forward to each other there),
//! so a new room goes to the thread with the fewest members at the time,
//! and stays there while anyone is in it.

use super::cmd::MediaCmd;
use app::protocol::PeerId;
use std::collections::HashMap;

#[derive(Debug)]
pub struct Router {
    /// Members on each thread.
    load: Vec<usize>,
    /// Each room's thread and how many are in it.
    rooms: HashMap<String, (usize, usize)>,
    /// Each member's room.
    peers: HashMap<PeerId, String>,
}

impl Router {
    pub fn new(threads: usize) -> Self {
        Router { load: vec![0; threads.max(1)], rooms: HashMap::new(), peers: HashMap::new() }
    }

    /// Where `cmd` goes: one thread, or for a member moving to a room on
    /// another thread, a leave to the old one and the join to the new.
    pub fn route(&mut self, cmd: MediaCmd) -> Vec<(usize, MediaCmd)> {
        match cmd {
            MediaCmd::Join { room, peer } => {
                let mut out = Vec::new();
                if self.peers.get(&peer) == Some(&room) {
                    let thread = self.rooms[&room].0;
                    return vec![(thread, MediaCmd::Join { room, peer })];
                }
                if let Some(thread) = self.forget(&peer) {
                    out.push((thread, MediaCmd::Leave { peer: peer.clone() }));
                }
                let least = (0..self.load.len()).min_by_key(|t| self.load[*t]).unwrap_or(0);
                let entry = self.rooms.entry(room.clone()).or_insert((least, 0));
                entry.1 += 1;
                let thread = entry.0;
                self.load[thread] += 1;
                self.peers.insert(peer.clone(), room.clone());
                out.push((thread, MediaCmd::Join { room, peer }));
                out
            }
            MediaCmd::Leave { peer } => match self.forget(&peer) {
                Some(thread) => vec![(thread, MediaCmd::Leave { peer })],
                None => Vec::new(),
            },
            // Anything else is for the thread of the member's room; one in
            // none (the hub sends none such) goes to the first.
            MediaCmd::Signal { ref peer, .. }
            | MediaCmd::Restart { ref peer }
            | MediaCmd::Presenting { ref peer, .. } => {
                let thread = self.peers.get(peer).and_then(|room| self.rooms.get(room)).map_or(0, |r| r.0);
                vec![(thread, cmd)]
            }
        }
    }

    /// Takes `peer` out of its room; returns the thread it was on.
    fn forget(&mut self, peer: &PeerId) -> Option<usize> {
        let room = self.peers.remove(peer)?;
        let (thread, members) = self.rooms.get_mut(&room)?;
        let thread = *thread;
        *members -= 1;
        if *members == 0 {
            self.rooms.remove(&room);
        }
        self.load[thread] -= 1;
        Some(thread)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use app::protocol::{MediaTransport, SignalPayload};

    fn id(s: &str) -> PeerId {
        PeerId(s.to_owned())
    }
    fn join(room: &str, peer: &str) -> MediaCmd {
        MediaCmd::Join { room: room.into(), peer: id(peer) }
    }
    fn leave(peer: &str) -> MediaCmd {
        MediaCmd::Leave { peer: id(peer) }
    }
    fn threads(out: &[(usize, MediaCmd)]) -> Vec<usize> {
        out.iter().map(|(t, _)| *t).collect()
    }

    #[test]
    fn rooms_go_to_the_least_loaded_thread_and_stay_there() {
        let mut r = Router::new(2);
        assert_eq!(threads(&r.route(join("a", "1"))), [0]);
        assert_eq!(threads(&r.route(join("b", "2"))), [1]);
        assert_eq!(threads(&r.route(join("a", "3"))), [0], "a room stays on its thread");
        assert_eq!(threads(&r.route(join("c", "4"))), [1], "thread 1 holds fewer");
        let signal = MediaCmd::Signal {
            peer: id("3"),
            transport: MediaTransport::Publish,
            payload: SignalPayload::Candidate {
                candidate: String::new(),
                sdp_mid: None,
                sdp_m_line_index: None,
            },
        };
        assert_eq!(threads(&r.route(signal)), [0]);
        assert_eq!(threads(&r.route(MediaCmd::Restart { peer: id("4") })), [1]);
    }

    #[test]
    fn a_room_emptied_is_forgotten_and_a_move_leaves_the_old_thread() {
        let mut r = Router::new(2);
        r.route(join("a", "1"));
        r.route(join("b", "2"));
        // 1 moves to b (thread 1): a leave on 0, the join on 1.
        assert_eq!(r.route(join("b", "1")), vec![(0, leave("1")), (1, join("b", "1"))]);
        assert_eq!(r.route(leave("1")), vec![(1, leave("1"))]);
        assert_eq!(r.route(leave("1")), vec![], "left already");
        r.route(leave("2"));
        assert!(r.rooms.is_empty() && r.peers.is_empty());
        assert_eq!(r.load, [0, 0]);
        // b is gone: joined again, it goes wherever is least loaded.
        assert_eq!(threads(&r.route(join("b", "5"))), [0]);
        // The same join twice (a restart of the room's call) stays put.
        assert_eq!(r.route(join("b", "5")), vec![(0, join("b", "5"))]);
        assert_eq!(r.load, [1, 0]);
    }
}
