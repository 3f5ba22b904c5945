//! A page whose socket drops comes back as the same peer, with the token
//! from its `welcome` (`?resume=`): the real server binary, real sockets.

mod support;

use app::protocol::{ClientMsg, ErrorCode, ServerMsg, CLOSE_RESUMED_ELSEWHERE};
use server::resume::{Claim, Tokens};
use std::time::{Duration, Instant};
use support::{room_count, Client, Server};

fn is_presence(msg: &ServerMsg) -> bool {
    matches!(msg, ServerMsg::PeerLeft { .. } | ServerMsg::PeerJoined { .. })
}

/// Ada (the host, first in) and Bob in room `x`.
async fn ada_and_bob(server: &Server) -> (Client, Client) {
    let mut ada = Client::in_room(server, "Ada", "x").await;
    let bob = Client::in_room(server, "Bob", "x").await;
    ada.recv_until(|m| matches!(m, ServerMsg::PeerJoined { .. })).await;
    (ada, bob)
}

#[tokio::test]
async fn a_dropped_socket_resumes_within_the_grace_as_the_same_peer_and_nobody_sees_a_thing() {
    let server = Server::start().await;
    let (ada, mut bob) = ada_and_bob(&server).await;
    let mut lobby = Client::named(&server, "Lee").await;
    let (id, token) = (ada.id.clone(), ada.resume.clone().expect("a resume token"));
    // Gone without a close frame, as when a network drops.
    drop(ada);
    tokio::time::sleep(Duration::from_millis(300)).await;
    bob.send(&ClientMsg::Chat { text: "while you were away".into(), nonce: None }).await;
    bob.recv_until(|m| matches!(m, ServerMsg::Chat { .. })).await;

    let (mut ada, resumed) = Client::resuming(&server, &token).await;
    assert!(resumed, "the server held the session");
    assert_eq!(ada.id, id, "the same peer");
    assert!(ada.resume.as_ref().is_some_and(|t| *t != token), "a fresh token for next time");
    // What was said meanwhile, then the room as it is now.
    let chat = ada.recv_until(|m| matches!(m, ServerMsg::Chat { .. })).await;
    assert!(matches!(chat, ServerMsg::Chat { ref text, .. } if text == "while you were away"), "{chat:?}");
    match ada.recv_until(|m| matches!(m, ServerMsg::Joined { .. })).await {
        ServerMsg::Joined { room, members, resumed: true, .. } => {
            assert_eq!(room, "x");
            let names: Vec<_> = members.iter().map(|m| m.nickname.as_str()).collect();
            assert_eq!(names, ["Ada", "Bob"], "still first: still the host");
        }
        other => panic!("expected the room, got {other:?}"),
    }
    // Still the host.
    ada.send(&ClientMsg::LockRoom { locked: true }).await;
    ada.recv_until(|m| matches!(m, ServerMsg::RoomLocked { .. })).await;
    let seen = bob.ping_pong().await;
    assert!(!seen.iter().any(is_presence), "Bob saw no leave or join: {seen:?}");
    assert!(seen.iter().any(|m| matches!(m, ServerMsg::RoomLocked { .. })));
    let listed = lobby.ping_pong().await;
    assert!(
        !listed.iter().any(|m| room_count(m, "x") == Some(1)),
        "the lobby's count never dropped: {listed:?}"
    );
}

#[tokio::test]
async fn after_the_grace_the_peer_is_removed() {
    let server = Server::start_with(&["--resume-grace-secs", "1"]).await;
    let (ada, mut bob) = ada_and_bob(&server).await;
    let token = ada.resume.clone().unwrap();
    drop(ada);
    let dropped = Instant::now();
    let left = bob.recv_until(is_presence).await;
    assert!(matches!(left, ServerMsg::PeerLeft { ref peer } if peer.nickname == "Ada"), "{left:?}");
    assert!(dropped.elapsed() >= Duration::from_millis(900), "not before the grace: {:?}", dropped.elapsed());
    // Too late to resume: the page starts again (as after a restart).
    let (_ada, resumed) = Client::resuming(&server, &token).await;
    assert!(!resumed);
}

#[tokio::test]
async fn a_closed_socket_leaves_at_once() {
    let server = Server::start().await;
    let (ada, mut bob) = ada_and_bob(&server).await;
    let closed = Instant::now();
    ada.close().await;
    bob.recv_until(|m| matches!(m, ServerMsg::PeerLeft { .. })).await;
    assert!(closed.elapsed() < Duration::from_secs(5), "no grace for a page that said goodbye");
}

