use super::model::*;
use crate::protocol::{
    ClientMsg, ErrorCode, MediaMode, MediaState, Member, PeerId, Reaction, RoomSummary, ServerMsg,
};

fn member(id: &str, nick: &str) -> Member {
    Member { id: PeerId(id.into()), nickname: nick.into(), media: MediaState::default(), hand: None }
}

fn welcomed(id: &str) -> Model {
    let mut m = Model::default();
    m.on_server(
        ServerMsg::Welcome { id: PeerId(id.into()), ice_servers: vec![], resume: None, resumed: false },
        0,
    );
    m
}

fn joined(m: &mut Model, room: &str, members: Vec<Member>) {
    joined_as(m, room, members, false);
}

fn joined_as(m: &mut Model, room: &str, members: Vec<Member>, resumed: bool) {
    m.on_server(
        ServerMsg::Joined {
            room: room.into(),
            members,
            sharer: None,
            locked: false,
            passcode: false,
            media: MediaMode::Mesh,
            resumed,
        },
        0,
    );
}

fn welcome(m: &mut Model, id: &str, resumed: bool) -> Vec<ClientMsg> {
    m.on_server(ServerMsg::Welcome { id: PeerId(id.into()), ice_servers: vec![], resume: None, resumed }, 0)
}

#[test]
fn nothing_is_sent_before_the_socket_is_open() {
    let mut m = Model::default();
    assert!(m.set_nickname("Ada".into()).is_empty());
    assert!(m.enter_room("x".into()).is_empty());
    assert_eq!(m.send_chat("hi", 0).unwrap_err(), "not connected; wait a moment");
}

#[test]
fn welcome_replays_nickname_and_room() {
    let mut m = Model::default();
    m.set_nickname("Ada".into());
    m.enter_room("standup".into());
    let sent = m.on_server(
        ServerMsg::Welcome { id: PeerId("p1".into()), ice_servers: vec![], resume: None, resumed: false },
        0,
    );
    assert_eq!(
        sent,
        vec![
            ClientMsg::SetNickname { nickname: "Ada".into() },
            ClientMsg::SetMedia { media: MediaState::default() },
            ClientMsg::Join { room: "standup".into(), passcode: None }
        ]
    );
    assert!(m.is_open());
}

#[test]
fn a_room_without_a_nickname_is_not_joined_on_replay() {
    let mut m = Model::default();
    m.enter_room("standup".into());
    let sent = m.on_server(
        ServerMsg::Welcome { id: PeerId("p1".into()), ice_servers: vec![], resume: None, resumed: false },
        0,
    );
    assert!(sent.is_empty());
}

#[test]
fn entering_a_room_sends_the_nickname_first_when_unconfirmed() {
    let mut m = welcomed("me");
    m.set_nickname("Ada".into());
    let sent = m.enter_room("x".into());
    assert_eq!(
        sent,
        vec![
            ClientMsg::SetNickname { nickname: "Ada".into() },
            ClientMsg::SetMedia { media: MediaState::default() },
            ClientMsg::Join { room: "x".into(), passcode: None }
        ]
    );
    m.on_server(ServerMsg::NicknameSet { nickname: "Ada".into() }, 0);
    m.leave_room();
    let on = MediaState { audio: true, video: true };
    assert_eq!(m.set_media(on), vec![ClientMsg::SetMedia { media: on }], "stored by the server for the join");
    assert_eq!(
        m.enter_room("y".into()),
        vec![ClientMsg::SetMedia { media: on }, ClientMsg::Join { room: "y".into(), passcode: None }]
    );
    assert!(m.enter_room("y".into()).is_empty(), "already wanted");
}

#[test]
fn own_chat_shows_at_once_then_is_confirmed() {
    let mut m = welcomed("me");
    m.set_nickname("Ada".into());
    m.on_server(ServerMsg::NicknameSet { nickname: "Ada".into() }, 0);
    m.enter_room("x".into());
    joined(&mut m, "x", vec![member("me", "Ada")]);
    let sent = m.send_chat("hello", 100).unwrap();
    assert_eq!(sent, vec![ClientMsg::Chat { text: "hello".into(), nonce: Some(1) }]);
    let room = m.room.as_ref().unwrap();
    assert!(matches!(
        room.log.last().map(|l| &l.entry),
        Some(LogEntry::Chat { pending: true, mine: true, .. })
    ));

    m.on_server(
        ServerMsg::Chat { from: member("me", "Ada"), text: "hello".into(), ts: 150, nonce: Some(1) },
        0,
    );
    let room = m.room.as_ref().unwrap();
    let chats: Vec<_> =
        room.log.iter().map(|l| &l.entry).filter(|e| matches!(e, LogEntry::Chat { .. })).collect();
    assert_eq!(chats.len(), 1, "the echo replaces, not duplicates");
    assert!(matches!(chats[0], LogEntry::Chat { pending: false, ts: 150, .. }));
}

