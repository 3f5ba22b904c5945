//! Two real server processes sharing rooms through one real Redis.

mod support;

use app::protocol::{ClientMsg, ErrorCode, Reaction, SdpType, ServerMsg, SignalPayload};
use std::time::{Duration, Instant};
use support::{room_count, Client, Redis, Server};

async fn node(redis: &Redis) -> Server {
    Server::start_with(&["--redis-url", &redis.url()]).await
}

fn offer() -> SignalPayload {
    SignalPayload::Description { sdp_type: SdpType::Offer, sdp: "v=0".into() }
}

#[tokio::test]
async fn rooms_chat_signals_and_counts_span_nodes() {
    let redis = Redis::start().await;
    let a = node(&redis).await;
    let b = node(&redis).await;
    let mut lobby_on_a = Client::connect(&a).await;

    let mut ada = Client::in_room(&a, "Ada", "shared").await;
    lobby_on_a.recv_until(|m| room_count(m, "shared") == Some(1)).await;
    // Bob, on the other node, sees Ada already in the room.
    let mut bob = Client::connect(&b).await;
    bob.send(&ClientMsg::SetNickname { nickname: "Bob".into() }).await;
    bob.send(&ClientMsg::Join { room: "shared".into(), passcode: None }).await;
    match bob.recv_until(|m| matches!(m, ServerMsg::Joined { .. })).await {
        ServerMsg::Joined { members, .. } => {
            let names: Vec<_> = members.iter().map(|m| m.nickname.as_str()).collect();
            assert_eq!(names, vec!["Ada", "Bob"]);
        }
        _ => unreachable!(),
    }
    ada.recv_until(|m| matches!(m, ServerMsg::PeerJoined { peer } if peer.nickname == "Bob")).await;
    // The lobby on node A counts Bob, who is on node B.
    lobby_on_a.recv_until(|m| room_count(m, "shared") == Some(2)).await;
    // And a newcomer on node B gets the count in its first room list.
    let mut lobby_on_b = Client::connect(&b).await;
    assert_eq!(lobby_on_b.initial_rooms, vec![app::protocol::RoomSummary::open("shared", 2)]);

    // Chat both ways across nodes.
    ada.send(&ClientMsg::Chat { text: "hello from A".into(), nonce: None }).await;
    let got = bob.recv_until(|m| matches!(m, ServerMsg::Chat { .. })).await;
    assert!(
        matches!(got, ServerMsg::Chat { ref text, ref from, .. } if text == "hello from A" && from.nickname == "Ada")
    );
    bob.send(&ClientMsg::Chat { text: "hello from B".into(), nonce: None }).await;
    ada.recv_until(|m| matches!(m, ServerMsg::Chat { text, .. } if text == "hello from B")).await;

    // Signals cross nodes within a room, and only within it.
    ada.send(&ClientMsg::Signal { to: bob.id.clone(), payload: offer() }).await;
    let got = bob.recv_until(|m| matches!(m, ServerMsg::Signal { .. })).await;
    assert_eq!(got, ServerMsg::Signal { from: ada.id.clone(), payload: offer() });
    let mut eve = Client::in_room(&b, "Eve", "elsewhere").await;
    eve.send(&ClientMsg::Signal { to: ada.id.clone(), payload: offer() }).await;
    eve.expect_error(ErrorCode::PeerNotInRoom).await;
    let ada_saw = ada.ping_pong().await;
    assert!(!ada_saw.iter().any(|m| matches!(m, ServerMsg::Signal { .. })), "{ada_saw:?}");

    // Leaving on B shows on A, in the room and in the lobby.
    bob.send(&ClientMsg::Leave).await;
    ada.recv_until(|m| matches!(m, ServerMsg::PeerLeft { peer } if peer.nickname == "Bob")).await;
    lobby_on_a.recv_until(|m| room_count(m, "shared") == Some(1)).await;
    lobby_on_b.recv_until(|m| room_count(m, "shared") == Some(1)).await;
}

