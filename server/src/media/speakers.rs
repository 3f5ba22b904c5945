//! Who speaks in each SFU room, from the audio levels publishers put in
//! their packets (RFC 6464). Plain state: packets' levels go in as they
//! are forwarded; every [`WINDOW`] each room's mean levels go through the
//! same rules a mesh call's pages use ([`SpeakerDetector`]), and what
//! changed comes out for the room to hear.
//!
//! A member with no audio in a window (muted with the track disabled sends
//! silence; no microphone sends nothing) counts as silent.

use app::protocol::PeerId;
use app::speaker::SpeakerDetector;
use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

/// A few hundred milliseconds: long enough to average over syllables and
/// the gaps between them, short enough that the highlight (and, with
/// layers, the speaker's quality) follows a new voice within a second.
pub const WINDOW: Duration = Duration::from_millis(250);

#[derive(Default)]
struct Heard {
    sum: f32,
    packets: u32,
}

#[derive(Default)]
pub struct Speakers {
    heard: HashMap<PeerId, Heard>,
    rooms: HashMap<String, SpeakerDetector>,
    next: Option<Instant>,
}

impl Speakers {
    /// One audio packet of `peer`'s, at `dbov` (`-127..=0`, str0m's sign).
    pub fn heard(&mut self, peer: &PeerId, dbov: i8) {
        // Fifty packets a second each: the id is copied once a window.
        let heard = match self.heard.get_mut(peer) {
            Some(heard) => heard,
            None => self.heard.entry(peer.clone()).or_default(),
        };
        heard.sum += SpeakerDetector::linear(dbov);
        heard.packets += 1;
    }

    /// The speaker a newcomer to `room` should be told about.
    pub fn current(&self, room: &str) -> Option<&PeerId> {
        self.rooms.get(room).and_then(SpeakerDetector::current)
    }

    /// When the current window closes.
    pub fn next_tick(&self, now: Instant) -> Instant {
        self.next.unwrap_or(now)
    }

    /// Closes the window if it is over: each room in `rooms` (its name and
    /// members) gets its members' mean levels, and the rooms whose speaker
    /// changed come back with the new one. Rooms not listed are forgotten.
    pub fn tick<'a>(
        &mut self,
        now: Instant,
        rooms: impl IntoIterator<Item = (&'a str, &'a [PeerId])>,
    ) -> Vec<(String, Option<PeerId>)> {
        if self.next.is_some_and(|due| now < due) {
            return Vec::new();
        }
        // A late tick (a busy thread) closes one window, not several.
        self.next = Some(now + WINDOW);
        let mut heard = std::mem::take(&mut self.heard);
        let mut changes = Vec::new();
        let mut seen = HashSet::new();
        for (room, members) in rooms {
            seen.insert(room);
            let levels: Vec<(PeerId, f32)> = members
                .iter()
                .map(|id| {
                    let level = heard.remove(id).map_or(0.0, |h| h.sum / h.packets.max(1) as f32);
                    (id.clone(), level)
                })
                .collect();
            if !self.rooms.contains_key(room) {
                self.rooms.insert(room.to_owned(), SpeakerDetector::every_ms(WINDOW.as_millis() as u32));
            }
            let detector = self.rooms.get_mut(room).expect("inserted above");
            let before = detector.current().cloned();
            let now_speaking = detector.update(&levels);
            if now_speaking != before {
                changes.push((room.to_owned(), now_speaking));
            }
        }
        self.rooms.retain(|room, _| seen.contains(&room.as_str()));
        changes
    }
}

#[cfg(test)]
#[path = "speakers_tests.rs"]
mod tests;
