//! `--media-mode auto`, the default, with the real server binary: a room's
//! fifth person moves the call onto the SFU, and two left alone go back to
//! a mesh after a while. `restart_media` tells which it is: the SFU
//! answers it, a mesh refuses it.

mod support;

use app::protocol::{ClientMsg, ErrorCode, MediaMode, ServerMsg};
use std::time::{Duration, Instant};
use support::{Client, Server};

async fn through_the_server(c: &mut Client) {
    c.send(&ClientMsg::RestartMedia).await;
    c.recv_until(|m| matches!(m, ServerMsg::MediaRestarted)).await;
}

async fn a_mesh(c: &mut Client) {
    c.send(&ClientMsg::RestartMedia).await;
    c.expect_error(ErrorCode::NotSfuRoom).await;
}

#[tokio::test]
async fn five_go_through_the_server_and_two_come_back_to_a_mesh() {
    let server = Server::start().await;
    let mut four = Vec::new();
    for name in ["Ada", "Bo", "Cy", "Di"] {
        four.push(Client::in_room(&server, name, "grows").await);
    }
    for c in &mut four {
        a_mesh(c).await;
    }
    let mut eve = Client::named(&server, "Eve").await;
    eve.send(&ClientMsg::Join { room: "grows".into(), passcode: None }).await;
    let joined = eve.recv_until(|m| matches!(m, ServerMsg::Joined { .. })).await;
    assert!(matches!(joined, ServerMsg::Joined { media: MediaMode::Sfu, .. }), "{joined:?}");
    through_the_server(&mut eve).await;
    for c in &mut four {
        let msg = c.recv_until(|m| matches!(m, ServerMsg::RoomMedia { .. })).await;
        assert!(matches!(msg, ServerMsg::RoomMedia { media: MediaMode::Sfu, by: None }), "{msg:?}");
        through_the_server(c).await;
    }

    // Down to Ada and Bo: after five seconds they are a mesh again.
    eve.close().await;
    for gone in four.split_off(2) {
        gone.close().await;
    }
    let alone = Instant::now();
    for c in &mut four {
        let msg = c.recv_until(|m| matches!(m, ServerMsg::RoomMedia { .. })).await;
        assert!(matches!(msg, ServerMsg::RoomMedia { media: MediaMode::Mesh, by: None }), "{msg:?}");
    }
    let waited = alone.elapsed();
    assert!(waited >= Duration::from_secs(5), "not before five seconds: {waited:?}");
    // A newcomer joins their mesh.
    let mut cy = Client::named(&server, "Cy").await;
    cy.send(&ClientMsg::Join { room: "grows".into(), passcode: None }).await;
    let joined = cy.recv_until(|m| matches!(m, ServerMsg::Joined { .. })).await;
    assert!(matches!(joined, ServerMsg::Joined { media: MediaMode::Mesh, .. }), "{joined:?}");
    // The SFU sessions outlive the switch only while the browsers hand
    // over (twelve seconds, counted from the next lobby tick).
    tokio::time::sleep(Duration::from_secs(11)).await;
    let ada = &mut four[0];
    for _ in 0..20 {
        ada.send(&ClientMsg::RestartMedia).await;
        match ada.recv_until(|m| matches!(m, ServerMsg::MediaRestarted | ServerMsg::Error { .. })).await {
            ServerMsg::MediaRestarted => tokio::time::sleep(Duration::from_millis(250)).await,
            ServerMsg::Error { code, .. } => return assert_eq!(code, ErrorCode::NotSfuRoom),
            _ => unreachable!(),
        }
    }
    panic!("still through the server sixteen seconds after the switch");
}
