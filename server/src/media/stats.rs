//! What the SFU did and what it holds, for `/metrics`: counted by the
//! engine as plain numbers, carried to the metrics by the media thread.

/// Why sessions ended, in the order of the engine's `End`.
pub const ENDS: [&str; 6] = ["closed", "lost", "restarted", "refused", "error", "panicked"];

/// Running totals since the engine started.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Tally {
    /// Frames written to subscribers, and their payload bytes.
    pub frames: u64,
    pub bytes: u64,
    /// Asked of publishers (after throttling).
    pub keyframe_requests: u64,
    /// A subscriber's slot aimed at another layer of a simulcast track.
    pub layer_switches: u64,
    /// Sessions ended, by why (see [`ENDS`]).
    pub ended: [u64; ENDS.len()],
}

/// What the engine holds now.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Census {
    pub rooms: usize,
    pub publishers: usize,
    pub subscribers: usize,
    /// Tracks going out: each subscriber slot that carries someone.
    pub forwarded_tracks: usize,
    /// Videos held back from subscribers whose downlink cannot carry them.
    pub paused_videos: usize,
}