#[tokio::test]
async fn a_killed_node_s_members_leave_within_ten_seconds() {
    let redis = Redis::start().await;
    let a = node(&redis).await;
    let mut b = node(&redis).await;
    let mut ada = Client::in_room(&a, "Ada", "fragile").await;
    let _bob = Client::in_room(&b, "Bob", "fragile").await;
    ada.recv_until(|m| matches!(m, ServerMsg::PeerJoined { peer } if peer.nickname == "Bob")).await;
    let mut lobby = Client::connect(&a).await;

    let killed = Instant::now();
    b.kill().await;
    // `recv` waits at most 10 s per message: the departure must come sooner.
    ada.recv_until(|m| matches!(m, ServerMsg::PeerLeft { peer } if peer.nickname == "Bob")).await;
    let took = killed.elapsed();
    assert!(took < Duration::from_secs(10), "took {took:?}");
    eprintln!("a killed node's member left after {took:?}");
    lobby.recv_until(|m| room_count(m, "fragile") == Some(1)).await;
}

#[tokio::test]
async fn nodes_keep_serving_without_redis_and_reconnect_when_it_is_back() {
    let mut redis = Redis::start().await;
    let a = node(&redis).await;
    let b = node(&redis).await;
    let mut ada = Client::in_room(&a, "Ada", "steady").await;
    let mut bob = Client::in_room(&b, "Bob", "steady").await;
    ada.recv_until(|m| matches!(m, ServerMsg::PeerJoined { .. })).await;

    redis.stop().await;
    // Local users still work: a chat on node A reaches node A's members.
    let mut ann = Client::in_room(&a, "Ann", "steady").await;
    ada.send(&ClientMsg::Chat { text: "redis is down".into(), nonce: None }).await;
    ann.recv_until(|m| matches!(m, ServerMsg::Chat { text, .. } if text == "redis is down")).await;

    // Redis comes back empty; the nodes reconnect and register again.
    redis.restart().await;
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut n = 0;
    loop {
        n += 1;
        ada.send(&ClientMsg::Chat { text: format!("are you there {n}"), nonce: None }).await;
        let heard = tokio::time::timeout(Duration::from_millis(700), async {
            loop {
                if let ServerMsg::Chat { from, .. } = bob.recv().await {
                    if from.nickname == "Ada" {
                        return;
                    }
                }
            }
        })
        .await;
        if heard.is_ok() {
            break;
        }
        assert!(Instant::now() < deadline, "cross-node chat did not come back");
    }
    // Membership is whole again: Ann, who joined during the outage, is seen on B.
    bob.send(&ClientMsg::Join { room: "steady".into(), passcode: None }).await;
    match bob.recv_until(|m| matches!(m, ServerMsg::Joined { .. })).await {
        ServerMsg::Joined { members, .. } => {
            let mut names: Vec<_> = members.iter().map(|m| m.nickname.clone()).collect();
            names.sort();
            assert_eq!(names, vec!["Ada", "Ann", "Bob"]);
        }
        _ => unreachable!(),
    }
}

#[tokio::test]
async fn passcodes_locks_and_host_actions_span_nodes() {
    let redis = Redis::start().await;
    let a = node(&redis).await;
    let b = node(&redis).await;
    let mut lobby_on_b = Client::connect(&b).await;
    let mut ada = Client::in_room_with(&a, "Ada", "board", Some("s3cret")).await; // host, on A
                                                                                  // A lobby on B, which mirrors nothing of the room, still shows the lock.
    let flags = |m: &ServerMsg, want: (bool, bool)| match m {
        ServerMsg::Rooms { rooms } | ServerMsg::RoomsChanged { changed: rooms, .. } => {
            rooms.iter().any(|r| r.name == "board" && (r.passcode, r.locked) == want)
        }
        _ => false,
    };
    lobby_on_b.recv_until(|m| flags(m, (true, false))).await;

    // Node B checks the passcode set on node A.
    let mut bob = Client::named(&b, "Bob").await;
    bob.send(&ClientMsg::Join { room: "board".into(), passcode: None }).await;
    bob.expect_error(ErrorCode::PasscodeRequired).await;
    bob.send(&ClientMsg::Join { room: "board".into(), passcode: Some("guess".into()) }).await;
    bob.expect_error(ErrorCode::WrongPasscode).await;
    bob.send(&ClientMsg::Join { room: "board".into(), passcode: Some("s3cret".into()) }).await;
    match bob.recv_until(|m| matches!(m, ServerMsg::Joined { .. })).await {
        ServerMsg::Joined { members, passcode, .. } => {
            assert!(passcode);
            let names: Vec<_> = members.iter().map(|m| m.nickname.as_str()).collect();
            assert_eq!(names, ["Ada", "Bob"], "both nodes agree Ada is first: the host");
        }
        _ => unreachable!(),
    }
    ada.recv_until(|m| matches!(m, ServerMsg::PeerJoined { .. })).await;

    // Bob, on B, is not the host there either.
    bob.send(&ClientMsg::LockRoom { locked: true }).await;
    bob.expect_error(ErrorCode::NotHost).await;

    // The host on A asks to mute and locks; B's people hear of both.
    ada.send(&ClientMsg::MuteAll).await;
    bob.recv_until(|m| matches!(m, ServerMsg::MuteRequested { .. })).await;
    ada.send(&ClientMsg::LockRoom { locked: true }).await;
    bob.recv_until(|m| matches!(m, ServerMsg::RoomLocked { locked: true, .. })).await;
    lobby_on_b.recv_until(|m| flags(m, (true, true))).await;
    let mut cy = Client::named(&b, "Cy").await;
    cy.send(&ClientMsg::Join { room: "board".into(), passcode: Some("s3cret".into()) }).await;
    cy.expect_error(ErrorCode::RoomLocked).await;

    // The host on A removes Bob on B.
    ada.send(&ClientMsg::RemovePeer { id: bob.id.clone() }).await;
    bob.recv_until(|m| matches!(m, ServerMsg::Removed { .. })).await;
    let bob_id = bob.id.clone();
    ada.recv_until(|m| matches!(m, ServerMsg::PeerLeft { peer } if peer.id == bob_id)).await;
}

