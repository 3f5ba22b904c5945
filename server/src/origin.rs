//! Which web pages may open the signaling socket. Browsers send `Origin` on
//! every WebSocket handshake but do not apply the same-origin policy to
//! WebSockets, so without this check any site a user visits could join
//! rooms in their name (cross-site WebSocket hijacking).

/// The server's own origin is always allowed; so are the ones listed (a
/// static build hosted elsewhere, say). `*` allows every origin.
#[derive(Clone, Debug, Default)]
pub struct OriginPolicy {
    allowed: Vec<String>,
    any: bool,
}

#[derive(Debug, PartialEq, Eq)]
pub enum Verdict {
    Allowed,
    /// No `Origin` header: not a browser page (a CLI, a test, a load
    /// generator), which has no ambient cookies or session to abuse.
    NoOrigin,
    Refused,
}

impl OriginPolicy {
    pub fn new(allowed: &[String]) -> Self {
        let any = allowed.iter().any(|o| o.trim() == "*");
        let allowed = allowed.iter().filter(|o| o.trim() != "*").filter_map(|o| normalize(o)).collect();
        OriginPolicy { allowed, any }
    }

    /// `host` is the request's `Host` header: a page served by this server
    /// has an origin whose authority is that host, whatever the scheme a
    /// TLS-terminating proxy may have changed.
    pub fn check(&self, origin: Option<&str>, host: Option<&str>) -> Verdict {
        let Some(origin) = origin else { return Verdict::NoOrigin };
        if self.any {
            return Verdict::Allowed;
        }
        let Some(origin) = normalize(origin) else { return Verdict::Refused };
        if self.allowed.contains(&origin) {
            return Verdict::Allowed;
        }
        let same_host = host.is_some_and(|host| {
            let (scheme, authority) = origin.split_once("://").unwrap_or(("", &origin));
            without_default_port(scheme, authority)
                == without_default_port(scheme, &host.to_ascii_lowercase())
        });
        if same_host {
            Verdict::Allowed
        } else {
            Verdict::Refused
        }
    }
}

/// `scheme://host[:port]`, lower-case, without a trailing slash; `None` for
/// what cannot be a web origin (including the opaque `null`).
fn normalize(origin: &str) -> Option<String> {
    let origin = origin.trim().trim_end_matches('/').to_ascii_lowercase();
    let (scheme, authority) = origin.split_once("://")?;
    if !matches!(scheme, "http" | "https") || authority.is_empty() || authority.contains('/') {
        return None;
    }
    Some(format!("{scheme}://{}", without_default_port(scheme, authority)))
}

fn without_default_port<'a>(scheme: &str, authority: &'a str) -> &'a str {
    let default = if scheme == "https" { ":443" } else { ":80" };
    authority.strip_suffix(default).unwrap_or(authority)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(allowed: &[&str]) -> OriginPolicy {
        OriginPolicy::new(&allowed.iter().map(|s| s.to_string()).collect::<Vec<_>>())
    }

    #[test]
    fn same_origin_is_allowed_by_default() {
        let p = policy(&[]);
        assert_eq!(p.check(Some("http://127.0.0.1:3000"), Some("127.0.0.1:3000")), Verdict::Allowed);
        assert_eq!(p.check(Some("https://Noom.Example.org"), Some("noom.example.org")), Verdict::Allowed);
        assert_eq!(p.check(Some("https://noom.example.org"), Some("noom.example.org:443")), Verdict::Allowed);
    }

    #[test]
    fn another_site_is_refused() {
        let p = policy(&[]);
        assert_eq!(p.check(Some("https://evil.example"), Some("noom.example.org")), Verdict::Refused);
        assert_eq!(p.check(Some("http://127.0.0.1:3001"), Some("127.0.0.1:3000")), Verdict::Refused);
        assert_eq!(p.check(Some("null"), Some("noom.example.org")), Verdict::Refused);
        assert_eq!(p.check(Some("https://evil.example"), None), Verdict::Refused);
    }

    #[test]
    fn listed_origins_are_allowed() {
        let p = policy(&["https://static.example/", "HTTP://127.0.0.1:8080"]);
        assert_eq!(p.check(Some("https://static.example"), Some("api.example")), Verdict::Allowed);
        assert_eq!(p.check(Some("http://127.0.0.1:8080"), Some("127.0.0.1:3000")), Verdict::Allowed);
        assert_eq!(p.check(Some("https://static.example:443"), Some("api.example")), Verdict::Allowed);
        assert_eq!(p.check(Some("http://static.example"), Some("api.example")), Verdict::Refused);
    }

    #[test]
    fn star_allows_any_and_no_origin_is_not_a_page() {
        assert_eq!(policy(&["*"]).check(Some("https://x.example"), Some("y")), Verdict::Allowed);
        assert_eq!(policy(&[]).check(None, Some("y")), Verdict::NoOrigin);
    }

    #[test]
    fn unusable_entries_are_dropped() {
        let p = policy(&["static.example", "ftp://x", "https://a.example/path"]);
        assert!(p.allowed.is_empty());
    }
}
