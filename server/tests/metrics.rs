//! `/metrics`: Prometheus text from the real server, counting what happened.

mod support;

use app::protocol::{ClientMsg, ErrorCode, ServerMsg};
use support::{http_get, Client, Server};
use tokio::net::TcpStream;

async fn scrape(server: &Server) -> (u16, String) {
    let mut tcp = TcpStream::connect(&server.addr).await.unwrap();
    let (status, _, body) = http_get(&mut tcp, &server.addr, "/metrics").await;
    (status, body)
}

#[tokio::test]
async fn metrics_count_connections_messages_errors_and_relay_time() {
    let server = Server::start().await;
    let mut ada = Client::in_room(&server, "Ada", "x").await;
    let _bob = Client::in_room(&server, "Bob", "x").await;
    ada.send(&ClientMsg::Chat { text: "hi".into(), nonce: None }).await;
    ada.recv_until(|m| matches!(m, ServerMsg::Chat { .. })).await;
    ada.send_raw("{not json").await;
    ada.expect_error(ErrorCode::BadMessage).await;

    // Gauges are refreshed on the lobby tick (50 ms in tests).
    let mut body = String::new();
    for _ in 0..100 {
        let (status, text) = scrape(&server).await;
        assert_eq!(status, 200);
        body = text;
        if body.contains("noom_connections 2") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    for expected in [
        "noom_connections 2",
        "noom_rooms 1",
        "noom_messages_in_total{type=\"chat\"} 1",
        "noom_messages_in_total{type=\"join\"} 2",
        "noom_errors_total{code=\"bad_message\"} 1",
        "noom_relay_seconds_bucket{le=\"0.001\"}",
        "noom_messages_out_total",
    ] {
        assert!(body.contains(expected), "missing {expected:?} in:\n{body}");
    }
}

#[tokio::test]
async fn metrics_can_be_turned_off() {
    let server = Server::start_with(&["--metrics", "false"]).await;
    let (status, body) = scrape(&server).await;
    assert_eq!(status, 404);
    assert!(!body.contains("noom_connections"));
}
