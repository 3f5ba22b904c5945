#![recursion_limit = "256"]

//! The Noom server: server-side rendering of the app and WebSocket signaling.

pub mod accept;
pub mod bus;
pub mod client_ip;
pub mod cluster;
pub mod config;
pub mod fallback;
mod headers;
pub mod held;
pub mod hub;
pub mod limits;
pub mod media;
pub mod metrics;
pub mod node;
pub mod origin;
pub mod outbox;
pub mod resume;
mod routes;
mod site;
mod tls;
pub mod ws;

pub use config::Config;
pub use routes::router;

use node::Node;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;

/// Serves until the process is stopped. The line `noom listening on URL` on
/// stdout says where; tests and scripts read it when they ask for port 0.
pub async fn run(config: Config) -> std::io::Result<()> {
    let tls = tls::load(config.tls_cert.as_deref(), config.tls_key.as_deref()).await?;
    let fd_limit = accept::raise_fd_limit();
    let admission = accept::Admission::new(config.gate_limits(fd_limit), config.trusted_proxies());
    let listener = bind(config.addr)?;
    let addr = listener.local_addr()?;
    if config.metrics {
        metrics::install();
    }
    let node = Arc::new(Node::new(config.hub_config()));
    node.set_resume(config.resume_tokens(), config.resume_grace_secs.saturating_mul(1000));
    // Always on: a host may route any room through the server.
    let media = start_media(&config, addr, &node)?;
    if let Some(url) = &config.redis_url {
        cluster::Cluster::start(url, &node)
            .map_err(|e| std::io::Error::other(format!("--redis-url: {e}")))?;
    }
    spawn_lobby_ticker(node.clone(), Duration::from_millis(config.lobby_interval_ms.max(10)));
    let app = router(&config, addr, node.clone());
    let scheme = if tls.is_some() { "https" } else { "http" };
    println!("noom listening on {scheme}://{addr}");
    for media in media {
        println!("noom media on udp://{media}");
    }
    tracing::info!(%addr, scheme, "listening");
    tracing::info!(fd_limit, limits = ?admission.limits(), "connection limits");
    let tls = tls.map(tokio_rustls::TlsAcceptor::from);
    let listener = TcpListener::from_std(listener)?;
    // On a worker, not on the thread `main` blocks on: a connection then
    // starts where it was accepted instead of waking a worker on another
    // thread (with one core, a context switch per connection).
    let mut serve = tokio::spawn(accept::serve(
        listener,
        app,
        tls,
        admission,
        Duration::from_secs(config.header_timeout_secs.max(1)),
    ));
    tokio::select! {
        _ = &mut serve => Ok(()),
        () = stop_requested() => {
            // No new connections while the open ones are told goodbye.
            serve.abort();
            say_goodbye(&node).await;
            Ok(())
        }
    }
}

/// Starts the media threads, the task that sends each its rooms'
/// commands and the one that hands their messages to the node; returns
/// the addresses announced to browsers.
fn start_media(config: &Config, addr: SocketAddr, node: &Arc<Node>) -> std::io::Result<Vec<SocketAddr>> {
    let bind = config.media_udp.unwrap_or(SocketAddr::new(addr.ip(), 0));
    let (events, mut from_media) = tokio::sync::mpsc::unbounded_channel();
    let mut threads = Vec::new();
    for index in 0..usize::from(config.media_threads.max(1)) {
        let port = if bind.port() == 0 { 0 } else { bind.port().saturating_add(index as u16) };
        let bind = SocketAddr::new(bind.ip(), port);
        let engine = media::EngineConfig {
            candidate: bind,
            tcp_candidate: None,
            slots_per_kind: config.sfu_slots.max(1),
            pause_unused_layers: std::time::Duration::from_secs(config.pause_unused_layers_secs),
        };
        let handle = media::spawn(index, bind, config.media_public_ip, engine, events.clone())
            .map_err(|e| std::io::Error::other(format!("--media-udp {bind}: {e}")))?;
        threads.push(handle);
    }
    let candidates = threads.iter().map(|t| t.candidate).collect();
    if let [one] = threads.as_slice() {
        node.attach_media(one.commands.clone());
    } else {
        let (commands, mut to_media) = tokio::sync::mpsc::unbounded_channel();
        node.attach_media(commands);
        tokio::spawn(async move {
            let mut router = media::Router::new(threads.len());
            while let Some(cmd) = to_media.recv().await {
                for (thread, cmd) in router.route(cmd) {
                    let _ = threads[thread].commands.send(cmd);
                }
            }
        });
    }
    let node = node.clone();
    tokio::spawn(async move {
        while let Some(event) = from_media.recv().await {
            node.deliver_media(event);
        }
    });
    Ok(candidates)
}

/// A listening socket with a deep accept queue: std's default of 128 drops
/// connection attempts in a burst (a restart, everyone reconnecting), and a
/// dropped SYN is retried only after a second.
fn bind(addr: SocketAddr) -> std::io::Result<std::net::TcpListener> {
    let socket =
        if addr.is_ipv4() { tokio::net::TcpSocket::new_v4()? } else { tokio::net::TcpSocket::new_v6()? };
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    let listener = socket.listen(ACCEPT_BACKLOG)?.into_std()?;
    // tokio's listener wants it non-blocking; `from_std` does not set it.
    listener.set_nonblocking(true)?;
    Ok(listener)
}

const ACCEPT_BACKLOG: u32 = 4096;

/// SIGTERM (systemd, `kill`, a container runtime) or Ctrl-C.
async fn stop_requested() {
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut term) => {
                term.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    tokio::select! {
        _ = term => {}
        _ = tokio::signal::ctrl_c() => {}
    }
}

/// Every page is told the server is restarting, so it shows that and
/// reconnects, instead of seeing a dead socket; then the sockets close and
/// their people leave their rooms (on other nodes too) in the normal way.
/// In a cluster their pages come back through the other nodes (a rolling
/// deploy): this one stays a while to hand their sessions over, and only
/// those not asked for leave.
async fn say_goodbye(node: &Node) {
    let open = node.connection_count();
    tracing::info!(connections = open, "stopping: telling every page the server is restarting");
    node.shut_down();
    let started = tokio::time::Instant::now();
    wait_until(|| node.connection_count() == 0, started + GOODBYE_GRACE).await;
    if node.is_clustered() {
        wait_until(|| node.parked_count() + node.connection_count() == 0, started + HANDOVER_GRACE).await;
        tracing::info!(left = node.parked_count(), "sessions not asked for end here");
        node.end_parked();
    }
    // Leaves just published to Redis are on their way out of the bus task.
    tokio::time::sleep(Duration::from_millis(100)).await;
    tracing::info!(left_open = node.connection_count(), "stopped");
}

/// Checks `done` every 20 ms until it holds or `deadline` passes.
async fn wait_until(done: impl Fn() -> bool, deadline: tokio::time::Instant) {
    while !done() && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// How long a stopping server waits for its sockets to close.
const GOODBYE_GRACE: Duration = Duration::from_secs(3);
/// How long a stopping node of a cluster waits (from the goodbye) for other
/// nodes to ask for its sessions: a page reconnects within a few seconds,
/// backoff included.
const HANDOVER_GRACE: Duration = Duration::from_secs(8);

/// Room-list changes are pushed on this tick, so a burst of joins costs the
/// lobby one message per tick instead of one per join.
fn spawn_lobby_ticker(node: Arc<Node>, every: Duration) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            node.flush_lobby();
            node.tick();
            metrics::gauges(
                node.connection_count(),
                node.parked_count(),
                node.peer_count(),
                node.room_count(),
            );
        }
    });
}
