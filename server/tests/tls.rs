//! `--tls-cert` / `--tls-key`: pages over HTTPS and signaling over WSS,
//! with a certificate made for this test.

mod support;

use app::protocol::ServerMsg;
use futures::StreamExt;
use rustls::pki_types::{CertificateDer, ServerName};
use std::sync::Arc;
use support::{http_get, Server};
use tokio::net::TcpStream;
use tokio_rustls::{client::TlsStream, TlsConnector};
use tokio_tungstenite::tungstenite::Message;

struct Cert {
    dir: std::path::PathBuf,
    der: CertificateDer<'static>,
}

impl Drop for Cert {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn make_cert() -> Cert {
    let key = rcgen::KeyPair::generate().unwrap();
    let params = rcgen::CertificateParams::new(vec!["localhost".to_owned()]).unwrap();
    let cert = params.self_signed(&key).unwrap();
    let dir = std::env::temp_dir().join(format!("noom-tls-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("cert.pem"), cert.pem()).unwrap();
    std::fs::write(dir.join("key.pem"), key.serialize_pem()).unwrap();
    Cert { dir, der: cert.der().clone() }
}

async fn tls_connect(server: &Server, cert: &Cert) -> TlsStream<TcpStream> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut roots = rustls::RootCertStore::empty();
    roots.add(cert.der.clone()).unwrap();
    let config = rustls::ClientConfig::builder().with_root_certificates(roots).with_no_client_auth();
    let tcp = TcpStream::connect(&server.addr).await.unwrap();
    let name = ServerName::try_from("localhost").unwrap();
    TlsConnector::from(Arc::new(config)).connect(name, tcp).await.expect("TLS handshake")
}

#[tokio::test]
async fn serves_pages_over_https_and_signaling_over_wss() {
    let cert = make_cert();
    let (cert_path, key_path) = (cert.dir.join("cert.pem"), cert.dir.join("key.pem"));
    let server = Server::start_with(&[
        "--tls-cert",
        cert_path.to_str().unwrap(),
        "--tls-key",
        key_path.to_str().unwrap(),
    ])
    .await;
    assert_eq!(server.scheme, "https");
    let host = format!("localhost:{}", server.port());

    let mut tls = tls_connect(&server, &cert).await;
    let (status, _, body) = http_get(&mut tls, &host, "/").await;
    assert_eq!(status, 200);
    assert!(body.contains("<title>Noom</title>"), "the lobby rendered: {body:.200}");

    let tls = tls_connect(&server, &cert).await;
    let (mut ws, _) = tokio_tungstenite::client_async(format!("wss://{host}/ws"), tls).await.expect("WSS");
    let Some(Ok(Message::Text(text))) = ws.next().await else { panic!("no welcome") };
    assert!(matches!(app::protocol::decode_server(&text).unwrap(), ServerMsg::Welcome { .. }));

    // Plain HTTP on the TLS port gets no page.
    let mut plain = TcpStream::connect(&server.addr).await.unwrap();
    let mut buf = Vec::new();
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    plain.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").await.unwrap();
    let _ = tokio::time::timeout(support::WAIT, plain.read_to_end(&mut buf)).await;
    assert!(!String::from_utf8_lossy(&buf).contains("Noom"));
}

#[tokio::test]
async fn a_missing_key_is_a_clear_start_up_error() {
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_server"))
        .args(["--addr", "127.0.0.1:0", "--tls-cert", "/nonexistent/cert.pem"])
        .output()
        .await
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("--tls-key"));
}
