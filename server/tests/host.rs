//! Passcodes and host controls against the real binary: the server checks
//! every permission, whatever a page shows.

mod support;

use app::protocol::{ClientMsg, ErrorCode, RoomSummary, ServerMsg};
use support::{Client, Server};

fn join(room: &str, passcode: Option<&str>) -> ClientMsg {
    ClientMsg::Join { room: room.into(), passcode: passcode.map(Into::into) }
}

fn listed(msg: &ServerMsg, room: &str) -> Option<RoomSummary> {
    match msg {
        ServerMsg::Rooms { rooms } | ServerMsg::RoomsChanged { changed: rooms, .. } => {
            rooms.iter().find(|r| r.name == room).cloned()
        }
        _ => None,
    }
}

#[tokio::test]
async fn a_passcode_room_is_marked_checked_and_never_logged() {
    const SECRET: &str = "correct-horse-7731";
    let (server, log) = Server::start_logged(&[]).await;
    let mut lobby = Client::connect(&server).await;
    let mut ada = Client::named(&server, "Ada").await;
    ada.send(&join("vault", Some(SECRET))).await;
    match ada.recv_until(|m| matches!(m, ServerMsg::Joined { .. })).await {
        ServerMsg::Joined { passcode, locked, .. } => assert!(passcode && !locked),
        _ => unreachable!(),
    }
    let entry = lobby.recv_until(|m| listed(m, "vault").is_some()).await;
    assert!(listed(&entry, "vault").unwrap().passcode, "the lobby shows the lock");

    let mut bob = Client::named(&server, "Bob").await;
    bob.send(&join("vault", None)).await;
    bob.expect_error(ErrorCode::PasscodeRequired).await;
    bob.send(&join("vault", Some("correct-horse-7732"))).await;
    bob.expect_error(ErrorCode::WrongPasscode).await;
    bob.send(&join("vault", Some(SECRET))).await;
    bob.recv_until(|m| matches!(m, ServerMsg::Joined { .. })).await;

    // Once everyone has left, the name is free for a room without a passcode.
    ada.send(&ClientMsg::Leave).await;
    bob.send(&ClientMsg::Leave).await;
    ada.recv_until(|m| matches!(m, ServerMsg::Left { .. })).await;
    bob.recv_until(|m| matches!(m, ServerMsg::Left { .. })).await;
    let _carol = Client::in_room(&server, "Carol", "vault").await;

    let log = log.lock().unwrap().clone();
    assert!(log.contains("connected"), "debug logging was on: {log}");
    assert!(!log.contains(SECRET), "the passcode appeared in the log");
    assert!(!log.contains("correct-horse-7732"), "a wrong passcode appeared in the log");
}

