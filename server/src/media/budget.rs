//! Fitting the video one subscriber gets into what its connection can take.
//! Plain state, fed the engine's estimate of that subscriber's downlink.
//!
//! Everyone in view first gets their lowest layer, in priority order (the
//! presenter, the speaker, then the rest); a person whose lowest layer no
//! longer fits is held back: their video pauses, their sound still comes,
//! and the tile says why. What is left then lifts those who should be large
//! to the best layer that fits, in the same order. A frozen picture is worse
//! than a small one, and a paused one that says so is better than either.
//!
//! What a downlink can take is learnt from what it loses, the way GCC's
//! loss-based half does: a second that loses more than [`LOSSY`] of what
//! was sent sets the budget to what was being sent less half the loss; a
//! clean second after the hold lets it grow by [`GROWTH_PERCENT`] until
//! everything wanted fits again, and then it is dropped. Nothing else
//! limits a subscriber. str0m's own delay-based estimate was measured and
//! left out: with Chromium on an idle loopback it fell from 3 Mbit/s to
//! 80-400 kbit/s within a second with no packet lost, whenever a busy
//! browser was slow to read, and its pacer then held every forwarded frame
//! to that rate (pictures stalled for a second and more). Loss is what a
//! congested link cannot hide.
//!
//! After a downgrade for lack of bandwidth nothing goes up again for
//! [`UPGRADE_HOLD`]: each see-saw between layers costs a keyframe both
//! ways, and a video that comes back only to be paused again is worse than
//! one that waits.

use std::time::{Duration, Instant};
use str0m::media::Rid;

/// No upgrade this long after a downgrade for lack of bandwidth (mediasoup
/// and LiveKit use the same 10 s).
pub const UPGRADE_HOLD: Duration = Duration::from_secs(10);

/// The share of the budget that video may use, in percent: the rest is
/// headroom for RTCP, retransmissions and the budget's own error.
pub const VIDEO_SHARE_PERCENT: u64 = 90;

/// A second in which the subscriber lost this share of what it was sent
/// means its link is full (GCC cuts its rate above 10 %; fake loss from a
/// busy Wi-Fi stays well below this).
pub const LOSSY: f32 = 0.05;

/// A second this clean lets the budget grow again.
pub const CLEAN: f32 = 0.02;

/// How much the budget grows per clean second once the hold is over (GCC
/// grows by 8 % a second).
pub const GROWTH_PERCENT: u64 = 8;

/// One video a subscriber could get.
#[derive(Clone, Debug)]
pub struct Want<K> {
    pub key: K,
    /// The layers it may be put on, lowest first, with what each costs
    /// (bits/s). Never empty.
    pub layers: Vec<(Rid, u64)>,
    /// The index in `layers` it should get with bandwidth to spare.
    pub wanted: usize,
}

/// What one video gets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Given {
    Layer(Rid),
    /// Not even its lowest layer fits.
    Held,
}

/// One subscriber's downlink: its budget, and what it was last given.
#[derive(Debug)]
pub struct Downlink<K> {
    /// bits/s, only while the link is (or lately was) full: none means
    /// everything wanted is sent.
    budget: Option<u64>,
    /// bits/s of what the last allocation sends, sound included.
    sending: u64,
    hold_until: Option<Instant>,
    given: Vec<(K, Given)>,
}

impl<K> Default for Downlink<K> {
    fn default() -> Self {
        Downlink { budget: None, sending: 0, hold_until: None, given: Vec::new() }
    }
}

/// What [`Downlink::allocate`] decided.
#[derive(Debug, PartialEq)]
pub struct Allocation<K> {
    pub given: Vec<(K, Given)>,
    /// bits/s of the layers given.
    pub given_bps: u64,
}

impl<K: Clone + PartialEq> Downlink<K> {
    /// The budget, if the link limits what is sent (bits/s).
    pub fn budget(&self) -> Option<u64> {
        self.budget
    }

