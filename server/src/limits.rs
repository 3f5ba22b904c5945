//! Per-connection and per-address abuse limits. Plain state with the clock
//! passed in, so the rules are unit-tested without sleeping.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

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
}

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

    /// `None` when `ip` already has `max` sockets open.
    pub fn acquire(self: &Arc<Self>, ip: IpAddr) -> Option<Slot> {
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

/// Wrong passcodes a client may send for one room before each further try
/// has to wait.
pub const FREE_GUESSES: u32 = 3;
/// The longest wait between two tries, however many went wrong.
pub const MAX_GUESS_WAIT: Duration = Duration::from_secs(60);
/// A client that stops guessing for this long starts afresh.
pub const GUESS_MEMORY: Duration = Duration::from_secs(15 * 60);
/// Entries kept at most; past it the oldest make room (a flood of
/// addresses must not grow memory without end).
const MAX_GUESS_ENTRIES: usize = 100_000;

/// Wrong passcodes per room and client address. Guessing is slowed down,
/// not locked out: after [`FREE_GUESSES`] each try waits twice as long as
/// the last (1 s, 2 s, 4 s… up to [`MAX_GUESS_WAIT`]). Only that room and
/// that address wait: behind one NAT or proxy, everyone else carries on.
#[derive(Debug, Default)]
pub struct Guesses {
    entries: HashMap<(String, IpAddr), Guessed>,
}

/// Wrong tries and when the last one was (wall-clock ms, so that nodes
/// sharing it through Redis agree).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Guessed {
    pub wrong: u32,
    pub last_ms: u64,
}

impl Guessed {
    /// Long enough ago that the client starts afresh.
    fn forgotten(&self, now_ms: u64) -> bool {
        Duration::from_millis(now_ms.saturating_sub(self.last_ms)) >= GUESS_MEMORY
    }

    /// How long after the last wrong try the next one may come.
    pub fn wait(&self) -> Duration {
        match self.wrong.checked_sub(FREE_GUESSES) {
            None | Some(0) => Duration::ZERO,
            Some(over) => Duration::from_secs(1u64 << (over - 1).min(16)).min(MAX_GUESS_WAIT),
        }
    }
}

impl Guesses {
    /// `Err(wait)` while `ip` must wait before its next try at `room`.
    pub fn check(&mut self, room: &str, ip: IpAddr, now_ms: u64) -> Result<(), Duration> {
        let key = (room.to_owned(), ip);
        let Some(entry) = self.entries.get(&key).copied() else { return Ok(()) };
        if entry.forgotten(now_ms) {
            self.entries.remove(&key);
            return Ok(());
        }
        let since = Duration::from_millis(now_ms.saturating_sub(entry.last_ms));
        match entry.wait().checked_sub(since) {
            Some(left) if !left.is_zero() => Err(left),
            _ => Ok(()),
        }
    }

    /// A try at `room`'s passcode from `ip`: `Err(wait)` while it must wait,
    /// else the try is counted as a wrong one at once, until it proves right
    /// ([`Guesses::forgive`]) or turns out not to be about the passcode
    /// ([`Guesses::retract`]). Counting at the check means that tries sent
    /// in parallel cannot all pass it before any of them is counted.
    pub fn try_guess(&mut self, room: &str, ip: IpAddr, now_ms: u64) -> Result<Guessed, Duration> {
        self.check(room, ip, now_ms)?;
        Ok(self.wrong(room, ip, now_ms))
    }

    /// Takes back one counted try (the join was refused for another reason,
    /// the room being full, say); the count that is left, if any was.
    pub fn retract(&mut self, room: &str, ip: IpAddr) -> Option<Guessed> {
        let key = (room.to_owned(), ip);
        let entry = self.entries.get_mut(&key)?;
        entry.wrong = entry.wrong.saturating_sub(1);
        let left = *entry;
        if left.wrong == 0 {
            self.entries.remove(&key);
        }
        Some(left)
    }

    pub fn wrong(&mut self, room: &str, ip: IpAddr, now_ms: u64) -> Guessed {
        if self.entries.len() >= MAX_GUESS_ENTRIES {
            self.forget_oldest(now_ms);
        }
        let entry = self.entries.entry((room.to_owned(), ip)).or_default();
        if entry.forgotten(now_ms) {
            *entry = Guessed::default();
        }
        entry.wrong += 1;
        entry.last_ms = now_ms;
        *entry
    }

    /// What another node knows (Redis): the larger count and the later try.
    pub fn merge(&mut self, room: &str, ip: IpAddr, other: Guessed) {
        if other.wrong == 0 {
            return;
        }
        let entry = self.entries.entry((room.to_owned(), ip)).or_default();
        entry.wrong = entry.wrong.max(other.wrong);
        entry.last_ms = entry.last_ms.max(other.last_ms);
    }

