//! Every kind of bad input gets a typed error (or, for oversized frames, a
//! close with a reason); the sender's connection and everyone else carry on.

mod support;

use app::protocol::{ClientMsg, ErrorCode, ServerMsg, CLOSE_TOO_BIG, MAX_FRAME_BYTES};
use support::{Client, Server};

/// Sends `raw` from a client in a room next to a bystander, expects `code`,
/// then checks both connections still work.
async fn rejects(raw: String, code: ErrorCode) {
    let server = Server::start().await;
    let mut sender = Client::in_room(&server, "Sender", "room").await;
    let mut bystander = Client::in_room(&server, "Bystander", "room").await;
    sender.send_raw(raw).await;
    sender.expect_error(code).await;
    carry_on(&mut sender, &mut bystander).await;
}

async fn carry_on(sender: &mut Client, bystander: &mut Client) {
    sender.send(&ClientMsg::Chat { text: "still works".into(), nonce: None }).await;
    for c in [sender, bystander] {
        let got = c.recv_until(|m| matches!(m, ServerMsg::Chat { .. })).await;
        assert!(matches!(got, ServerMsg::Chat { ref text, .. } if text == "still works"));
    }
}

fn json(msg: &ClientMsg) -> String {
    app::protocol::encode(msg)
}

#[tokio::test]
async fn malformed_json() {
    rejects("{\"type\": \"chat\", \"text\": ".into(), ErrorCode::BadMessage).await;
}

#[tokio::test]
async fn not_an_object() {
    rejects("[1, 2, 3]".into(), ErrorCode::BadMessage).await;
}

