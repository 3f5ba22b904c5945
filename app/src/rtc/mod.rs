//! Transports: how the call's media and data move (feature `browser`).
//!
//! A mesh is one `RTCPeerConnection` per other person ([`peer`]); a room
//! through the server is two connections to it ([`sfu`]); direct chat and
//! files ride a DataChannel ([`files`], [`p2p`]). [`transports`] keeps the
//! live JS objects and does what the call model asks, and reports what
//! happens to them as [`transports::Event`]s. Nothing here decides who to
//! connect to or what to show: that is `call`, which this never imports.
//!
//! The plain parts (negotiation rules, the slot table, the DataChannel's
//! wire format, stats readings) build everywhere and are unit-tested
//! natively.

pub mod devices;
pub mod link;
pub mod negotiation;
pub mod p2p;
pub mod readings;
pub mod slots;
pub mod sounds;

#[cfg(feature = "browser")]
mod files;
#[cfg(feature = "browser")]
mod js;
#[cfg(feature = "browser")]
pub mod media;
#[cfg(feature = "browser")]
mod peer;
#[cfg(feature = "browser")]
pub mod screen;
#[cfg(feature = "browser")]
mod sfu;
#[cfg(feature = "browser")]
pub mod stats;
#[cfg(feature = "browser")]
pub mod transports;

#[cfg(feature = "browser")]
pub use sfu::SfuEvent;
