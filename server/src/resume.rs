//! Resuming a session on a new socket: the token a connection is given, and
//! which sessions may still be taken back.
//!
//! A dropped WebSocket (a proxy's timeout, a phone changing networks, the
//! server restarting) must not cost a call anything: the browsers' media
//! goes directly between them. So a session outlives its socket for a
//! grace period, and the page comes back as the same peer with the token
//! from its `welcome`.
//!
//! The token is signed rather than stored, so that it still proves who the
//! page was after this process restarts (with `--resume-secret` set, the
//! same key across restarts). What it cannot prove alone is that it is the
//! newest: each resume hands out a token of the next generation, and only
//! the generation this process last issued may take the session back, so
//! two sockets presenting one token cannot both win.

use crate::hub::{PeerMap, Seat};
use app::protocol::PeerId;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use ring::hmac;

/// Longest a token stays valid. A session is resumable only for the grace
/// period after its socket drops; this bounds what a token read from a
/// page's memory is worth, e.g. across a restart that lost the grace clock.
pub const TOKEN_TTL_SECS: u64 = 24 * 60 * 60;

const ID_BYTES: usize = 16;
const CLAIM_BYTES: usize = ID_BYTES + 4 + 8;
/// With a seat: its room's hash and its join time…
const SEATED_V1_BYTES: usize = CLAIM_BYTES + 8 + 8;
/// …and a byte of flags (bit 0: the room was locked). Tokens of the first
/// form, from the process a deploy replaces, still resume.
const SEATED_BYTES: usize = SEATED_V1_BYTES + 1;
/// In a cluster, the node that issued the token follows the claim (before
/// any seat), so that another node knows whom to ask for the session.
const NODE_BYTES: usize = 8;
const SEAT_BYTES: usize = SEATED_BYTES - CLAIM_BYTES;
const FORMS: [usize; 5] = [
    CLAIM_BYTES,
    SEATED_V1_BYTES,
    SEATED_BYTES,
    CLAIM_BYTES + NODE_BYTES,
    CLAIM_BYTES + NODE_BYTES + SEAT_BYTES,
];
const TAG_BYTES: usize = 32;

#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ResumeError {
    #[error("the resume token is not one this server issued")]
    Forged,
    #[error("the resume token has expired")]
    Expired,
    #[error("this session was already resumed by another connection")]
    Used,
    #[error("this session is held by another server")]
    Elsewhere,
    #[error("this session has ended")]
    Ended,
}

/// Who a token speaks for, which of that peer's tokens it is, which node
/// of a cluster issued it, and where the peer sat then, if in a room.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Claim {
    pub id: PeerId,
    pub generation: u32,
    pub node: Option<u64>,
    pub seat: Option<Seat>,
}

/// Signs and checks tokens with one key.
pub struct Tokens {
    key: hmac::Key,
}

impl Tokens {
    pub fn new(secret: &[u8]) -> Self {
        Tokens { key: hmac::Key::new(hmac::HMAC_SHA256, secret) }
    }

    /// A key for this process only: sessions resume until it exits.
    pub fn random() -> Self {
        Self::new(&rand::random::<[u8; 32]>())
    }

    /// `None` for an id this server did not make (only its 32 hex digits fit).
    pub fn issue(&self, claim: &Claim, now_secs: u64) -> Option<String> {
        self.issue_expiring(claim, now_secs + TOKEN_TTL_SECS)
    }

