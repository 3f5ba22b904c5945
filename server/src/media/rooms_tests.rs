use super::*;

fn id(s: &str) -> PeerId {
    PeerId(s.to_owned())
}

fn key(peer: &str, mid: &str) -> TrackKey {
    TrackKey { peer: id(peer), mid: mid.to_owned() }
}

/// Offers every slot `peer` needs (mids "s0", "s1", …) and answers.
fn negotiate(rooms: &mut Rooms, peer: &str, next_mid: &mut usize) -> Vec<Change> {
    let mids = rooms
        .unnegotiated(&id(peer))
        .into_iter()
        .map(|(i, _)| {
            *next_mid += 1;
            (i, format!("s{next_mid}"))
        })
        .collect();
    rooms.offered(&id(peer), mids);
    rooms.answered(&id(peer))
}

/// a and b in room "r"; a publishes video on mid "0"; b's slot for it is
/// negotiated (as "s1").
fn b_receives_a_video() -> (Rooms, usize) {
    let mut rooms = Rooms::new(16);
    let mut mids = 0;
    rooms.join("r", &id("a"));
    rooms.join("r", &id("b"));
    rooms.publish(&id("a"), "0", TrackKind::Video);
    negotiate(&mut rooms, "b", &mut mids);
    (rooms, mids)
}

fn routes(rooms: &Rooms, k: &TrackKey) -> Vec<(String, String)> {
    let mut r: Vec<_> = rooms.route(k).map(|(p, m)| (p.0.clone(), m.to_owned())).collect();
    r.sort();
    r
}

#[test]
fn a_track_reaches_every_other_member_once_its_slot_is_answered() {
    let mut rooms = Rooms::new(16);
    let mut mids = 0;
    rooms.join("r", &id("a"));
    rooms.join("r", &id("b"));
    let changes = rooms.publish(&id("a"), "0", TrackKind::Video);
    assert_eq!(changes, vec![Change::Negotiate(id("b"))]);
    // Not yet answered: nothing flows.
    assert!(routes(&rooms, &key("a", "0")).is_empty());
    let changes = negotiate(&mut rooms, "b", &mut mids);
    assert_eq!(changes, vec![Change::Keyframe(key("a", "0"))]);
    assert_eq!(routes(&rooms, &key("a", "0")), vec![("b".into(), "s1".into())]);
    assert_eq!(rooms.source(&id("b"), "s1"), Some(&key("a", "0")));
    assert_eq!(
        rooms.slot_map(&id("b")),
        vec![Slot { mid: "s1".into(), kind: TrackKind::Video, peer: Some(id("a")) }]
    );
}

#[test]
fn a_late_joiner_gets_slots_for_everything_already_published() {
    let mut rooms = Rooms::new(16);
    rooms.join("r", &id("a"));
    rooms.publish(&id("a"), "0", TrackKind::Audio);
    rooms.publish(&id("a"), "1", TrackKind::Video);
    let changes = rooms.join("r", &id("c"));
    assert_eq!(changes, vec![Change::Negotiate(id("c"))]);
    let kinds: Vec<TrackKind> = rooms.unnegotiated(&id("c")).into_iter().map(|(_, k)| k).collect();
    assert_eq!(kinds, vec![TrackKind::Audio, TrackKind::Video]);
}

#[test]
fn a_freed_slot_is_reused_by_the_next_publisher_without_renegotiating() {
    let mut rooms = Rooms::new(16);
    let mut mids = 0;
    for p in ["a", "b", "c"] {
        rooms.join("r", &id(p));
    }
    rooms.publish(&id("a"), "0", TrackKind::Video);
    negotiate(&mut rooms, "c", &mut mids);
    negotiate(&mut rooms, "b", &mut mids);
    let changes = rooms.leave(&id("a"));
    assert!(changes.contains(&Change::SlotMap(id("c"))));
    assert_eq!(rooms.slot_map(&id("c"))[0].peer, None);
    // b publishes: c's free video slot takes it, no negotiation.
    let changes = rooms.publish(&id("b"), "0", TrackKind::Video);
    assert_eq!(changes, vec![Change::SlotMap(id("c")), Change::Keyframe(key("b", "0"))]);
    assert_eq!(routes(&rooms, &key("b", "0")), vec![("c".into(), "s1".into())]);
}

