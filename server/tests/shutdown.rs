//! SIGTERM: every page is told the server is restarting before its socket
//! closes, and the process exits cleanly.

mod support;

use app::protocol::{ServerMsg, CLOSE_RESTARTING};
use support::{Client, Server};

#[tokio::test]
async fn sigterm_tells_everyone_then_closes_and_exits() {
    let mut server = Server::start().await;
    let mut alice = Client::in_room(&server, "Alice", "standup").await;
    let mut bob = Client::in_room(&server, "Bob", "standup").await;
    let mut lobby = Client::connect(&server).await;
    alice.recv_until(|m| matches!(m, ServerMsg::PeerJoined { .. })).await;

    let status = server.terminate().await;
    assert!(status.success(), "exited with {status}");
    for client in [&mut alice, &mut bob, &mut lobby] {
        client.recv_until(|m| matches!(m, ServerMsg::Restarting)).await;
        let close = client.expect_close().await.expect("a close frame");
        assert_eq!(u16::from(close.code), CLOSE_RESTARTING);
        assert_eq!(close.reason.as_str(), "server restarting");
    }
}
