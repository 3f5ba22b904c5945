//! Room passcodes, kept only as a salted SHA-256 digest and compared in
//! constant time. The digest travels to other nodes (Redis) so any node can
//! check a join; the passcode itself is never stored, sent on or logged.

use base64::{engine::general_purpose::STANDARD_NO_PAD as B64, Engine as _};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Passcode {
    salt: String,
    digest: String,
}

impl Passcode {
    pub fn new(secret: &str) -> Self {
        let salt = B64.encode(rand::random::<[u8; 16]>());
        let digest = B64.encode(digest(&salt, secret));
        Passcode { salt, digest }
    }

    pub fn matches(&self, attempt: &str) -> bool {
        let Ok(expected) = B64.decode(&self.digest) else { return false };
        bool::from(digest(&self.salt, attempt).as_slice().ct_eq(&expected))
    }
}

fn digest(salt: &str, secret: &str) -> [u8; 32] {
    let mut hash = Sha256::new();
    hash.update(salt.as_bytes());
    hash.update([0]);
    hash.update(secret.as_bytes());
    hash.finalize().into()
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
    fn it_never_shows_in_logs() {
        let p = Passcode::new("hunter2");
        assert_eq!(format!("{p:?}"), "Passcode(…)");
        assert!(!serde_json::to_string(&p).unwrap().contains("hunter2"));
    }
}
