//! One str0m `Rtc` (one of a member's two connections) behind a guard:
//! str0m panics on internal bugs by design, and a bug in one session must
//! cost only that session, not the media of every room on this thread.

use app::protocol::{MediaTransport, PeerId};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::{Duration, Instant};
use str0m::change::SdpPendingOffer;
use str0m::media::{Mid, Rid};
use str0m::net::TcpType;
use str0m::{Candidate, Rtc};

/// Keyframe requests to one publisher's track, at most one per this
/// interval: N subscribers asking at once must not become N requests.
pub const KEYFRAME_INTERVAL: Duration = Duration::from_millis(500);

/// How often a subscribe session reports the browser's loss.
const STATS_EVERY: Duration = Duration::from_secs(1);

/// Video packets a subscribe session keeps to answer NACKs with, per
/// track. str0m keeps 1,000 or 3 s, whichever is less: at the top layer
/// (1.5 Mbit/s, ~180 packets/s) that was 540 packets, ~700 KB for each
/// subscriber that receives a speaker, the largest share of the media
/// thread's heap (heaptrack, `scripts/bench-sfu.sh`). 256 is still 1.4 s
/// of that layer and 3 s of the others, several round trips for a resend
/// to be of use, and two keyframes of a shared screen.
const RESEND_HISTORY_VIDEO: usize = 256;

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct SessionKey {
    pub peer: PeerId,
    pub transport: MediaTransport,
}

impl SessionKey {
    pub fn new(peer: &PeerId, transport: MediaTransport) -> Self {
        SessionKey { peer: peer.clone(), transport }
    }
}

/// str0m panicked inside this session.
#[derive(Debug)]
pub struct Panicked;

pub struct Session {
    rtc: Rtc,
    /// Our offer awaiting the browser's answer (subscribe connections).
    pub pending: Option<SdpPendingOffer>,
    /// When str0m next wants time to pass.
    pub next: Instant,
    /// When each published track's layer was last asked for a keyframe.
    last_keyframe_request: HashMap<(Mid, Option<Rid>), Instant>,
    /// Since when str0m has had no working ICE pair. It comes back by
    /// itself when the browser's checks get through again (a busy or
    /// briefly stalled browser), so this is not yet the end.
    pub ice_down_since: Option<Instant>,
    /// Makes the next guarded call panic, as a str0m bug would.
    #[cfg(test)]
    pub poisoned: bool,
}

impl Session {
    /// An ICE-lite server session: VP8 and Opus only, a host candidate on
    /// UDP and, when given, a passive one on TCP.
    /// A subscribe session (`sends`) reports once a second how much of what
    /// it forwards the browser lost, to fit what it forwards into the link.
    /// (str0m's bandwidth estimation stays off: see `budget.rs`.)
    pub fn new(candidate: SocketAddr, tcp: Option<SocketAddr>, now: Instant, sends: bool) -> Self {
        let mut rtc = Rtc::builder()
            .set_ice_lite(true)
            .clear_codecs()
            .enable_vp8(true)
            .enable_opus(true, false)
            .set_stats_interval(sends.then_some(STATS_EVERY))
            .set_send_buffer_video(RESEND_HISTORY_VIDEO)
            .build(now);
        match Candidate::host(candidate, "udp") {
            Ok(c) => {
                rtc.add_local_candidate(c);
            }
            Err(err) => tracing::error!(%candidate, %err, "unusable media address"),
        }
        if let Some(tcp) = tcp {
            match Candidate::builder().tcp().host(tcp).tcptype(TcpType::Passive).build() {
                Ok(c) => {
                    rtc.add_local_candidate(c);
                }
                Err(err) => tracing::error!(%tcp, %err, "unusable media address (TCP)"),
            }
        }
        Session {
            rtc,
            pending: None,
            next: now,
            last_keyframe_request: HashMap::new(),
            ice_down_since: None,
            #[cfg(test)]
            poisoned: false,
        }
    }

    /// Runs `f` on the session's `Rtc`; a panic inside comes back as
    /// `Err(Panicked)` and the session must be dropped.
    pub fn guarded<T>(&mut self, f: impl FnOnce(&mut Rtc) -> T) -> Result<T, Panicked> {
        #[cfg(test)]
        let poisoned = self.poisoned;
        let rtc = &mut self.rtc;
        catch_unwind(AssertUnwindSafe(move || {
            #[cfg(test)]
            if poisoned {
                panic!("a session made to fail");
            }
            f(rtc)
        }))
        .map_err(|_| Panicked)
    }

    pub fn accepts(&self, input: &str0m::Input<'_>) -> bool {
        self.rtc.accepts(input)
    }

    pub fn is_alive(&self) -> bool {
        self.rtc.is_alive()
    }

    /// Whether a keyframe may be asked of `mid`'s layer `rid` now (and
    /// notes that it is).
    pub fn may_request_keyframe(&mut self, mid: Mid, rid: Option<Rid>, now: Instant) -> bool {
        match self.last_keyframe_request.get(&(mid, rid)) {
            Some(at) if now.saturating_duration_since(*at) < KEYFRAME_INTERVAL => false,
            _ => {
                self.last_keyframe_request.insert((mid, rid), now);
                true
            }
        }
    }
}