#[test]
fn chat_is_validated_before_sending() {
    let mut m = welcomed("me");
    m.enter_room("x".into());
    joined(&mut m, "x", vec![member("me", "Ada")]);
    assert!(m.send_chat("   ", 0).is_err());
    assert!(m.send_chat(&"x".repeat(2001), 0).unwrap_err().contains("2000"));
}

#[test]
fn peers_joining_and_leaving_update_members_and_log_notices() {
    let mut m = welcomed("me");
    m.enter_room("x".into());
    joined(&mut m, "x", vec![member("me", "Ada")]);
    m.on_server(ServerMsg::PeerJoined { peer: member("b", "Bob") }, 0);
    m.on_server(ServerMsg::PeerLeft { peer: member("b", "Bob") }, 0);
    let room = m.room.as_ref().unwrap();
    assert_eq!(room.members, vec![member("me", "Ada")]);
    let notices: Vec<_> = room
        .log
        .iter()
        .filter_map(|l| match &l.entry {
            LogEntry::Notice { text, .. } => Some(text.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(notices, vec!["You joined x", "Bob joined", "Bob left"]);
}

#[test]
fn joined_for_a_room_no_longer_wanted_is_ignored() {
    let mut m = welcomed("me");
    m.enter_room("x".into());
    m.leave_room();
    joined(&mut m, "x", vec![member("me", "Ada")]);
    assert!(m.room.is_none());
}

#[test]
fn reconnect_keeps_history_and_rejoins() {
    let mut m = welcomed("me");
    m.set_nickname("Ada".into());
    m.enter_room("x".into());
    joined(&mut m, "x", vec![member("me", "Ada")]);
    m.on_server(ServerMsg::Chat { from: member("b", "Bob"), text: "hi".into(), ts: 1, nonce: None }, 0);
    m.on_connecting(500);
    assert_eq!(m.conn, Conn::Reconnecting { retry_ms: 500 });
    let sent = m.on_server(
        ServerMsg::Welcome { id: PeerId("me2".into()), ice_servers: vec![], resume: None, resumed: false },
        0,
    );
    assert_eq!(sent[2], ClientMsg::Join { room: "x".into(), passcode: None });
    joined(&mut m, "x", vec![member("me2", "Ada")]);
    let room = m.room.as_ref().unwrap();
    assert!(room.log.iter().any(|l| matches!(&l.entry, LogEntry::Chat { text, .. } if text == "hi")));
    assert!(m.in_room("x"));
}

#[test]
fn a_restart_notice_holds_until_the_server_is_back() {
    let mut m = welcomed("me");
    m.set_nickname("Ada".into());
    m.enter_room("x".into());
    joined(&mut m, "x", vec![member("me", "Ada")]);
    m.on_server(ServerMsg::Restarting, 0);
    assert_eq!(m.conn, Conn::Restarting);
    assert!(!m.is_open());
    // Failed attempts while it is down do not turn it into "offline".
    m.on_connecting(500);
    m.on_connecting(1000);
    assert_eq!(m.conn, Conn::Restarting);
    let sent = m.on_server(
        ServerMsg::Welcome { id: PeerId("me2".into()), ice_servers: vec![], resume: None, resumed: false },
        0,
    );
    assert_eq!(m.conn, Conn::Open);
    assert!(sent.contains(&ClientMsg::Join { room: "x".into(), passcode: None }));
}

#[test]
fn room_list_deltas_apply_in_order() {
    let mut m = welcomed("me");
    assert!(!m.rooms_known);
    m.on_server(ServerMsg::Rooms { rooms: vec![RoomSummary::open("a", 1), RoomSummary::open("b", 1)] }, 0);
    assert!(m.rooms_known);
    m.on_server(
        ServerMsg::RoomsChanged {
            changed: vec![RoomSummary::open("b", 3), RoomSummary::open("c", 1)],
            removed: vec!["a".into()],
        },
        0,
    );
    let list: Vec<_> = m.rooms.iter().map(|r| (r.name.as_str(), r.count)).collect();
    assert_eq!(list, vec![("b", 3), ("c", 1)]);
}

#[test]
fn a_refused_join_is_not_retried() {
    let mut m = welcomed("me");
    m.enter_room("x".into());
    m.on_server(ServerMsg::Error { code: ErrorCode::NicknameRequired, message: "choose".into() }, 0);
    assert_eq!(m.wanted_room, None);
    assert_eq!(m.problem.as_ref().unwrap().code, ErrorCode::NicknameRequired);
}

#[test]
fn log_is_capped() {
    let mut m = welcomed("me");
    m.enter_room("x".into());
    joined(&mut m, "x", vec![member("me", "Ada")]);
    for i in 0..(MAX_LOG + 50) {
        m.on_server(ServerMsg::Chat { from: member("b", "Bob"), text: i.to_string(), ts: 0, nonce: None }, 0);
    }
    let room = m.room.as_ref().unwrap();
    assert_eq!(room.log.len(), MAX_LOG);
    assert!(
        matches!(room.log.last().map(|l| &l.entry), Some(LogEntry::Chat { text, .. }) if *text == (MAX_LOG + 49).to_string())
    );
    assert_eq!(room.log.last().unwrap().seq, (MAX_LOG + 50) as u64, "seq keeps counting");
}

#[test]
fn media_changes_are_sent_and_peer_media_applied() {
    let mut m = welcomed("me");
    m.enter_room("x".into());
    joined(&mut m, "x", vec![member("me", "Ada"), member("b", "Bob")]);
    let on = MediaState { audio: true, video: false };
    assert_eq!(m.set_media(on), vec![ClientMsg::SetMedia { media: on }]);
    assert!(m.set_media(on).is_empty(), "unchanged");
    m.on_server(ServerMsg::PeerMedia { id: PeerId("b".into()), media: on }, 0);
    assert_eq!(m.room.as_ref().unwrap().members[1].media, on);
}

#[test]
fn welcome_keeps_the_ice_servers() {
    let mut m = Model::default();
    let servers =
        vec![crate::protocol::IceServer { urls: vec!["stun:s".into()], username: None, credential: None }];
    m.on_server(
        ServerMsg::Welcome {
            id: PeerId("p".into()),
            ice_servers: servers.clone(),
            resume: None,
            resumed: false,
        },
        0,
    );
    assert_eq!(m.ice_servers, servers);
}

#[test]
fn screen_share_state_follows_the_server() {
    let mut m = welcomed("me");
    m.enter_room("x".into());
    let b = PeerId("b".into());
    m.on_server(
        ServerMsg::Joined {
            room: "x".into(),
            members: vec![member("me", "Ada"), member("b", "Bob")],
            sharer: Some(b.clone()),
            locked: false,
            passcode: false,
            media: MediaMode::Mesh,
            resumed: false,
        },
        0,
    );
    assert_eq!(m.room.as_ref().unwrap().sharer, Some(b.clone()));
    m.on_server(ServerMsg::ShareStopped { id: b.clone() }, 0);
    assert_eq!(m.room.as_ref().unwrap().sharer, None);
    m.on_server(ServerMsg::ShareStarted { id: b.clone() }, 0);
    let room = m.room.as_ref().unwrap();
    assert!(
        matches!(&room.log.last().unwrap().entry, LogEntry::Notice { text, .. } if text == "Bob is sharing their screen")
    );
    m.on_server(ServerMsg::ShareStopped { id: b.clone() }, 0);
    let room = m.room.as_ref().unwrap();
    assert!(
        matches!(&room.log.last().unwrap().entry, LogEntry::Notice { text, .. } if text == "Bob stopped sharing their screen")
    );
    m.on_server(ServerMsg::ShareStarted { id: b.clone() }, 0);
    m.on_server(ServerMsg::PeerLeft { peer: member("b", "Bob") }, 0);
    assert_eq!(m.room.as_ref().unwrap().sharer, None, "a sharer who leaves stops sharing");
}

/// Every error code, from serde's own list (its unknown-variant error), so
/// that a new code is covered without editing this file.
fn every_error_code() -> Vec<ErrorCode> {
    let err = serde_json::from_str::<ErrorCode>(r#""__none__""#).unwrap_err().to_string();
    let names: Vec<&str> = err.split('`').skip(3).step_by(2).collect();
    assert!(names.len() > 10, "serde's wording changed? {err}");
    names.iter().map(|n| serde_json::from_str(&format!("\"{n}\"")).expect(n)).collect()
}

#[test]
fn one_rule_says_whether_a_join_ended() {
    for code in every_error_code() {
        let mut m = welcomed("me");
        m.on_server(ServerMsg::NicknameSet { nickname: "Ada".into() }, 0);
        let _ = m.enter_room("x".into());
        m.on_server(ServerMsg::Error { code, message: "no".into() }, 0);
        let refusal = m.join_refusal().map(|p| p.code);
        if code.refuses_join() {
            assert_eq!(refusal, Some(code), "{code:?} ends the join");
            assert_eq!(m.wanted_room, None, "{code:?}: not retried");
        } else {
            // A chat too long, a rate limit...: the call goes on.
            assert_eq!(refusal, None, "{code:?} does not end the join");
            assert_eq!(m.wanted_room.as_deref(), Some("x"), "{code:?}");
        }
    }
}

#[test]
fn being_removed_ends_the_join_by_the_same_rule() {
    let mut m = welcomed("me");
    m.on_server(ServerMsg::NicknameSet { nickname: "Ada".into() }, 0);
    let _ = m.enter_room("x".into());
    joined(&mut m, "x", vec![member("h", "Host"), member("me", "Ada")]);
    assert!(m.join_refusal().is_none());
    m.on_server(ServerMsg::Removed { room: "x".into(), by: member("h", "Host") }, 0);
    assert_eq!(m.join_refusal().map(|p| p.code), Some(ErrorCode::NotInRoom));
}

/// In a room with Bob and Cy, the socket drops.
fn in_a_call_offline() -> Model {
    let mut m = welcomed("me");
    m.set_nickname("Ada".into());
    m.on_server(ServerMsg::NicknameSet { nickname: "Ada".into() }, 0);
    m.enter_room("x".into());
    joined(&mut m, "x", vec![member("me", "Ada"), member("b", "Bob"), member("c", "Cy")]);
    m.on_connecting(500);
    m
}

fn names(m: &Model) -> Vec<String> {
    m.room.as_ref().unwrap().members.iter().map(|m| m.nickname.clone()).collect()
}

#[test]
fn offline_the_room_and_the_name_stay_as_they_were() {
    let m = in_a_call_offline();
    assert_eq!(names(&m), ["Ada", "Bob", "Cy"]);
    assert_eq!(m.nickname.as_deref(), Some("Ada"));
    assert_eq!(m.me, Some(PeerId("me".into())));
}

#[test]
fn a_resumed_session_asks_for_nothing_again_and_takes_the_room_as_it_is() {
    let mut m = in_a_call_offline();
    let sent = welcome(&mut m, "me", true);
    assert_eq!(
        sent,
        vec![ClientMsg::SetMedia { media: MediaState::default() }],
        "only what may have changed"
    );
    assert!(m.is_open());
    joined_as(&mut m, "x", vec![member("me", "Ada"), member("b", "Bob")], true);
    let room = m.room.as_ref().unwrap();
    assert_eq!(names(&m), ["Ada", "Bob"], "Cy left meanwhile");
    assert_eq!(room.joins, 1, "not a new join: the call's connections stay");
}

#[test]
fn resumed_while_the_user_renamed_or_left_meanwhile() {
    let mut m = in_a_call_offline();
    m.set_nickname("Ada L".into());
    let sent = welcome(&mut m, "me", true);
    assert_eq!(sent[0], ClientMsg::SetNickname { nickname: "Ada L".into() });
    let mut m = in_a_call_offline();
    m.leave_room();
    assert_eq!(welcome(&mut m, "me", true).last(), Some(&ClientMsg::Leave));
}

#[test]
fn after_a_restart_the_people_we_were_with_stay_while_they_come_back() {
    let mut m = in_a_call_offline();
    let sent = welcome(&mut m, "me", false);
    assert!(sent.contains(&ClientMsg::Join { room: "x".into(), passcode: None }), "the server lost the room");
    // We are the first back: the room has only us.
    m.on_server(
        ServerMsg::Joined {
            room: "x".into(),
            members: vec![member("me", "Ada")],
            sharer: None,
            locked: false,
            passcode: false,
            media: MediaMode::Mesh,
            resumed: false,
        },
        1_000,
    );
    assert_eq!(names(&m), ["Ada", "Bob", "Cy"], "nobody is shown leaving");
    m.on_server(ServerMsg::PeerJoined { peer: member("b", "Bob") }, 2_000);
    assert_eq!(names(&m), ["Ada", "Bob", "Cy"], "Bob is back, in his place");
    let log = &m.room.as_ref().unwrap().log;
    let told =
        |text: &str| log.iter().any(|l| matches!(&l.entry, LogEntry::Notice { text: t, .. } if t == text));
    assert!(!told("Bob joined") && !told("Bob left") && !told("Cy left"));
    m.expire_returning(1_000 + RETURN_GRACE_MS - 1);
    assert_eq!(names(&m), ["Ada", "Bob", "Cy"]);
    m.expire_returning(1_000 + RETURN_GRACE_MS);
    assert_eq!(names(&m), ["Ada", "Bob"], "Cy never came back");
    assert!(m
        .room
        .as_ref()
        .unwrap()
        .log
        .iter()
        .any(|l| matches!(&l.entry, LogEntry::Notice { text, .. } if text == "Cy left")));
}

#[test]
fn after_a_restart_the_room_keeps_its_order_whoever_is_back_first() {
    let mut m = in_a_call_offline();
    welcome(&mut m, "me", false);
    // Cy was back before us; the server seats everyone back in join order.
    joined(&mut m, "x", vec![member("c", "Cy"), member("me", "Ada")]);
    assert_eq!(names(&m), ["Ada", "Bob", "Cy"], "the host shown is still the first");
    assert_eq!(m.room.as_ref().unwrap().returning, [PeerId("b".into())]);
}

#[test]
fn a_new_identity_after_a_restart_waits_for_nobody() {
    let mut m = in_a_call_offline();
    welcome(&mut m, "me2", false);
    joined(&mut m, "x", vec![member("me2", "Ada")]);
    assert_eq!(names(&m), ["Ada"]);
    assert!(m.room.as_ref().unwrap().returning.is_empty());
}

#[test]
fn a_refused_resume_is_not_shown_as_a_problem() {
    let mut m = in_a_call_offline();
    welcome(&mut m, "me2", false);
    m.on_server(ServerMsg::Error { code: ErrorCode::ResumeRefused, message: "expired".into() }, 0);
    assert_eq!(m.problem, None);
}

#[test]
fn leaving_offline_then_coming_back_as_a_new_session_sends_no_leave() {
    let mut m = in_a_call_offline();
    m.leave_room();
    let sent = welcome(&mut m, "me2", false);
    assert!(!sent.contains(&ClientMsg::Leave), "{sent:?}");
}

#[test]
fn entering_a_room_offline_joins_it_on_resume() {
    let mut m = welcomed("me");
    m.set_nickname("Ada".into());
    m.on_server(ServerMsg::NicknameSet { nickname: "Ada".into() }, 0);
    m.on_connecting(500);
    m.enter_room("x".into());
    let sent = welcome(&mut m, "me", true);
    assert_eq!(sent.last(), Some(&ClientMsg::Join { room: "x".into(), passcode: None }));
}

#[test]
fn hands_are_kept_on_members_and_listed_first_raised_first() {
    let mut m = welcomed("me");
    m.enter_room("x".into());
    let cat = Member { hand: Some(50), ..member("c", "Cat") };
    joined(&mut m, "x", vec![member("me", "Ada"), member("b", "Bob"), cat]);
    m.on_server(ServerMsg::PeerHand { id: PeerId("b".into()), hand: Some(20) }, 0);
    let hands = |m: &Model| {
        m.room.as_ref().unwrap().raised_hands().iter().map(|h| h.nickname.clone()).collect::<Vec<_>>()
    };
    assert_eq!(hands(&m), vec!["Bob", "Cat"]);
    m.on_server(ServerMsg::PeerHand { id: PeerId("b".into()), hand: None }, 0);
    assert_eq!(hands(&m), vec!["Cat"]);
}

#[test]
fn reactions_float_for_a_while_and_a_burst_is_capped() {
    let mut m = welcomed("me");
    m.enter_room("x".into());
    joined(&mut m, "x", vec![member("me", "Ada"), member("b", "Bob")]);
    let react = |m: &mut Model, at: u64| {
        m.on_server(ServerMsg::Reacted { from: PeerId("b".into()), reaction: Reaction::Clap }, at);
    };
    react(&mut m, 1_000);
    react(&mut m, 1_000);
    let floating = &m.room.as_ref().unwrap().reactions;
    assert_eq!(floating.len(), 2);
    assert_ne!(floating[0].seq, floating[1].seq, "the same reaction twice is two");
    // Once the first have landed, they are let go.
    react(&mut m, 1_000 + REACTION_SHOWN_MS);
    assert_eq!(m.room.as_ref().unwrap().reactions.len(), 1);
    for _ in 0..100 {
        react(&mut m, 9_000);
    }
    assert!(m.room.as_ref().unwrap().reactions.len() <= 24);
}