    /// The share of packets the subscriber reported lost over the last
    /// second.
    pub fn report_loss(&mut self, now: Instant, fraction: f32) {
        if fraction >= LOSSY && self.sending > 0 {
            let sent = self.budget.unwrap_or(u64::MAX).min(self.sending);
            // Less half the loss, in thousandths.
            let kept = 1000 - (fraction.clamp(0.0, 1.0) * 500.0).round() as u64;
            self.budget = Some(sent / 1000 * kept);
        } else if fraction < CLEAN && self.hold_until.is_none_or(|until| now >= until) {
            self.budget = self.budget.map(|b| b + b * GROWTH_PERCENT / 100);
        }
    }

    /// Gives each of `wants` (highest priority first) a layer or holds it
    /// back, within the budget less `reserved` (bits/s of sound).
    pub fn allocate(&mut self, now: Instant, wants: &[Want<K>], reserved: u64) -> Allocation<K> {
        let holding = self.hold_until.is_some_and(|until| now < until);
        // While holding, nobody gets more than they had: a video that was
        // held stays held, a new one starts at its lowest.
        let caps: Vec<Option<usize>> = wants
            .iter()
            .map(|want| match (holding, self.before(&want.key)) {
                (false, _) => Some(want.wanted),
                (true, Some(Given::Held)) => None,
                (true, Some(Given::Layer(rid))) => {
                    let had = want.layers.iter().position(|(r, _)| *r == rid).unwrap_or(0);
                    Some(had.min(want.wanted))
                }
                (true, None) => Some(0),
            })
            .collect();
        let budget =
            self.budget.map_or(u64::MAX, |b| (b / 100 * VIDEO_SHARE_PERCENT).saturating_sub(reserved));
        let levels = fit(budget, wants, &caps);
        let downgraded = wants.iter().zip(&levels).any(|(want, level)| self.cut(want, *level));
        if downgraded {
            self.hold_until = Some(now + UPGRADE_HOLD);
        } else if !holding && wants.iter().zip(&levels).all(|(want, level)| *level == Some(want.wanted)) {
            // Everything fits again: the link limits nothing now.
            self.budget = None;
        }
        let given: Vec<(K, Given)> = wants
            .iter()
            .zip(&levels)
            .map(|(want, level)| {
                let given = level.map_or(Given::Held, |i| Given::Layer(want.layers[i].0));
                (want.key.clone(), given)
            })
            .collect();
        self.given = given.clone();
        let given_bps = wants.iter().zip(&levels).map(|(w, l)| l.map_or(0, |i| w.layers[i].1)).sum();
        self.sending = given_bps + reserved;
        Allocation { given, given_bps }
    }

    fn before(&self, key: &K) -> Option<Given> {
        self.given.iter().find(|(k, _)| k == key).map(|(_, g)| *g)
    }

    /// Whether `want` lost a layer it had, and for lack of bandwidth (not
    /// because it should now be smaller: the speaker changed).
    fn cut(&self, want: &Want<K>, level: Option<usize>) -> bool {
        let had = match self.before(&want.key) {
            Some(Given::Layer(rid)) => want.layers.iter().position(|(r, _)| *r == rid),
            _ => None,
        };
        match (had, level) {
            (Some(_), None) => true,
            (Some(had), Some(now)) => now < had && now < want.wanted,
            (None, _) => false,
        }
    }
}

/// The layer index each want gets (`None`: held back) within `budget`:
/// lowest layers first in priority order, then upgrades in the same order,
/// each to the best layer no higher than its cap that still fits.
fn fit<K>(budget: u64, wants: &[Want<K>], caps: &[Option<usize>]) -> Vec<Option<usize>> {
    let mut left = budget;
    let mut levels: Vec<Option<usize>> = wants
        .iter()
        .zip(caps)
        .map(|(want, cap)| {
            let lowest = want.layers[0].1;
            (cap.is_some() && lowest <= left).then(|| {
                left -= lowest;
                0
            })
        })
        .collect();
    for ((want, cap), level) in wants.iter().zip(caps).zip(levels.iter_mut()) {
        let (Some(cap), Some(_)) = (cap, *level) else { continue };
        let lowest = want.layers[0].1;
        let top = (*cap).min(want.layers.len() - 1);
        if let Some(up) = (1..=top).rev().find(|&i| want.layers[i].1.saturating_sub(lowest) <= left) {
            left -= want.layers[up].1.saturating_sub(lowest);
            *level = Some(up);
        }
    }
    levels
}

#[cfg(test)]
#[path = "budget_tests.rs"]
mod tests;
