//! What crosses between the hub's side and the media thread. Plain data,
//! no WebRTC types: the hub produces commands without knowing str0m.

use app::protocol::{MediaTransport, PeerId, ServerMsg, SignalPayload};

/// From the hub (in the order it decided them) to the media thread.
#[derive(Clone, Debug, PartialEq)]
pub enum MediaCmd {
    /// `peer` is now in `room`, whose call goes through the server.
    Join { room: String, peer: PeerId },
    /// `peer` left its SFU room (or disconnected): its connections close.
    Leave { peer: PeerId },
    /// SDP or ICE from `peer` for one of its connections to us.
    Signal { peer: PeerId, transport: MediaTransport, payload: SignalPayload },
    /// `peer`'s browser lost its connections to us: drop both and start
    /// over (it opens new ones after `media_restarted`).
    Restart { peer: PeerId },
    /// `peer` started (or stopped) presenting its screen: everyone gets
    /// its top layer while it does.
    Presenting { peer: PeerId, on: bool },
}

/// From the media thread, for connections of this node: one, or a room's
/// (encoded once for all of them).
#[derive(Clone, Debug, PartialEq)]
pub struct MediaEvent {
    pub to: Vec<PeerId>,
    pub msg: ServerMsg,
}

impl MediaEvent {
    pub fn one(to: &PeerId, msg: ServerMsg) -> Self {
        MediaEvent { to: vec![to.clone()], msg }
    }

    pub fn is_for(&self, peer: &PeerId) -> bool {
        self.to.contains(peer)
    }
}
