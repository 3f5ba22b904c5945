//! How a connection carrying someone's media is doing, as a tile shows it.

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PeerLink {
    Connecting,
    Connected,
    /// ICE dropped or failed; a restart is under way.
    Reconnecting,
}
