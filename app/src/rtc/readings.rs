//! What one `getStats` report says, as plain numbers: running totals that
//! the call model turns into rates, levels and verdicts.

/// Running totals from one `getStats` report, to turn into a rate.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Counters {
    pub at_ms: f64,
    pub bytes: f64,
    pub packets_received: f64,
    pub packets_lost: f64,
    pub frames_decoded: f64,
    /// The size of the video received now (through the server, the
    /// layer it forwards), if any.
    pub frame_size: Option<(u32, u32)>,
}

/// One report, summed over the connection's streams.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Reading {
    pub counters: Counters,
    /// Received audio: total energy and duration, for the mean level.
    pub audio: (f64, f64),
    /// Our own microphone as sent (media-source), same units.
    pub local_audio: Option<(f64, f64)>,
    pub rtt_ms: Option<f64>,
}

/// RMS level over an interval from energy totals (energy = Σ level² · dt).
pub fn level(prev: (f64, f64), now: (f64, f64)) -> f32 {
    let duration = now.1 - prev.1;
    if duration <= 0.0 {
        return 0.0;
    }
    ((now.0 - prev.0).max(0.0) / duration).sqrt() as f32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn level_is_the_rms_over_the_interval() {
        // 0.25 energy over 1 s is a steady level of 0.5.
        assert_eq!(level((1.0, 10.0), (1.25, 11.0)), 0.5);
        assert_eq!(level((1.0, 10.0), (1.0, 10.0)), 0.0, "no time passed");
        assert_eq!(level((2.0, 10.0), (1.0, 11.0)), 0.0, "a reset counter is silence");
    }
}
