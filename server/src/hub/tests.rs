use super::*;
use app::protocol::{ErrorCode, InputError, MediaState, SdpType};

fn id(s: &str) -> PeerId {
    PeerId(s.into())
}

/// A hub with the given peers connected and named after their ids.
fn hub_with(names: &[&str]) -> Hub {
    let mut hub = Hub::new();
    for n in names {
        let _ = hub.connect(&id(n), 0, None);
        hub.handle(&id(n), ClientMsg::SetNickname { nickname: n.to_string() }, 0).result().unwrap();
    }
    hub
}

fn join(hub: &mut Hub, who: &str, room: &str) -> Vec<Delivery> {
    hub.handle(&id(who), ClientMsg::Join { room: room.into(), passcode: None }, 0).result().unwrap()
}

fn recipients(d: &Delivery) -> Vec<&str> {
    let mut v: Vec<&str> = d.to.ids().iter().map(|p| p.0.as_str()).collect();
    v.sort();
    v
}

fn offer() -> SignalPayload {
    SignalPayload::Description { sdp_type: SdpType::Offer, sdp: "v=0".into() }
}

#[test]
fn connect_welcomes_with_room_list() {
    let mut hub = hub_with(&["a"]);
    join(&mut hub, "a", "x");
    let out = hub.connect(&id("b"), 0, None).deliveries;
    let welcome = ServerMsg::Welcome { id: id("b"), ice_servers: vec![], resume: None, resumed: false };
    assert_eq!(out[0], Delivery::one(&id("b"), welcome));
    assert_eq!(out[1].msg, ServerMsg::Rooms { rooms: vec![RoomSummary::open("x", 1)] });
}

#[test]
fn a_resumed_session_hears_its_room_as_it_is_now_and_nobody_else_hears_a_thing() {
    let mut hub = hub_with(&["a", "b"]);
    join(&mut hub, "a", "x");
    join(&mut hub, "b", "x");
    let out = hub.resume(&id("b"), 0, Some("t2".into()));
    assert!(out.deliveries.iter().all(|d| d.to.ids() == [id("b")]), "only the resumer hears of it");
    assert!(out.publish.is_empty() && out.media.is_empty());
    let welcome =
        ServerMsg::Welcome { id: id("b"), ice_servers: vec![], resume: Some("t2".into()), resumed: true };
    assert_eq!(out.deliveries[0].msg, welcome);
    assert!(matches!(out.deliveries[1].msg, ServerMsg::Rooms { .. }));
    match &out.deliveries[2].msg {
        ServerMsg::Joined { room, members, resumed: true, .. } => {
            assert_eq!(room, "x");
            assert_eq!(members.iter().map(|m| m.id.clone()).collect::<Vec<_>>(), [id("a"), id("b")]);
        }
        other => panic!("expected the room, got {other:?}"),
    }
    assert_eq!(hub.resume(&id("c"), 0, None).deliveries.len(), 2, "in the lobby: no room to send");
}

