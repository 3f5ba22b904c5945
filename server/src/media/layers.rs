//! Simulcast: which layer of a publisher's video each subscriber gets, and
//! moving between layers without a frozen or broken picture. Plain state.
//!
//! A publisher sends its camera at several sizes ("layers", named by rid).
//! The person who speaks and the person who presents go out at the top
//! layer, everyone else at the lowest, so a subscriber downloads one large
//! picture, not one per person. Only layers that actually arrive count:
//! Chromium drops layers when the camera is small or the CPU is busy.
//!
//! A subscriber's slot keeps getting the layer it has until the first
//! keyframe of the one it should have; a switch on a delta frame would
//! show garbage until the next keyframe (the freeze every SFU's users
//! report). The engine asks the publisher for that keyframe.
//!
//! Larger layers nobody receives for a while are paused in the publisher's
//! browser ([`Upkeep`]), and resumed as soon as somebody should get them.

use std::time::{Duration, Instant};
use str0m::media::Rid;

/// A layer that has sent nothing for this long does not exist any more.
pub const LAYER_GONE: Duration = Duration::from_millis(1500);

/// A layer silent this long is not picked for a slot while another one
/// flows: it may well come back (an encoder starved of CPU or bitrate),
/// but a slot left on it stands still meanwhile.
pub const LAYER_STALLED: Duration = Duration::from_millis(500);

/// How often a layer's bitrate is measured: a second holds a keyframe
/// and the frames that follow it, so it neither spikes nor lags much.
pub const RATE_WINDOW: Duration = Duration::from_secs(1);

/// What a layer is taken to cost before it has been measured (bits/s),
/// from the lowest up: the ceilings our page gives its encodings.
const UNMEASURED_BPS: [u64; 3] = [250_000, 500_000, 1_500_000];

/// One published video track's layers, as they arrive.
#[derive(Debug, Default)]
pub struct Layers {
    /// Lowest first, as the publisher's offer lists them.
    order: Vec<Rid>,
    seen: Vec<Seen>,
}

#[derive(Debug)]
struct Seen {
    rid: Rid,
    at: Instant,
    /// Bytes since `window_start`.
    bytes: u64,
    window_start: Instant,
    /// bits/s over the last whole window; kept while the layer is paused,
    /// as what it will cost once resumed.
    bps: Option<u64>,
}

impl Layers {
    /// `order`: the rids of the offer's `a=simulcast`, lowest first.
    pub fn new(order: Vec<Rid>) -> Self {
        Layers { order, seen: Vec::new() }
    }

    /// Notes a frame of `rid`, `bytes` long; true when the layer is new or
    /// back after being gone (a resumed layer: slots waiting for it can
    /// switch now).
    pub fn saw(&mut self, rid: Rid, now: Instant, bytes: usize) -> bool {
        let Some(seen) = self.seen.iter_mut().find(|s| s.rid == rid) else {
            self.seen.push(Seen { rid, at: now, bytes: bytes as u64, window_start: now, bps: None });
            return true;
        };
        let back = now.saturating_duration_since(seen.at) >= LAYER_GONE;
        seen.at = now;
        if back {
            // The silence is not part of its bitrate.
            (seen.window_start, seen.bytes) = (now, 0);
        }
        seen.bytes += bytes as u64;
        let window = now.saturating_duration_since(seen.window_start);
        if window >= RATE_WINDOW {
            seen.bps = Some(seen.bytes * 8 * 1000 / window.as_millis().max(1) as u64);
            (seen.window_start, seen.bytes) = (now, 0);
        }
        back
    }

    /// What `rid` costs (bits/s): as measured, else what a layer in its
    /// place is usually given.
    pub fn bitrate(&self, rid: Rid) -> u64 {
        let measured = self.seen.iter().find(|s| s.rid == rid).and_then(|s| s.bps);
        measured.unwrap_or_else(|| {
            let place = self.order.iter().position(|r| *r == rid).unwrap_or(0);
            let top = self.order.len().saturating_sub(1).max(1);
            // The top layer is taken for the largest, whatever the count.
            let slot = if place == top { 2 } else { place.min(1) };
            UNMEASURED_BPS[slot]
        })
    }

