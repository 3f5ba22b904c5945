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

impl std::ops::Add for Tally {
    type Output = Tally;

    /// Two media threads' tallies as one.
    fn add(mut self, other: Tally) -> Tally {
        self.frames += other.frames;
        self.bytes += other.bytes;
        self.keyframe_requests += other.keyframe_requests;
        self.layer_switches += other.layer_switches;
        for (mine, theirs) in self.ended.iter_mut().zip(other.ended) {
            *mine += theirs;
        }
        self
    }
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

impl std::ops::Add for Census {
    type Output = Census;

    fn add(self, other: Census) -> Census {
        Census {
            rooms: self.rooms + other.rooms,
            publishers: self.publishers + other.publishers,
            subscribers: self.subscribers + other.subscribers,
            forwarded_tracks: self.forwarded_tracks + other.forwarded_tracks,
            paused_videos: self.paused_videos + other.paused_videos,
        }
    }
}
