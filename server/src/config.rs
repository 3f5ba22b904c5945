use clap::Parser;
use std::net::SocketAddr;
use std::path::PathBuf;

/// Noom: video calls in the browser. Every flag can also be set through the
/// environment variable named beside it.
#[derive(Clone, Debug, Parser)]
#[command(name = "noom", version, about)]
pub struct Config {
    /// Address to listen on; port 0 picks a free port.
    #[arg(long, env = "NOOM_ADDR", default_value = "127.0.0.1:3000")]
    pub addr: SocketAddr,

    /// Log filter, e.g. `info`, `debug`, `server=debug,tower_http=info`.
    #[arg(long, env = "NOOM_LOG", default_value = "info")]
    pub log: String,

    /// Folder with the built site (`pkg/` with the wasm, js and css).
    #[arg(long, env = "LEPTOS_SITE_ROOT", default_value = "target/site")]
    pub site_root: PathBuf,

    /// How often the lobby's room list is pushed, at most (milliseconds).
    #[arg(long, env = "NOOM_LOBBY_INTERVAL_MS", default_value_t = 250)]
    pub lobby_interval_ms: u64,
}