#[tokio::test]
async fn only_the_host_locks_removes_and_asks_to_mute_and_the_role_passes_on() {
    let server = Server::start().await;
    let mut ada = Client::in_room(&server, "Ada", "standup").await; // first: the host
    let mut bob = Client::in_room(&server, "Bob", "standup").await;
    let mut dan = Client::in_room(&server, "Dan", "standup").await;
    ada.recv_until(|m| matches!(m, ServerMsg::PeerJoined { peer } if peer.nickname == "Dan")).await;

    // Not the host: every host action is refused.
    bob.send(&ClientMsg::LockRoom { locked: true }).await;
    bob.expect_error(ErrorCode::NotHost).await;
    bob.send(&ClientMsg::RemovePeer { id: dan.id.clone() }).await;
    bob.expect_error(ErrorCode::NotHost).await;
    bob.send(&ClientMsg::MuteAll).await;
    bob.expect_error(ErrorCode::NotHost).await;

    // The host asks everyone to mute: the others are asked, not the host.
    ada.send(&ClientMsg::MuteAll).await;
    for c in [&mut bob, &mut dan] {
        let got = c.recv_until(|m| matches!(m, ServerMsg::MuteRequested { .. })).await;
        assert!(matches!(got, ServerMsg::MuteRequested { by } if by.nickname == "Ada"));
    }
    // (ping_pong renames Ada as a marker; that is all she gets back.)
    assert!(!ada.ping_pong().await.iter().any(|m| matches!(m, ServerMsg::MuteRequested { .. })));

    // The host locks the room: newcomers are refused with a reason.
    ada.send(&ClientMsg::LockRoom { locked: true }).await;
    bob.recv_until(|m| matches!(m, ServerMsg::RoomLocked { locked: true, .. })).await;
    let mut eve = Client::named(&server, "Eve").await;
    eve.send(&join("standup", None)).await;
    eve.expect_error(ErrorCode::RoomLocked).await;

    // The host removes Dan: he is back in the lobby and told by whom.
    ada.send(&ClientMsg::RemovePeer { id: dan.id.clone() }).await;
    let got = dan.recv_until(|m| matches!(m, ServerMsg::Removed { .. })).await;
    assert!(
        matches!(got, ServerMsg::Removed { ref room, ref by } if room == "standup" && by.id == ada.id),
        "{got:?}"
    );
    bob.recv_until(|m| matches!(m, ServerMsg::PeerLeft { peer } if peer.nickname == "Dan")).await;
    // Removing someone not in the room is refused.
    ada.send(&ClientMsg::RemovePeer { id: eve.id.clone() }).await;
    ada.expect_error(ErrorCode::PeerNotInRoom).await;

    // The host leaves: Bob, next in join order, is host now.
    ada.send(&ClientMsg::Leave).await;
    let ada_id = ada.id.clone();
    bob.recv_until(|m| matches!(m, ServerMsg::PeerLeft { peer } if peer.id == ada_id)).await;
    bob.send(&ClientMsg::LockRoom { locked: false }).await;
    bob.recv_until(|m| matches!(m, ServerMsg::RoomLocked { locked: false, .. })).await;
    eve.send(&join("standup", None)).await;
    match eve.recv_until(|m| matches!(m, ServerMsg::Joined { .. })).await {
        ServerMsg::Joined { members, .. } => {
            let names: Vec<_> = members.iter().map(|m| m.nickname.as_str()).collect();
            assert_eq!(names, ["Bob", "Eve"], "Bob first: the host");
        }
        _ => unreachable!(),
    }
    eve.send(&ClientMsg::MuteAll).await;
    eve.expect_error(ErrorCode::NotHost).await;
}

#[tokio::test]
async fn guesses_sent_in_parallel_are_counted_before_any_is_answered() {
    let server = Server::start().await;
    let _ada = Client::in_room_with(&server, "Ada", "vault", Some("4711")).await;
    let mut guessers = Vec::new();
    for n in 0..8 {
        guessers.push(Client::named(&server, &format!("Eve{n}")).await);
    }
    // All sent before any answer: each passcode takes ~140 ms to hash.
    for (n, eve) in guessers.iter_mut().enumerate() {
        eve.send(&join("vault", Some(&format!("{n:04}")))).await;
    }
    let mut wrong = 0;
    for eve in &mut guessers {
        match eve.recv_until(|m| matches!(m, ServerMsg::Error { .. })).await {
            ServerMsg::Error { code: ErrorCode::WrongPasscode, .. } => wrong += 1,
            ServerMsg::Error { code: ErrorCode::TooManyGuesses, .. } => {}
            other => panic!("{other:?}"),
        }
    }
    // The free tries and the one after them; the rest had to wait.
    assert_eq!(wrong, 4, "every try counts from the moment it is checked");
}

#[tokio::test]
async fn a_bad_room_name_with_a_passcode_is_refused_for_the_name_not_counted() {
    let server = Server::start().await;
    let mut eve = Client::named(&server, "Eve").await;
    for _ in 0..6 {
        eve.send(&join(&"x".repeat(5_000), Some("0000"))).await;
        eve.expect_error(ErrorCode::InvalidRoom).await;
    }
}

