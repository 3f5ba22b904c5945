//! One connection's queue of frames to send: filled by the node under the
//! hub's lock, emptied by the connection's task.
//!
//! A mutex-guarded deque and a `Notify` rather than a channel: an idle
//! connection (what a node holds most of) then owns one small allocation
//! with an empty deque, where a bounded channel allocated a block of slots
//! up front and a one-shot for the kick beside it. The task takes
//! everything queued in one swap and writes it with one flush.

use axum::extract::ws::Utf8Bytes;
use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};
use tokio::sync::Notify;

/// Messages queued per connection before it counts as too slow.
pub const OUTBOX_CAPACITY: usize = 256;

/// Why the server is closing a connection: a WebSocket close code and reason.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Kick {
    pub code: u16,
    pub reason: std::borrow::Cow<'static, str>,
    /// Deliver what is already queued first (an error, a notice), unless
    /// the queue itself is the problem: a client too slow to read it.
    pub flush: bool,
}

#[derive(Default)]
struct Shared {
    state: Mutex<State>,
    ready: Notify,
}

#[derive(Default)]
struct State {
    messages: VecDeque<Utf8Bytes>,
    /// Set once; nothing is queued after it.
    kick: Option<Kick>,
    /// The node let go of the connection without a word.
    dropped: bool,
}

/// The node's half.
pub struct Outbox(Arc<Shared>);

/// The connection's half.
pub struct Inbox(Arc<Shared>);

/// The queue is full: the client is not reading.
#[derive(Debug, PartialEq, Eq)]
pub struct Full;

/// What the connection's task is to do next.
#[derive(Debug, PartialEq)]
pub enum Work {
    /// Nothing queued.
    Idle,
    /// Send these, in order.
    Send(VecDeque<Utf8Bytes>),
    /// Close with this (after sending these, when the kick says to flush).
    Close(Kick, VecDeque<Utf8Bytes>),
    /// The node is gone: end without a close frame of ours.
    Ended,
}

pub fn outbox_pair() -> (Outbox, Inbox) {
    let shared = Arc::new(Shared::default());
    (Outbox(shared.clone()), Inbox(shared))
}

impl State {
    /// The first kick wins, and none once the connection has ended.
    fn close_with(&mut self, kick: Kick) {
        if self.kick.is_none() && !self.dropped {
            self.kick = Some(kick);
        }
    }
}

fn lock(shared: &Shared) -> MutexGuard<'_, State> {
    // Nothing panics while holding it; a poisoned queue is still a queue.
    shared.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Outbox {
    /// Queues one frame; never waits. After a kick, frames are dropped.
    pub fn push(&self, text: Utf8Bytes) -> Result<(), Full> {
        let mut state = lock(&self.0);
        if state.kick.is_some() {
            return Ok(());
        }
        if state.messages.len() >= OUTBOX_CAPACITY {
            return Err(Full);
        }
        let was_empty = state.messages.is_empty();
        state.messages.push_back(text);
        drop(state);
        // A non-empty queue has already woken the task, which takes it all.
        if was_empty {
            self.0.ready.notify_one();
        }
        Ok(())
    }

    /// Asks the connection to close.
    pub fn kick(&self, kick: Kick) {
        lock(&self.0).close_with(kick);
        self.0.ready.notify_one();
    }

    /// Whether `inbox` is the other half of this queue: a connection whose
    /// session a newer socket took over no longer speaks for its peer.
    pub fn feeds(&self, inbox: &Inbox) -> bool {
        Arc::ptr_eq(&self.0, &inbox.0)
    }

    /// What is queued and not yet taken, for a new socket resuming the
    /// session.
    pub fn take_queued(&self) -> VecDeque<Utf8Bytes> {
        std::mem::take(&mut lock(&self.0).messages)
    }
}

impl Drop for Outbox {
    fn drop(&mut self) {
        lock(&self.0).dropped = true;
        self.0.ready.notify_one();
    }
}

impl Inbox {
    /// Everything queued since the last call, or why to stop.
    pub fn take(&self) -> Work {
        let mut state = lock(&self.0);
        if let Some(kick) = state.kick.take() {
            let queued = if kick.flush { std::mem::take(&mut state.messages) } else { VecDeque::new() };
            // Later calls see the end, not the same kick again.
            state.dropped = true;
            return Work::Close(kick, queued);
        }
        if !state.messages.is_empty() {
            return Work::Send(std::mem::take(&mut state.messages));
        }
        if state.dropped {
            return Work::Ended;
        }
        Work::Idle
    }