#[tokio::test]
async fn forged_and_expired_tokens_are_refused_with_a_typed_error() {
    let server = Server::start_with(&["--resume-secret", "correct horse battery staple"]).await;
    let ada = Client::named(&server, "Ada").await;
    let tokens = Tokens::new(b"correct horse battery staple");
    let expired = tokens
        .issue_expired(&Claim { id: ada.id.clone(), generation: 0, node: None, seat: None }, 1)
        .unwrap();
    let other_key = Tokens::new(b"guess")
        .issue(&Claim { id: ada.id.clone(), generation: 0, node: None, seat: None }, 0)
        .unwrap();
    for (token, why) in
        [("bm90IGEgdG9rZW4", "not one this server issued"), (&other_key, "not one"), (&expired, "expired")]
    {
        let (mut client, resumed) = Client::resuming(&server, token).await;
        assert!(!resumed);
        assert_ne!(client.id, ada.id, "a new peer");
        let message = client.expect_error(ErrorCode::ResumeRefused).await;
        assert!(message.contains(why), "{message}");
        client.ping_pong().await;
    }
}

#[tokio::test]
async fn two_resumes_with_one_token_only_one_wins() {
    let server = Server::start().await;
    let (ada, _bob) = ada_and_bob(&server).await;
    let (id, token) = (ada.id.clone(), ada.resume.clone().unwrap());
    drop(ada);
    let ((mut first, first_resumed), (mut second, second_resumed)) =
        tokio::join!(Client::resuming(&server, &token), Client::resuming(&server, &token));
    assert!(first_resumed ^ second_resumed, "exactly one resumed");
    let (winner, loser) = if first_resumed { (&mut first, &mut second) } else { (&mut second, &mut first) };
    assert_eq!(winner.id, id);
    assert_ne!(loser.id, id);
    let message = loser.expect_error(ErrorCode::ResumeRefused).await;
    assert!(message.contains("already resumed"), "{message}");
    winner.ping_pong().await;
}

#[tokio::test]
async fn a_resume_while_the_old_socket_still_looks_open_takes_it_over() {
    let server = Server::start().await;
    let (mut ada, mut bob) = ada_and_bob(&server).await;
    let token = ada.resume.clone().unwrap();
    // The page gave up on a socket the server still thinks is fine.
    let (mut again, resumed) = Client::resuming(&server, &token).await;
    assert!(resumed);
    assert_eq!(again.id, ada.id);
    let close = ada.expect_close().await.expect("a close frame");
    assert_eq!(u16::from(close.code), CLOSE_RESUMED_ELSEWHERE);
    // The old socket closing ends nothing.
    drop(ada);
    tokio::time::sleep(Duration::from_millis(300)).await;
    again.send(&ClientMsg::Chat { text: "still here".into(), nonce: None }).await;
    let chat = bob.recv_until(|m| matches!(m, ServerMsg::Chat { .. } | ServerMsg::PeerLeft { .. })).await;
    assert!(matches!(chat, ServerMsg::Chat { ref from, .. } if from.nickname == "Ada"), "{chat:?}");
}

#[tokio::test]
async fn after_a_restart_with_the_same_secret_the_page_gets_its_id_back() {
    let secret = ["--resume-secret", "the same across restarts"];
    let mut before = Server::start_with(&secret).await;
    let ada = Client::in_room(&before, "Ada", "x").await;
    let (id, token) = (ada.id.clone(), ada.resume.clone().unwrap());
    before.kill().await;
    drop(ada);

    let after = Server::start_with(&secret).await;
    let (mut ada, resumed) = Client::resuming(&after, &token).await;
    assert!(!resumed, "this process never held the session");
    assert_eq!(ada.id, id, "but it is the same person");
    ada.send(&ClientMsg::SetNickname { nickname: "Ada".into() }).await;
    ada.send(&ClientMsg::Join { room: "x".into(), passcode: None }).await;
    ada.recv_until(|m| matches!(m, ServerMsg::Joined { .. })).await;
    // The same token cannot restore a second Ada.
    let (mut twin, resumed) = Client::resuming(&after, &token).await;
    assert!(!resumed);
    assert_ne!(twin.id, id);
    twin.expect_error(ErrorCode::ResumeRefused).await;

    // Another server's key proves nothing.
    let stranger = Server::start_with(&["--resume-secret", "another"]).await;
    let (mut ada_elsewhere, _) = Client::resuming(&stranger, ada.resume.as_ref().unwrap()).await;
    assert_ne!(ada_elsewhere.id, id);
    ada_elsewhere.expect_error(ErrorCode::ResumeRefused).await;
}

