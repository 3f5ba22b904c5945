use super::*;

fn id(s: &str) -> PeerId {
    PeerId(s.into())
}

/// One room, "r", of `members`; each window names who makes sound and at
/// what level (dBov, in every 20 ms packet); the others send silence.
struct Script {
    speakers: Speakers,
    members: Vec<PeerId>,
    now: Instant,
}

impl Script {
    fn new(members: &[&str]) -> Self {
        Script {
            speakers: Speakers::default(),
            members: members.iter().map(|m| id(m)).collect(),
            now: Instant::now(),
        }
    }

    /// One window; returns the speaker announced at its end, if it changed.
    fn window(&mut self, loud: &[(&str, i8)]) -> Option<Option<PeerId>> {
        for member in &self.members {
            let level = loud.iter().find(|(m, _)| id(m) == *member).map_or(-127, |(_, l)| *l);
            for _ in 0..(WINDOW.as_millis() / 20) {
                self.speakers.heard(member, level);
            }
        }
        self.now += WINDOW;
        let rooms = [("r", self.members.as_slice())];
        let mut changes = self.speakers.tick(self.now, rooms);
        assert!(changes.len() <= 1);
        changes.pop().map(|(room, speaker)| {
            assert_eq!(room, "r");
            speaker
        })
    }

    fn current(&self) -> Option<PeerId> {
        self.speakers.current("r").cloned()
    }
}

#[test]
fn speech_starting_is_announced_at_the_end_of_its_first_window() {
    let mut s = Script::new(&["a", "b", "c"]);
    assert_eq!(s.window(&[]), None, "silence: nothing to say");
    assert_eq!(s.window(&[("b", -20)]), Some(Some(id("b"))));
    assert_eq!(s.window(&[("b", -20)]), None, "only changes are announced");
}

#[test]
fn silence_keeps_the_current_speaker() {
    let mut s = Script::new(&["a", "b"]);
    s.window(&[("a", -15)]);
    for _ in 0..40 {
        assert_eq!(s.window(&[]), None);
    }
    assert_eq!(s.current(), Some(id("a")));
}

#[test]
fn a_new_voice_takes_over_after_leading_for_750_ms() {
    let mut s = Script::new(&["a", "b"]);
    s.window(&[("a", -15)]);
    let windows_until_b = (1..=12).find(|_| s.window(&[("b", -15)]).is_some());
    assert_eq!(windows_until_b, Some(3), "3 × 250 ms");
    assert_eq!(s.current(), Some(id("b")));
}

#[test]
fn overlapping_speech_stays_with_the_speaker_while_they_lead() {
    let mut s = Script::new(&["a", "b"]);
    s.window(&[("a", -10)]);
    // b talks over a, more quietly, for five seconds: a keeps the floor.
    for _ in 0..20 {
        assert_eq!(s.window(&[("a", -10), ("b", -25)]), None);
    }
    // b gets louder than a and stays so: b takes over, once.
    let changes: Vec<_> = (0..8).filter_map(|_| s.window(&[("a", -25), ("b", -10)])).collect();
    assert_eq!(changes, vec![Some(id("b"))]);
}

#[test]
fn a_word_from_someone_else_does_not_move_the_highlight() {
    let mut s = Script::new(&["a", "b"]);
    s.window(&[("a", -15)]);
    assert_eq!(s.window(&[("b", -5)]), None, "a cough");
    for _ in 0..8 {
        assert_eq!(s.window(&[("a", -15)]), None);
    }
}

#[test]
fn noise_below_the_threshold_is_nobody_speaking() {
    let mut s = Script::new(&["a", "b"]);
    for _ in 0..8 {
        assert_eq!(s.window(&[("a", -50), ("b", -45)]), None);
    }
    assert_eq!(s.current(), None);
}

#[test]
fn muted_or_sending_nothing_counts_as_silent() {
    let mut s = Script::new(&["a", "b"]);
    s.window(&[("a", -15)]);
    // a mutes (its packets carry -127 dBov, as `window` sends for the
    // quiet); b speaks; c has no microphone and sends no packets at all.
    s.members.push(id("c"));
    let changes: Vec<_> = (0..4).filter_map(|_| s.window(&[("b", -15)])).collect();
    assert_eq!(changes, vec![Some(id("b"))]);
}

#[test]
fn a_speaker_who_leaves_is_forgotten_and_an_empty_room_too() {
    let mut s = Script::new(&["a", "b"]);
    s.window(&[("a", -15)]);
    s.members.retain(|m| *m != id("a"));
    assert_eq!(s.window(&[]), Some(None));
    s.members.clear();
    s.now += WINDOW;
    assert!(s.speakers.tick(s.now, std::iter::empty()).is_empty());
    assert!(s.speakers.rooms.is_empty());
}

#[test]
fn rooms_are_independent() {
    let mut speakers = Speakers::default();
    let (one, two) = ([id("a"), id("b")], [id("c"), id("d")]);
    let start = Instant::now();
    assert!(
        speakers.tick(start, [("one", &one[..]), ("two", &two[..])]).is_empty(),
        "the first window opens"
    );
    for _ in 0..12 {
        speakers.heard(&id("b"), -12);
        speakers.heard(&id("c"), -12);
    }
    let mut changes = speakers.tick(start + WINDOW, [("one", &one[..]), ("two", &two[..])]);
    changes.sort();
    assert_eq!(changes, vec![("one".into(), Some(id("b"))), ("two".into(), Some(id("c")))]);
}

#[test]
fn a_tick_before_the_window_closes_changes_nothing() {
    let mut speakers = Speakers::default();
    let members = [id("a")];
    let start = Instant::now();
    let _ = speakers.tick(start, [("r", &members[..])]);
    speakers.heard(&id("a"), -10);
    assert!(speakers.tick(start + WINDOW / 2, [("r", &members[..])]).is_empty());
    assert_eq!(speakers.tick(start + WINDOW, [("r", &members[..])]), vec![("r".into(), Some(id("a")))]);
}
