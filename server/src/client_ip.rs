//! Who a request really comes from. Behind a reverse proxy every TCP
//! connection has the proxy's address; the client's is in `Forwarded`
//! (RFC 7239) or `X-Forwarded-For`. Those headers are anyone's to write, so
//! they are read only when the connection comes from a proxy named in
//! `--trusted-proxy`, and then from the right: the nearest address that is
//! not one of our proxies is the client (what a client wrote itself stands
//! further left and is never taken).

use axum::http::HeaderMap;
use std::net::IpAddr;
use std::str::FromStr;

/// An address or a network (`10.0.0.0/8`, `::1`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Net {
    addr: IpAddr,
    prefix: u8,
}

#[derive(Debug, thiserror::Error)]
#[error("`{0}` is not an IP address or network (e.g. 10.0.0.1 or 10.0.0.0/8)")]
pub struct BadNet(String);

impl FromStr for Net {
    type Err = BadNet;

    fn from_str(s: &str) -> Result<Self, BadNet> {
        let bad = || BadNet(s.to_owned());
        let (addr, prefix) = match s.trim().split_once('/') {
            Some((addr, prefix)) => (addr, Some(prefix.parse::<u8>().map_err(|_| bad())?)),
            None => (s.trim(), None),
        };
        let addr: IpAddr = addr.parse().map_err(|_| bad())?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = prefix.unwrap_or(max);
        if prefix > max {
            return Err(bad());
        }
        Ok(Net { addr, prefix })
    }
}

impl Net {
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        match (canonical(self.addr), ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX.checked_shl(32 - u32::from(self.prefix)).unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX.checked_shl(128 - u32::from(self.prefix)).unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

/// `::ffff:10.0.0.1` is 10.0.0.1 (a dual-stack socket reports it so).
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

#[derive(Clone, Debug, Default)]
pub struct TrustedProxies(Vec<Net>);

impl TrustedProxies {
    pub fn new(nets: Vec<Net>) -> Self {
        TrustedProxies(nets)
    }

    pub fn is_trusted(&self, ip: IpAddr) -> bool {
        self.0.iter().any(|net| net.contains(ip))
    }

    /// The client's address for a request that reached us from `peer`.
    pub fn client_ip(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        if !self.is_trusted(peer) {
            return canonical(peer);
        }
        let hops = forwarded_for(headers);
        // Right to left: past our own proxies, the first other is the client.
        let mut client = canonical(peer);
        for hop in hops.iter().rev() {
            match hop {
                Some(ip) => {
                    client = canonical(*ip);
                    if !self.is_trusted(client) {
                        break;
                    }
                }
                // An unreadable or hidden hop ("unknown", an obfuscated
                // name): nothing to the left of it can be trusted.
                None => break,
            }
        }
        client
    }
}

/// The chain of client addresses the proxies wrote, leftmost first:
/// `Forwarded`'s `for=` when present, else `X-Forwarded-For`.
fn forwarded_for(headers: &HeaderMap) -> Vec<Option<IpAddr>> {
    let forwarded: Vec<Option<IpAddr>> = headers
        .get_all("forwarded")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|element| {
            element.split(';').find_map(|pair| {
                let (key, value) = pair.trim().split_once('=')?;
                key.trim().eq_ignore_ascii_case("for").then(|| parse_node(value.trim()))
            })
        })
        .collect();
    if !forwarded.is_empty() {
        return forwarded;
    }
    headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|hop| parse_node(hop.trim()))
        .collect()
}

/// `192.0.2.1`, `"[2001:db8::1]:4711"`, `192.0.2.1:4711`, `[::1]`.
fn parse_node(value: &str) -> Option<IpAddr> {
    let value = value.trim_matches('"');
    if let Ok(ip) = value.parse() {
        return Some(ip);
    }
    if let Some(rest) = value.strip_prefix('[') {
        return rest.split_once(']').and_then(|(ip, _)| ip.parse().ok());
    }
    value.rsplit_once(':').and_then(|(ip, _)| ip.parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn proxies(list: &[&str]) -> TrustedProxies {
        TrustedProxies::new(list.iter().map(|s| s.parse().unwrap()).collect())
    }

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (k, v) in pairs {
            map.append(*k, v.parse().unwrap());
        }
        map
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn networks_parse_and_match() {
        let net: Net = "10.0.0.0/8".parse().unwrap();
        assert!(net.contains(ip("10.200.1.1")));
        assert!(!net.contains(ip("11.0.0.1")));
        assert!(net.contains(ip("::ffff:10.0.0.7")));
        let one: Net = "::1".parse().unwrap();
        assert!(one.contains(ip("::1")) && !one.contains(ip("::2")));
        assert!("0.0.0.0/0".parse::<Net>().unwrap().contains(ip("203.0.113.9")));
        for bad in ["10.0.0.0/33", "proxy.local", "10.0.0.1/x", ""] {
            assert!(bad.parse::<Net>().is_err(), "{bad}");
        }
    }

    #[test]
    fn headers_from_anyone_else_are_ignored() {
        let none = TrustedProxies::default();
        let h = headers(&[("x-forwarded-for", "198.51.100.7")]);
        assert_eq!(none.client_ip(ip("203.0.113.9"), &h), ip("203.0.113.9"));
        let some = proxies(&["10.0.0.1"]);
        assert_eq!(some.client_ip(ip("203.0.113.9"), &h), ip("203.0.113.9"));
    }

    #[test]
    fn behind_a_trusted_proxy_the_nearest_untrusted_hop_is_the_client() {
        let p = proxies(&["10.0.0.0/8"]);
        let h = headers(&[("x-forwarded-for", "198.51.100.1, 203.0.113.9, 10.0.0.2")]);
        // The client may have written 198.51.100.1 itself; 203.0.113.9 is
        // what our first proxy saw.
        assert_eq!(p.client_ip(ip("10.0.0.1"), &h), ip("203.0.113.9"));
        // Only proxies in the chain: the leftmost.
        let h = headers(&[("x-forwarded-for", "10.0.0.9")]);
        assert_eq!(p.client_ip(ip("10.0.0.1"), &h), ip("10.0.0.9"));
        // No header: the proxy itself.
        assert_eq!(p.client_ip(ip("10.0.0.1"), &HeaderMap::new()), ip("10.0.0.1"));
        // Two header lines are one list.
        let h = headers(&[("x-forwarded-for", "203.0.113.1"), ("x-forwarded-for", "203.0.113.2")]);
        assert_eq!(p.client_ip(ip("10.0.0.1"), &h), ip("203.0.113.2"));
    }

    #[test]
    fn the_forwarded_header_wins_in_all_its_spellings() {
        let p = proxies(&["10.0.0.1"]);
        let h = headers(&[
            ("forwarded", r#"for=192.0.2.60;proto=http;by=203.0.113.43, For="[2001:db8:cafe::17]:4711""#),
            ("x-forwarded-for", "198.51.100.1"),
        ]);
        assert_eq!(p.client_ip(ip("10.0.0.1"), &h), ip("2001:db8:cafe::17"));
        let h = headers(&[("forwarded", "for=192.0.2.43:8080")]);
        assert_eq!(p.client_ip(ip("10.0.0.1"), &h), ip("192.0.2.43"));
        let h = headers(&[("forwarded", "for=unknown")]);
        assert_eq!(p.client_ip(ip("10.0.0.1"), &h), ip("10.0.0.1"));
    }
}
