//! Call statistics per remote peer: samples from `getStats` and a
//! good / fair / poor verdict people can read at a glance.

use crate::rtc::readings::Counters;
use std::collections::VecDeque;

/// One minute of history at one sample a second.
pub const HISTORY: usize = 60;

#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct StatSample {
    /// Received video + audio bitrate.
    pub kbps: f64,
    pub rtt_ms: Option<f64>,
    /// Packets lost in this interval, as a percentage of those expected.
    pub loss_pct: f64,
    /// Decoded video frames per second (None when no video is expected).
    pub fps: Option<f64>,
    /// Width × height of the video received (the layer the server sends).
    pub frame: Option<(u32, u32)>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Quality {
    Good,
    Fair,
    Poor,
}

impl Quality {
    pub fn of(sample: &StatSample) -> Quality {
        let rtt = sample.rtt_ms.unwrap_or(0.0);
        let fps = sample.fps.unwrap_or(30.0);
        if sample.loss_pct > 8.0 || rtt > 400.0 || fps < 8.0 {
            Quality::Poor
        } else if sample.loss_pct > 2.0 || rtt > 150.0 || fps < 18.0 {
            Quality::Fair
        } else {
            Quality::Good
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Quality::Good => "good",
            Quality::Fair => "fair",
            Quality::Poor => "poor",
        }
    }
}

/// The sample for the interval between two reports; none when a counter
/// went back: the person's media moved to another connection (the room's
/// route changed), and the difference means nothing.
pub fn sample(
    prev: &Counters,
    now: &Counters,
    rtt_ms: Option<f64>,
    video_expected: bool,
) -> Option<StatSample> {
    if now.bytes < prev.bytes
        || now.packets_received < prev.packets_received
        || now.frames_decoded < prev.frames_decoded
    {
        return None;
    }
    let secs = ((now.at_ms - prev.at_ms) / 1000.0).max(0.001);
    let received = (now.packets_received - prev.packets_received).max(0.0);
    let lost = (now.packets_lost - prev.packets_lost).max(0.0);
    let expected = received + lost;
    Some(StatSample {
        kbps: (now.bytes - prev.bytes) * 8.0 / 1000.0 / secs,
        rtt_ms,
        loss_pct: if expected > 0.0 { lost * 100.0 / expected } else { 0.0 },
        fps: video_expected.then(|| (now.frames_decoded - prev.frames_decoded) / secs),
        frame: now.frame_size.filter(|_| video_expected),
    })
}

pub fn push(history: &mut VecDeque<StatSample>, sample: StatSample) {
    history.push_back(sample);
    while history.len() > HISTORY {
        history.pop_front();
    }
}

/// SVG polyline points for `values` in a `width` × `height` box, scaled to
/// the largest value (or `floor`, whichever is higher).
pub fn sparkline(values: &[f64], width: f64, height: f64, floor: f64) -> String {
    let max = values.iter().copied().fold(floor, f64::max);
    let step = if values.len() > 1 { width / (HISTORY - 1) as f64 } else { 0.0 };
    let offset = width - step * values.len().saturating_sub(1) as f64;
    values
        .iter()
        .enumerate()
        .map(|(i, v)| format!("{:.1},{:.1}", offset + i as f64 * step, height - (v / max) * height))
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verdicts() {
        let good =
            StatSample { kbps: 800.0, rtt_ms: Some(20.0), loss_pct: 0.0, fps: Some(30.0), frame: None };
        assert_eq!(Quality::of(&good), Quality::Good);
        assert_eq!(Quality::of(&StatSample { loss_pct: 4.0, ..good }), Quality::Fair);
        assert_eq!(Quality::of(&StatSample { rtt_ms: Some(250.0), ..good }), Quality::Fair);
        assert_eq!(Quality::of(&StatSample { loss_pct: 12.0, ..good }), Quality::Poor);
        assert_eq!(Quality::of(&StatSample { fps: Some(3.0), ..good }), Quality::Poor);
        assert_eq!(Quality::of(&StatSample { fps: None, ..good }), Quality::Good, "audio only");
    }

    #[test]
    fn rates_come_from_differences() {
        let a = Counters {
            at_ms: 0.0,
            bytes: 0.0,
            packets_received: 0.0,
            packets_lost: 0.0,
            frames_decoded: 0.0,
            frame_size: None,
        };
        let b = Counters {
            at_ms: 1000.0,
            bytes: 125_000.0,
            packets_received: 95.0,
            packets_lost: 5.0,
            frames_decoded: 30.0,
            frame_size: Some((640, 480)),
        };
        let s = sample(&a, &b, Some(12.0), true).expect("counters went up");
        assert_eq!(s.kbps, 1000.0);
        assert_eq!(s.loss_pct, 5.0);
        assert_eq!(s.fps, Some(30.0));
        assert_eq!(s.rtt_ms, Some(12.0));
        assert_eq!(s.frame, Some((640, 480)));
        assert_eq!(
            sample(&a, &b, None, false).and_then(|s| s.frame),
            None,
            "no size when no video is expected (a frozen last frame's)"
        );
        assert_eq!(
            sample(&a, &a, None, false),
            Some(StatSample { kbps: 0.0, rtt_ms: None, loss_pct: 0.0, fps: None, frame: None })
        );
        // From a mesh connection to the server's: no made-up 0 fps.
        assert_eq!(sample(&b, &Counters { at_ms: 2000.0, ..a }, None, true), None);
    }

    #[test]
    fn history_keeps_a_minute() {
        let mut h = VecDeque::new();
        for i in 0..100 {
            push(&mut h, StatSample { kbps: i as f64, ..Default::default() });
        }
        assert_eq!(h.len(), HISTORY);
        assert_eq!(h.front().unwrap().kbps, 40.0);
    }

    #[test]
    fn sparkline_is_right_aligned_and_scaled() {
        assert_eq!(sparkline(&[], 100.0, 20.0, 1.0), "");
        let pts = sparkline(&[0.0, 10.0], 118.0, 20.0, 1.0);
        assert_eq!(pts, "116.0,20.0 118.0,0.0");
    }
}