    fn issue_expiring(&self, claim: &Claim, expires_secs: u64) -> Option<String> {
        let id = &claim.id.0;
        if id.len() != 2 * ID_BYTES || !id.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
            return None;
        }
        let mut bytes = Vec::with_capacity(FORMS[4] + TAG_BYTES);
        bytes.extend_from_slice(&u128::from_str_radix(id, 16).ok()?.to_be_bytes());
        bytes.extend_from_slice(&claim.generation.to_be_bytes());
        bytes.extend_from_slice(&expires_secs.to_be_bytes());
        if let Some(node) = claim.node {
            bytes.extend_from_slice(&node.to_be_bytes());
        }
        if let Some(seat) = claim.seat {
            bytes.extend_from_slice(&seat.room.to_be_bytes());
            bytes.extend_from_slice(&seat.since_ms.to_be_bytes());
            bytes.push(u8::from(seat.locked));
        }
        let tag = hmac::sign(&self.key, &bytes);
        bytes.extend_from_slice(tag.as_ref());
        Some(URL_SAFE_NO_PAD.encode(bytes))
    }

    /// The claim of a token this key signed, unless it expired.
    pub fn check(&self, token: &str, now_secs: u64) -> Result<Claim, ResumeError> {
        let bytes = URL_SAFE_NO_PAD.decode(token).map_err(|_| ResumeError::Forged)?;
        let Some(claim_len) = bytes.len().checked_sub(TAG_BYTES).filter(|n| FORMS.contains(n)) else {
            return Err(ResumeError::Forged);
        };
        let (claim, tag) = bytes.split_at(claim_len);
        hmac::verify(&self.key, claim, tag).map_err(|_| ResumeError::Forged)?;
        let u64_at = |at: usize| u64::from_be_bytes(claim[at..at + 8].try_into().expect("8 bytes"));
        if now_secs >= u64_at(ID_BYTES + 4) {
            return Err(ResumeError::Expired);
        }
        let id = u128::from_be_bytes(claim[..ID_BYTES].try_into().expect("16 bytes"));
        let node = FORMS[3..].contains(&claim_len).then(|| u64_at(CLAIM_BYTES));
        let seat_at = CLAIM_BYTES + node.map_or(0, |_| NODE_BYTES);
        let seat = (claim_len >= seat_at + 16).then(|| Seat {
            room: u64_at(seat_at),
            since_ms: u64_at(seat_at + 8),
            locked: claim.get(seat_at + 16).is_some_and(|flags| flags & 1 == 1),
        });
        Ok(Claim {
            id: PeerId(format!("{id:032x}")),
            generation: u32::from_be_bytes(claim[ID_BYTES..ID_BYTES + 4].try_into().expect("4 bytes")),
            node,
            seat,
        })
    }

    /// A token that expired at `expires_secs`: for tests of the refusal.
    pub fn issue_expired(&self, claim: &Claim, expires_secs: u64) -> Option<String> {
        self.issue_expiring(claim, expires_secs)
    }
}

/// How a checked claim takes its session back.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Taken {
    /// This process holds the session (its socket may not even have
    /// noticed it is dead yet): the new socket replaces the old.
    Held,
    /// This process does not know the peer (it restarted): the peer starts
    /// again with its old id, and the page asks for its room again.
    Restored,
}

/// Which sessions this process issued tokens for, and which of them lost
/// their socket and wait to be resumed, each holding `P` meanwhile (the
/// node: its socket's place in the per-address limit), which is dropped
/// when the session is taken back or ends. Plain state: time is passed in.
pub struct Sessions<P = ()> {
    grace_ms: u64,
    /// The generation of each live or parked session's newest token.
    generation: PeerMap<u32>,
    /// Sessions without a socket: when (ms) they are given up, and what
    /// they hold until then.
    parked: PeerMap<(u64, P)>,
}

impl<P> Sessions<P> {
    pub fn new(grace_ms: u64) -> Self {
        Sessions { grace_ms, generation: PeerMap::default(), parked: PeerMap::default() }
    }

    /// Whether sessions outlive their sockets at all.
    pub fn enabled(&self) -> bool {
        self.grace_ms > 0
    }

    /// How long a dropped session waits for its page (ms).
    pub fn grace_ms(&self) -> u64 {
        self.grace_ms
    }

    /// The generation of the newest token issued for `id`.
    pub fn generation(&self, id: &PeerId) -> Option<u32> {
        self.generation.get(id).copied()
    }

    /// The generation of a new connection's first token.
    pub fn start(&mut self, id: &PeerId) -> u32 {
        self.generation.insert(id.clone(), 0);
        0
    }

    /// Decides whether `claim` may take its session back. `known` says
    /// whether the id is anyone's here already (a member on another node
    /// included). On success the session is live again, with the returned
    /// generation for its next token.
    pub fn take(&mut self, claim: &Claim, known: bool) -> Result<(Taken, u32), ResumeError> {
        let next = claim.generation.wrapping_add(1);
        match self.generation.get_mut(&claim.id) {
            Some(generation) if *generation == claim.generation => {
                *generation = next;
                self.parked.remove(&claim.id);
                Ok((Taken::Held, next))
            }
            Some(_) => Err(ResumeError::Used),
            None if known => Err(ResumeError::Elsewhere),
            None => {
                self.generation.insert(claim.id.clone(), next);
                Ok((Taken::Restored, next))
            }
        }
    }

