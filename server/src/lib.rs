#![recursion_limit = "256"]

//! The Noom server: server-side rendering of the app and WebSocket signaling.

pub mod cluster;
pub mod config;
mod headers;
pub mod hub;
pub mod node;
pub mod origin;
mod routes;
mod tls;
pub mod ws;

pub use config::Config;
pub use routes::router;

use node::Node;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;

/// Serves until the process is stopped. The line `noom listening on URL` on
/// stdout says where; tests and scripts read it when they ask for port 0.
pub async fn run(config: Config) -> std::io::Result<()> {
    let tls = tls::load(config.tls_cert.as_deref(), config.tls_key.as_deref()).await?;
    let listener = std::net::TcpListener::bind(config.addr)?;
    listener.set_nonblocking(true)?;
    let addr = listener.local_addr()?;
    let node = Arc::new(Node::new(config.hub_config()));
    if let Some(url) = &config.redis_url {
        cluster::Cluster::start(url, &node)
            .map_err(|e| std::io::Error::other(format!("--redis-url: {e}")))?;
    }
    spawn_lobby_ticker(node.clone(), Duration::from_millis(config.lobby_interval_ms.max(10)));
    let app = router(&config, addr, node);
    let scheme = if tls.is_some() { "https" } else { "http" };
    println!("noom listening on {scheme}://{addr}");
    tracing::info!(%addr, scheme, "listening");
    match tls {
        Some(tls) => axum_server::from_tcp_rustls(listener, tls).serve(app.into_make_service()).await,
        None => axum::serve(TcpListener::from_std(listener)?, app).await,
    }
}

/// Room-list changes are pushed on this tick, so a burst of joins costs the
/// lobby one message per tick instead of one per join.
fn spawn_lobby_ticker(node: Arc<Node>, every: Duration) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            node.flush_lobby();
        }
    });
}