    /// The layers the offer lists above the lowest: those worth pausing
    /// when nobody receives them.
    pub fn above_lowest(&self) -> Vec<Rid> {
        self.order.iter().skip(1).copied().collect()
    }

    /// The layers sent lately, lowest first (a rid the offer did not list
    /// goes after those it did, in order of arrival).
    pub fn live(&self, now: Instant) -> Vec<Rid> {
        self.sent_within(now, LAYER_GONE)
    }

    /// The layers a slot may be put on now: those flowing, or when none
    /// is, those sent lately.
    pub fn usable(&self, now: Instant) -> Vec<Rid> {
        let flowing = self.sent_within(now, LAYER_STALLED);
        if flowing.is_empty() {
            self.live(now)
        } else {
            flowing
        }
    }

    fn sent_within(&self, now: Instant, window: Duration) -> Vec<Rid> {
        let mut sent: Vec<Rid> = self
            .seen
            .iter()
            .filter(|s| now.saturating_duration_since(s.at) < window)
            .map(|s| s.rid)
            .collect();
        sent.sort_by_key(|rid| self.order.iter().position(|o| o == rid).unwrap_or(usize::MAX));
        sent
    }
}

/// Which of `count` layers (lowest first) a subscriber should get with
/// bandwidth to spare: the top one of the person who speaks or presents,
/// the lowest of anyone else's.
pub fn wanted(count: usize, prominent: bool) -> usize {
    if prominent {
        count.saturating_sub(1)
    } else {
        0
    }
}

/// One subscriber's slot that carries a simulcast track.
#[derive(Debug, Default)]
pub struct LayerSwitch {
    /// What the slot forwards now (none before the first keyframe).
    current: Option<Rid>,
    /// What it should forward.
    target: Option<Rid>,
}

impl LayerSwitch {
    /// Aims at `target`; true when that is not what flows now, so a
    /// keyframe of it is needed.
    pub fn aim(&mut self, target: Option<Rid>) -> bool {
        self.target = target;
        self.pending().is_some()
    }

    /// Stops the slot (its person is held back): nothing goes out until
    /// it is aimed again, and then only from a keyframe.
    pub fn hold(&mut self) {
        (self.current, self.target) = (None, None);
    }

    pub fn current(&self) -> Option<Rid> {
        self.current
    }

    /// The layer whose keyframe the slot waits for, if any.
    pub fn pending(&self) -> Option<Rid> {
        self.target.filter(|t| self.current != Some(*t))
    }

    /// Whether a frame of `rid` goes out on this slot: the current layer's,
    /// until the target's first keyframe, which switches.
    pub fn admit(&mut self, rid: Rid, keyframe: bool) -> bool {
        if self.pending() == Some(rid) && keyframe {
            self.current = Some(rid);
            return true;
        }
        self.current == Some(rid)
    }
}

/// Whether a publisher's layers above the lowest are worth encoding: when
/// nobody gets them (the publisher neither speaks nor presents) for a grace
/// period, its browser is told to pause them, saving its uplink and CPU;
/// the moment somebody needs them again, it is told to resume.
#[derive(Debug, Default)]
pub struct Upkeep {
    unneeded_since: Option<Instant>,
    paused: bool,
}

impl Upkeep {
    /// `needed`: somebody gets (or is about to get) the top layer. Returns
    /// what the publisher must be told, when that changes: `Some(true)`
    /// pause, `Some(false)` resume.
    pub fn update(&mut self, needed: bool, now: Instant, grace: Duration) -> Option<bool> {
        if needed {
            self.unneeded_since = None;
            return std::mem::take(&mut self.paused).then_some(false);
        }
        let since = *self.unneeded_since.get_or_insert(now);
        if !self.paused && now.saturating_duration_since(since) >= grace {
            self.paused = true;
            return Some(true);
        }
        None
    }
}

#[cfg(test)]
#[path = "layers_tests.rs"]
mod tests;
