//! The SFU: rooms whose calls go through the server. Each member publishes
//! its camera and microphone once, on a connection to us, and receives
//! everyone else's on a second one; we forward frames between them with
//! str0m (sans-IO WebRTC).
//!
//! Layout, state first and IO last: `rooms` (membership, tracks, receive
//! slots), `forward` (a slot's timeline), `layers` (which simulcast layer
//! each subscriber gets, and switching on keyframes), `budget` (fitting
//! them into each subscriber's downlink), `speakers` (who
//! speaks in each room, from the levels in publishers' audio) and `stats`
//! (what `/metrics` shows) are plain state; `session`
//! guards one str0m `Rtc`; `engine` drives them all from commands,
//! datagrams and time; `socket` is the one thread that owns the UDP socket
//! (and the TCP listener beside it, whose connections `tcp` carries) and
//! feeds the engine. With `--media-threads` there are several such
//! threads, each with its own engine and port; `router` keeps each room on
//! one of them. The hub talks to it only through channels
//! ([`MediaCmd`] in, [`MediaEvent`] out), so neither can stall the other.

mod budget;
mod cmd;
mod engine;
mod forward;
mod layers;
mod rooms;
mod router;
mod session;
mod socket;
mod speakers;
mod stats;
mod tcp;

pub use cmd::{MediaCmd, MediaEvent};
pub use engine::{Engine, EngineConfig, Wire};
pub use router::Router;
pub use socket::{spawn, MediaHandle};
pub use stats::{Census, Tally, ENDS};
