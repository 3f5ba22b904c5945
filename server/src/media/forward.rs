//! One receive slot's outgoing timeline. A slot changes hands (a publisher
//! leaves, another takes the slot), and each publisher's RTP clock starts
//! anywhere: the subscriber must see timestamps that keep moving forward
//! with the wall clock, and a video slot must restart on a keyframe or the
//! browser shows garbage until the next one.

use std::time::Instant;

#[derive(Debug)]
pub struct SlotTimeline<K> {
    source: Option<K>,
    waiting_keyframe: bool,
    /// Added to the source's timestamps (in its clock's ticks).
    offset: i64,
    rebase: bool,
    /// Last timestamp written and when.
    last: Option<(u64, Instant)>,
}

impl<K> Default for SlotTimeline<K> {
    fn default() -> Self {
        SlotTimeline { source: None, waiting_keyframe: false, offset: 0, rebase: false, last: None }
    }
}

/// One frame as the timeline sees it.
pub struct Frame<'a, K> {
    pub source: &'a K,
    pub video: bool,
    pub keyframe: bool,
    /// RTP time in ticks of `clock_hz`.
    pub ticks: u64,
    pub clock_hz: u32,
}

impl<K: Clone + PartialEq> SlotTimeline<K> {
    /// The source's media ended (its publisher left or reconnected): what
    /// comes next, even from the same track, starts over on a keyframe with
    /// the slot's clock carried on, for a new connection's RTP clock starts
    /// anywhere.
    pub fn release(&mut self) {
        self.source = None;
    }

    pub fn source(&self) -> Option<&K> {
        self.source.as_ref()
    }

    /// The source whose keyframe this slot is waiting for, if it is.
    pub fn waiting_for(&self) -> Option<&K> {
        self.source.as_ref().filter(|_| self.waiting_keyframe)
    }

    /// The timestamp to send `frame` with, or `None` to drop it.
    pub fn admit(&mut self, frame: Frame<'_, K>, now: Instant) -> Option<u64> {
        if self.source.as_ref() != Some(frame.source) {
            self.source = Some(frame.source.clone());
            self.waiting_keyframe = frame.video;
            self.rebase = true;
        }
        if self.waiting_keyframe && !frame.keyframe {
            return None;
        }
        self.waiting_keyframe = false;
        if self.rebase {
            self.rebase = false;
            let target = match self.last {
                Some((ticks, at)) => {
                    let elapsed = now.saturating_duration_since(at).as_secs_f64();
                    ticks + ((elapsed * frame.clock_hz as f64) as u64).max(1)
                }
                None => frame.ticks,
            };
            self.offset = target as i64 - frame.ticks as i64;
        }
        let out = (frame.ticks as i64 + self.offset).max(0) as u64;
        // Never backwards, even if the source's own clock steps back.
        let out = match self.last {
            Some((last, _)) if out < last => last,
            _ => out,
        };
        self.last = Some((out, now));
        Some(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn frame(source: &'static &'static str, ticks: u64, keyframe: bool) -> Frame<'static, &'static str> {
        Frame { source, video: true, keyframe, ticks, clock_hz: 90_000 }
    }

    #[test]
    fn video_starts_on_a_keyframe() {
        let mut t = SlotTimeline::default();
        let now = Instant::now();
        assert_eq!(t.admit(frame(&"a", 1000, false), now), None);
        assert_eq!(t.waiting_for(), Some(&"a"));
        assert_eq!(t.admit(frame(&"a", 4000, true), now), Some(4000));
        assert_eq!(t.waiting_for(), None);
        assert_eq!(t.admit(frame(&"a", 7000, false), now), Some(7000));
    }

    #[test]
    fn a_new_occupant_continues_the_slots_clock_from_where_it_was() {
        let mut t = SlotTimeline::default();
        let start = Instant::now();
        t.admit(frame(&"a", 900_000, true), start);
        t.admit(frame(&"a", 903_000, false), start + Duration::from_millis(33));
        // b's clock is far behind a's; one second later b's keyframe comes.
        let later = start + Duration::from_millis(1033);
        assert_eq!(t.admit(frame(&"b", 10, false), later), None, "waits for b's keyframe");
        let first = t.admit(frame(&"b", 20, true), later).unwrap();
        assert_eq!(first, 903_000 + 90_000);
        let next = t.admit(frame(&"b", 3020, false), later + Duration::from_millis(33)).unwrap();
        assert_eq!(next, first + 3000);
    }

    #[test]
    fn a_released_slot_restarts_on_a_keyframe_with_its_clock_carried_on() {
        let mut t = SlotTimeline::default();
        let start = Instant::now();
        t.admit(frame(&"a", 900_000, true), start);
        t.release();
        // The same source on a new connection: its clock starts elsewhere.
        let later = start + Duration::from_millis(500);
        assert_eq!(t.admit(frame(&"a", 5_000, false), later), None, "waits for a keyframe");
        assert_eq!(t.admit(frame(&"a", 8_000, true), later), Some(900_000 + 45_000));
    }

    #[test]
    fn audio_needs_no_keyframe_and_never_goes_back() {
        let mut t = SlotTimeline::default();
        let now = Instant::now();
        let a = Frame { source: &"a", video: false, keyframe: false, ticks: 48_000, clock_hz: 48_000 };
        assert_eq!(t.admit(a, now), Some(48_000));
        let back = Frame { source: &"a", video: false, keyframe: false, ticks: 40_000, clock_hz: 48_000 };
        assert_eq!(t.admit(back, now), Some(48_000));
    }
}