    /// The connection closes itself (a frame too big, a client too slow to
    /// name itself): the same path as a kick from the node. It wakes the
    /// task, which may be waiting while a request of the HTTP fallback
    /// asks for the close.
    pub fn kick(&self, kick: Kick) {
        lock(&self.0).close_with(kick);
        self.0.ready.notify_one();
    }

    /// Resolves when something may have been queued since the last `take`.
    pub async fn ready(&self) {
        self.0.ready.notified().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(s: &'static str) -> Utf8Bytes {
        Utf8Bytes::from_static(s)
    }

    fn kick(flush: bool) -> Kick {
        Kick { code: 4000, reason: "bye".into(), flush }
    }

    #[test]
    fn frames_come_out_in_one_batch_in_order() {
        let (outbox, inbox) = outbox_pair();
        assert_eq!(inbox.take(), Work::Idle);
        outbox.push(text("a")).unwrap();
        outbox.push(text("b")).unwrap();
        assert_eq!(inbox.take(), Work::Send(VecDeque::from([text("a"), text("b")])));
        assert_eq!(inbox.take(), Work::Idle);
    }

    #[test]
    fn a_full_queue_refuses_and_keeps_what_it_has() {
        let (outbox, inbox) = outbox_pair();
        for _ in 0..OUTBOX_CAPACITY {
            outbox.push(text("x")).unwrap();
        }
        assert_eq!(outbox.push(text("y")), Err(Full));
        let Work::Send(all) = inbox.take() else { panic!("expected frames") };
        assert_eq!(all.len(), OUTBOX_CAPACITY);
        assert!(outbox.push(text("z")).is_ok());
    }

    #[test]
    fn a_kick_that_flushes_carries_what_was_queued_and_ends_the_queue() {
        let (outbox, inbox) = outbox_pair();
        outbox.push(text("restarting")).unwrap();
        outbox.kick(kick(true));
        outbox.kick(kick(false));
        outbox.push(text("late")).unwrap();
        assert_eq!(inbox.take(), Work::Close(kick(true), VecDeque::from([text("restarting")])));
        assert_eq!(inbox.take(), Work::Ended);
    }

    #[test]
    fn a_kick_for_a_slow_client_drops_its_backlog() {
        let (outbox, inbox) = outbox_pair();
        outbox.push(text("a")).unwrap();
        outbox.kick(kick(false));
        assert_eq!(inbox.take(), Work::Close(kick(false), VecDeque::new()));
    }

    #[test]
    fn the_node_letting_go_ends_the_connection() {
        let (outbox, inbox) = outbox_pair();
        outbox.push(text("a")).unwrap();
        drop(outbox);
        assert_eq!(inbox.take(), Work::Send(VecDeque::from([text("a")])));
        assert_eq!(inbox.take(), Work::Ended);
    }

    #[test]
    fn a_kick_after_the_close_was_taken_changes_nothing() {
        let (outbox, inbox) = outbox_pair();
        outbox.kick(kick(true));
        assert_eq!(inbox.take(), Work::Close(kick(true), VecDeque::new()));
        outbox.kick(kick(false));
        assert_eq!(inbox.take(), Work::Ended);
    }

    #[test]
    fn the_connection_closes_itself_once() {
        let (_outbox, inbox) = outbox_pair();
        inbox.kick(kick(true));
        assert_eq!(inbox.take(), Work::Close(kick(true), VecDeque::new()));
        inbox.kick(kick(false));
        assert_eq!(inbox.take(), Work::Ended);
    }

    #[test]
    fn a_queue_knows_its_own_connection_and_gives_up_its_backlog() {
        let (outbox, inbox) = outbox_pair();
        let (_other, other_inbox) = outbox_pair();
        assert!(outbox.feeds(&inbox));
        assert!(!outbox.feeds(&other_inbox));
        outbox.push(text("a")).unwrap();
        assert_eq!(outbox.take_queued(), VecDeque::from([text("a")]));
        assert_eq!(inbox.take(), Work::Idle);
    }

    #[tokio::test]
    async fn a_push_wakes_the_waiting_task() {
        let (outbox, inbox) = outbox_pair();
        let waiting = tokio::spawn(async move {
            inbox.ready().await;
            inbox.take()
        });
        tokio::task::yield_now().await;
        outbox.push(text("a")).unwrap();
        assert_eq!(waiting.await.unwrap(), Work::Send(VecDeque::from([text("a")])));
    }
}
