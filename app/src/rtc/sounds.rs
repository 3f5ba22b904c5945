//! The call's short sounds, synthesised with Web Audio (no files to fetch).

/// What a sound tells: someone came in, someone left, a hand went up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cue {
    Joined,
    Left,
    Hand,
}

impl Cue {
    /// Its notes (Hz), each `NOTE_SECS` long: up for a join, down for a
    /// leave, one high ping for a hand.
    #[cfg_attr(not(feature = "browser"), allow(dead_code))]
    fn notes(self) -> &'static [f32] {
        match self {
            Cue::Joined => &[660.0, 880.0],
            Cue::Left => &[880.0, 587.0],
            Cue::Hand => &[1175.0],
        }
    }
}

#[cfg(feature = "browser")]
pub use imp::play;

#[cfg(feature = "browser")]
mod imp {
    use super::Cue;
    use web_sys::{AudioContext, OscillatorType};

    const NOTE_SECS: f64 = 0.12;
    /// Quiet: a cue under the conversation, not over it.
    const VOLUME: f32 = 0.06;

    thread_local! {
        static CONTEXT: std::cell::RefCell<Option<AudioContext>> = const { std::cell::RefCell::new(None) };
    }

    /// Plays `cue`; a browser that refuses audio just stays silent.
    pub fn play(cue: Cue) {
        CONTEXT.with(|c| {
            let mut c = c.borrow_mut();
            if c.is_none() {
                *c = AudioContext::new().ok();
            }
            if let Some(ctx) = c.as_ref() {
                // Made before any click on the page (a rejoin), it starts
                // suspended; asking again from a later event lets it play.
                let _ = ctx.resume();
                let _ = notes(ctx, cue);
            }
        });
    }

    fn notes(ctx: &AudioContext, cue: Cue) -> Result<(), wasm_bindgen::JsValue> {
        let mut at = ctx.current_time();
        for &freq in cue.notes() {
            let osc = ctx.create_oscillator()?;
            osc.set_type(OscillatorType::Sine);
            osc.frequency().set_value(freq);
            let gain = ctx.create_gain()?;
            // A soft attack and decay: no click at either end.
            gain.gain().set_value_at_time(0.0, at)?;
            gain.gain().linear_ramp_to_value_at_time(VOLUME, at + 0.01)?;
            gain.gain().linear_ramp_to_value_at_time(0.0, at + NOTE_SECS)?;
            osc.connect_with_audio_node(&gain)?;
            gain.connect_with_audio_node(&ctx.destination())?;
            osc.start_with_when(at)?;
            osc.stop_with_when(at + NOTE_SECS)?;
            at += NOTE_SECS;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::Cue;

    #[test]
    fn a_join_rises_a_leave_falls_and_a_hand_is_one_ping() {
        let [a, b] = Cue::Joined.notes() else { panic!() };
        assert!(b > a);
        let [a, b] = Cue::Left.notes() else { panic!() };
        assert!(b < a);
        assert_eq!(Cue::Hand.notes().len(), 1);
    }
}
