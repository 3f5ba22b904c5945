//! The real server binary on a free port, real WebSocket clients.

mod support;

use app::protocol::{ClientMsg, ErrorCode, RoomSummary, SdpType, ServerMsg, SignalPayload};
use support::{room_count, Client, Server};

fn offer() -> SignalPayload {
    SignalPayload::Description { sdp_type: SdpType::Offer, sdp: "v=0".into() }
}

#[tokio::test]
async fn two_clients_join_chat_and_leave() {
    let server = Server::start().await;
    let mut ada = Client::in_room(&server, "Ada", "standup").await;
    let mut bob = Client::connect(&server).await;
    // Bob is in the lobby until he joins: the lobby's tick may tell him
    // of Ada's room (again) before either answer.
    let not_lobby = |m: &ServerMsg| !matches!(m, ServerMsg::RoomsChanged { .. });
    bob.send(&ClientMsg::SetNickname { nickname: "  Bob ".into() }).await;
    assert_eq!(bob.recv_until(not_lobby).await, ServerMsg::NicknameSet { nickname: "Bob".into() });
    bob.send(&ClientMsg::Join { room: "standup".into(), passcode: None }).await;
    match bob.recv_until(not_lobby).await {
        ServerMsg::Joined { room, members, .. } => {
            assert_eq!(room, "standup");
            let names: Vec<_> = members.iter().map(|m| m.nickname.as_str()).collect();
            assert_eq!(names, vec!["Ada", "Bob"]);
        }
        other => panic!("{other:?}"),
    }
    match ada.recv_until(|m| matches!(m, ServerMsg::PeerJoined { .. })).await {
        ServerMsg::PeerJoined { peer } => {
            assert_eq!((peer.id, peer.nickname.as_str()), (bob.id.clone(), "Bob"))
        }
        _ => unreachable!(),
    }

    ada.send(&ClientMsg::Chat { text: "hello bob".into(), nonce: Some(1) }).await;
    for client in [&mut ada, &mut bob] {
        match client.recv_until(|m| matches!(m, ServerMsg::Chat { .. })).await {
            ServerMsg::Chat { from, text, ts, nonce } => {
                assert_eq!((from.nickname.as_str(), text.as_str(), nonce), ("Ada", "hello bob", Some(1)));
                assert!(ts > 1_600_000_000_000, "server timestamp in ms");
            }
            _ => unreachable!(),
        }
    }
    bob.send(&ClientMsg::Chat { text: "hi ada".into(), nonce: None }).await;
    let got = ada.recv_until(|m| matches!(m, ServerMsg::Chat { .. })).await;
    assert!(matches!(got, ServerMsg::Chat { ref text, .. } if text == "hi ada"), "{got:?}");

    bob.send(&ClientMsg::Leave).await;
    let left = bob.recv_until(|m| !matches!(m, ServerMsg::Chat { .. })).await;
    assert_eq!(left, ServerMsg::Left { room: "standup".into() });
    match ada.recv_until(|m| matches!(m, ServerMsg::PeerLeft { .. })).await {
        ServerMsg::PeerLeft { peer } => assert_eq!(peer.nickname, "Bob"),
        _ => unreachable!(),
    }
}

#[tokio::test]
async fn closing_the_socket_leaves_the_room() {
    let server = Server::start().await;
    let mut ada = Client::in_room(&server, "Ada", "r1").await;
    let bob = Client::in_room(&server, "Bob", "r1").await;
    ada.recv_until(|m| matches!(m, ServerMsg::PeerJoined { .. })).await;
    bob.close().await;
    let left = ada.recv_until(|m| matches!(m, ServerMsg::PeerLeft { .. })).await;
    assert!(matches!(left, ServerMsg::PeerLeft { peer } if peer.nickname == "Bob"));
}

#[tokio::test]
async fn lobby_sees_room_counts_change_live() {
    let server = Server::start().await;
    let mut lobby = Client::connect(&server).await;

    let ada = Client::in_room(&server, "Ada", "design").await;
    let msg = lobby.recv_until(|m| room_count(m, "design").is_some()).await;
    assert_eq!(room_count(&msg, "design"), Some(1));

    let mut bob = Client::in_room(&server, "Bob", "design").await;
    lobby.recv_until(|m| room_count(m, "design") == Some(2)).await;

    // A newcomer gets the whole list at once.
    let mut newcomer = Client::connect(&server).await;
    let snapshot = newcomer.ping_pong().await;
    assert!(snapshot.is_empty(), "no stray messages: {snapshot:?}");
    let fresh = Client::connect(&server).await;
    drop(fresh);

    bob.send(&ClientMsg::Leave).await;
    // The leaver is back in the lobby with an up-to-date list.
    bob.recv_until(|m| matches!(m, ServerMsg::Left { .. })).await;
    match bob.recv().await {
        ServerMsg::Rooms { rooms } => {
            assert_eq!(rooms, vec![RoomSummary::open("design", 1)])
        }
        other => panic!("{other:?}"),
    }
    lobby.recv_until(|m| room_count(m, "design") == Some(1)).await;

    ada.close().await;
    lobby.recv_until(|m| room_count(m, "design") == Some(0)).await;
}

