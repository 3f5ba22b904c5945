use super::*;

fn rid(s: &str) -> Rid {
    Rid::from(s)
}

/// A camera in three layers (150 k, 500 k, 1.5 M), large or small.
fn camera(key: &'static str, large: bool) -> Want<&'static str> {
    let layers = vec![(rid("q"), 150_000), (rid("h"), 500_000), (rid("f"), 1_500_000)];
    Want { key, layers, wanted: if large { 2 } else { 0 } }
}

fn layer(s: &str) -> Given {
    Given::Layer(rid(s))
}

/// The speaker first, then three others.
fn room() -> Vec<Want<&'static str>> {
    vec![camera("speaker", true), camera("b", false), camera("c", false), camera("d", false)]
}

/// A downlink found to take `kbps` (video gets 90 % of it).
fn downlink(kbps: u64) -> Downlink<&'static str> {
    Downlink { budget: Some(kbps * 1000), ..Downlink::default() }
}

#[test]
fn with_bandwidth_to_spare_everyone_gets_what_they_want() {
    let now = Instant::now();
    let a = downlink(10_000).allocate(now, &room(), 0);
    let want = [("speaker", layer("f")), ("b", layer("q")), ("c", layer("q")), ("d", layer("q"))];
    assert_eq!(a.given, want);
    assert_eq!(a.given_bps, 1_950_000);
    // Before any estimate, too.
    assert_eq!(Downlink::default().allocate(now, &room(), 0).given, want);
}

#[test]
fn the_speaker_goes_down_to_the_best_layer_that_fits_before_anyone_is_held() {
    let now = Instant::now();
    // 90 % of 1,300 k = 1,170 k: three small ones (450 k) leave 720 k, so
    // the speaker gets h (500 k), not f.
    let a = downlink(1_300).allocate(now, &room(), 0);
    assert_eq!(a.given[0], ("speaker", layer("h")));
    assert!(a.given[1..].iter().all(|(_, g)| *g == layer("q")));
    assert_eq!(a.given_bps, 950_000);
}

#[test]
fn who_does_not_fit_at_the_lowest_layer_is_held_back_last_first() {
    let now = Instant::now();
    // 90 % of 400 k = 360 k: two lowest layers.
    let a = downlink(400).allocate(now, &room(), 0);
    let want = [("speaker", layer("q")), ("b", layer("q")), ("c", Given::Held), ("d", Given::Held)];
    assert_eq!(a.given, want);
    // Nothing fits at all: everyone is held, nobody gets garbage.
    let a = downlink(100).allocate(now, &room(), 0);
    assert!(a.given.iter().all(|(_, g)| *g == Given::Held));
    assert_eq!(a.given_bps, 0);
}

#[test]
fn a_smaller_lowest_layer_further_down_still_fits_where_a_larger_one_did_not() {
    let now = Instant::now();
    let mut wants = room();
    wants[2].layers[0].1 = 50_000; // c's camera sends a thrifty lowest layer
                                   // 90 % of 400 k = 360 k: speaker + b (300 k), c (50 k) fits, d not.
    let a = downlink(400).allocate(now, &wants, 0);
    assert_eq!(a.given[2], ("c", layer("q")));
    assert_eq!(a.given[3], ("d", Given::Held));
}

#[test]
fn after_a_congestion_downgrade_nothing_goes_up_for_ten_seconds() {
    let start = Instant::now();
    let mut d = downlink(10_000);
    assert_eq!(d.allocate(start, &room(), 0).given[0], ("speaker", layer("f")));
    // The estimate falls: the speaker drops to q and d is held.
    d.budget = Some(600_000);
    let a = d.allocate(start, &room(), 0);
    assert_eq!(a.given[0], ("speaker", layer("q")));
    assert_eq!(a.given[3], ("d", Given::Held));
    // It recovers at once, but the hold keeps things where they are...
    d.budget = Some(10_000_000);
    let held = start + UPGRADE_HOLD - Duration::from_millis(1);
    let a = d.allocate(held, &room(), 0);
    assert_eq!(a.given[0], ("speaker", layer("q")));
    assert_eq!(a.given[3], ("d", Given::Held));
    // ...while a newcomer still gets its lowest layer.
    let mut more = room();
    more.push(camera("e", true));
    assert_eq!(d.allocate(held, &more, 0).given[4], ("e", layer("q")));
    // Then everything goes back up.
    let a = d.allocate(start + UPGRADE_HOLD, &room(), 0);
    assert_eq!(a.given[0], ("speaker", layer("f")));
    assert_eq!(a.given[3], ("d", layer("q")));
}

