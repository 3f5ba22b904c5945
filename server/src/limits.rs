//! Per-connection and per-address abuse limits. Plain state with the clock
//! passed in, so the rules are unit-tested without sleeping.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// Messages a connection may send: `per_sec` on average, `burst` at once.
/// An honest page sends a few per second (chat, media state, a burst of
/// ICE candidates when a call starts); a flood is refused with an error,
/// and one that keeps going after `max_refused` refusals is closed.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RateLimit {
    pub per_sec: f64,
    pub burst: f64,
    pub max_refused: u32,
}

#[derive(Debug, PartialEq, Eq)]
pub enum Rate {
    Pass,
    /// Refused; `first` is true for the first refusal of a run, so the
    /// client is told once rather than once per flooded message.
    Refuse {
        first: bool,
    },
    /// Refused `max_refused` times without ever letting up.
    Close,
}

/// A token bucket. Refusals count until the bucket has refilled completely,
/// which only happens if the client slows down for a while.
#[derive(Debug)]
pub struct RateGuard {
    limit: RateLimit,
    tokens: f64,
    last: Instant,
    refused: u32,
}

impl RateGuard {
    pub fn new(limit: RateLimit, now: Instant) -> Self {
        RateGuard { limit, tokens: limit.burst, last: now, refused: 0 }
    }

    pub fn check(&mut self, now: Instant) -> Rate {
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        self.last = now;
        self.tokens = (self.tokens + elapsed * self.limit.per_sec).min(self.limit.burst);
        if self.tokens >= self.limit.burst {
            self.refused = 0;
        }
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            return Rate::Pass;
        }
        self.refused += 1;
        if self.refused >= self.limit.max_refused {
            Rate::Close
        } else {
            Rate::Refuse { first: self.refused == 1 }
        }
    }
}

/// Open sockets per client address. Behind a reverse proxy every client
/// has the proxy's address: raise the limit there, or set it to 0 (none).
#[derive(Debug, Default)]
pub struct PerAddress {
    max: usize,
    open: Mutex<HashMap<IpAddr, usize>>,
    /// Wrong passcodes per address: (count, since). Guessing from many
    /// sockets or reconnecting does not reset it.
    guesses: Mutex<HashMap<IpAddr, (u32, Instant)>>,
}

/// Wrong passcodes an address may send per [`GUESS_WINDOW`]; past that it
/// is shut out (no new sockets) for the rest of the window.
pub const MAX_WRONG_PASSCODES: u32 = 10;
pub const GUESS_WINDOW: std::time::Duration = std::time::Duration::from_secs(60);

/// Holds one of an address's slots; gives it back when dropped.
#[derive(Debug)]
pub struct Slot {
    owner: Arc<PerAddress>,
    ip: IpAddr,
}

impl PerAddress {
    pub fn new(max: usize) -> Arc<Self> {
        Arc::new(PerAddress { max, ..PerAddress::default() })
    }

    /// Counts a wrong passcode from `ip`; true once it is over the limit.
    pub fn wrong_passcode(&self, ip: IpAddr, now: Instant) -> bool {
        let mut guesses = self.guesses.lock().unwrap_or_else(|e| e.into_inner());
        let entry = guesses.entry(ip).or_insert((0, now));
        if now.saturating_duration_since(entry.1) > GUESS_WINDOW {
            *entry = (0, now);
        }
        entry.0 += 1;
        entry.0 > MAX_WRONG_PASSCODES
    }

    pub fn shut_out(&self, ip: IpAddr, now: Instant) -> bool {
        let mut guesses = self.guesses.lock().unwrap_or_else(|e| e.into_inner());
        match guesses.get(&ip) {
            Some((count, since)) if now.saturating_duration_since(*since) <= GUESS_WINDOW => {
                *count > MAX_WRONG_PASSCODES
            }
            Some(_) => {
                guesses.remove(&ip);
                false
            }
            None => false,
        }
    }

    /// `None` when `ip` already has `max` sockets open, or is shut out for
    /// guessing passcodes.
    pub fn acquire(self: &Arc<Self>, ip: IpAddr) -> Option<Slot> {
        if self.shut_out(ip, Instant::now()) {
            return None;
        }
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        let count = open.entry(ip).or_insert(0);
        if self.max != 0 && *count >= self.max {
            return None;
        }
        *count += 1;
        Some(Slot { owner: self.clone(), ip })
    }

