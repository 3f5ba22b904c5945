//! What a node asks of the other nodes (Redis scale-out): commands on one
//! ordered queue. The node knows only this queue; `cluster.rs` owns the
//! other end and calls back into the node with what Redis brings, so the
//! dependency runs one way: cluster → node → bus.

use crate::hub::Outgoing;
use crate::limits::Guessed;
use crate::resume::ResumeError;
use app::protocol::PeerId;
use std::net::IpAddr;
use tokio::sync::oneshot;

/// In the order the node queued them.
pub enum BusCmd {
    Publish(Outgoing),
    /// Stop mirroring a room nobody here is in any more.
    Release(String),
    /// Start mirroring a room: subscribe, then load its members and settings
    /// into the node; `done` fires once they are in (dropped if Redis could
    /// not be asked). In the same queue as `Release`: a join refused for its
    /// passcode releases the room, and the next try mirrors it again; outside
    /// the queue, that subscription could come before the queued
    /// unsubscription, and the member would never hear the room's events.
    Mirror {
        room: String,
        done: oneshot::Sender<()>,
    },
    /// What the cluster knows of `client`'s wrong passcodes for `room`.
    Guesses {
        room: String,
        client: IpAddr,
        reply: oneshot::Sender<Option<Guessed>>,
    },
    /// Stores a wrong passcode for every node to see; `done` once stored.
    RecordGuess {
        room: String,
        client: IpAddr,
        guessed: Guessed,
        done: oneshot::Sender<()>,
    },
    /// A right passcode: forget the address's wrong ones for the room.
    ForgiveGuesses {
        room: String,
        client: IpAddr,
    },
    /// A page came back here with a token `node` issued: asks it to hand
    /// `id`'s session over; `reply` once it is ours, or why not.
    Handover {
        node: String,
        id: PeerId,
        generation: u32,
        reply: oneshot::Sender<Handover>,
    },
}

/// How asking for a session ended.
#[derive(Debug, PartialEq)]
pub enum Handover {
    /// Ours now, parked until the page's socket takes it.
    Adopted,
    /// Nobody listens for that node any more: it stopped, and with it the
    /// session it held.
    NoSuchNode,
    Refused(ResumeError),
}