#[test]
fn the_hold_still_lets_things_go_down() {
    let start = Instant::now();
    let mut d = downlink(10_000);
    d.allocate(start, &room(), 0);
    d.budget = Some(1_300_000);
    assert_eq!(d.allocate(start, &room(), 0).given[0], ("speaker", layer("h")));
    d.budget = Some(400_000);
    let a = d.allocate(start + Duration::from_secs(1), &room(), 0);
    assert_eq!(a.given[0], ("speaker", layer("q")));
    assert_eq!(a.given[2], ("c", Given::Held));
}

#[test]
fn a_new_speaker_is_not_a_congestion_downgrade() {
    let start = Instant::now();
    let mut d = downlink(10_000);
    d.allocate(start, &room(), 0);
    // b speaks now: the old speaker goes to q because it should, not for
    // lack of bandwidth, so b goes straight up.
    let wants = vec![camera("b", true), camera("speaker", false), camera("c", false), camera("d", false)];
    let a = d.allocate(start + Duration::from_millis(10), &wants, 0);
    assert_eq!(a.given[0], ("b", layer("f")));
    assert_eq!(a.given[1], ("speaker", layer("q")));
}

#[test]
fn a_camera_with_fewer_layers_is_fitted_with_what_it_has() {
    let now = Instant::now();
    let two = Want { key: "two", layers: vec![(rid("q"), 250_000), (rid("f"), 1_000_000)], wanted: 1 };
    let a = downlink(1_000).allocate(now, std::slice::from_ref(&two), 0);
    assert_eq!(a.given, [("two", layer("q"))], "900 k does not take f");
    let a = downlink(1_200).allocate(now, &[two], 0);
    assert_eq!(a.given, [("two", layer("f"))]);
}

#[test]
fn a_lossy_second_sets_the_budget_and_clean_ones_after_the_hold_grow_it_back() {
    let start = Instant::now();
    let mut d = Downlink::default();
    // Everything is sent while nothing is lost, however much that is.
    d.report_loss(start, 0.0);
    d.report_loss(start, LOSSY / 2.0);
    assert_eq!(d.budget(), None);
    let a = d.allocate(start, &room(), 100_000);
    assert_eq!(a.given[0], ("speaker", layer("f")));
    assert_eq!(a.given_bps, 1_950_000);
    // A fifth of it lost: the budget is what was sent (2,050 k with the
    // sound) less 10 %, and the speaker drops to h.
    d.report_loss(start, 0.2);
    assert_eq!(d.budget(), Some(1_845_000));
    let a = d.allocate(start, &room(), 100_000);
    assert_eq!(a.given[0], ("speaker", layer("h")));
    // Still losing: down again, from the budget or what is sent, whichever
    // is less (1,050 k now).
    d.report_loss(start, 0.6);
    assert_eq!(d.budget(), Some(735_000));
    let a = d.allocate(start, &room(), 100_000);
    assert_eq!(a.given[0], ("speaker", layer("q")));
    assert_eq!(a.given[3], ("d", Given::Held));
    // Clean seconds within the hold change nothing...
    let held = start + UPGRADE_HOLD - Duration::from_millis(1);
    d.report_loss(held, 0.0);
    assert_eq!(d.budget(), Some(735_000));
    // ...after it the budget grows 8 % a second, and d comes back once its
    // lowest layer fits (90 % of 857 k less sound: 671 k for four 150 k
    // layers).
    let after = start + UPGRADE_HOLD;
    d.report_loss(after, 0.0);
    d.report_loss(after, 0.0);
    assert_eq!(d.budget(), Some(857_304));
    let a = d.allocate(after, &room(), 100_000);
    assert_eq!(a.given[3], ("d", layer("q")));
    assert_eq!(a.given[0], ("speaker", layer("q")), "f does not fit yet");
    // Once all of it fits, the link limits nothing any more.
    d.budget = Some(3_000_000);
    assert_eq!(d.allocate(after, &room(), 100_000).given[0], ("speaker", layer("f")));
    assert_eq!(d.budget(), None);
}

#[test]
fn loss_before_anything_was_sent_means_nothing() {
    let mut d = Downlink::<&str>::default();
    d.report_loss(Instant::now(), 0.5);
    assert_eq!(d.budget(), None);
}

#[test]
fn sound_comes_off_the_top() {
    let now = Instant::now();
    // 90 % of 1,300 k less 500 k of sound leaves 670 k: no room for h.
    let a = downlink(1_300).allocate(now, &room(), 500_000);
    assert_eq!(a.given[0], ("speaker", layer("q")));
    assert_eq!(a.given[3], ("d", layer("q")));
}