#[tokio::test]
async fn newcomer_snapshot_has_counts() {
    let server = Server::start().await;
    let _a = Client::in_room(&server, "A", "alpha").await;
    let _b = Client::in_room(&server, "B", "alpha").await;
    let _c = Client::in_room(&server, "C", "beta").await;
    let (mut ws, _) = tokio_tungstenite::connect_async(server.ws_url()).await.unwrap();
    use futures::StreamExt;
    let mut texts = Vec::new();
    while texts.len() < 2 {
        if let Some(Ok(tokio_tungstenite::tungstenite::Message::Text(t))) = ws.next().await {
            texts.push(t.to_string());
        }
    }
    let rooms = app::protocol::decode_server(&texts[1]).unwrap();
    assert_eq!(
        rooms,
        ServerMsg::Rooms { rooms: vec![RoomSummary::open("alpha", 2), RoomSummary::open("beta", 1),] }
    );
}

#[tokio::test]
async fn signal_is_relayed_only_within_the_room() {
    let server = Server::start().await;
    let mut ada = Client::in_room(&server, "Ada", "x").await;
    let mut bob = Client::in_room(&server, "Bob", "x").await;
    let mut eve = Client::in_room(&server, "Eve", "y").await;

    ada.send(&ClientMsg::Signal { to: bob.id.clone(), payload: offer() }).await;
    let got = bob.recv_until(|m| matches!(m, ServerMsg::Signal { .. })).await;
    assert_eq!(got, ServerMsg::Signal { from: ada.id.clone(), payload: offer() });

    // Eve knows Bob's id but is in another room.
    eve.send(&ClientMsg::Signal { to: bob.id.clone(), payload: offer() }).await;
    eve.expect_error(ErrorCode::PeerNotInRoom).await;
    let bob_saw = bob.ping_pong().await;
    assert!(!bob_saw.iter().any(|m| matches!(m, ServerMsg::Signal { .. })), "{bob_saw:?}");

    // After leaving, Bob can no longer signal Ada.
    bob.send(&ClientMsg::Leave).await;
    bob.send(&ClientMsg::Signal { to: ada.id.clone(), payload: offer() }).await;
    bob.expect_error(ErrorCode::NotInRoom).await;
    let ada_saw = ada.ping_pong().await;
    assert!(!ada_saw.iter().any(|m| matches!(m, ServerMsg::Signal { .. })), "{ada_saw:?}");
}

#[tokio::test]
async fn a_full_room_refuses_with_a_reason() {
    // In the default (auto) mode a room holds `--max-sfu-peers`.
    let server = Server::start_with(&["--max-sfu-peers", "2"]).await;
    let _a = Client::in_room(&server, "A", "small").await;
    let _b = Client::in_room(&server, "B", "small").await;
    let mut c = Client::connect(&server).await;
    c.send(&ClientMsg::SetNickname { nickname: "C".into() }).await;
    c.send(&ClientMsg::Join { room: "small".into(), passcode: None }).await;
    let message = c.expect_error(ErrorCode::RoomFull).await;
    assert!(message.contains('2'), "{message}");
    // Another room still works.
    c.send(&ClientMsg::Join { room: "other".into(), passcode: None }).await;
    c.recv_until(|m| matches!(m, ServerMsg::Joined { .. })).await;
}

#[tokio::test]
async fn welcome_hands_out_configured_ice_servers_with_turn_credentials() {
    let server = Server::start_with(&[
        "--stun-url",
        "stun:stun.example.org:3478",
        "--turn-url",
        "turn:turn.example.org:3478",
        "--turn-secret",
        "s3cret",
    ])
    .await;
    let (mut ws, _) = tokio_tungstenite::connect_async(server.ws_url()).await.unwrap();
    use futures::StreamExt;
    let Some(Ok(tokio_tungstenite::tungstenite::Message::Text(text))) = ws.next().await else { panic!() };
    match app::protocol::decode_server(&text).unwrap() {
        ServerMsg::Welcome { id, ice_servers, .. } => {
            assert_eq!(ice_servers.len(), 2);
            assert_eq!(ice_servers[0].urls, vec!["stun:stun.example.org:3478"]);
            let username = ice_servers[1].username.clone().unwrap();
            let (expiry, peer) = username.split_once(':').unwrap();
            assert_eq!(peer, id.0);
            let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
            let expiry: u64 = expiry.parse().unwrap();
            assert!(expiry > now + 86_000 && expiry <= now + 86_400 + 5, "a day from now");
            assert_eq!(
                ice_servers[1].credential.as_deref(),
                Some(server::hub::turn_credential("s3cret", &username).as_str())
            );
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_second_screen_sharer_is_told_who_shares() {
    let server = Server::start().await;
    let mut ada = Client::in_room(&server, "Ada", "demo").await;
    let mut bob = Client::in_room(&server, "Bob", "demo").await;
    ada.send(&ClientMsg::StartShare).await;
    let ada_id = ada.id.clone();
    for c in [&mut ada, &mut bob] {
        let got = c.recv_until(|m| matches!(m, ServerMsg::ShareStarted { .. })).await;
        assert_eq!(got, ServerMsg::ShareStarted { id: ada_id.clone() });
    }
    bob.send(&ClientMsg::StartShare).await;
    let message = bob.expect_error(ErrorCode::ShareTaken).await;
    assert!(message.contains("Ada is already sharing"), "{message}");
    ada.send(&ClientMsg::StopShare).await;
    bob.recv_until(|m| matches!(m, ServerMsg::ShareStopped { .. })).await;
    bob.send(&ClientMsg::StartShare).await;
    ada.recv_until(|m| matches!(m, ServerMsg::ShareStarted { id } if *id == bob.id)).await;
}
