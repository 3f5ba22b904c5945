//! Which TCP connections may stay: plain state, tested without sockets.
//!
//! A connection is *pending* from accept until it becomes a WebSocket (page
//! loads stay pending for their whole keep-alive life, which the request
//! head deadline bounds). Pending connections are capped per address and in
//! all; every connection counts against a total kept below the process's
//! open-files limit. When a cap is reached the *oldest pending* connection
//! (of that address, for its cap) is evicted rather than the new one
//! refused: sockets that sit idle cannot crowd out a person who is loading
//! the page right now, nor the keep-alive connections of five people behind
//! one NAT the sixth's call.

use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GateLimits {
    /// Pending connections one address may hold.
    pub pending_per_ip: usize,
    /// Pending connections in all.
    pub pending_total: usize,
    /// Connections of any kind in all (each is a file descriptor).
    pub open_total: usize,
}

pub type ConnId = u64;

#[derive(Debug, PartialEq, Eq)]
pub enum Admit {
    /// Take the connection; close the ones in `evict` (oldest first).
    Accept {
        id: ConnId,
        evict: Vec<ConnId>,
    },
    Refuse(Refusal),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// Every connection is an established WebSocket: nothing to evict.
    Full,
}

#[derive(Debug)]
pub struct Gate {
    limits: GateLimits,
    next_id: ConnId,
    /// Every open connection and its address.
    open: HashMap<ConnId, IpAddr>,
    /// The pending ones, oldest first (ids only grow).
    pending: BTreeMap<ConnId, IpAddr>,
    pending_by_ip: HashMap<IpAddr, usize>,
}

impl Gate {
    pub fn new(limits: GateLimits) -> Self {
        let limits = GateLimits {
            pending_per_ip: limits.pending_per_ip.max(1),
            pending_total: limits.pending_total.max(1),
            open_total: limits.open_total.max(1),
        };
        Gate {
            limits,
            next_id: 0,
            open: HashMap::new(),
            pending: BTreeMap::new(),
            pending_by_ip: HashMap::new(),
        }
    }

    pub fn limits(&self) -> GateLimits {
        self.limits
    }

    /// `capped` is false for a trusted proxy's address, which carries many
    /// clients' connections.
    pub fn admit(&mut self, ip: IpAddr, capped: bool) -> Admit {
        let mut evict = Vec::new();
        while capped && self.pending_by_ip.get(&ip).copied().unwrap_or(0) >= self.limits.pending_per_ip {
            // Rare (one address at its cap), so a scan beats an index per address.
            let Some((&oldest, _)) = self.pending.iter().find(|(_, a)| **a == ip) else { break };
            self.closed(oldest);
            evict.push(oldest);
        }
        while self.open.len() >= self.limits.open_total || self.pending.len() >= self.limits.pending_total {
            let Some((&oldest, _)) = self.pending.iter().next() else {
                return Admit::Refuse(Refusal::Full);
            };
            self.closed(oldest);
            evict.push(oldest);
        }
        let id = self.next_id;
        self.next_id += 1;
        self.open.insert(id, ip);
        self.pending.insert(id, ip);
        *self.pending_by_ip.entry(ip).or_insert(0) += 1;
        Admit::Accept { id, evict }
    }

    /// The connection is a WebSocket now: it no longer counts as pending
    /// (the per-address socket limit covers it) and is never evicted.
    pub fn upgraded(&mut self, id: ConnId) {
        if let Some(ip) = self.pending.remove(&id) {
            self.forget_pending(ip);
        }
    }

    /// The connection is gone (or was evicted).
    pub fn closed(&mut self, id: ConnId) {
        self.upgraded(id);
        self.open.remove(&id);
    }

    pub fn is_open(&self, id: ConnId) -> bool {
        self.open.contains_key(&id)
    }

    pub fn open_count(&self) -> usize {
        self.open.len()
    }

    pub fn pending_count(&self) -> usize {
        self.pending.len()
    }

    fn forget_pending(&mut self, ip: IpAddr) {
        if let Some(count) = self.pending_by_ip.get_mut(&ip) {
            *count -= 1;
            if *count == 0 {
                self.pending_by_ip.remove(&ip);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: GateLimits = GateLimits { pending_per_ip: 2, pending_total: 4, open_total: 6 };

    fn ip(n: u8) -> IpAddr {
        IpAddr::from([127, 0, 0, n])
    }

    fn accept(gate: &mut Gate, from: IpAddr) -> (ConnId, Vec<ConnId>) {
        match gate.admit(from, true) {
            Admit::Accept { id, evict } => (id, evict),
            other => panic!("refused: {other:?}"),
        }
    }

    #[test]
    fn one_address_gets_its_share_of_pending_connections_and_its_newest_win() {
        let mut gate = Gate::new(LIMITS);
        let (a, _) = accept(&mut gate, ip(1));
        let (b, _) = accept(&mut gate, ip(1));
        let (other, _) = accept(&mut gate, ip(2));
        // At its share, an address's own oldest idle connection makes way.
        let (c, evicted) = accept(&mut gate, ip(1));
        assert_eq!(evicted, vec![a]);
        assert!(gate.is_open(other), "others are not affected");
        let Admit::Accept { id: proxied, evict } = gate.admit(ip(1), false) else {
            panic!("a proxy is not capped")
        };
        assert!(evict.is_empty(), "nor is anyone for it");
        gate.closed(proxied);
        // A connection that became a WebSocket frees its pending place.
        gate.upgraded(c);
        let (_, evicted) = accept(&mut gate, ip(1));
        assert!(evicted.is_empty());
        assert!(gate.is_open(b));
    }

    #[test]
    fn the_oldest_pending_connection_makes_room_for_a_new_one() {
        let mut gate = Gate::new(LIMITS);
        let ids: Vec<ConnId> = (1..=4).map(|n| accept(&mut gate, ip(n)).0).collect();
        assert_eq!(gate.pending_count(), 4);
        let (_, evicted) = accept(&mut gate, ip(9));
        assert_eq!(evicted, vec![ids[0]]);
        assert!(!gate.is_open(ids[0]));
        assert_eq!(gate.pending_count(), 4);
        // The evicted one's address has its place back.
        assert!(matches!(gate.admit(ip(1), true), Admit::Accept { .. }));
    }

    #[test]
    fn established_sockets_are_never_evicted_and_the_total_holds() {
        let mut gate = Gate::new(LIMITS);
        let sockets: Vec<ConnId> = (1..=6)
            .map(|n| {
                let id = accept(&mut gate, ip(n)).0;
                gate.upgraded(id);
                id
            })
            .collect();
        assert_eq!(gate.open_count(), 6);
        assert_eq!(gate.admit(ip(7), true), Admit::Refuse(Refusal::Full));
        gate.closed(sockets[2]);
        let (_, evicted) = accept(&mut gate, ip(7));
        assert!(evicted.is_empty());
        // At the total again: a pending newcomer is evicted by the next.
        let (newest, evicted) = accept(&mut gate, ip(8));
        assert_eq!(evicted.len(), 1);
        assert!(gate.is_open(newest));
        assert_eq!(gate.open_count(), 6);
    }

    #[test]
    fn closing_twice_or_after_eviction_changes_nothing() {
        let mut gate = Gate::new(LIMITS);
        let (a, _) = accept(&mut gate, ip(1));
        gate.closed(a);
        gate.closed(a);
        gate.upgraded(a);
        assert_eq!((gate.open_count(), gate.pending_count()), (0, 0));
        let (b, _) = accept(&mut gate, ip(1));
        assert_ne!(a, b, "ids are never reused");
    }
}