    pub fn open_from(&self, ip: IpAddr) -> usize {
        self.open.lock().unwrap_or_else(|e| e.into_inner()).get(&ip).copied().unwrap_or(0)
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut open = self.owner.open.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(count) = open.get_mut(&self.ip) {
            *count -= 1;
            if *count == 0 {
                open.remove(&self.ip);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    const LIMIT: RateLimit = RateLimit { per_sec: 10.0, burst: 5.0, max_refused: 4 };

    #[test]
    fn a_burst_passes_then_the_excess_is_refused_and_told_once() {
        let t0 = Instant::now();
        let mut guard = RateGuard::new(LIMIT, t0);
        for _ in 0..5 {
            assert_eq!(guard.check(t0), Rate::Pass);
        }
        assert_eq!(guard.check(t0), Rate::Refuse { first: true });
        assert_eq!(guard.check(t0), Rate::Refuse { first: false });
    }

    #[test]
    fn tokens_come_back_at_the_configured_rate() {
        let t0 = Instant::now();
        let mut guard = RateGuard::new(LIMIT, t0);
        for _ in 0..5 {
            guard.check(t0);
        }
        assert!(matches!(guard.check(t0), Rate::Refuse { .. }));
        // 10 per second: one more after 100 ms.
        let t1 = t0 + Duration::from_millis(100);
        assert_eq!(guard.check(t1), Rate::Pass);
        assert!(matches!(guard.check(t1), Rate::Refuse { .. }));
    }

    #[test]
    fn a_flood_that_never_lets_up_is_closed() {
        let t0 = Instant::now();
        let mut guard = RateGuard::new(LIMIT, t0);
        let verdicts: Vec<Rate> = (0..9).map(|_| guard.check(t0)).collect();
        assert_eq!(verdicts[8], Rate::Close);
        assert_eq!(verdicts.iter().filter(|v| **v == Rate::Pass).count(), 5);
    }

    #[test]
    fn slowing_down_until_the_bucket_is_full_forgives_refusals() {
        let t0 = Instant::now();
        let mut guard = RateGuard::new(LIMIT, t0);
        for _ in 0..8 {
            guard.check(t0); // 5 pass, 3 refused
        }
        let later = t0 + Duration::from_secs(1);
        assert_eq!(guard.check(later), Rate::Pass);
        for _ in 0..4 {
            guard.check(later);
        }
        // Three more refusals would have closed it without the pardon.
        assert_eq!(guard.check(later), Rate::Refuse { first: true });
    }

    #[test]
    fn addresses_get_slots_up_to_the_limit_and_back_when_dropped() {
        let limiter = PerAddress::new(2);
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        let b: IpAddr = "10.0.0.2".parse().unwrap();
        let s1 = limiter.acquire(a).unwrap();
        let _s2 = limiter.acquire(a).unwrap();
        assert!(limiter.acquire(a).is_none());
        assert!(limiter.acquire(b).is_some(), "other addresses are not affected");
        drop(s1);
        assert_eq!(limiter.open_from(a), 1);
        assert!(limiter.acquire(a).is_some());
    }

    #[test]
    fn guessing_passcodes_shuts_an_address_out_for_a_while() {
        let limiter = PerAddress::new(0);
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        let t0 = Instant::now();
        for _ in 0..MAX_WRONG_PASSCODES {
            assert!(!limiter.wrong_passcode(a, t0));
        }
        assert!(!limiter.shut_out(a, t0));
        assert!(limiter.wrong_passcode(a, t0));
        assert!(limiter.shut_out(a, t0));
        assert!(limiter.acquire(a).is_none(), "no new sockets while shut out");
        assert!(limiter.acquire("10.0.0.2".parse().unwrap()).is_some());
        let later = t0 + GUESS_WINDOW + Duration::from_secs(1);
        assert!(!limiter.shut_out(a, later));
        assert!(!limiter.wrong_passcode(a, later), "a new window starts afresh");
    }

    #[test]
    fn zero_means_no_limit() {
        let limiter = PerAddress::new(0);
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        let slots: Vec<Slot> = (0..1000).map(|_| limiter.acquire(a).unwrap()).collect();
        assert_eq!(limiter.open_from(a), 1000);
        drop(slots);
        assert_eq!(limiter.open_from(a), 0);
    }
}