    /// A session another node handed over, at `generation`: parked, with
    /// `held`, until its page's socket takes it (or the grace runs out).
    pub fn adopt(&mut self, id: &PeerId, generation: u32, now_ms: u64, held: P) {
        self.generation.insert(id.clone(), generation);
        self.park(id, now_ms, held);
    }

    /// The socket of `id` dropped: keep the session, and `held`, for the
    /// grace period.
    pub fn park(&mut self, id: &PeerId, now_ms: u64, held: P) {
        self.parked.insert(id.clone(), (now_ms + self.grace_ms, held));
    }

    pub fn is_parked(&self, id: &PeerId) -> bool {
        self.parked.contains_key(id)
    }

    /// The parked sessions whose grace ran out by `now_ms`; forgotten.
    pub fn expire(&mut self, now_ms: u64) -> Vec<PeerId> {
        let due: Vec<PeerId> =
            self.parked.iter().filter(|(_, (until, _))| *until <= now_ms).map(|(id, _)| id.clone()).collect();
        for id in &due {
            self.forget(id);
        }
        due
    }

    /// The session ended for good: its tokens resume nothing here now.
    pub fn forget(&mut self, id: &PeerId) {
        self.generation.remove(id);
        self.parked.remove(id);
    }

    pub fn parked_count(&self) -> usize {
        self.parked.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claim(generation: u32) -> Claim {
        Claim { id: PeerId("00112233445566778899aabbccddeeff".into()), generation, node: None, seat: None }
    }

    #[test]
    fn a_token_can_carry_a_seat_and_it_is_signed_too() {
        let tokens = Tokens::new(b"secret");
        let seated = Claim { seat: Some(Seat { room: 7, since_ms: 1_234, locked: true }), ..claim(2) };
        let token = tokens.issue(&seated, 0).unwrap();
        assert_eq!(tokens.check(&token, 0), Ok(seated));
        let mut bytes = URL_SAFE_NO_PAD.decode(&token).unwrap();
        bytes[CLAIM_BYTES + 15] ^= 1; // the join time
        assert_eq!(tokens.check(&URL_SAFE_NO_PAD.encode(bytes), 0), Err(ResumeError::Forged));
        // Cut to a seatless length, the signature no longer fits.
        let mut bytes = URL_SAFE_NO_PAD.decode(&token).unwrap();
        bytes.drain(CLAIM_BYTES..SEATED_BYTES);
        assert_eq!(tokens.check(&URL_SAFE_NO_PAD.encode(bytes), 0), Err(ResumeError::Forged));
    }

    #[test]
    fn a_cluster_s_token_names_its_node_with_or_without_a_seat() {
        let tokens = Tokens::new(b"secret");
        let seat = Some(Seat { room: 7, since_ms: 1_234, locked: true });
        for claim in
            [Claim { node: Some(u64::MAX - 1), ..claim(2) }, Claim { node: Some(9), seat, ..claim(2) }]
        {
            let token = tokens.issue(&claim, 0).unwrap();
            assert_eq!(tokens.check(&token, 0), Ok(claim.clone()));
            let mut bytes = URL_SAFE_NO_PAD.decode(&token).unwrap();
            bytes[CLAIM_BYTES + 7] ^= 1; // the node
            assert_eq!(tokens.check(&URL_SAFE_NO_PAD.encode(bytes), 0), Err(ResumeError::Forged));
        }
    }

    #[test]
    fn an_adopted_session_waits_for_its_page_as_a_parked_one_does() {
        let mut sessions: Sessions = Sessions::new(30_000);
        let id = claim(0).id;
        sessions.adopt(&id, 3, 1_000, ());
        assert!(sessions.is_parked(&id));
        assert_eq!(sessions.take(&claim(2), true), Err(ResumeError::Used), "an older token");
        assert_eq!(sessions.take(&claim(3), true), Ok((Taken::Held, 4)));
        sessions.adopt(&id, 4, 1_000, ());
        assert_eq!(sessions.expire(31_000), vec![id]);
    }

    #[test]
    fn a_seated_token_of_the_first_form_still_resumes_as_unlocked() {
        let tokens = Tokens::new(b"secret");
        let mut bytes = Vec::new();
        bytes.extend_from_slice(&0x0011_2233_4455_6677_8899_aabb_ccdd_eeffu128.to_be_bytes());
        bytes.extend_from_slice(&2u32.to_be_bytes());
        bytes.extend_from_slice(&TOKEN_TTL_SECS.to_be_bytes());
        bytes.extend_from_slice(&7u64.to_be_bytes());
        bytes.extend_from_slice(&1_234u64.to_be_bytes());
        assert_eq!(bytes.len(), SEATED_V1_BYTES);
        let tag = hmac::sign(&tokens.key, &bytes);
        bytes.extend_from_slice(tag.as_ref());
        let seated = Claim { seat: Some(Seat { room: 7, since_ms: 1_234, locked: false }), ..claim(2) };
        assert_eq!(tokens.check(&URL_SAFE_NO_PAD.encode(bytes), 0), Ok(seated));
    }

    #[test]
    fn a_token_gives_back_its_claim_until_it_expires() {
        let tokens = Tokens::new(b"secret");
        let token = tokens.issue(&claim(3), 1_000).unwrap();
        assert_eq!(tokens.check(&token, 1_000), Ok(claim(3)));
        assert_eq!(tokens.check(&token, 1_000 + TOKEN_TTL_SECS - 1), Ok(claim(3)));
        assert_eq!(tokens.check(&token, 1_000 + TOKEN_TTL_SECS), Err(ResumeError::Expired));
    }

    #[test]
    fn another_key_a_changed_byte_or_garbage_is_forged() {
        let token = Tokens::new(b"secret").issue(&claim(0), 0).unwrap();
        assert_eq!(Tokens::new(b"other").check(&token, 0), Err(ResumeError::Forged));
        let mut bytes = URL_SAFE_NO_PAD.decode(&token).unwrap();
        bytes[17] ^= 1; // the generation
        let tampered = URL_SAFE_NO_PAD.encode(bytes);
        let tokens = Tokens::new(b"secret");
        assert_eq!(tokens.check(&tampered, 0), Err(ResumeError::Forged));
        for junk in ["", "x", "!!!!", &token[..20]] {
            assert_eq!(tokens.check(junk, 0), Err(ResumeError::Forged), "{junk:?}");
        }
    }

    #[test]
    fn only_ids_the_server_makes_get_tokens() {
        let tokens = Tokens::new(b"secret");
        for id in [
            "a",
            "00112233445566778899aabbccddeef",
            "+0112233445566778899aabbccddeeff",
            "00112233445566778899AABBCCDDEEFF",
        ] {
            let claim = Claim { id: PeerId(id.into()), generation: 0, node: None, seat: None };
            assert_eq!(tokens.issue(&claim, 0), None, "{id}");
        }
    }

    #[test]
    fn a_token_takes_its_session_back_once() {
        let mut sessions: Sessions = Sessions::new(30_000);
        let id = claim(0).id;
        assert_eq!(sessions.start(&id), 0);
        sessions.park(&id, 1_000, ());
        assert_eq!(sessions.take(&claim(0), true), Ok((Taken::Held, 1)));
        assert!(!sessions.is_parked(&id));
        assert_eq!(sessions.take(&claim(0), true), Err(ResumeError::Used), "the same token again");
        assert_eq!(sessions.take(&claim(1), true), Ok((Taken::Held, 2)), "the newest token");
    }

    #[test]
    fn after_a_restart_the_first_claim_restores_and_a_second_is_refused() {
        let mut sessions: Sessions = Sessions::new(30_000);
        assert_eq!(sessions.take(&claim(4), false), Ok((Taken::Restored, 5)));
        assert_eq!(sessions.take(&claim(4), true), Err(ResumeError::Used));
    }

    #[test]
    fn an_unknown_id_someone_else_holds_is_not_restored() {
        let mut sessions: Sessions = Sessions::new(30_000);
        assert_eq!(sessions.take(&claim(0), true), Err(ResumeError::Elsewhere));
    }

    #[test]
    fn parked_sessions_expire_after_the_grace() {
        let mut sessions: Sessions = Sessions::new(30_000);
        let id = claim(0).id;
        sessions.start(&id);
        sessions.park(&id, 1_000, ());
        assert!(sessions.expire(30_999).is_empty());
        assert_eq!(sessions.expire(31_000), vec![id.clone()]);
        assert_eq!(sessions.parked_count(), 0);
        assert_eq!(
            sessions.take(&claim(0), false),
            Ok((Taken::Restored, 1)),
            "forgotten: as after a restart"
        );
    }
}
