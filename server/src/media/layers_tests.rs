use super::*;

fn rid(s: &str) -> Rid {
    Rid::from(s)
}

#[test]
fn the_speaker_and_the_presenter_get_the_top_layer_everyone_else_the_lowest() {
    assert_eq!(wanted(3, true), 2);
    assert_eq!(wanted(3, false), 0);
    // Whatever arrives: a camera too small for three layers sends two.
    assert_eq!(wanted(2, true), 1);
    assert_eq!(wanted(1, false), 0, "one layer is everyone's");
    assert_eq!(wanted(1, true), 0);
}

#[test]
fn layers_are_ordered_as_offered_and_vanish_when_silent() {
    let start = Instant::now();
    let mut layers = Layers::new(vec![rid("q"), rid("h"), rid("f")]);
    layers.saw(rid("f"), start, 0);
    layers.saw(rid("q"), start, 0);
    assert_eq!(layers.live(start), vec![rid("q"), rid("f")], "h never came");
    let later = start + Duration::from_millis(1000);
    layers.saw(rid("q"), later, 0);
    assert_eq!(layers.live(later), vec![rid("q"), rid("f")]);
    // f stops (Chromium dropped it for CPU): after 1.5 s it does not exist.
    let gone = start + LAYER_GONE;
    assert_eq!(layers.live(gone), vec![rid("q")]);
    assert!(layers.saw(rid("f"), gone, 0), "back");
    assert!(!layers.saw(rid("f"), gone, 0), "and then just there");
    assert_eq!(layers.live(gone), vec![rid("q"), rid("f")], "and comes back when it sends again");
}

#[test]
fn a_slot_leaves_a_layer_that_stalls_while_another_flows() {
    let start = Instant::now();
    let mut layers = Layers::new(vec![rid("q"), rid("f")]);
    layers.saw(rid("q"), start, 0);
    layers.saw(rid("f"), start, 0);
    assert_eq!(layers.usable(start).last(), Some(&rid("f")));
    // f stops (its encoder starved), q goes on: the speaker's slot moves
    // to q after half a second, not after the 1.5 s f takes to be gone.
    let later = start + LAYER_STALLED;
    layers.saw(rid("q"), later, 0);
    assert_eq!(layers.live(later), vec![rid("q"), rid("f")]);
    assert_eq!(layers.usable(later).last(), Some(&rid("q")));
    // Nothing flows at all (the publisher's network hiccups): stay put.
    let quiet = later + LAYER_STALLED;
    assert_eq!(layers.usable(quiet), vec![rid("q"), rid("f")], "what was sent lately");
    layers.saw(rid("f"), quiet, 0);
    assert_eq!(layers.usable(quiet).last(), Some(&rid("f")), "f is back");
}

#[test]
fn a_rid_the_offer_did_not_list_goes_last() {
    let now = Instant::now();
    let mut layers = Layers::new(vec![rid("q"), rid("f")]);
    layers.saw(rid("x"), now, 0);
    layers.saw(rid("f"), now, 0);
    layers.saw(rid("q"), now, 0);
    assert_eq!(layers.live(now), vec![rid("q"), rid("f"), rid("x")]);
}

#[test]
fn a_slot_starts_on_a_keyframe_of_its_target() {
    let mut s = LayerSwitch::default();
    assert!(s.aim(Some(rid("q"))), "nothing flows yet: a keyframe is needed");
    assert!(!s.admit(rid("q"), false), "a delta frame cannot start a picture");
    assert!(!s.admit(rid("f"), true), "not the target");
    assert!(s.admit(rid("q"), true));
    assert_eq!(s.current(), Some(rid("q")));
    assert_eq!(s.pending(), None);
    assert!(s.admit(rid("q"), false));
    assert!(!s.admit(rid("f"), false));
}

#[test]
fn no_switch_before_the_target_layers_keyframe_and_no_gap_meanwhile() {
    let mut s = LayerSwitch::default();
    s.aim(Some(rid("q")));
    s.admit(rid("q"), true);
    // The person starts speaking: up to f.
    assert!(s.aim(Some(rid("f"))));
    for _ in 0..5 {
        assert!(s.admit(rid("q"), false), "q keeps flowing while f's keyframe is awaited");
        assert!(!s.admit(rid("f"), false), "f's delta frames are not a start");
    }
    assert_eq!(s.pending(), Some(rid("f")));
    assert!(s.admit(rid("f"), true), "f's keyframe switches");
    assert!(!s.admit(rid("q"), false), "and q stops at once: one layer per frame time");
    assert!(s.admit(rid("f"), false));
}

