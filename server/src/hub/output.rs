use super::{Delivery, HubError, Outgoing};
use crate::media::MediaCmd;

/// Everything the hub produced for one input, in one value: the caller has
/// a single thing to carry out and nothing to remember to drain later.
#[must_use = "carry it out: the hub keeps nothing for later"]
#[derive(Debug, Default, PartialEq)]
pub struct Output {
    /// Messages for this node's connections, in the order decided.
    pub deliveries: Vec<Delivery>,
    /// Events for the other nodes (Redis scale-out); empty on a single node.
    pub publish: Vec<Outgoing>,
    /// Rooms this node stopped mirroring: no member of its own is left.
    pub released: Vec<String>,
    /// Commands for this node's SFU, in the order decided.
    pub media: Vec<MediaCmd>,
    /// Why the input was refused. The sender's `error` message is already
    /// in `deliveries`; this is for the caller's own bookkeeping.
    pub refused: Option<HubError>,
}

impl Output {
    /// Nothing to deliver, publish or release.
    pub fn is_empty(&self) -> bool {
        self.deliveries.is_empty()
            && self.publish.is_empty()
            && self.released.is_empty()
            && self.media.is_empty()
    }

    /// The deliveries of an accepted input, or why it was refused (the
    /// shape the hub's tests assert on).
    pub fn result(self) -> Result<Vec<Delivery>, HubError> {
        match self.refused {
            Some(err) => Err(err),
            None => Ok(self.deliveries),
        }
    }
}
