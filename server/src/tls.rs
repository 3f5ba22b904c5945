//! HTTPS and WSS. Browsers give camera and microphone only to secure
//! contexts, so any deployment reached by a name other than localhost needs
//! TLS, either here or in a proxy in front.

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::ServerConfig;
use std::io;
use std::path::Path;
use std::sync::Arc;

/// Reads the PEM certificate chain and private key; `None` when neither is
/// configured (clap makes sure they come together).
pub async fn load(cert: Option<&Path>, key: Option<&Path>) -> io::Result<Option<Arc<ServerConfig>>> {
    let (Some(cert), Some(key)) = (cert, key) else {
        return Ok(None);
    };
    let (cert_path, key_path) = (cert.to_owned(), key.to_owned());
    let config = tokio::task::spawn_blocking(move || server_config(&cert_path, &key_path))
        .await
        .map_err(io::Error::other)?;
    config.map(|c| Some(Arc::new(c))).map_err(|e| {
        io::Error::other(format!("TLS certificate {} / key {}: {e}", cert.display(), key.display()))
    })
}

fn server_config(cert: &Path, key: &Path) -> Result<ServerConfig, Box<dyn std::error::Error + Send + Sync>> {
    let chain = CertificateDer::pem_file_iter(cert)?.collect::<Result<Vec<_>, _>>()?;
    let key = PrivateKeyDer::from_pem_file(key)?;
    // ring rather than aws-lc-rs: no cmake or assembler needed to build.
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(chain, key)?;
    // HTTP/2 where the client offers it; the WebSocket upgrade is HTTP/1.1.
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(config)
}
