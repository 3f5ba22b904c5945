//! Where the signaling socket is. Pages served by the Noom server talk to
//! their own origin; the static build may be hosted elsewhere and is told
//! the server's address at build time (`NOOM_SIGNALING_URL`) or, overriding
//! that, by a `noom-config.json` next to its `index.html`.

use serde::Deserialize;

/// The file the static build reads at start-up, relative to its base URL.
pub const CONFIG_FILE: &str = "noom-config.json";

/// The contents of [`CONFIG_FILE`]. Unknown keys are ignored so that older
/// builds keep working with newer files.
#[derive(Debug, Default, Deserialize, PartialEq, Eq)]
pub struct SiteConfig {
    #[serde(default)]
    pub signaling_url: Option<String>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum EndpointError {
    #[error("signaling URL {0:?} must start with ws://, wss://, http:// or https://")]
    Scheme(String),
    #[error("signaling URL {0:?} has no host")]
    NoHost(String),
}

/// How the page reaches the server.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Transport {
    #[default]
    WebSocket,
    /// Server-sent events and POSTs, where the network refuses WebSocket.
    Http,
}

/// The HTTP fallback's base for a socket URL: the same path, over http(s).
pub fn http_base(socket_url: &str) -> String {
    match socket_url.split_once("://") {
        Some(("wss", rest)) => format!("https://{rest}"),
        Some(("ws", rest)) => format!("http://{rest}"),
        _ => socket_url.to_owned(),
    }
}

/// The socket on the page's own origin.
pub fn same_origin(page_protocol: &str, page_host: &str) -> String {
    let scheme = if page_protocol == "https:" { "wss" } else { "ws" };
    format!("{scheme}://{page_host}/ws")
}

/// Turns what an operator wrote into a socket URL: an `http(s)` address
/// becomes `ws(s)`, and an address without a path gets `/ws`, so both
/// `https://noom.example.org` and `wss://noom.example.org/ws` work.
pub fn normalize(configured: &str) -> Result<String, EndpointError> {
    let configured = configured.trim();
    let (scheme, rest) =
        configured.split_once("://").ok_or_else(|| EndpointError::Scheme(configured.into()))?;
    let scheme = match scheme.to_ascii_lowercase().as_str() {
        "ws" | "http" => "ws",
        "wss" | "https" => "wss",
        _ => return Err(EndpointError::Scheme(configured.into())),
    };
    let (host, path) = match rest.find('/') {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    if host.is_empty() {
        return Err(EndpointError::NoHost(configured.into()));
    }
    let path = if path.is_empty() || path == "/" { "/ws" } else { path };
    Ok(format!("{scheme}://{host}{path}"))
}

/// The first usable of: the run-time file, the build-time setting, the
/// page's origin. A broken setting is reported and skipped rather than
/// leaving the page without any server.
pub fn choose(
    file: Option<&SiteConfig>,
    built_in: Option<&str>,
    page_protocol: &str,
    page_host: &str,
) -> (String, Vec<EndpointError>) {
    let mut problems = Vec::new();
    let candidates = file.and_then(|f| f.signaling_url.as_deref()).into_iter().chain(built_in);
    for candidate in candidates.filter(|c| !c.trim().is_empty()) {
        match normalize(candidate) {
            Ok(url) => return (url, problems),
            Err(err) => problems.push(err),
        }
    }
    (same_origin(page_protocol, page_host), problems)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_origin_follows_the_page_scheme() {
        assert_eq!(same_origin("https:", "noom.example.org"), "wss://noom.example.org/ws");
        assert_eq!(same_origin("http:", "127.0.0.1:3000"), "ws://127.0.0.1:3000/ws");
    }

    #[test]
    fn the_http_fallback_lives_beside_the_socket() {
        assert_eq!(http_base("wss://noom.example.org/ws"), "https://noom.example.org/ws");
        assert_eq!(http_base("ws://127.0.0.1:3000/custom/ws"), "http://127.0.0.1:3000/custom/ws");
    }

    #[test]
    fn normalize_accepts_http_and_ws_forms() {
        assert_eq!(normalize("https://noom.example.org").unwrap(), "wss://noom.example.org/ws");
        assert_eq!(normalize("http://127.0.0.1:3000/").unwrap(), "ws://127.0.0.1:3000/ws");
        assert_eq!(normalize(" wss://a.example/custom/ws ").unwrap(), "wss://a.example/custom/ws");
        assert_eq!(normalize("WS://h:1").unwrap(), "ws://h:1/ws");
    }

    #[test]
    fn normalize_rejects_what_a_browser_cannot_open() {
        assert!(matches!(normalize("noom.example.org"), Err(EndpointError::Scheme(_))));
        assert!(matches!(normalize("ftp://x"), Err(EndpointError::Scheme(_))));
        assert!(matches!(normalize("wss:///ws"), Err(EndpointError::NoHost(_))));
    }

    #[test]
    fn the_file_wins_over_the_build_and_the_build_over_the_origin() {
        let file = SiteConfig { signaling_url: Some("https://file.example".into()) };
        let (url, problems) = choose(Some(&file), Some("wss://built.example/ws"), "http:", "page");
        assert_eq!((url.as_str(), problems.len()), ("wss://file.example/ws", 0));
        let (url, _) = choose(None, Some("wss://built.example/ws"), "http:", "page");
        assert_eq!(url, "wss://built.example/ws");
        let (url, _) = choose(Some(&SiteConfig::default()), Some(""), "http:", "page:8080");
        assert_eq!(url, "ws://page:8080/ws");
    }

    #[test]
    fn a_broken_setting_is_reported_and_the_next_one_used() {
        let file = SiteConfig { signaling_url: Some("not a url".into()) };
        let (url, problems) = choose(Some(&file), None, "https:", "page");
        assert_eq!(url, "wss://page/ws");
        assert_eq!(problems, vec![EndpointError::Scheme("not a url".into())]);
    }

    #[test]
    fn the_config_file_parses_and_ignores_unknown_keys() {
        let parsed: SiteConfig =
            serde_json::from_str(r#"{"signaling_url":"wss://x/ws","theme":"dark"}"#).unwrap();
        assert_eq!(parsed.signaling_url.as_deref(), Some("wss://x/ws"));
        assert_eq!(serde_json::from_str::<SiteConfig>("{}").unwrap(), SiteConfig::default());
    }
}