#[test]
fn slots_are_capped_and_a_waiting_track_takes_the_first_freed_one() {
    let mut rooms = Rooms::new(2);
    let mut mids = 0;
    rooms.join("r", &id("sub"));
    for p in ["a", "b", "c"] {
        rooms.join("r", &id(p));
        rooms.publish(&id(p), "0", TrackKind::Video);
    }
    assert_eq!(rooms.unnegotiated(&id("sub")).len(), 2, "capped at 2 video slots");
    negotiate(&mut rooms, "sub", &mut mids);
    assert!(routes(&rooms, &key("c", "0")).iter().all(|(p, _)| p != "sub"));
    let changes = rooms.leave(&id("a"));
    assert!(changes.contains(&Change::Keyframe(key("c", "0"))));
    assert!(routes(&rooms, &key("c", "0")).contains(&("sub".into(), "s1".into())));
}

#[test]
fn rooms_are_separate() {
    let mut rooms = Rooms::new(16);
    rooms.join("r1", &id("a"));
    rooms.join("r2", &id("b"));
    assert!(rooms.publish(&id("a"), "0", TrackKind::Audio).is_empty());
    assert!(rooms.unnegotiated(&id("b")).is_empty());
}

#[test]
fn slots_added_while_an_offer_is_out_go_in_the_next_one() {
    let mut rooms = Rooms::new(16);
    rooms.join("r", &id("a"));
    rooms.join("r", &id("b"));
    rooms.publish(&id("a"), "0", TrackKind::Audio);
    rooms.offered(&id("b"), vec![(0, "x".into())]);
    rooms.publish(&id("a"), "1", TrackKind::Video);
    let changes = rooms.answered(&id("b"));
    assert_eq!(changes, vec![Change::Keyframe(key("a", "0")), Change::Negotiate(id("b"))]);
    assert_eq!(rooms.unnegotiated(&id("b")), vec![(1, TrackKind::Video)]);
}

#[test]
fn a_failed_subscribe_connection_starts_over_with_the_same_occupants() {
    let (mut rooms, mut mids) = b_receives_a_video();
    assert_eq!(rooms.reset_subscriber(&id("b")), vec![Change::Negotiate(id("b"))]);
    assert!(routes(&rooms, &key("a", "0")).is_empty());
    negotiate(&mut rooms, "b", &mut mids);
    assert_eq!(routes(&rooms, &key("a", "0")), vec![("b".into(), "s2".into())]);
}

#[test]
fn unpublishing_frees_the_publishers_slots_everywhere() {
    let (mut rooms, _) = b_receives_a_video();
    assert_eq!(rooms.unpublish_all(&id("a")), vec![Change::SlotMap(id("b"))]);
    assert!(routes(&rooms, &key("a", "0")).is_empty());
}

#[test]
fn the_voices_a_member_hears_are_the_audio_slots_that_carry_someone() {
    let (mut rooms, mut mids) = b_receives_a_video();
    assert_eq!(rooms.voices_of(&id("b")), 0, "a's camera is not a voice");
    rooms.publish(&id("a"), "1", TrackKind::Audio);
    assert_eq!(rooms.voices_of(&id("b")), 0, "not before its slot is negotiated");
    negotiate(&mut rooms, "b", &mut mids);
    assert_eq!(rooms.voices_of(&id("b")), 1);
    assert_eq!(rooms.voices_of(&id("a")), 0);
    rooms.leave(&id("a"));
    assert_eq!(rooms.voices_of(&id("b")), 0);
    assert_eq!(rooms.voices_of(&id("nobody")), 0);
}
