//! Who is speaking, from received audio levels, without flicker.
//!
//! Levels arrive a couple of times a second. Each person's level is smoothed
//! with a decaying envelope (speech has gaps; so does Chromium's fake
//! microphone, which beeps), and the highlight moves only when someone else
//! has been the loudest, above a threshold, for several updates in a row.

use crate::protocol::PeerId;
use std::collections::HashMap;

/// Below this (RMS, 0–1) nobody counts as speaking.
pub const THRESHOLD: f32 = 0.01;
/// How much of the previous envelope survives one update.
const DECAY: f32 = 0.6;
/// Updates in a row someone must lead before the highlight moves to them.
const SWITCH_AFTER: u32 = 2;

#[derive(Default)]
pub struct SpeakerDetector {
    envelopes: HashMap<PeerId, f32>,
    current: Option<PeerId>,
    challenger: Option<(PeerId, u32)>,
}

impl SpeakerDetector {
    /// Takes this update's levels (people missing from it have left) and
    /// returns who is the active speaker now.
    pub fn update(&mut self, levels: &[(PeerId, f32)]) -> Option<PeerId> {
        self.envelopes.retain(|id, _| levels.iter().any(|(l, _)| l == id));
        for (id, level) in levels {
            let envelope = self.envelopes.entry(id.clone()).or_insert(0.0);
            *envelope = level.max(*envelope * DECAY);
        }
        if self.current.as_ref().is_some_and(|c| !self.envelopes.contains_key(c)) {
            self.current = None;
        }
        let loudest = self
            .envelopes
            .iter()
            .filter(|(_, e)| **e >= THRESHOLD)
            .max_by(|a, b| a.1.total_cmp(b.1).then_with(|| b.0.cmp(a.0)))
            .map(|(id, _)| id.clone());
        match loudest {
            // Silence, or the current speaker still leads: nothing moves.
            None => {}
            Some(id) if Some(&id) == self.current.as_ref() => self.challenger = None,
            Some(id) if self.current.is_none() => {
                self.current = Some(id);
                self.challenger = None;
            }
            Some(id) => {
                let streak = match &self.challenger {
                    Some((c, n)) if *c == id => n + 1,
                    _ => 1,
                };
                if streak >= SWITCH_AFTER {
                    self.current = Some(id);
                    self.challenger = None;
                } else {
                    self.challenger = Some((id, streak));
                }
            }
        }
        self.current.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> PeerId {
        PeerId(s.into())
    }

    #[test]
    fn the_first_voice_is_the_speaker() {
        let mut d = SpeakerDetector::default();
        assert_eq!(d.update(&[(p("a"), 0.0), (p("b"), 0.0)]), None);
        assert_eq!(d.update(&[(p("a"), 0.0), (p("b"), 0.2)]), Some(p("b")));
    }

    #[test]
    fn a_single_loud_update_does_not_steal_the_highlight() {
        let mut d = SpeakerDetector::default();
        d.update(&[(p("a"), 0.2), (p("b"), 0.0)]);
        assert_eq!(d.update(&[(p("a"), 0.0), (p("b"), 0.9)]), Some(p("a")), "one blip");
        // The envelope of a decays; b keeps leading: now b.
        assert_eq!(d.update(&[(p("a"), 0.0), (p("b"), 0.9)]), Some(p("b")));
    }

    #[test]
    fn pauses_keep_the_current_speaker() {
        let mut d = SpeakerDetector::default();
        d.update(&[(p("a"), 0.3), (p("b"), 0.0)]);
        for _ in 0..20 {
            assert_eq!(d.update(&[(p("a"), 0.0), (p("b"), 0.0)]), Some(p("a")));
        }
    }

    #[test]
    fn intermittent_sound_still_moves_the_highlight() {
        // Like a beep once a second sampled twice a second.
        let mut d = SpeakerDetector::default();
        d.update(&[(p("a"), 0.3), (p("b"), 0.0)]);
        let mut now = None;
        for tick in 0..6 {
            let b = if tick % 2 == 0 { 0.3 } else { 0.0 };
            now = d.update(&[(p("a"), 0.0), (p("b"), b)]);
        }
        assert_eq!(now, Some(p("b")));
    }

    #[test]
    fn a_speaker_who_leaves_is_forgotten() {
        let mut d = SpeakerDetector::default();
        d.update(&[(p("a"), 0.3)]);
        assert_eq!(d.update(&[(p("b"), 0.0)]), None);
    }

    #[test]
    fn alternating_leaders_do_not_flicker() {
        let mut d = SpeakerDetector::default();
        d.update(&[(p("a"), 0.3), (p("b"), 0.0)]);
        let mut changes = 0;
        let mut last = Some(p("a"));
        for tick in 0..20 {
            let (a, b) = if tick % 2 == 0 { (0.2, 0.25) } else { (0.25, 0.2) };
            let now = d.update(&[(p("a"), a), (p("b"), b)]);
            if now != last {
                changes += 1;
                last = now;
            }
        }
        assert!(changes <= 1, "{changes} changes");
    }
}