#[tokio::test]
async fn unknown_message_type() {
    rejects(r#"{"type":"teleport","to":"mars"}"#.into(), ErrorCode::UnknownType).await;
}

#[tokio::test]
async fn known_type_with_wrong_fields() {
    rejects(r#"{"type":"join","room":42}"#.into(), ErrorCode::BadMessage).await;
}

#[tokio::test]
async fn empty_nickname() {
    rejects(json(&ClientMsg::SetNickname { nickname: "   ".into() }), ErrorCode::InvalidNickname).await;
}

#[tokio::test]
async fn overlong_nickname() {
    rejects(json(&ClientMsg::SetNickname { nickname: "n".repeat(33) }), ErrorCode::InvalidNickname).await;
}

#[tokio::test]
async fn nickname_with_control_characters() {
    rejects(json(&ClientMsg::SetNickname { nickname: "a\u{7}b".into() }), ErrorCode::InvalidNickname).await;
}

#[tokio::test]
async fn bad_room_charset() {
    rejects(json(&ClientMsg::Join { room: "../etc/passwd".into(), passcode: None }), ErrorCode::InvalidRoom)
        .await;
}

#[tokio::test]
async fn overlong_room_name() {
    rejects(json(&ClientMsg::Join { room: "r".repeat(65), passcode: None }), ErrorCode::InvalidRoom).await;
}

#[tokio::test]
async fn empty_room_name() {
    rejects(json(&ClientMsg::Join { room: String::new(), passcode: None }), ErrorCode::InvalidRoom).await;
}

#[tokio::test]
async fn overlong_chat() {
    rejects(json(&ClientMsg::Chat { text: "x".repeat(2001), nonce: None }), ErrorCode::ChatTooLong).await;
}

#[tokio::test]
async fn blank_chat() {
    rejects(json(&ClientMsg::Chat { text: " \n ".into(), nonce: None }), ErrorCode::InvalidChat).await;
}

#[tokio::test]
async fn join_without_nickname() {
    let server = Server::start().await;
    let mut c = Client::connect(&server).await;
    c.send(&ClientMsg::Join { room: "x".into(), passcode: None }).await;
    c.expect_error(ErrorCode::NicknameRequired).await;
    c.ping_pong().await;
}

#[tokio::test]
async fn chat_outside_a_room() {
    let server = Server::start().await;
    let mut c = Client::connect(&server).await;
    c.send(&ClientMsg::Chat { text: "anyone?".into(), nonce: None }).await;
    c.expect_error(ErrorCode::NotInRoom).await;
    c.ping_pong().await;
}

#[tokio::test]
async fn binary_frame() {
    let server = Server::start().await;
    let mut sender = Client::in_room(&server, "Sender", "room").await;
    let mut bystander = Client::in_room(&server, "Bystander", "room").await;
    sender.send_binary(vec![1, 2, 3]).await;
    sender.expect_error(ErrorCode::BadMessage).await;
    carry_on(&mut sender, &mut bystander).await;
}

#[tokio::test]
async fn oversized_frame_closes_with_reason_and_others_carry_on() {
    let server = Server::start().await;
    let mut sender = Client::in_room(&server, "Sender", "room").await;
    let mut bystander = Client::in_room(&server, "Bystander", "room").await;
    let mut other = Client::in_room(&server, "Other", "room").await;
    let huge = json(&ClientMsg::Chat { text: "x".repeat(MAX_FRAME_BYTES + 1), nonce: None });
    sender.send_raw(huge).await;
    let frame = sender.expect_close().await.expect("a close frame");
    assert_eq!(u16::from(frame.code), CLOSE_TOO_BIG);
    assert!(frame.reason.contains("64 KiB"), "{}", frame.reason);

    // The room sees the sender leave and keeps working.
    bystander.recv_until(|m| matches!(m, ServerMsg::PeerLeft { peer } if peer.nickname == "Sender")).await;
    carry_on(&mut bystander, &mut other).await;
}

#[tokio::test]
async fn a_message_just_under_the_frame_limit_is_fine() {
    let server = Server::start().await;
    let mut c = Client::in_room(&server, "A", "room").await;
    // Valid JSON near the limit that the decoder must still read.
    let padding = " ".repeat(MAX_FRAME_BYTES - 100);
    c.send_raw(format!("{{\"type\":\"chat\",\"text\":\"ok\"{padding}}}")).await;
    let got = c.recv_until(|m| matches!(m, ServerMsg::Chat { .. })).await;
    assert!(matches!(got, ServerMsg::Chat { ref text, .. } if text == "ok"));
}

#[tokio::test]
async fn nicknames_that_show_nothing_or_reorder_text() {
    for nickname in ["\u{200B}\u{200B}", "\u{202E}", "Ada\u{202E}nimda", "\u{3164}"] {
        rejects(json(&ClientMsg::SetNickname { nickname: nickname.into() }), ErrorCode::InvalidNickname)
            .await;
    }
}

#[tokio::test]
async fn chats_of_only_invisible_characters() {
    rejects(
        json(&ClientMsg::Chat { text: "\u{200B}\u{FEFF} \u{2800}".into(), nonce: None }),
        ErrorCode::InvalidChat,
    )
    .await;
}

#[tokio::test]
async fn dot_only_and_look_alike_room_names() {
    // "standup" with a Cyrillic "а", and a decomposed "é" (not NFC).
    for room in [".", "..", "st\u{0430}ndup", "cafe\u{0301}"] {
        rejects(json(&ClientMsg::Join { room: room.into(), passcode: None }), ErrorCode::InvalidRoom).await;
    }
}

#[tokio::test]
async fn a_name_already_in_the_room_is_shown_numbered() {
    let server = Server::start().await;
    let mut ada = Client::in_room(&server, "Ada", "room").await;
    // Case and a decomposed accent do not make the name different.
    let mut copy = Client::in_room(&server, "ADA", "room").await;
    let joined = ada.recv_until(|m| matches!(m, ServerMsg::PeerJoined { .. })).await;
    assert!(matches!(joined, ServerMsg::PeerJoined { ref peer } if peer.nickname == "ADA (2)"), "{joined:?}");
    let zoe = Client::in_room(&server, "Zoe\u{0308}", "room").await;
    let mut zoe2 = Client::in_room(&server, "Zo\u{00EB}", "room").await;
    zoe2.send(&ClientMsg::Chat { text: "hi".into(), nonce: None }).await;
    let chat = copy.recv_until(|m| matches!(m, ServerMsg::Chat { .. })).await;
    assert!(matches!(chat, ServerMsg::Chat { ref from, .. } if from.nickname == "Zoë (2)"), "{chat:?}");
    // A rename into a taken name is numbered too.
    copy.send(&ClientMsg::SetNickname { nickname: "Ada".into() }).await;
    let renamed = ada.recv_until(|m| matches!(m, ServerMsg::PeerRenamed { .. })).await;
    assert!(
        matches!(renamed, ServerMsg::PeerRenamed { ref peer } if peer.nickname == "Ada (2)"),
        "{renamed:?}"
    );
    drop(zoe);
}