#[test]
fn join_tells_the_joiner_and_the_others() {
    let mut hub = hub_with(&["a", "b"]);
    let out = join(&mut hub, "a", "x");
    assert_eq!(out.len(), 1, "nobody else to tell");
    let out = join(&mut hub, "b", "x");
    assert_eq!(recipients(&out[0]), vec!["a"]);
    assert!(matches!(&out[0].msg, ServerMsg::PeerJoined { peer } if peer.nickname == "b"));
    assert_eq!(recipients(&out[1]), vec!["b"]);
    match &out[1].msg {
        ServerMsg::Joined { room, members, .. } => {
            assert_eq!(room, "x");
            let names: Vec<_> = members.iter().map(|m| m.nickname.as_str()).collect();
            assert_eq!(names, vec!["a", "b"], "join order, self included");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(hub.room_list(), vec![RoomSummary::open("x", 2)]);
}

#[test]
fn join_needs_a_nickname_and_a_valid_room() {
    let mut hub = Hub::new();
    let _ = hub.connect(&id("a"), 0, None);
    let err =
        hub.handle(&id("a"), ClientMsg::Join { room: "x".into(), passcode: None }, 0).result().unwrap_err();
    assert_eq!(err, HubError::NicknameRequired);
    assert_eq!(err.code(), ErrorCode::NicknameRequired);
    hub.handle(&id("a"), ClientMsg::SetNickname { nickname: "a".into() }, 0).result().unwrap();
    let err = hub
        .handle(&id("a"), ClientMsg::Join { room: "no spaces".into(), passcode: None }, 0)
        .result()
        .unwrap_err();
    assert_eq!(err, HubError::Input(InputError::Room));
    assert_eq!(hub.room_count(), 0);
}

#[test]
fn joining_the_same_room_again_resends_state_only() {
    let mut hub = hub_with(&["a", "b"]);
    join(&mut hub, "a", "x");
    join(&mut hub, "b", "x");
    let out = join(&mut hub, "b", "x");
    assert_eq!(out.len(), 1);
    assert_eq!(recipients(&out[0]), vec!["b"]);
    assert_eq!(hub.room_list()[0].count, 2);
}

#[test]
fn joining_another_room_moves_the_peer() {
    let mut hub = hub_with(&["a", "b"]);
    join(&mut hub, "a", "x");
    join(&mut hub, "b", "x");
    let out = join(&mut hub, "b", "y");
    assert!(matches!(&out[0].msg, ServerMsg::PeerLeft { peer } if peer.id == id("b")));
    assert_eq!(recipients(&out[0]), vec!["a"]);
    assert_eq!(hub.room_list(), vec![RoomSummary::open("x", 1), RoomSummary::open("y", 1)]);
}

#[test]
fn leave_notifies_others_and_removes_empty_rooms() {
    let mut hub = hub_with(&["a", "b"]);
    join(&mut hub, "a", "x");
    join(&mut hub, "b", "x");
    let out = hub.handle(&id("b"), ClientMsg::Leave, 0).result().unwrap();
    assert_eq!(recipients(&out[0]), vec!["a"]);
    assert!(matches!(&out[0].msg, ServerMsg::PeerLeft { peer } if peer.nickname == "b"));
    assert_eq!(out[1], Delivery::one(&id("b"), ServerMsg::Left { room: "x".into() }));
    assert!(matches!(&out[2].msg, ServerMsg::Rooms { rooms } if rooms[0].count == 1));
    hub.handle(&id("a"), ClientMsg::Leave, 0).result().unwrap();
    assert_eq!(hub.room_count(), 0);
    assert!(hub.handle(&id("a"), ClientMsg::Leave, 0).result().unwrap().is_empty(), "idempotent");
}

#[test]
fn disconnect_leaves_the_room_and_forgets_the_peer() {
    let mut hub = hub_with(&["a", "b"]);
    join(&mut hub, "a", "x");
    join(&mut hub, "b", "x");
    let out = hub.disconnect(&id("a")).deliveries;
    assert_eq!(out.len(), 1);
    assert_eq!(recipients(&out[0]), vec!["b"]);
    assert_eq!(hub.peer_count(), 1);
    assert!(hub.disconnect(&id("a")).deliveries.is_empty(), "second disconnect is a no-op");
    assert!(hub.handle(&id("a"), ClientMsg::Leave, 0).result().unwrap().is_empty());
}

#[test]
fn chat_goes_to_the_whole_room_once() {
    let mut hub = hub_with(&["a", "b", "c"]);
    join(&mut hub, "a", "x");
    join(&mut hub, "b", "x");
    join(&mut hub, "c", "y");
    let out =
        hub.handle(&id("a"), ClientMsg::Chat { text: "hi".into(), nonce: Some(9) }, 1234).result().unwrap();
    assert_eq!(out.len(), 1, "one delivery, encoded once");
    assert_eq!(recipients(&out[0]), vec!["a", "b"]);
    match &out[0].msg {
        ServerMsg::Chat { from, text, ts, nonce } => {
            assert_eq!((from.nickname.as_str(), text.as_str(), *ts, *nonce), ("a", "hi", 1234, Some(9)));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn chat_is_validated_and_needs_a_room() {
    let mut hub = hub_with(&["a"]);
    let chat = |text: String| ClientMsg::Chat { text, nonce: None };
    assert_eq!(hub.handle(&id("a"), chat("hi".into()), 0).result().unwrap_err(), HubError::NotInRoom);
    join(&mut hub, "a", "x");
    let err = hub.handle(&id("a"), chat("x".repeat(2001)), 0).result().unwrap_err();
    assert_eq!(err.code(), ErrorCode::ChatTooLong);
    let err = hub.handle(&id("a"), chat("   ".into()), 0).result().unwrap_err();
    assert_eq!(err.code(), ErrorCode::InvalidChat);
}

#[test]
fn signal_is_relayed_only_within_a_room() {
    let mut hub = hub_with(&["a", "b", "c"]);
    join(&mut hub, "a", "x");
    join(&mut hub, "b", "x");
    join(&mut hub, "c", "y");
    let out = hub.handle(&id("a"), ClientMsg::Signal { to: id("b"), payload: offer() }, 0).result().unwrap();
    assert_eq!(out, vec![Delivery::one(&id("b"), ServerMsg::Signal { from: id("a"), payload: offer() })]);

    let to_other_room = ClientMsg::Signal { to: id("c"), payload: offer() };
    assert_eq!(hub.handle(&id("a"), to_other_room, 0).result().unwrap_err(), HubError::PeerNotInRoom);
    let to_self = ClientMsg::Signal { to: id("a"), payload: offer() };
    assert_eq!(hub.handle(&id("a"), to_self, 0).result().unwrap_err(), HubError::PeerNotInRoom);
    let to_nobody = ClientMsg::Signal { to: id("zzz"), payload: offer() };
    assert_eq!(hub.handle(&id("a"), to_nobody, 0).result().unwrap_err(), HubError::PeerNotInRoom);

    hub.handle(&id("b"), ClientMsg::Leave, 0).result().unwrap();
    let after_leave = ClientMsg::Signal { to: id("a"), payload: offer() };
    assert_eq!(hub.handle(&id("b"), after_leave, 0).result().unwrap_err(), HubError::NotInRoom);
}

#[test]
fn renaming_in_a_room_tells_the_room() {
    let mut hub = hub_with(&["a", "b"]);
    join(&mut hub, "a", "x");
    join(&mut hub, "b", "x");
    let out = hub.handle(&id("a"), ClientMsg::SetNickname { nickname: " Ada ".into() }, 0).result().unwrap();
    assert_eq!(out[0].msg, ServerMsg::NicknameSet { nickname: "Ada".into() });
    assert_eq!(recipients(&out[1]), vec!["a", "b"]);
    let err = hub.handle(&id("a"), ClientMsg::SetNickname { nickname: "".into() }, 0).result().unwrap_err();
    assert_eq!(err.code(), ErrorCode::InvalidNickname);
}

#[test]
fn lobby_updates_are_coalesced_deltas_for_lobby_peers_only() {
    let mut hub = hub_with(&["a", "b", "c", "watcher"]);
    assert_eq!(hub.flush_lobby(), None, "nothing changed yet");
    join(&mut hub, "a", "x");
    join(&mut hub, "b", "x");
    join(&mut hub, "c", "y");
    hub.handle(&id("c"), ClientMsg::Leave, 0).result().unwrap();
    let update = hub.flush_lobby().expect("rooms changed");
    // Four changes, one message; "c" is back in the lobby, so it gets it too.
    assert_eq!(recipients(&update), vec!["c", "watcher"]);
    assert_eq!(
        update.msg,
        ServerMsg::RoomsChanged { changed: vec![RoomSummary::open("x", 2)], removed: vec!["y".into()] }
    );
    assert_eq!(hub.flush_lobby(), None, "flushed");
}

#[test]
fn flush_with_an_empty_lobby_discards_changes() {
    let mut hub = hub_with(&["a"]);
    join(&mut hub, "a", "x");
    assert_eq!(hub.flush_lobby(), None);
    hub.handle(&id("a"), ClientMsg::Leave, 0).result().unwrap();
    // The leaver got a full snapshot; the change is still owed to the lobby.
    let update = hub.flush_lobby().unwrap();
    assert_eq!(recipients(&update), vec!["a"]);
}

#[test]
fn room_list_is_busiest_first_then_by_name() {
    let mut hub = hub_with(&["a", "b", "c"]);
    join(&mut hub, "a", "zeta");
    join(&mut hub, "b", "zeta");
    join(&mut hub, "c", "alpha");
    let names: Vec<_> = hub.room_list().into_iter().map(|r| r.name).collect();
    assert_eq!(names, vec!["zeta", "alpha"]);
}

#[test]
fn messages_from_unknown_peers_are_ignored() {
    let mut hub = Hub::new();
    let out =
        hub.handle(&id("ghost"), ClientMsg::Join { room: "x".into(), passcode: None }, 0).result().unwrap();
    assert!(out.is_empty());
    assert_eq!(hub.room_count(), 0);
}

#[test]
fn rooms_are_capped() {
    let config = HubConfig { max_peers_per_room: 2, ..HubConfig::default() };
    let mut hub = Hub::with_config(config);
    for n in ["a", "b", "c"] {
        let _ = hub.connect(&id(n), 0, None);
        hub.handle(&id(n), ClientMsg::SetNickname { nickname: n.into() }, 0).result().unwrap();
    }
    join(&mut hub, "a", "x");
    join(&mut hub, "c", "y");
    join(&mut hub, "b", "x");
    let err =
        hub.handle(&id("c"), ClientMsg::Join { room: "x".into(), passcode: None }, 0).result().unwrap_err();
    assert_eq!(err, HubError::RoomFull(2));
    assert_eq!(err.code(), ErrorCode::RoomFull);
    // A refused move leaves the peer where it was.
    assert_eq!(hub.room_list(), vec![RoomSummary::open("x", 2), RoomSummary::open("y", 1),]);
    // Rejoining a room you are already in is not blocked by the cap.
    assert!(hub.handle(&id("a"), ClientMsg::Join { room: "x".into(), passcode: None }, 0).result().is_ok());
}

#[test]
fn media_state_is_shared_with_the_room_and_in_member_lists() {
    let mut hub = hub_with(&["a", "b", "c"]);
    let on = MediaState { audio: true, video: false };
    assert!(
        hub.handle(&id("a"), ClientMsg::SetMedia { media: on }, 0).result().unwrap().is_empty(),
        "not in a room"
    );
    join(&mut hub, "a", "x");
    let out = join(&mut hub, "b", "x");
    assert!(matches!(&out[0].msg, ServerMsg::PeerJoined { peer } if peer.media == MediaState::default()));
    match &out[1].msg {
        ServerMsg::Joined { members, .. } => assert_eq!(members[0].media, on),
        other => panic!("{other:?}"),
    }
    join(&mut hub, "c", "y");
    let off = MediaState { audio: false, video: false };
    let out = hub.handle(&id("b"), ClientMsg::SetMedia { media: off }, 0).result().unwrap();
    assert_eq!(
        out,
        vec![Delivery::many(vec![id("a"), id("b")], ServerMsg::PeerMedia { id: id("b"), media: off })]
    );
}

#[test]
fn welcome_carries_ice_servers() {
    let ice = IceConfig {
        stun_urls: vec!["stun:s".into()],
        turn_urls: vec!["turn:t".into()],
        turn_secret: Some("k".into()),
        turn_ttl_secs: 60,
    };
    let mut hub = Hub::with_config(HubConfig { ice, ..HubConfig::default() });
    let out = hub.connect(&id("p"), 1_000_000, None).deliveries;
    match &out[0].msg {
        ServerMsg::Welcome { ice_servers, .. } => {
            assert_eq!(ice_servers.len(), 2);
            assert_eq!(ice_servers[1].username.as_deref(), Some("1060:p"));
            assert_eq!(ice_servers[1].credential.as_deref(), Some(turn_credential("k", "1060:p").as_str()));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn one_screen_sharer_per_room() {
    let mut hub = hub_with(&["a", "b", "c"]);
    join(&mut hub, "a", "x");
    join(&mut hub, "b", "x");
    join(&mut hub, "c", "y");
    let out = hub.handle(&id("a"), ClientMsg::StartShare, 0).result().unwrap();
    assert_eq!(out, vec![Delivery::many(vec![id("a"), id("b")], ServerMsg::ShareStarted { id: id("a") })]);
    let err = hub.handle(&id("b"), ClientMsg::StartShare, 0).result().unwrap_err();
    assert_eq!(err, HubError::ShareTaken("a".into()));
    assert_eq!(err.code(), ErrorCode::ShareTaken);
    assert!(err.to_string().contains("a is already sharing"));
    // Other rooms are independent; asking again is harmless.
    assert!(hub.handle(&id("c"), ClientMsg::StartShare, 0).result().is_ok());
    assert!(hub.handle(&id("a"), ClientMsg::StartShare, 0).result().is_ok());
    // Someone joining later learns who shares.
    let _ = hub.connect(&id("d"), 0, None);
    hub.handle(&id("d"), ClientMsg::SetNickname { nickname: "d".into() }, 0).result().unwrap();
    let out = join(&mut hub, "d", "x");
    assert!(matches!(&out.last().unwrap().msg, ServerMsg::Joined { sharer: Some(s), .. } if *s == id("a")));
    // Only the sharer can stop; then someone else may share.
    assert!(hub.handle(&id("b"), ClientMsg::StopShare, 0).result().unwrap().is_empty());
    let out = hub.handle(&id("a"), ClientMsg::StopShare, 0).result().unwrap();
    assert!(matches!(&out[0].msg, ServerMsg::ShareStopped { id: s } if *s == id("a")));
    assert!(hub.handle(&id("b"), ClientMsg::StartShare, 0).result().is_ok());
}

#[test]
fn a_sharer_who_leaves_stops_sharing() {
    let mut hub = hub_with(&["a", "b"]);
    join(&mut hub, "a", "x");
    join(&mut hub, "b", "x");
    hub.handle(&id("a"), ClientMsg::StartShare, 0).result().unwrap();
    let out = hub.disconnect(&id("a")).deliveries;
    assert_eq!(out[0].msg, ServerMsg::ShareStopped { id: id("a") });
    assert!(matches!(out[1].msg, ServerMsg::PeerLeft { .. }));
    assert!(hub.handle(&id("b"), ClientMsg::StartShare, 0).result().is_ok());
}

#[test]
fn the_lobby_gets_the_busiest_rooms_only() {
    let mut hub = Hub::new();
    let mut n = 0;
    for room in 0..(LOBBY_LIST_MAX + 50) {
        // Room r has 1 + r % 3 people.
        for _ in 0..(1 + room % 3) {
            let who = format!("p{n}");
            n += 1;
            let _ = hub.connect(&id(&who), 0, None);
            hub.handle(&id(&who), ClientMsg::SetNickname { nickname: who.clone() }, 0).result().unwrap();
            join(&mut hub, &who, &format!("room{room:03}"));
        }
    }
    let list = hub.lobby_list();
    assert_eq!(list.len(), LOBBY_LIST_MAX);
    let mut expected = hub.room_list();
    expected.truncate(LOBBY_LIST_MAX);
    assert_eq!(list, expected, "the same order as the full list, cut");
    assert!(list.iter().all(|r| r.count >= 2));
}

#[test]
fn a_refusal_is_one_output_with_the_senders_error() {
    let mut hub = hub_with(&["a"]);
    let out = hub.handle(&id("a"), ClientMsg::Leave, 0);
    assert_eq!(out, Output::default(), "leaving from the lobby is no error");
    let out = hub.handle(&id("a"), ClientMsg::StartShare, 0);
    assert_eq!(out.refused, Some(HubError::NotInRoom));
    let error = ServerMsg::Error { code: ErrorCode::NotInRoom, message: HubError::NotInRoom.to_string() };
    assert_eq!(out.deliveries, vec![Delivery::one(&id("a"), error)]);
    assert!(out.publish.is_empty() && out.released.is_empty());
}

#[test]
fn a_full_room_checks_the_passcode_first() {
    let mut hub = Hub::with_config(HubConfig { max_peers_per_room: 1, ..HubConfig::default() });
    for n in ["a", "b"] {
        let _ = hub.connect(&id(n), 0, None);
        hub.handle(&id(n), ClientMsg::SetNickname { nickname: n.into() }, 0).result().unwrap();
    }
    let join = |passcode: &str| ClientMsg::Join { room: "x".into(), passcode: Some(passcode.into()) };
    hub.handle(&id("a"), join("4711"), 0).result().unwrap();
    // A full room must not spare a guesser the count: wrong is wrong.
    let wrong = hub.handle(&id("b"), join("0000"), 0).result().unwrap_err();
    assert_eq!(wrong, HubError::WrongPasscode);
    assert!(!wrong.passed_passcode());
    let full = hub.handle(&id("b"), join("4711"), 0).result().unwrap_err();
    assert_eq!(full, HubError::RoomFull(1));
    assert!(full.passed_passcode(), "refused for the size, so the passcode was right");
}

#[test]
fn a_seat_from_before_a_restart_takes_its_old_place_in_its_room_only() {
    let mut hub = hub_with(&["ada", "bob", "cy"]);
    // Back after a restart: Ada had joined "x" at 1,000 ms, before Bob.
    hub.claim_seat(&id("ada"), Seat { room: room_hash("x"), since_ms: 1_000, locked: false }, u64::MAX);
    hub.handle(&id("bob"), ClientMsg::Join { room: "x".into(), passcode: None }, 5_000).result().unwrap();
    hub.handle(&id("ada"), ClientMsg::Join { room: "x".into(), passcode: None }, 6_000).result().unwrap();
    let names: Vec<String> = hub.member_list("x").into_iter().map(|m| m.nickname).collect();
    assert_eq!(names, ["ada", "bob"], "Ada first again: the host");
    assert_eq!(hub.seat_of(&id("ada")), Some(Seat { room: room_hash("x"), since_ms: 1_000, locked: false }));
    // A seat for another room changes nothing: Cy joins "x" last.
    hub.claim_seat(&id("cy"), Seat { room: room_hash("y"), since_ms: 1, locked: false }, u64::MAX);
    hub.handle(&id("cy"), ClientMsg::Join { room: "x".into(), passcode: None }, 7_000).result().unwrap();
    let names: Vec<String> = hub.member_list("x").into_iter().map(|m| m.nickname).collect();
    assert_eq!(names, ["ada", "bob", "cy"]);
    assert_eq!(hub.seat_of(&id("cy")), Some(Seat { room: room_hash("x"), since_ms: 7_000, locked: false }));
}

#[test]
fn the_first_member_back_locks_a_locked_room_again_and_the_others_get_in() {
    let mut hub = hub_with(&["ada", "bob", "eve"]);
    let seat = |since_ms| Seat { room: room_hash("x"), since_ms, locked: true };
    hub.claim_seat(&id("bob"), seat(2_000), u64::MAX);
    hub.claim_seat(&id("ada"), seat(1_000), u64::MAX);
    join(&mut hub, "bob", "x");
    assert_eq!(hub.seat_of(&id("bob")), Some(seat(2_000)), "locked from the start");
    // Someone who never sat here is kept out of the rebuilt room.
    let refused = hub.handle(&id("eve"), ClientMsg::Join { room: "x".into(), passcode: None }, 0);
    assert_eq!(refused.result().unwrap_err(), HubError::RoomLocked);
    // Who sat here gets in, in the old order.
    join(&mut hub, "ada", "x");
    let names: Vec<String> = hub.member_list("x").into_iter().map(|m| m.nickname).collect();
    assert_eq!(names, ["ada", "bob"]);
    assert_eq!(hub.roommates(&id("bob")), [id("ada"), id("bob")]);
    // A seat from an unlocked room makes an unlocked one.
    hub.claim_seat(&id("eve"), Seat { room: room_hash("y"), since_ms: 1, locked: false }, u64::MAX);
    join(&mut hub, "eve", "y");
    assert_eq!(hub.seat_of(&id("eve")).map(|s| s.locked), Some(false));
}

#[test]
fn a_seat_is_good_only_until_the_restart_grace_ends() {
    let mut hub = hub_with(&["ada"]);
    hub.claim_seat(&id("ada"), Seat { room: room_hash("x"), since_ms: 1, locked: true }, 5_000);
    hub.handle(&id("ada"), ClientMsg::Join { room: "x".into(), passcode: None }, 5_001).result().unwrap();
    let seat = hub.seat_of(&id("ada")).unwrap();
    assert_eq!((seat.since_ms, seat.locked), (5_001, false), "joined as anyone new would");
}

#[test]
fn a_raised_hand_reaches_the_room_keeps_its_place_and_goes_with_the_room() {
    let mut hub = hub_with(&["a", "b", "c"]);
    join(&mut hub, "a", "x");
    join(&mut hub, "b", "x");
    join(&mut hub, "c", "x");
    let up = hub.handle(&id("b"), ClientMsg::RaiseHand { up: true }, 100).result().unwrap();
    assert_eq!(up.len(), 1);
    assert_eq!(recipients(&up[0]), vec!["a", "b", "c"]);
    assert_eq!(up[0].msg, ServerMsg::PeerHand { id: id("b"), hand: Some(100) });
    // Raising again is not a new place in the queue, and says nothing.
    assert!(hub.handle(&id("b"), ClientMsg::RaiseHand { up: true }, 200).result().unwrap().is_empty());
    hub.handle(&id("c"), ClientMsg::RaiseHand { up: true }, 150).result().unwrap();
    // A newcomer sees the hands in the member list.
    let d = hub_join_members(&mut hub, "x");
    assert_eq!(
        d,
        vec![("a".into(), None), ("b".into(), Some(100)), ("c".into(), Some(150)), ("d".into(), None)]
    );
    // Leaving the room lowers it: back in, the hand is down.
    join(&mut hub, "b", "y");
    join(&mut hub, "b", "x");
    assert!(hub_join_members(&mut hub, "x").contains(&("b".into(), None)));
}

#[test]
fn a_hand_going_up_and_down_is_limited_and_no_change_says_nothing() {
    use hands::{REACTION_BURST, REACTION_WINDOW_MS};
    let mut hub = hub_with(&["a", "b"]);
    join(&mut hub, "a", "x");
    join(&mut hub, "b", "x");
    assert!(hub.handle(&id("b"), ClientMsg::RaiseHand { up: false }, 0).result().unwrap().is_empty());
    assert!(hub.handle(&id("a"), ClientMsg::LowerHand { id: id("b") }, 0).result().unwrap().is_empty());
    for i in 0..u64::from(REACTION_BURST) {
        let out = hub.handle(&id("b"), ClientMsg::RaiseHand { up: i % 2 == 0 }, 1_000 + i).result().unwrap();
        assert_eq!(out.len(), 1, "change {i}");
    }
    let flood = hub.handle(&id("b"), ClientMsg::RaiseHand { up: true }, 1_100);
    assert_eq!(flood.refused, Some(HubError::TooManyHandChanges));
    let later = hub.handle(&id("b"), ClientMsg::RaiseHand { up: true }, 1_000 + REACTION_WINDOW_MS);
    assert!(later.refused.is_none());
}

/// Connects "d" and joins it to `room`: the members its `joined` lists,
/// with their hands.
fn hub_join_members(hub: &mut Hub, room: &str) -> Vec<(String, Option<u64>)> {
    if !hub.has_nickname(&id("d")) {
        let _ = hub.connect(&id("d"), 0, None);
        hub.handle(&id("d"), ClientMsg::SetNickname { nickname: "d".into() }, 0).result().unwrap();
    }
    let out = join(hub, "d", room);
    let joined = out.iter().find_map(|d| match &d.msg {
        ServerMsg::Joined { members, .. } => Some(members.clone()),
        _ => None,
    });
    joined.unwrap().into_iter().map(|m| (m.id.0, m.hand)).collect()
}

#[test]
fn only_the_host_lowers_someone_elses_hand() {
    let mut hub = hub_with(&["a", "b", "c"]);
    join(&mut hub, "a", "x");
    join(&mut hub, "b", "x");
    join(&mut hub, "c", "y");
    hub.handle(&id("b"), ClientMsg::RaiseHand { up: true }, 100).result().unwrap();
    let refused = hub.handle(&id("b"), ClientMsg::LowerHand { id: id("a") }, 0);
    assert_eq!(refused.refused, Some(HubError::NotHost));
    let elsewhere = hub.handle(&id("a"), ClientMsg::LowerHand { id: id("c") }, 0);
    assert_eq!(elsewhere.refused, Some(HubError::PeerNotInRoom));
    let lowered = hub.handle(&id("a"), ClientMsg::LowerHand { id: id("b") }, 0).result().unwrap();
    assert_eq!(lowered[0].msg, ServerMsg::PeerHand { id: id("b"), hand: None });
    assert_eq!(recipients(&lowered[0]), vec!["a", "b"]);
    // Their own hand, anyone may lower.
    hub.handle(&id("b"), ClientMsg::RaiseHand { up: true }, 300).result().unwrap();
    let own = hub.handle(&id("b"), ClientMsg::RaiseHand { up: false }, 0).result().unwrap();
    assert_eq!(own[0].msg, ServerMsg::PeerHand { id: id("b"), hand: None });
}

#[test]
fn reactions_reach_the_whole_room_a_burst_at_a_time() {
    use app::protocol::Reaction;
    use hands::{REACTION_BURST, REACTION_WINDOW_MS};
    let mut hub = hub_with(&["a", "b"]);
    assert_eq!(
        hub.handle(&id("a"), ClientMsg::React { reaction: Reaction::Clap }, 0).refused,
        Some(HubError::NotInRoom)
    );
    join(&mut hub, "a", "x");
    join(&mut hub, "b", "x");
    for i in 0..u64::from(REACTION_BURST) {
        let out =
            hub.handle(&id("a"), ClientMsg::React { reaction: Reaction::Clap }, 1_000 + i).result().unwrap();
        assert_eq!(recipients(&out[0]), vec!["a", "b"]);
        assert_eq!(out[0].msg, ServerMsg::Reacted { from: id("a"), reaction: Reaction::Clap });
    }
    let flood = hub.handle(&id("a"), ClientMsg::React { reaction: Reaction::Heart }, 1_500);
    assert_eq!(flood.refused, Some(HubError::TooManyReactions));
    assert_eq!(flood.refused.unwrap().code(), ErrorCode::RateLimited);
    // Someone else's reactions are their own count.
    assert!(hub.handle(&id("b"), ClientMsg::React { reaction: Reaction::Heart }, 1_500).refused.is_none());
    // The next window lets them through again.
    let later =
        hub.handle(&id("a"), ClientMsg::React { reaction: Reaction::Wow }, 1_000 + REACTION_WINDOW_MS);
    assert!(later.refused.is_none());
}
