//! HTTPS and WSS. Browsers give camera and microphone only to secure
//! contexts, so any deployment reached by a name other than localhost needs
//! TLS, either here or in a proxy in front.

use axum_server::tls_rustls::RustlsConfig;
use std::io;
use std::path::Path;

/// Reads the PEM certificate chain and private key; `None` when neither is
/// configured (clap makes sure they come together).
pub async fn load(cert: Option<&Path>, key: Option<&Path>) -> io::Result<Option<RustlsConfig>> {
    let (Some(cert), Some(key)) = (cert, key) else {
        return Ok(None);
    };
    // ring rather than aws-lc-rs: no cmake or assembler needed to build.
    // Installing twice (tests start several servers) is harmless.
    let _ = rustls::crypto::ring::default_provider().install_default();
    RustlsConfig::from_pem_file(cert, key).await.map(Some).map_err(|e| {
        io::Error::other(format!("TLS certificate {} / key {}: {e}", cert.display(), key.display()))
    })
}
