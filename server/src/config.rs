use crate::hub::{HubConfig, IceConfig};
use crate::limits::RateLimit;
use clap::Parser;
use std::net::{IpAddr, SocketAddr};
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

    /// PEM certificate chain: serve HTTPS and WSS (with `--tls-key`).
    #[arg(long, env = "NOOM_TLS_CERT", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,

    /// PEM private key for `--tls-cert`.
    #[arg(long, env = "NOOM_TLS_KEY", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,

    /// Most people in a mesh room (each browser holds a connection per other
    /// member). In `auto` mode it bounds only rooms that stay a mesh: the
    /// host's pick, or members on several nodes.
    #[arg(long, env = "NOOM_MAX_PEERS", default_value_t = 6)]
    pub max_peers: usize,

    /// STUN server URL(s) handed to browsers, e.g. `stun:stun.example.org:3478`.
    /// Repeat the flag or separate with commas. None by default: on
    /// localhost and a LAN, host candidates are enough.
    #[arg(long = "stun-url", env = "NOOM_STUN_URLS", value_delimiter = ',')]
    pub stun_urls: Vec<String>,

    /// TURN server URL(s), e.g. `turn:turn.example.org:3478?transport=udp`.
    #[arg(long = "turn-url", env = "NOOM_TURN_URLS", value_delimiter = ',')]
    pub turn_urls: Vec<String>,

    /// Secret shared with the TURN server (coturn `static-auth-secret`);
    /// browsers get time-limited credentials derived from it.
    #[arg(long, env = "NOOM_TURN_SECRET", hide_env_values = true)]
    pub turn_secret: Option<String>,

    /// How long TURN credentials stay valid (seconds).
    #[arg(long, env = "NOOM_TURN_TTL_SECS", default_value_t = 86_400)]
    pub turn_ttl_secs: u64,

    /// Key that signs the tokens pages use to come back as the same person
    /// when their socket drops. Give it (a long random string, the same
    /// across restarts) and calls survive a restart of the server; without
    /// it each process makes its own, and sessions resume only within it.
    #[arg(long, env = "NOOM_RESUME_SECRET", hide_env_values = true)]
    pub resume_secret: Option<String>,

    /// Seconds a session whose socket dropped waits for its page to come
    /// back before the room sees it leave; 0 turns resuming off.
    #[arg(long, env = "NOOM_RESUME_GRACE_SECS", default_value_t = 30)]
    pub resume_grace_secs: u64,

    /// Share rooms with other Noom processes through this Redis, e.g.
    /// `redis://127.0.0.1:6379`. Without it the process stands alone.
    #[arg(long, env = "NOOM_REDIS_URL")]
    pub redis_url: Option<String>,

    /// Web origins, besides the server's own, whose pages may use its
    /// signaling socket, e.g. the static build's `https://app.example.org`.
    /// Repeat or separate with commas; `*` allows any site (not advised).
    #[arg(long = "allowed-origin", env = "NOOM_ALLOWED_ORIGINS", value_delimiter = ',')]
    pub allowed_origins: Vec<String>,

    /// Largest WebSocket message accepted (bytes); larger ones close the socket.
    #[arg(long, env = "NOOM_MAX_FRAME_BYTES", default_value_t = app::protocol::MAX_FRAME_BYTES)]
    pub max_frame_bytes: usize,

    /// Messages per second one connection may send on average…
    #[arg(long, env = "NOOM_MSGS_PER_SEC", default_value_t = 30.0)]
    pub msgs_per_sec: f64,

    /// …and at once (a call's start sends a burst of ICE candidates).
    #[arg(long, env = "NOOM_MSGS_BURST", default_value_t = 120.0)]
    pub msgs_burst: f64,

    /// Messages refused for going too fast, without a pause, before the
    /// connection is closed.
    #[arg(long, env = "NOOM_MAX_REFUSED", default_value_t = 200)]
    pub max_refused: u32,

    /// Reverse proxies (addresses or networks, e.g. `10.0.0.0/8`) whose
    /// `Forwarded` / `X-Forwarded-For` headers name the real client. Repeat
    /// or separate with commas. From anyone else those headers are ignored.
    #[arg(long = "trusted-proxy", env = "NOOM_TRUSTED_PROXIES", value_delimiter = ',')]
    pub trusted_proxies: Vec<crate::client_ip::Net>,

    /// Open sockets per client IP address; 0 for no limit (behind a reverse
    /// proxy not listed in `--trusted-proxy`, every client has its address).
    #[arg(long, env = "NOOM_MAX_CONNS_PER_IP", default_value_t = 64)]
    pub max_conns_per_ip: usize,

    /// Connections one address may hold before they become a WebSocket
    /// (page loads, handshakes in progress). Past it, its new ones are closed.
    /// Off when `--max-conns-per-ip` is 0 (behind a proxy).
    #[arg(long, env = "NOOM_MAX_PENDING_PER_IP", default_value_t = 16)]
    pub max_pending_per_ip: usize,

    /// Connections in all that are not a WebSocket yet; at this number the
    /// oldest is closed to let a new one in.
    #[arg(long, env = "NOOM_MAX_PENDING", default_value_t = 4096)]
    pub max_pending: usize,

    /// Connections of any kind at once; 0 sets it from the open-files limit,
    /// keeping a twentieth of it (at least 64) free for everything else.
    #[arg(long, env = "NOOM_MAX_CONNECTIONS", default_value_t = 0)]
    pub max_connections: usize,

    /// Seconds a connection gets for the TLS handshake and for each request
    /// head (kept-alive connections between requests included).
    #[arg(long, env = "NOOM_HEADER_TIMEOUT_SECS", default_value_t = 10)]
    pub header_timeout_secs: u64,

    /// Seconds a signaling socket may stay open without a nickname.
    #[arg(long, env = "NOOM_NICKNAME_TIMEOUT_SECS", default_value_t = 300)]
    pub nickname_timeout_secs: u64,

    /// Most rooms open at once.
    #[arg(long, env = "NOOM_MAX_ROOMS", default_value_t = 10_000)]
    pub max_rooms: usize,

    /// Longest chat message (characters), at most 2000.
    #[arg(long, env = "NOOM_MAX_CHAT_CHARS", default_value_t = app::protocol::MAX_CHAT_CHARS)]
    pub max_chat_chars: usize,

    /// Serve Prometheus metrics at `/metrics` (`--metrics false` to turn off;
    /// they show room and connection counts, so keep them from the public
    /// at the proxy if that matters).
    #[arg(long, env = "NOOM_METRICS", default_value_t = true, action = clap::ArgAction::Set)]
    pub metrics: bool,

    /// How often the lobby's room list is pushed, at most (milliseconds).
    #[arg(long, env = "NOOM_LOBBY_INTERVAL_MS", default_value_t = 250)]
    pub lobby_interval_ms: u64,

    /// How rooms carry their calls: `auto` (a mesh until `--sfu-from`
    /// people, then through the server; back to a mesh when down to two),
    /// `mesh` (browser to browser, end-to-end encrypted; up to
    /// `--max-peers`) or `sfu` (through this server's media engine, which
    /// decrypts to forward; up to `--max-sfu-peers`).
    #[arg(long, env = "NOOM_MEDIA_MODE", value_enum, default_value_t = MediaModeArg::Auto)]
    pub media_mode: MediaModeArg,

    /// In `auto` mode, the join that brings a room to this many people
    /// routes its call through the server (at least 3).
    #[arg(long, env = "NOOM_SFU_FROM", default_value_t = 5)]
    pub sfu_from: usize,

    /// UDP address of the media engine, one port for every room routed
    /// through the server; it listens on TCP on the same port number too
    /// (ICE-TCP, for networks that block UDP). Default: `--addr`'s IP and
    /// a free port.
    #[arg(long, env = "NOOM_MEDIA_UDP")]
    pub media_udp: Option<SocketAddr>,

    /// The IP browsers are told to send media to, when it is not the bound
    /// one (1:1 NAT, a cloud VM's public address).
    #[arg(long, env = "NOOM_MEDIA_PUBLIC_IP")]
    pub media_public_ip: Option<IpAddr>,

    /// Most people in a room whose call goes through the server.
    #[arg(long, env = "NOOM_MAX_SFU_PEERS", default_value_t = 50)]
    pub max_sfu_peers: usize,

    /// Most audio and video tracks the server forwards at once, each
    /// member of a room routed through it counted as sending two to each of
    /// the others; joins past it are refused as "server full". 0: no limit.
    #[arg(long, env = "NOOM_MAX_FORWARDED_TRACKS", default_value_t = 0)]
    pub max_forwarded_tracks: usize,

    /// Receive slots of each kind (audio, video) per person in SFU rooms:
    /// how many others one can see and hear at once ("last N").
    #[arg(long, env = "NOOM_SFU_SLOTS", default_value_t = 16)]
    pub sfu_slots: usize,

    /// Seconds after which a camera's larger simulcast layers that nobody
    /// receives (its owner neither speaks nor presents) are paused in the
    /// browser, saving its uplink and CPU; they resume as soon as needed.
    #[arg(long, env = "NOOM_PAUSE_UNUSED_LAYERS_SECS", default_value_t = 10)]
    pub pause_unused_layers_secs: u64,

    /// Media threads, each with its own UDP (and TCP) port: rooms through
    /// the server are spread over them, a room on one, so media can use
    /// more than one core. With a fixed `--media-udp` port P they take
    /// P, P+1, ...
    #[arg(long, env = "NOOM_MEDIA_THREADS", default_value_t = 1,
          value_parser = clap::value_parser!(u16).range(1..=64))]
    pub media_threads: u16,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum MediaModeArg {
    Auto,
    Mesh,
    Sfu,
}