#[test]
fn aiming_back_before_the_switch_cancels_it() {
    let mut s = LayerSwitch::default();
    s.aim(Some(rid("q")));
    s.admit(rid("q"), true);
    s.aim(Some(rid("f")));
    assert!(!s.aim(Some(rid("q"))), "back to what flows: nothing to wait for");
    assert!(!s.admit(rid("f"), true), "f's keyframe no longer switches");
    assert!(s.admit(rid("q"), false));
}

#[test]
fn downgrades_wait_for_the_lower_keyframe_too() {
    let mut s = LayerSwitch::default();
    s.aim(Some(rid("f")));
    s.admit(rid("f"), true);
    assert!(s.aim(Some(rid("q"))));
    assert!(s.admit(rid("f"), false), "f flows until q's keyframe");
    assert!(!s.admit(rid("q"), false));
    assert!(s.admit(rid("q"), true));
    assert!(!s.admit(rid("f"), true), "even f's keyframes stop once switched");
}

#[test]
fn unwatched_top_layers_pause_after_the_grace_and_resume_at_once() {
    let grace = Duration::from_secs(10);
    let start = Instant::now();
    let at = |ms: u64| start + Duration::from_millis(ms);
    let mut u = Upkeep::default();
    assert_eq!(u.update(true, at(0), grace), None, "wanted and sent: nothing to say");
    assert_eq!(u.update(false, at(1_000), grace), None, "the grace starts");
    assert_eq!(u.update(false, at(10_999), grace), None);
    assert_eq!(u.update(false, at(11_000), grace), Some(true), "pause");
    assert_eq!(u.update(false, at(20_000), grace), None, "said once");
    assert_eq!(u.update(true, at(20_250), grace), Some(false), "the speaker again: resume at once");
    assert_eq!(u.update(true, at(20_500), grace), None);
}

#[test]
fn a_short_silence_does_not_pause_and_restarts_the_grace() {
    let grace = Duration::from_secs(10);
    let start = Instant::now();
    let at = |s: u64| start + Duration::from_secs(s);
    let mut u = Upkeep::default();
    assert_eq!(u.update(false, at(0), grace), None);
    assert_eq!(u.update(true, at(8), grace), None, "needed before the grace ran out");
    assert_eq!(u.update(false, at(9), grace), None);
    assert_eq!(u.update(false, at(18), grace), None, "the grace counts from 9 s");
    assert_eq!(u.update(false, at(19), grace), Some(true));
}

#[test]
fn a_layer_costs_what_it_was_measured_to_send_and_a_guess_before() {
    let start = Instant::now();
    let mut layers = Layers::new(vec![rid("q"), rid("h"), rid("f")]);
    assert_eq!(layers.bitrate(rid("q")), 250_000);
    assert_eq!(layers.bitrate(rid("h")), 500_000);
    assert_eq!(layers.bitrate(rid("f")), 1_500_000);
    // 10 frames of 2,500 bytes a second: 200 kbit/s.
    for i in 0..=10 {
        layers.saw(rid("q"), start + Duration::from_millis(i * 100), 2_500);
    }
    assert_eq!(layers.bitrate(rid("q")), 220_000, "11 frames within the first second");
    for i in 11..=20 {
        layers.saw(rid("q"), start + Duration::from_millis(i * 100), 2_500);
    }
    assert_eq!(layers.bitrate(rid("q")), 200_000);
    // Paused for a while: it keeps its cost, and its silence is not
    // counted once it is back.
    let back = start + Duration::from_secs(10);
    assert!(layers.saw(rid("q"), back, 2_500));
    assert_eq!(layers.bitrate(rid("q")), 200_000);
    for i in 1..=10 {
        layers.saw(rid("q"), back + Duration::from_millis(i * 100), 5_000);
    }
    assert_eq!(layers.bitrate(rid("q")), 420_000);
}
