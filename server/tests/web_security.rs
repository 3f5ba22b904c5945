//! What a browser relies on: the signaling socket refuses pages of other
//! sites, and pages carry headers that stop injected scripts and sniffing.

mod support;

use app::protocol::ServerMsg;
use futures::StreamExt;
use support::{header, http_get, Server};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};

/// Opens `/ws` as a page of `origin` would; `Ok` once the server welcomes it,
/// `Err(status)` when the handshake is refused.
async fn open_from(server: &Server, origin: Option<&str>) -> Result<(), u16> {
    let mut request = server.ws_url().into_client_request().unwrap();
    if let Some(origin) = origin {
        request.headers_mut().insert("origin", origin.parse().unwrap());
    }
    match tokio_tungstenite::connect_async(request).await {
        Ok((mut ws, _)) => {
            let first = ws.next().await.expect("a frame").expect("no error");
            let Message::Text(text) = first else { panic!("expected text, got {first:?}") };
            let msg = app::protocol::decode_server(&text).unwrap();
            assert!(matches!(msg, ServerMsg::Welcome { .. }), "got {msg:?}");
            Ok(())
        }
        Err(WsError::Http(response)) => Err(response.status().as_u16()),
        Err(other) => panic!("unexpected handshake error: {other}"),
    }
}

#[tokio::test]
async fn a_page_of_another_site_cannot_open_the_socket() {
    let server = Server::start().await;
    assert_eq!(open_from(&server, Some("https://evil.example")).await, Err(403));
    assert_eq!(open_from(&server, Some("null")).await, Err(403));
    // An Origin that is not even text (no client library sends one; a
    // hand-made request can) is refused too.
    let mut tcp = TcpStream::connect(&server.addr).await.unwrap();
    let handshake = format!(
        "GET /ws HTTP/1.1\r\nHost: {}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nOrigin: http://",
        server.addr
    );
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    tcp.write_all(&[handshake.as_bytes(), b"\xff\r\n\r\n"].concat()).await.unwrap();
    let mut reply = vec![0u8; 64];
    let n = tcp.read(&mut reply).await.unwrap();
    assert!(String::from_utf8_lossy(&reply[..n]).starts_with("HTTP/1.1 403"), "{:?}", &reply[..n]);
    // A page the server itself served, and a client that is not a page.
    assert_eq!(open_from(&server, Some(&format!("http://{}", server.addr))).await, Ok(()));
    assert_eq!(open_from(&server, None).await, Ok(()));
}

#[tokio::test]
async fn an_allowed_origin_can_open_the_socket() {
    let server = Server::start_with(&["--allowed-origin", "http://127.0.0.1:8080,https://app.example"]).await;
    assert_eq!(open_from(&server, Some("http://127.0.0.1:8080")).await, Ok(()));
    assert_eq!(open_from(&server, Some("https://app.example")).await, Ok(()));
    assert_eq!(open_from(&server, Some("http://127.0.0.1:8081")).await, Err(403));
}

#[tokio::test]
async fn pages_carry_a_nonce_policy_that_matches_their_script() {
    let server = Server::start().await;
    let mut nonces = Vec::new();
    for path in ["/", "/r/standup", "/no/such/page"] {
        let mut tcp = TcpStream::connect(&server.addr).await.unwrap();
        let (status, headers, body) = http_get(&mut tcp, &server.addr, path).await;
        assert!(status == 200 || status == 404, "{path}: {status}");
        assert_eq!(header(&headers, "x-content-type-options"), Some("nosniff"), "{path}");
        assert_eq!(header(&headers, "referrer-policy"), Some("no-referrer"), "{path}");
        let csp = header(&headers, "content-security-policy").unwrap_or_else(|| panic!("{path}: no CSP"));
        let nonce = csp
            .split("'nonce-")
            .nth(1)
            .and_then(|rest| rest.split('\'').next())
            .unwrap_or_else(|| panic!("{path}: no nonce in {csp}"));
        assert!(body.contains(&format!("nonce=\"{nonce}\"")), "{path}: the script lacks the nonce");
        assert!(csp.contains("frame-ancestors 'none'") && csp.contains("object-src 'none'"));
        nonces.push(nonce.to_owned());
    }
    nonces.dedup();
    assert_eq!(nonces.len(), 3, "each page gets its own nonce");
}