    /// The right passcode: whoever knows it is not guessing. True when
    /// there was a count to forget.
    pub fn forgive(&mut self, room: &str, ip: IpAddr) -> bool {
        self.entries.remove(&(room.to_owned(), ip)).is_some()
    }

    fn forget_oldest(&mut self, now_ms: u64) {
        self.entries.retain(|_, g| !g.forgotten(now_ms));
        if self.entries.len() >= MAX_GUESS_ENTRIES {
            let mut ages: Vec<u64> = self.entries.values().map(|g| g.last_ms).collect();
            let cut = ages.len() / 2;
            let (_, median, _) = ages.select_nth_unstable(cut);
            let median = *median;
            self.entries.retain(|_, g| g.last_ms > median);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn zero_means_no_limit() {
        let limiter = PerAddress::new(0);
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        let slots: Vec<Slot> = (0..1000).map(|_| limiter.acquire(a).unwrap()).collect();
        assert_eq!(limiter.open_from(a), 1000);
        drop(slots);
        assert_eq!(limiter.open_from(a), 0);
    }

    #[test]
    fn guessing_is_slowed_down_more_and_more_for_that_room_and_address() {
        let mut g = Guesses::default();
        let (eve, colleague): (IpAddr, IpAddr) = ("10.0.0.1".parse().unwrap(), "10.0.0.2".parse().unwrap());
        let t = 1_000_000;
        for _ in 0..FREE_GUESSES {
            assert_eq!(g.check("vault", eve, t), Ok(()));
            g.wrong("vault", eve, t);
        }
        assert_eq!(g.check("vault", eve, t), Ok(()), "the free tries are free");
        let waits: Vec<u64> = (0..10)
            .map(|i| {
                let now = t + i * 100_000;
                g.wrong("vault", eve, now);
                g.check("vault", eve, now).unwrap_err().as_secs()
            })
            .collect();
        assert_eq!(waits, [1, 2, 4, 8, 16, 32, 60, 60, 60, 60]);
        // Only that room and that address wait.
        assert_eq!(g.check("lobby-chat", eve, t), Ok(()));
        assert_eq!(g.check("vault", colleague, t), Ok(()));
        // After the wait, one more try; after a long pause, afresh.
        let last = t + 9 * 100_000;
        assert_eq!(g.check("vault", eve, last + 60_000), Ok(()));
        let much_later = last + GUESS_MEMORY.as_millis() as u64;
        assert_eq!(g.check("vault", eve, much_later), Ok(()));
        assert_eq!(g.wrong("vault", eve, much_later).wrong, 1);
    }

    #[test]
    fn the_right_passcode_forgives_and_other_nodes_count_too() {
        let mut g = Guesses::default();
        let eve: IpAddr = "10.0.0.1".parse().unwrap();
        g.merge("vault", eve, Guessed { wrong: FREE_GUESSES + 2, last_ms: 5_000 });
        assert_eq!(g.check("vault", eve, 6_000), Err(Duration::from_secs(1)));
        assert!(g.forgive("vault", eve));
        assert_eq!(g.check("vault", eve, 6_000), Ok(()));
        assert!(!g.forgive("vault", eve), "nothing left to forget");
    }

    #[test]
    fn tries_count_when_checked_so_parallel_ones_cannot_slip_through() {
        let mut g = Guesses::default();
        let eve: IpAddr = "10.0.0.1".parse().unwrap();
        let t = 1_000_000;
        // Five tries at the same instant, none answered yet: the free ones
        // and the one after them pass, the next must wait.
        let tries: Vec<_> =
            (0..FREE_GUESSES + 2).map(|_| g.try_guess("vault", eve, t).map(|x| x.wrong)).collect();
        assert_eq!(tries, [Ok(1), Ok(2), Ok(3), Ok(4), Err(Duration::from_secs(1))]);
        // One of them was refused for something else (the room was full).
        assert_eq!(g.retract("vault", eve), Some(Guessed { wrong: 3, last_ms: t }));
        assert_eq!(g.try_guess("vault", eve, t).map(|x| x.wrong), Ok(4));
        // The right passcode forgives all; retracting then has nothing to take.
        assert!(g.forgive("vault", eve));
        assert_eq!(g.retract("vault", eve), None);
        assert_eq!(g.try_guess("vault", eve, t).map(|x| x.wrong), Ok(1));
        assert_eq!(g.retract("vault", eve), Some(Guessed { wrong: 0, last_ms: t }));
        assert!(!g.forgive("vault", eve), "a retracted only try leaves nothing");
    }

    #[test]
    fn memory_is_bounded() {
        let mut g = Guesses::default();
        for i in 0..(MAX_GUESS_ENTRIES as u64 + 10) {
            let ip = IpAddr::from((i as u32).to_be_bytes());
            g.wrong("vault", ip, i);
        }
        assert!(g.entries.len() <= MAX_GUESS_ENTRIES);
    }
}