#[tokio::test]
async fn hands_and_reactions_span_nodes() {
    let redis = Redis::start().await;
    let a = node(&redis).await;
    let b = node(&redis).await;
    let mut ada = Client::in_room(&a, "Ada", "hands").await; // host, on A
    let mut bob = Client::in_room(&b, "Bob", "hands").await;
    ada.recv_until(|m| matches!(m, ServerMsg::PeerJoined { .. })).await;
    let bob_id = bob.id.clone();

    bob.send(&ClientMsg::RaiseHand { up: true }).await;
    let on_a = |m: &ServerMsg| matches!(m, ServerMsg::PeerHand { id, hand: Some(_) } if *id == bob_id);
    ada.recv_until(on_a).await;
    // Someone joining on A sees Bob's hand up in the member list.
    let mut cy = Client::named(&a, "Cy").await;
    cy.send(&ClientMsg::Join { room: "hands".into(), passcode: None }).await;
    match cy.recv_until(|m| matches!(m, ServerMsg::Joined { .. })).await {
        ServerMsg::Joined { members, .. } => {
            let bob = members.iter().find(|m| m.nickname == "Bob").unwrap();
            assert!(bob.hand.is_some());
        }
        _ => unreachable!(),
    }
    // The host on A lowers it; Bob's own node hears.
    ada.send(&ClientMsg::LowerHand { id: bob_id.clone() }).await;
    bob.recv_until(|m| matches!(m, ServerMsg::PeerHand { id, hand: None } if *id == bob_id)).await;

    ada.send(&ClientMsg::React { reaction: Reaction::Party }).await;
    let ada_id = ada.id.clone();
    bob.recv_until(
        |m| matches!(m, ServerMsg::Reacted { from, reaction: Reaction::Party } if *from == ada_id),
    )
    .await;
    // A reaction nobody offers is refused as a bad message.
    bob.send_raw(r#"{"type":"react","reaction":"<img src=x>"}"#).await;
    bob.expect_error(ErrorCode::BadMessage).await;
}

#[tokio::test]
async fn guessing_on_one_node_slows_the_same_guesser_on_another() {
    let redis = Redis::start().await;
    let a = node(&redis).await;
    let b = node(&redis).await;
    let _ada = Client::in_room_with(&a, "Ada", "vault", Some("4711")).await;
    let mut eve = Client::named(&a, "Eve").await;
    for guess in 0..4 {
        eve.send(&ClientMsg::Join { room: "vault".into(), passcode: Some(format!("{guess:04}")) }).await;
        eve.expect_error(ErrorCode::WrongPasscode).await;
    }
    // Redis holds the count: a socket on node B must wait too.
    let mut eve_on_b = Client::named(&b, "Eve").await;
    eve_on_b.send(&ClientMsg::Join { room: "vault".into(), passcode: Some("4711".into()) }).await;
    match eve_on_b.recv_until(|m| matches!(m, ServerMsg::Error { .. } | ServerMsg::Joined { .. })).await {
        ServerMsg::Error { code: ErrorCode::TooManyGuesses, message } => assert!(message.contains("1 s")),
        other => panic!("node B let the guesser in at once: {other:?}"),
    }
}

/// The `noom:guesses:*` keys in Redis.
async fn guess_keys(redis: &Redis) -> Vec<String> {
    let client = redis::Client::open(redis.url()).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let mut keys: Vec<String> =
        redis::cmd("KEYS").arg("noom:guesses:*").query_async(&mut conn).await.unwrap();
    keys.sort();
    keys
}

#[tokio::test]
async fn only_tries_at_a_passcode_are_shared_and_the_right_one_clears_them() {
    let redis = Redis::start().await;
    let full = Server::start_with(&["--redis-url", &redis.url(), "--max-peers", "1"]).await;
    let _ada = Client::in_room_with(&full, "Ada", "vault", Some("4711")).await;
    let mut eve = Client::named(&full, "Eve").await;
    let try_join =
        |room: &str, passcode: &str| ClientMsg::Join { room: room.into(), passcode: Some(passcode.into()) };
    // A room name the hub refuses never becomes a key.
    eve.send(&try_join(&"x".repeat(5_000), "0000")).await;
    eve.expect_error(ErrorCode::InvalidRoom).await;
    // A wrong passcode is shared, even into a full room (the passcode is
    // checked first)...
    eve.send(&try_join("vault", "0000")).await;
    eve.expect_error(ErrorCode::WrongPasscode).await;
    assert_eq!(guess_keys(&redis).await, ["noom:guesses:vault:127.0.0.1"]);
    // ...and the right one clears it, though the room is full.
    eve.send(&try_join("vault", "4711")).await;
    eve.expect_error(ErrorCode::RoomFull).await;
    let deadline = Instant::now() + Duration::from_secs(5);
    while !guess_keys(&redis).await.is_empty() {
        assert!(Instant::now() < deadline, "still stored: {:?}", guess_keys(&redis).await);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Whether a message shows someone leaving or joining: what a blip must
/// not cause, as it tears down and renegotiates calls.
fn churn(msg: &ServerMsg) -> bool {
    matches!(msg, ServerMsg::PeerLeft { .. } | ServerMsg::PeerJoined { .. })
}

/// Collects chats from `nickname` until `want` have come or `deadline`
/// passes, and fails on any leave or join meanwhile.
async fn chats_from(client: &mut Client, nickname: &str, want: usize, deadline: Instant) -> Vec<String> {
    let mut heard = Vec::new();
    while heard.len() < want && Instant::now() < deadline {
        let Some(msg) = client.try_recv(Duration::from_millis(200)).await else { continue };
        assert!(!churn(&msg), "churn during the blip: {msg:?}");
        if let ServerMsg::Chat { from, text, .. } = msg {
            if from.nickname == nickname {
                heard.push(text);
            }
        }
    }
    heard
}

#[tokio::test]
async fn a_redis_blip_churns_nobody_and_chat_sent_during_it_arrives_after() {
    let mut redis = Redis::start().await;
    let a = node(&redis).await;
    let b = node(&redis).await;
    let mut ada = Client::in_room(&a, "Ada", "blip").await;
    let mut bob = Client::in_room(&b, "Bob", "blip").await;
    ada.recv_until(|m| matches!(m, ServerMsg::PeerJoined { .. })).await;

    // Redis is gone for 5 s (and comes back empty); both talk meanwhile.
    redis.stop().await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let sent: Vec<String> = (1..=3).map(|i| format!("from A during the outage {i}")).collect();
    for text in &sent {
        ada.send(&ClientMsg::Chat { text: text.clone(), nonce: None }).await;
    }
    bob.send(&ClientMsg::Chat { text: "from B during the outage".into(), nonce: None }).await;
    tokio::time::sleep(Duration::from_secs(4)).await;
    redis.restart().await;
    let back = Instant::now();

    // Delivered after it, in order, each once; nobody left or joined.
    let deadline = back + Duration::from_secs(30);
    assert_eq!(chats_from(&mut bob, "Ada", 3, deadline).await, sent);
    eprintln!("Ada's 3 chats from the outage reached node B {:?} after Redis returned", back.elapsed());
    assert_eq!(chats_from(&mut ada, "Bob", 1, deadline).await, ["from B during the outage"]);

    // Past the time a missing member is given to be registered again and
    // a reconcile after it: still nobody left or joined, on either side.
    let calm_until = back + Duration::from_millis(server::hub::MISSING_GRACE_MS) + Duration::from_secs(4);
    for client in [&mut ada, &mut bob] {
        while let Some(msg) = client.try_recv(calm_until.saturating_duration_since(Instant::now())).await {
            assert!(!churn(&msg), "churn after the blip: {msg:?}");
        }
    }
    // And the room is whole, as both nodes see it.
    ada.send(&ClientMsg::Chat { text: "still here".into(), nonce: None }).await;
    assert_eq!(chats_from(&mut bob, "Ada", 1, Instant::now() + Duration::from_secs(5)).await, ["still here"]);
}

fn is_presence(msg: &ServerMsg) -> bool {
    matches!(msg, ServerMsg::PeerLeft { .. } | ServerMsg::PeerJoined { .. })
}

#[tokio::test]
async fn a_page_that_comes_back_through_another_node_resumes_there_and_nobody_sees_a_thing() {
    let redis = Redis::start().await;
    let nodes = ["--redis-url", &redis.url(), "--resume-secret", "one key for the cluster"];
    let a = Server::start_with(&nodes).await;
    let b = Server::start_with(&nodes).await;
    let ada = Client::in_room(&a, "Ada", "x").await;
    let mut cat = Client::in_room(&a, "Cat", "x").await;
    let mut bob = Client::in_room(&b, "Bob", "x").await;
    cat.recv_until(|m| matches!(m, ServerMsg::PeerJoined { peer } if peer.nickname == "Bob")).await;
    let mut lobby = Client::named(&b, "Lee").await;
    let (id, token) = (ada.id.clone(), ada.resume.clone().expect("a resume token"));
    // Gone without a close frame; the page's next socket lands on node B.
    drop(ada);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (mut ada, resumed) = Client::resuming(&b, &token).await;
    assert!(resumed, "node A handed the session over");
    assert_eq!(ada.id, id, "the same peer");
    match ada.recv_until(|m| matches!(m, ServerMsg::Joined { .. })).await {
        ServerMsg::Joined { room, members, resumed: true, .. } => {
            assert_eq!(room, "x");
            let names: Vec<_> = members.iter().map(|m| m.nickname.as_str()).collect();
            assert_eq!(names, ["Ada", "Cat", "Bob"], "still first: still the host");
        }
        other => panic!("expected the room, got {other:?}"),
    }
    ada.send(&ClientMsg::LockRoom { locked: true }).await;
    ada.recv_until(|m| matches!(m, ServerMsg::RoomLocked { .. })).await;
    // Chat and signals reach her on B from both nodes, and hers reach both.
    ada.send(&ClientMsg::Chat { text: "on B now".into(), nonce: None }).await;
    for other in [&mut cat, &mut bob] {
        let chat = other.recv_until(|m| matches!(m, ServerMsg::Chat { .. })).await;
        assert!(matches!(chat, ServerMsg::Chat { ref from, .. } if from.id == id), "{chat:?}");
    }
    cat.send(&ClientMsg::Signal { to: id.clone(), payload: offer() }).await;
    let signal = ada.recv_until(|m| matches!(m, ServerMsg::Signal { .. })).await;
    assert_eq!(signal, ServerMsg::Signal { from: cat.id.clone(), payload: offer() });
    for other in [&mut cat, &mut bob] {
        let seen = other.ping_pong().await;
        assert!(!seen.iter().any(is_presence), "nobody saw a leave or join: {seen:?}");
    }
    let listed = lobby.ping_pong().await;
    assert!(!listed.iter().any(|m| room_count(m, "x") == Some(2)), "the count never dropped: {listed:?}");

    // The token is spent, on either node.
    for node in [&a, &b] {
        let (mut again, resumed) = Client::resuming(node, &token).await;
        assert!(!resumed);
        assert_ne!(again.id, id);
        again.expect_error(ErrorCode::ResumeRefused).await;
    }
    let seen = cat.ping_pong().await;
    assert!(!seen.iter().any(is_presence), "{seen:?}");
}

#[tokio::test]
async fn two_nodes_offered_one_token_at_once_resume_it_once() {
    let redis = Redis::start().await;
    let nodes = ["--redis-url", &redis.url(), "--resume-secret", "one key for the cluster"];
    let a = Server::start_with(&nodes).await;
    let b = Server::start_with(&nodes).await;
    let c = Server::start_with(&nodes).await;
    let ada = Client::in_room(&a, "Ada", "x").await;
    let mut bob = Client::in_room(&a, "Bob", "x").await;
    let (id, token) = (ada.id.clone(), ada.resume.clone().unwrap());
    drop(ada);
    let ((mut first, first_resumed), (mut second, second_resumed)) =
        tokio::join!(Client::resuming(&b, &token), Client::resuming(&c, &token));
    assert!(first_resumed ^ second_resumed, "exactly one resumed");
    let (winner, loser) = if first_resumed { (&mut first, &mut second) } else { (&mut second, &mut first) };
    assert_eq!(winner.id, id);
    assert_ne!(loser.id, id);
    loser.expect_error(ErrorCode::ResumeRefused).await;
    winner.send(&ClientMsg::Chat { text: "one of me".into(), nonce: None }).await;
    let chat = bob.recv_until(|m| matches!(m, ServerMsg::Chat { .. } | ServerMsg::PeerLeft { .. })).await;
    assert!(matches!(chat, ServerMsg::Chat { ref from, .. } if from.id == id), "{chat:?}");
}

#[tokio::test]
async fn a_node_stopped_for_a_deploy_hands_its_sessions_to_the_node_its_pages_come_back_through() {
    let redis = Redis::start().await;
    let nodes = ["--redis-url", &redis.url(), "--resume-secret", "one key for the cluster"];
    let mut a = Server::start_with(&nodes).await;
    let b = Server::start_with(&nodes).await;
    let mut ada = Client::in_room(&a, "Ada", "x").await;
    let mut bob = Client::in_room(&b, "Bob", "x").await;
    ada.recv_until(|m| matches!(m, ServerMsg::PeerJoined { .. })).await;
    let (id, token) = (ada.id.clone(), ada.resume.clone().unwrap());
    let page = async {
        // Told, then closed; the load balancer sends the page's next socket to B.
        ada.recv_until(|m| matches!(m, ServerMsg::Restarting)).await;
        let close = ada.expect_close().await.expect("a close frame");
        assert_eq!(u16::from(close.code), app::protocol::CLOSE_RESTARTING);
        let (mut back, resumed) = Client::resuming(&b, &token).await;
        assert!(resumed, "the stopping node handed the session over");
        assert_eq!(back.id, id);
        match back.recv_until(|m| matches!(m, ServerMsg::Joined { .. })).await {
            ServerMsg::Joined { members, resumed: true, .. } => {
                let names: Vec<_> = members.iter().map(|m| m.nickname.as_str()).collect();
                assert_eq!(names, ["Ada", "Bob"], "still the host");
            }
            other => panic!("expected the room, got {other:?}"),
        }
        back
    };
    let started = Instant::now();
    let (status, mut ada) = tokio::join!(a.terminate(), page);
    assert!(status.success(), "{status:?}");
    assert!(started.elapsed() < Duration::from_secs(5), "it left once nothing was left to hand over");
    ada.send(&ClientMsg::Chat { text: "after the deploy".into(), nonce: None }).await;
    let chat = bob.recv_until(|m| matches!(m, ServerMsg::Chat { .. })).await;
    assert!(matches!(chat, ServerMsg::Chat { ref from, .. } if from.id == id), "{chat:?}");
    let seen = bob.ping_pong().await;
    assert!(!seen.iter().any(is_presence), "Bob saw no leave or join: {seen:?}");
}

#[tokio::test]
async fn a_stopping_node_s_sessions_nobody_asks_for_leave_when_it_goes() {
    let redis = Redis::start().await;
    let mut a = node(&redis).await;
    let b = node(&redis).await;
    let _ada = Client::in_room(&a, "Ada", "x").await;
    let mut bob = Client::in_room(&b, "Bob", "x").await;
    let started = Instant::now();
    assert!(a.terminate().await.success());
    assert!(started.elapsed() >= Duration::from_secs(8), "it waited to be asked: {:?}", started.elapsed());
    bob.recv_until(|m| matches!(m, ServerMsg::PeerLeft { peer } if peer.nickname == "Ada")).await;
}