#[tokio::test]
async fn a_parked_session_keeps_its_place_in_the_per_address_limit() {
    use tokio_tungstenite::tungstenite::Error as WsError;
    let server = Server::start_with(&["--max-conns-per-ip", "2", "--resume-grace-secs", "1"]).await;
    let ada = Client::named(&server, "Ada").await;
    let _bob = Client::named(&server, "Bob").await;
    drop(ada);
    tokio::time::sleep(Duration::from_millis(300)).await;
    // Ada's session still counts: dropped sockets cannot pile up sessions.
    match tokio_tungstenite::connect_async(server.ws_url()).await {
        Err(WsError::Http(response)) => assert_eq!(response.status().as_u16(), 429),
        other => panic!("expected 429, got {:?}", other.map(|_| ())),
    }
    // Once its grace is over, the place is free.
    tokio::time::sleep(Duration::from_millis(1_200)).await;
    Client::connect(&server).await;
}

/// The `resume_token` a join is answered with, for the next socket.
async fn seat_token(client: &mut Client) -> String {
    match client.recv_until(|m| matches!(m, ServerMsg::ResumeToken { .. })).await {
        ServerMsg::ResumeToken { resume } => resume,
        _ => unreachable!(),
    }
}

/// Back on a restarted server with `token`, asking for room `x` again.
async fn back_in_x(server: &Server, token: &str, nickname: &str) -> (Client, Vec<String>) {
    let (mut client, _) = Client::resuming(server, token).await;
    client.send(&ClientMsg::SetNickname { nickname: nickname.into() }).await;
    client.send(&ClientMsg::Join { room: "x".into(), passcode: None }).await;
    match client.recv_until(|m| matches!(m, ServerMsg::Joined { .. })).await {
        ServerMsg::Joined { members, .. } => (client, members.into_iter().map(|m| m.nickname).collect()),
        _ => unreachable!(),
    }
}

#[tokio::test]
async fn after_a_restart_the_host_is_host_again_and_the_lock_holds_whoever_comes_back_first() {
    let secret = ["--resume-secret", "kept across restarts"];
    let mut before = Server::start_with(&secret).await;
    let mut ada = Client::in_room(&before, "Ada", "x").await;
    let _ = seat_token(&mut ada).await;
    let mut bob = Client::in_room(&before, "Bob", "x").await;
    let _ = seat_token(&mut bob).await;
    // Ada locks the room: both get a token that says so.
    ada.send(&ClientMsg::LockRoom { locked: true }).await;
    let ada_token = seat_token(&mut ada).await;
    let bob_token = seat_token(&mut bob).await;
    before.kill().await;
    drop((ada, bob));

    let after = Server::start_with(&secret).await;
    // Bob is back first, and for now alone: the host meanwhile, of a room
    // that is locked again from its first moment.
    let (mut bob, names) = back_in_x(&after, &bob_token, "Bob").await;
    assert_eq!(names, ["Bob"]);
    let mut eve = Client::named(&after, "Eve").await;
    eve.send(&ClientMsg::Join { room: "x".into(), passcode: None }).await;
    eve.expect_error(ErrorCode::RoomLocked).await;
    // Ada comes back to her place, first: the host again, for everyone.
    let (mut ada, names) = back_in_x(&after, &ada_token, "Ada").await;
    assert_eq!(names, ["Ada", "Bob"]);
    bob.recv_until(|m| matches!(m, ServerMsg::PeerJoined { .. })).await;
    bob.send(&ClientMsg::LockRoom { locked: false }).await;
    bob.expect_error(ErrorCode::NotHost).await;
    ada.send(&ClientMsg::LockRoom { locked: true }).await;
    ada.recv_until(|m| matches!(m, ServerMsg::RoomLocked { .. })).await;

    // The welcome's token, from before any join, holds no place: Cy
    // comes back last and stays last.
    let cy = Client::named(&after, "Cy").await;
    let cy_token = cy.resume.clone().unwrap();
    drop(cy);
    ada.send(&ClientMsg::LockRoom { locked: false }).await;
    ada.recv_until(|m| matches!(m, ServerMsg::RoomLocked { .. })).await;
    let (_cy, names) = back_in_x(&after, &cy_token, "Cy").await;
    assert_eq!(names, ["Ada", "Bob", "Cy"]);
}
