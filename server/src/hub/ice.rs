//! The ICE servers each peer is told to use, including time-limited TURN
//! credentials in the form coturn's REST API (`use-auth-secret`) expects.

use app::protocol::{IceServer, PeerId};
use base64::Engine;
use hmac::{Hmac, KeyInit, Mac};
use sha1::Sha1;

#[derive(Clone, Debug, Default)]
pub struct IceConfig {
    pub stun_urls: Vec<String>,
    pub turn_urls: Vec<String>,
    /// The secret shared with the TURN server; no TURN entry without it.
    pub turn_secret: Option<String>,
    pub turn_ttl_secs: u64,
}

impl IceConfig {
    pub fn servers_for(&self, peer: &PeerId, now_secs: u64) -> Vec<IceServer> {
        let mut servers = Vec::new();
        if !self.stun_urls.is_empty() {
            servers.push(IceServer { urls: self.stun_urls.clone(), username: None, credential: None });
        }
        if let (false, Some(secret)) = (self.turn_urls.is_empty(), &self.turn_secret) {
            // username = "expiry:peer"; the TURN server recomputes the HMAC
            // and rejects the pair after `expiry` (Unix seconds).
            let username = format!("{}:{}", now_secs + self.turn_ttl_secs, peer);
            let credential = turn_credential(secret, &username);
            servers.push(IceServer {
                urls: self.turn_urls.clone(),
                username: Some(username),
                credential: Some(credential),
            });
        }
        servers
    }
}

/// base64(HMAC-SHA1(secret, username)).
pub fn turn_credential(secret: &str, username: &str) -> String {
    let mut mac = Hmac::<Sha1>::new_from_slice(secret.as_bytes()).expect("HMAC takes keys of any length");
    mac.update(username.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credential_matches_known_vectors() {
        // HMAC-SHA1("", "") is the published fbdb1d1b18aa6c08324b7d64b71fb76370690e1d.
        assert_eq!(turn_credential("", ""), "+9sdGxiqbAgyS31ktx+3Y3BpDh0=");
        // Computed independently with Python's hmac module.
        assert_eq!(turn_credential("north-wind", "1700086400:4f2a9c"), "yf4kziIowfHRrM6PKAp/Tv0YewQ=");
    }

    #[test]
    fn turn_entry_has_expiring_username_tied_to_the_peer() {
        let config = IceConfig {
            stun_urls: vec!["stun:stun.example:3478".into()],
            turn_urls: vec!["turn:turn.example:3478?transport=udp".into()],
            turn_secret: Some("north-wind".into()),
            turn_ttl_secs: 86_400,
        };
        let servers = config.servers_for(&PeerId("4f2a9c".into()), 1_700_000_000);
        assert_eq!(servers.len(), 2);
        assert_eq!(servers[0].urls, vec!["stun:stun.example:3478"]);
        assert_eq!(servers[0].username, None);
        assert_eq!(servers[1].username.as_deref(), Some("1700086400:4f2a9c"));
        assert_eq!(servers[1].credential.as_deref(), Some("yf4kziIowfHRrM6PKAp/Tv0YewQ="));
    }

    #[test]
    fn nothing_configured_means_no_servers() {
        assert!(IceConfig::default().servers_for(&PeerId("p".into()), 0).is_empty());
        let no_secret = IceConfig { turn_urls: vec!["turn:t".into()], ..IceConfig::default() };
        assert!(no_secret.servers_for(&PeerId("p".into()), 0).is_empty());
    }
}