#[tokio::test]
async fn guessing_slows_down_that_room_and_address_only() {
    let server = Server::start().await;
    let _ada = Client::in_room_with(&server, "Ada", "vault", Some("4711")).await;
    let mut eve = Client::named(&server, "Eve").await;
    // Three tries are free; the fourth wrong one makes the next wait 1 s.
    for guess in 0..4 {
        eve.send(&join("vault", Some(&format!("{guess:04}")))).await;
        eve.expect_error(ErrorCode::WrongPasscode).await;
    }
    eve.send(&join("vault", Some("4711"))).await;
    let message = eve.expect_error(ErrorCode::TooManyGuesses).await;
    assert!(message.contains("try again in 1 s"), "{message}");
    // Nobody is shut out: a new socket from the same address (all here are
    // 127.0.0.1, like an office behind one NAT) goes into another room…
    let _colleague = Client::in_room(&server, "Colleague", "standup").await;
    // …and someone else who knows the passcode gets into this one at once.
    let mut bob = Client::connect_from(&server, [127, 0, 0, 2].into()).await;
    bob.send(&ClientMsg::SetNickname { nickname: "Bob".into() }).await;
    bob.send(&join("vault", Some("4711"))).await;
    bob.recv_until(|m| matches!(m, ServerMsg::Joined { .. })).await;
    // After the wait Eve may try again; a fifth wrong try doubles the wait.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    eve.send(&join("vault", Some("9999"))).await;
    eve.expect_error(ErrorCode::WrongPasscode).await;
    eve.send(&join("vault", Some("4711"))).await;
    let message = eve.expect_error(ErrorCode::TooManyGuesses).await;
    assert!(message.contains("try again in 2 s"), "{message}");
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    eve.send(&join("vault", Some("4711"))).await;
    eve.recv_until(|m| matches!(m, ServerMsg::Joined { .. })).await;
}

#[tokio::test]
async fn behind_a_trusted_proxy_each_client_is_counted_apart() {
    let server = Server::start_with(&["--trusted-proxy", "127.0.0.1", "--max-conns-per-ip", "2"]).await;
    let _ada = Client::in_room_with(&server, "Ada", "vault", Some("4711")).await;
    let mut eve = Client::forwarded_for(&server, "203.0.113.7").await;
    eve.send(&ClientMsg::SetNickname { nickname: "Eve".into() }).await;
    for guess in 0..4 {
        eve.send(&join("vault", Some(&format!("{guess:04}")))).await;
        eve.expect_error(ErrorCode::WrongPasscode).await;
    }
    eve.send(&join("vault", Some("0004"))).await;
    eve.expect_error(ErrorCode::TooManyGuesses).await;
    // Another client of the same proxy is not slowed, and the socket limit
    // per address counts clients, not the proxy.
    let mut others = Vec::new();
    for n in 8..11 {
        let mut other = Client::forwarded_for(&server, &format!("198.51.100.1, 203.0.113.{n}")).await;
        other.send(&ClientMsg::SetNickname { nickname: format!("Other{n}") }).await;
        other.send(&join("vault", Some("0000"))).await;
        other.expect_error(ErrorCode::WrongPasscode).await;
        others.push(other);
    }
    // Without trust the header is ignored: Eve cannot shed her count by
    // writing another address herself.
    let plain = Server::start().await;
    let _ada = Client::in_room_with(&plain, "Ada", "vault", Some("4711")).await;
    for n in 0..5 {
        let mut eve = Client::forwarded_for(&plain, &format!("203.0.113.{n}")).await;
        eve.send(&ClientMsg::SetNickname { nickname: "Eve".into() }).await;
        eve.send(&join("vault", Some("0000"))).await;
        let expected = if n < 4 { ErrorCode::WrongPasscode } else { ErrorCode::TooManyGuesses };
        eve.expect_error(expected).await;
    }
}
