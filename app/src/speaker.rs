//! Who is speaking, from audio levels, without flicker: the one set of
//! rules for both places that decide it. A mesh call's pages feed it the
//! levels they receive (`getStats`, twice a second); the SFU feeds it the
//! levels publishers put in their packets (RFC 6464), a few times a second.
//!
//! Each person's level is smoothed with a decaying envelope (speech has
//! gaps; so does Chromium's fake microphone, which beeps), and the highlight
//! moves only when someone else has been the loudest, and heard above a
//! threshold, for a while. Silence keeps the current speaker.

use crate::protocol::PeerId;

/// Below this (linear amplitude, 0–1, where 1 is 0 dBov: -40 dBov) nobody
/// counts as speaking.
pub const THRESHOLD: f32 = 0.01;
/// How much of an envelope survives one millisecond without sound: 0.36
/// of it survives a second. Per millisecond so that `powi` (a few
/// multiplications) scales it, not `powf`, whose libm code would weigh on
/// the browser's download.
const DECAY_PER_MS: f64 = 0.998_978_870_5;
/// How long someone else must lead before the highlight moves to them.
const LEAD_MS: u32 = 750;

pub struct SpeakerDetector {
    /// A room's worth of people: a list is as fast as a map, and smaller
    /// in the browser's download.
    envelopes: Vec<(PeerId, f32)>,
    current: Option<PeerId>,
    challenger: Option<(PeerId, u32)>,
    /// The envelope's decay per update, and updates in a row a challenger
    /// must lead: the same rules in time, whatever the update period.
    decay: f32,
    switch_after: u32,
}

impl Default for SpeakerDetector {
    /// Updated twice a second, as a mesh call's statistics are.
    fn default() -> Self {
        SpeakerDetector::every_ms(500)
    }
}

impl SpeakerDetector {
    /// A detector updated every `period_ms`.
    pub fn every_ms(period_ms: u32) -> Self {
        let period_ms = period_ms.max(1);
        SpeakerDetector {
            envelopes: Vec::new(),
            current: None,
            challenger: None,
            decay: DECAY_PER_MS.powi(period_ms.min(i32::MAX as u32) as i32) as f32,
            switch_after: LEAD_MS.div_ceil(period_ms).max(1),
        }
    }

    /// The level of an RFC 6464 audio-level header (`-127..=0` dBov, as
    /// str0m gives it) on the same linear scale as `getStats`' `audioLevel`.
    pub fn linear(dbov: i8) -> f32 {
        10f32.powf(f32::from(dbov.min(0)) / 20.0)
    }

    pub fn current(&self) -> Option<&PeerId> {
        self.current.as_ref()
    }

    /// Takes this update's levels (people missing from it have left) and
    /// returns who is the active speaker now.
    pub fn update(&mut self, levels: &[(PeerId, f32)]) -> Option<PeerId> {
        self.envelopes.retain(|(id, _)| levels.iter().any(|(l, _)| l == id));
        for (id, level) in levels {
            let at = match self.envelopes.iter().position(|(e, _)| e == id) {
                Some(at) => at,
                None => {
                    self.envelopes.push((id.clone(), 0.0));
                    self.envelopes.len() - 1
                }
            };
            let envelope = &mut self.envelopes[at].1;
            *envelope = level.max(*envelope * self.decay);
        }
        if self.current.as_ref().is_some_and(|c| !self.envelopes.iter().any(|(e, _)| e == c)) {
            self.current = None;
        }
        let loudest = self
            .envelopes
            .iter()
            .filter(|(_, e)| *e >= THRESHOLD)
            .max_by(|a, b| a.1.total_cmp(&b.1).then_with(|| b.0.cmp(&a.0)))
            .map(|(id, _)| id.clone());
        // Only sound now makes someone the speaker, or counts towards taking
        // over: an envelope may lead for a while after a loud word (a cough)
        // or after its owner stopped talking.
        let sounding = |id: &PeerId| levels.iter().any(|(l, v)| l == id && *v >= THRESHOLD);
        match loudest {
            // Silence, or the current speaker still leads: nothing moves.
            None => {}
            Some(id) if Some(&id) == self.current.as_ref() => self.challenger = None,
            Some(id) if self.current.is_none() => {
                if sounding(&id) {
                    self.current = Some(id);
                }
                self.challenger = None;
            }
            Some(id) => {
                let sounding = sounding(&id);
                let streak = match &self.challenger {
                    Some((c, n)) if *c == id => n + u32::from(sounding),
                    _ => u32::from(sounding),
                };
                if streak >= self.switch_after {
                    self.current = Some(id);
                    self.challenger = None;
                } else {
                    self.challenger = (streak > 0).then_some((id, streak));
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
    fn when_the_speaker_leaves_a_fading_voice_does_not_take_over() {
        let mut d = SpeakerDetector::default();
        d.update(&[(p("a"), 0.3), (p("b"), 0.0), (p("c"), 0.0)]);
        // b speaks a little while a holds the floor, then falls silent.
        d.update(&[(p("a"), 0.3), (p("b"), 0.2), (p("c"), 0.0)]);
        d.update(&[(p("a"), 0.3), (p("b"), 0.0), (p("c"), 0.0)]);
        // a leaves: b's envelope is still above the threshold, but b is quiet.
        assert_eq!(d.update(&[(p("b"), 0.0), (p("c"), 0.0)]), None);
        assert_eq!(d.update(&[(p("b"), 0.0), (p("c"), 0.05)]), Some(p("c")));
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
    #[test]
    fn one_loud_word_does_not_move_the_highlight_while_its_echo_fades() {
        let mut d = SpeakerDetector::default();
        d.update(&[(p("a"), 0.1), (p("b"), 0.0)]);
        d.update(&[(p("a"), 0.1), (p("b"), 0.9)]);
        for _ in 0..10 {
            assert_eq!(d.update(&[(p("a"), 0.1), (p("b"), 0.0)]), Some(p("a")));
        }
    }

    #[test]
    fn a_faster_detector_keeps_the_same_lead_time() {
        // Four updates a second: the challenger must lead for 750 ms.
        let mut d = SpeakerDetector::every_ms(250);
        d.update(&[(p("a"), 0.3), (p("b"), 0.0)]);
        let mut moved_after = None;
        for tick in 1..=8 {
            if d.update(&[(p("a"), 0.0), (p("b"), 0.3)]) == Some(p("b")) {
                moved_after = Some(tick);
                break;
            }
        }
        assert_eq!(moved_after, Some(3));
    }

    #[test]
    fn rfc_6464_levels_map_onto_the_linear_scale() {
        assert_eq!(SpeakerDetector::linear(0), 1.0);
        assert!((SpeakerDetector::linear(-20) - 0.1).abs() < 1e-6);
        assert!(SpeakerDetector::linear(-39) > THRESHOLD, "-39 dBov is a voice");
        assert!(SpeakerDetector::linear(-41) < THRESHOLD, "-41 dBov is room noise");
        assert!(SpeakerDetector::linear(-127) < 1e-6, "muted");
    }
}
