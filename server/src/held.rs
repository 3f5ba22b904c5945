//! Events for other nodes that wait while Redis is out of reach, so that a
//! short outage delays them instead of losing them. Plain state: the
//! cluster's publisher holds every event here and takes them out, in
//! order, while Redis answers.

use crate::hub::{ClusterEvent, Outgoing};
use app::protocol::PeerId;
use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// Most events held: a room's chat and signaling for about a minute.
pub const MAX_HELD: usize = 1024;
/// Older than this, an event is news no longer: a chat's sender is told.
pub const MAX_HELD_AGE: Duration = Duration::from_secs(60);

/// Said to the sender of a chat that only this node's members got.
#[derive(Debug, thiserror::Error)]
#[error(
    "your message reached the people on this server but not those on other servers, \
     which it lost touch with; send it again in a moment"
)]
pub struct NotDelivered;

pub struct Held {
    queue: VecDeque<(Instant, Outgoing)>,
    max: usize,
    max_age: Duration,
}

impl Default for Held {
    fn default() -> Self {
        Held::new(MAX_HELD, MAX_HELD_AGE)
    }
}

impl Held {
    pub fn new(max: usize, max_age: Duration) -> Self {
        Held { queue: VecDeque::new(), max, max_age }
    }

    pub fn len(&self) -> usize {
        self.queue.len()
    }

    pub fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }

    /// Queues `out` behind the others; gives back what is dropped to make
    /// room or for age, oldest first. Full of fresh events, the new one is
    /// the one dropped: the others were promised first.
    pub fn hold(&mut self, now: Instant, out: Outgoing) -> Vec<Outgoing> {
        let mut dropped = self.expire(now);
        if self.queue.len() < self.max {
            self.queue.push_back((now, out));
        } else {
            dropped.push(out);
        }
        dropped
    }

    /// The oldest event still fresh with when it was held, to send now;
    /// stale ones met on the way go to `dropped`.
    pub fn next(&mut self, now: Instant, dropped: &mut Vec<Outgoing>) -> Option<(Instant, Outgoing)> {
        dropped.extend(self.expire(now));
        self.queue.pop_front()
    }

    /// An event whose send failed goes back to the front, with its age.
    pub fn put_back(&mut self, held_at: Instant, out: Outgoing) {
        self.queue.push_front((held_at, out));
    }

    fn expire(&mut self, now: Instant) -> Vec<Outgoing> {
        let mut stale = Vec::new();
        while self.queue.front().is_some_and(|(at, _)| now.duration_since(*at) >= self.max_age) {
            stale.extend(self.queue.pop_front().map(|(_, out)| out));
        }
        stale
    }
}

/// Who to tell that a dropped event never reached the other nodes: the
/// sender of a chat. The rest is state that a reconcile repairs, or
/// signaling that the peers' own timeouts retry.
pub fn sender_to_tell(out: &Outgoing) -> Option<&PeerId> {
    match &out.event {
        ClusterEvent::Chat { from, .. } => Some(&from.id),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use app::protocol::{MediaState, Member};

    fn chat(text: &str) -> Outgoing {
        let from = Member {
            id: PeerId("ada".into()),
            nickname: "Ada".into(),
            media: MediaState::default(),
            hand: None,
        };
        Outgoing {
            node: None,
            event: ClusterEvent::Chat { room: "x".into(), from, text: text.into(), ts: 0, nonce: None },
        }
    }

    fn text(out: &Outgoing) -> &str {
        match &out.event {
            ClusterEvent::Chat { text, .. } => text,
            _ => unreachable!(),
        }
    }

    #[test]
    fn events_come_out_in_the_order_held() {
        let t = Instant::now();
        let mut held = Held::default();
        for s in ["one", "two", "three"] {
            assert!(held.hold(t, chat(s)).is_empty());
        }
        let mut dropped = Vec::new();
        let (at, first) = held.next(t, &mut dropped).unwrap();
        assert_eq!(text(&first), "one");
        // Its send failed: it goes first again.
        held.put_back(at, first);
        let order: Vec<String> =
            std::iter::from_fn(|| held.next(t, &mut dropped)).map(|(_, o)| text(&o).to_owned()).collect();
        assert_eq!(order, ["one", "two", "three"]);
        assert!(dropped.is_empty() && held.is_empty());
    }

    #[test]
    fn a_full_queue_refuses_the_newest_and_names_its_sender() {
        let t = Instant::now();
        let mut held = Held::new(2, MAX_HELD_AGE);
        assert!(held.hold(t, chat("a")).is_empty());
        assert!(held.hold(t, chat("b")).is_empty());
        let dropped = held.hold(t, chat("c"));
        assert_eq!(dropped.iter().map(text).collect::<Vec<_>>(), ["c"]);
        assert_eq!(sender_to_tell(&dropped[0]), Some(&PeerId("ada".into())));
        assert_eq!(held.len(), 2);
    }

    #[test]
    fn stale_events_are_dropped_not_sent() {
        let t = Instant::now();
        let mut held = Held::new(10, Duration::from_secs(60));
        held.hold(t, chat("old"));
        held.hold(t + Duration::from_secs(30), chat("newer"));
        let mut dropped = Vec::new();
        let (_, next) = held.next(t + Duration::from_secs(60), &mut dropped).unwrap();
        assert_eq!(text(&next), "newer");
        assert_eq!(dropped.iter().map(text).collect::<Vec<_>>(), ["old"]);
        // Holding also sheds what went stale meanwhile.
        held.hold(t + Duration::from_secs(61), chat("x"));
        let dropped = held.hold(t + Duration::from_secs(200), chat("y"));
        assert_eq!(dropped.iter().map(text).collect::<Vec<_>>(), ["x"]);
    }

    #[test]
    fn only_a_chat_has_someone_to_tell() {
        let left = Outgoing {
            node: None,
            event: ClusterEvent::Left {
                room: "x".into(),
                member: Member {
                    id: PeerId("b".into()),
                    nickname: "B".into(),
                    media: MediaState::default(),
                    hand: None,
                },
            },
        };
        assert_eq!(sender_to_tell(&left), None);
    }
}