impl MediaModeArg {
    pub fn mode(self) -> app::protocol::MediaMode {
        match self {
            MediaModeArg::Auto | MediaModeArg::Mesh => app::protocol::MediaMode::Mesh,
            MediaModeArg::Sfu => app::protocol::MediaMode::Sfu,
        }
    }
}

impl Config {
    pub fn trusted_proxies(&self) -> crate::client_ip::TrustedProxies {
        crate::client_ip::TrustedProxies::new(self.trusted_proxies.clone())
    }

    pub fn gate_limits(&self, fd_limit: u64) -> crate::accept::gate::GateLimits {
        // Behind a proxy every connection has the proxy's address.
        let per_ip = if self.max_conns_per_ip == 0 { usize::MAX } else { self.max_pending_per_ip };
        crate::accept::limits_for(per_ip, self.max_pending, self.max_connections, fd_limit)
    }

    pub fn rate_limit(&self) -> RateLimit {
        RateLimit {
            per_sec: self.msgs_per_sec.max(0.1),
            burst: self.msgs_burst.max(1.0),
            max_refused: self.max_refused.max(1),
        }
    }

    pub fn resume_tokens(&self) -> crate::resume::Tokens {
        match &self.resume_secret {
            Some(secret) => crate::resume::Tokens::new(secret.as_bytes()),
            None => crate::resume::Tokens::random(),
        }
    }

    pub fn hub_config(&self) -> HubConfig {
        HubConfig {
            max_peers_per_room: self.max_peers.max(1),
            max_rooms: self.max_rooms.max(1),
            max_chat_chars: self.max_chat_chars.clamp(1, app::protocol::MAX_CHAT_CHARS),
            ice: IceConfig {
                stun_urls: self.stun_urls.clone(),
                turn_urls: self.turn_urls.clone(),
                turn_secret: self.turn_secret.clone(),
                turn_ttl_secs: self.turn_ttl_secs,
            },
            media_mode: self.media_mode.mode(),
            max_sfu_peers: self.max_sfu_peers.max(1),
            // Down to two goes back to a mesh: from fewer than three it
            // would flap.
            sfu_from: (self.media_mode == MediaModeArg::Auto).then_some(self.sfu_from.max(3)),
            max_forwarded_tracks: (self.max_forwarded_tracks > 0).then_some(self.max_forwarded_tracks),
        }
    }
}
