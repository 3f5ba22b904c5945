//! What the SFU load generator's frames carry, and what a subscriber makes
//! of them. Plain functions and state, tested without a network.
//!
//! Every frame names its publisher, its number and the time it was handed
//! to the publisher's connection, so a subscriber can count the frames that
//! never came and how long the server held the ones that did.

use std::collections::HashMap;

/// A VP8 frame tag (P bit clear on a keyframe), a keyframe's start code and
/// a 320×180 size: enough of a VP8 header for a keyframe to be seen as one.
fn vp8_header(keyframe: bool) -> [u8; 10] {
    [if keyframe { 0x10 } else { 0x11 }, 0x02, 0x00, 0x9d, 0x01, 0x2a, 0x40, 0x01, 0xb4, 0x00]
}
const VP8_HEADER: usize = 10;
/// publisher (4), number (4), layer (1), sent (8).
const STAMP: usize = 17;

/// What one frame says about itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stamp {
    /// The publisher's index in the whole run.
    pub publisher: u32,
    /// Frames of one kind are numbered from 1; a video frame has the same
    /// number on every layer, so a subscriber moved between layers still
    /// sees one run of numbers.
    pub number: u32,
    /// Index of the simulcast layer, lowest 0.
    pub layer: u8,
    /// Microseconds on the generator's clock when the frame was written.
    pub sent_us: u64,
}

impl Stamp {
    fn put(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.publisher.to_be_bytes());
        out.extend_from_slice(&self.number.to_be_bytes());
        out.push(self.layer);
        out.extend_from_slice(&self.sent_us.to_be_bytes());
    }

    fn get(data: &[u8]) -> Option<Stamp> {
        let data = data.get(..STAMP)?;
        Some(Stamp {
            publisher: u32::from_be_bytes(data[0..4].try_into().ok()?),
            number: u32::from_be_bytes(data[4..8].try_into().ok()?),
            layer: data[8],
            sent_us: u64::from_be_bytes(data[9..17].try_into().ok()?),
        })
    }
}

/// A video frame of `size` bytes (at least the header and the stamp).
pub fn video(stamp: &Stamp, keyframe: bool, size: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(size.max(VP8_HEADER + STAMP));
    out.extend_from_slice(&vp8_header(keyframe));
    stamp.put(&mut out);
    out.resize(size.max(VP8_HEADER + STAMP), 0x55);
    out
}

/// An audio frame of `size` bytes (at least the stamp).
pub fn audio(stamp: &Stamp, size: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(size.max(STAMP));
    stamp.put(&mut out);
    out.resize(size.max(STAMP), 0x33);
    out
}

/// The stamp of a frame as it arrived; `None` for anything not ours.
pub fn read(data: &[u8], video: bool) -> Option<Stamp> {
    Stamp::get(data.get(if video { VP8_HEADER } else { 0 }..)?)
}

/// A subscriber's count of what arrived from each publisher's tracks.
#[derive(Debug, Default)]
pub struct Tally {
    /// The highest number seen, per publisher and kind (video: true).
    last: HashMap<(u32, bool), u32>,
    pub frames: u64,
    /// Frames skipped in a run of numbers: never arrived.
    pub lost: u64,
    /// Frames that arrived after a later one (or twice).
    pub late: u64,
}

impl Tally {
    /// Counts `stamp`; a track's first frame starts its run, whatever its
    /// number (a video slot starts at a keyframe).
    pub fn saw(&mut self, stamp: &Stamp, video: bool) {
        self.frames += 1;
        match self.last.get_mut(&(stamp.publisher, video)) {
            None => {
                self.last.insert((stamp.publisher, video), stamp.number);
            }
            Some(last) if stamp.number > *last => {
                self.lost += u64::from(stamp.number - *last - 1);
                *last = stamp.number;
            }
            Some(_) => self.late += 1,
        }
    }

    /// How many tracks (publisher and kind) have sent anything.
    pub fn tracks(&self) -> usize {
        self.last.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stamp(publisher: u32, number: u32) -> Stamp {
        Stamp { publisher, number, layer: 2, sent_us: 1_234_567_890 }
    }

    #[test]
    fn a_frame_reads_back_what_it_was_written_with() {
        let s = stamp(7, 42);
        let v = video(&s, true, 600);
        assert_eq!(v.len(), 600);
        assert_eq!(v[0] & 1, 0, "a keyframe's P bit is clear");
        assert_eq!(read(&v, true), Some(s));
        assert_eq!(video(&s, false, 600)[0] & 1, 1);
        let a = audio(&s, 80);
        assert_eq!(a.len(), 80);
        assert_eq!(read(&a, false), Some(s));
        assert_eq!(read(&a[..10], false), None, "too short to be ours");
        assert_eq!(video(&s, false, 0).len(), VP8_HEADER + STAMP, "never cut below the stamp");
    }

    #[test]
    fn gaps_count_as_lost_and_stragglers_as_late() {
        let mut t = Tally::default();
        for n in [5, 6, 9, 8, 10] {
            t.saw(&stamp(1, n), true);
        }
        t.saw(&stamp(1, 100), false);
        t.saw(&stamp(2, 1), true);
        assert_eq!((t.frames, t.lost, t.late, t.tracks()), (7, 2, 1, 3));
    }
}
