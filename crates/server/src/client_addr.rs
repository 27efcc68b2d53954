//! The address a request comes from, as the rate limits and throttles count
//! it. Behind a reverse proxy every request arrives from the proxy, so the
//! client's own address is read from `Forwarded` or `X-Forwarded-For`, but
//! only when the peer is one of the `--trusted-proxies`: anyone else could
//! write any address there.

use std::net::{IpAddr, Ipv6Addr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::HeaderMap;
use axum::http::request::Parts;
use ipnet::IpNet;

use crate::state::AppState;

/// The client's address; extract it in any handler (infallible).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddr(pub IpAddr);

impl ClientAddr {
    /// What counts as one client: an IPv4 address, or an IPv6 /64 (one
    /// subscriber's network, in which an address costs nothing to change).
    pub fn bucket(self) -> IpAddr {
        match self.0 {
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => IpAddr::V4(v4),
                None => {
                    let mut segments = v6.segments();
                    segments[4..].fill(0);
                    IpAddr::V6(Ipv6Addr::from(segments))
                }
            },
            v4 => v4,
        }
    }

    /// The client of a request from `peer` with `headers`.
    pub fn resolve(peer: Option<IpAddr>, headers: &HeaderMap, trusted: &[IpNet]) -> Self {
        let Some(peer) = peer else {
            // In-process requests (tests through `oneshot`) have no peer.
            return Self(IpAddr::from([0, 0, 0, 0]));
        };
        let is_trusted = |ip: &IpAddr| trusted.iter().any(|net| net.contains(&unmapped(*ip)));
        if !is_trusted(&peer) {
            return Self(peer);
        }
        // The hops as the proxies appended them, the nearest last: the first
        // one from the right that is not a trusted proxy is the client (when
        // all are, the farthest of them).
        let hops = forwarded_hops(headers);
        let client = hops.iter().rev().find(|ip| !is_trusted(ip)).or(hops.first());
        Self(client.copied().unwrap_or(peer))
    }

    fn of(parts: &Parts, state: &AppState) -> Self {
        let peer = parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip());
        Self::resolve(peer, &parts.headers, &state.config.trusted_proxies)
    }
}

impl FromRequestParts<AppState> for ClientAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        Ok(Self::of(parts, state))
    }
}

fn unmapped(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// Every address in `Forwarded: for=…` (RFC 7239) or, when there is none,
/// `X-Forwarded-For`, in order. A value that is not an address (`unknown`,
/// an obfuscated name) ends the list there: what stands left of it cannot
/// be told apart from what the client wrote.
fn forwarded_hops(headers: &HeaderMap) -> Vec<IpAddr> {
    let forwarded: Vec<&str> = headers.get_all("forwarded").iter().filter_map(|v| v.to_str().ok()).collect();
    let values: Vec<String> = if forwarded.is_empty() {
        headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(|v| v.trim().to_owned())
            .collect()
    } else {
        forwarded
            .iter()
            .flat_map(|v| v.split(','))
            .map(|element| {
                element
                    .split(';')
                    .filter_map(|pair| pair.trim().split_once('='))
                    .find(|(name, _)| name.eq_ignore_ascii_case("for"))
                    .map(|(_, value)| value.trim().trim_matches('"').to_owned())
                    .unwrap_or_default()
            })
            .collect()
    };
    let mut hops = Vec::with_capacity(values.len());
    for value in values.iter().rev() {
        match parse_node(value) {
            Some(ip) => hops.push(ip),
            None => break,
        }
    }
    hops.reverse();
    hops
}

/// `1.2.3.4`, `1.2.3.4:80`, `[2001:db8::1]`, `[2001:db8::1]:80` or `2001:db8::1`.
fn parse_node(text: &str) -> Option<IpAddr> {
    if let Ok(ip) = text.parse::<IpAddr>() {
        return Some(ip);
    }
    if let Some(rest) = text.strip_prefix('[') {
        return rest.split_once(']').and_then(|(ip, _)| ip.parse().ok());
    }
    text.parse::<SocketAddr>().ok().map(|s| s.ip())
}

/// `--trusted-proxies`: CIDR blocks or single addresses, separated by commas.
pub fn parse_trusted(text: &str) -> Result<Vec<IpNet>, String> {
    text.split(',')
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(|t| {
            t.parse::<IpNet>()
                .or_else(|_| t.parse::<IpAddr>().map(IpNet::from))
                .map_err(|_| format!("{t:?} is not an address or a CIDR block such as 10.0.0.0/8"))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, HeaderValue::from_str(value).unwrap());
        }
        map
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn forwarded_headers_count_only_from_trusted_proxies() {
        let trusted = parse_trusted("10.0.0.0/8, 192.0.2.7").unwrap();
        let h = headers(&[("x-forwarded-for", "203.0.113.9")]);
        assert_eq!(ClientAddr::resolve(Some(ip("198.51.100.1")), &h, &trusted).0, ip("198.51.100.1"));
        assert_eq!(ClientAddr::resolve(Some(ip("10.1.2.3")), &h, &trusted).0, ip("203.0.113.9"));
        assert_eq!(ClientAddr::resolve(Some(ip("192.0.2.7")), &h, &trusted).0, ip("203.0.113.9"));
        assert_eq!(ClientAddr::resolve(Some(ip("10.1.2.3")), &h, &[]).0, ip("10.1.2.3"), "no proxy trusted");
    }

    #[test]
    fn the_client_is_the_first_untrusted_hop_from_the_right() {
        let trusted = parse_trusted("10.0.0.0/8").unwrap();
        // The client wrote a fake first hop; the proxies appended the real ones.
        let h = headers(&[("x-forwarded-for", "1.1.1.1, 203.0.113.9"), ("x-forwarded-for", "10.0.0.5")]);
        assert_eq!(ClientAddr::resolve(Some(ip("10.0.0.1")), &h, &trusted).0, ip("203.0.113.9"));
        let only_proxies = headers(&[("x-forwarded-for", "10.0.0.9")]);
        assert_eq!(ClientAddr::resolve(Some(ip("10.0.0.1")), &only_proxies, &trusted).0, ip("10.0.0.9"));
        let nothing = headers(&[]);
        assert_eq!(ClientAddr::resolve(Some(ip("10.0.0.1")), &nothing, &trusted).0, ip("10.0.0.1"));
    }

    #[test]
    fn forwarded_wins_over_x_forwarded_for_and_takes_its_forms() {
        let trusted = parse_trusted("10.0.0.0/8").unwrap();
        let h = headers(&[
            ("forwarded", "for=192.0.2.60;proto=https, For=\"[2001:db8:cafe::17]:4711\""),
            ("x-forwarded-for", "198.51.100.3"),
        ]);
        assert_eq!(ClientAddr::resolve(Some(ip("10.0.0.1")), &h, &trusted).0, ip("2001:db8:cafe::17"));
        let hidden = headers(&[("forwarded", "for=192.0.2.60, for=unknown")]);
        assert_eq!(ClientAddr::resolve(Some(ip("10.0.0.1")), &hidden, &trusted).0, ip("10.0.0.1"));
        let port = headers(&[("forwarded", "for=\"192.0.2.61:8080\"")]);
        assert_eq!(ClientAddr::resolve(Some(ip("10.0.0.1")), &port, &trusted).0, ip("192.0.2.61"));
    }

    #[test]
    fn ipv6_clients_count_per_64() {
        assert_eq!(ClientAddr(ip("2001:db8:1:2:aaaa::1")).bucket(), ip("2001:db8:1:2::"));
        assert_eq!(ClientAddr(ip("2001:db8:1:2:ffff::9")).bucket(), ClientAddr(ip("2001:db8:1:2::5")).bucket());
        assert_ne!(ClientAddr(ip("2001:db8:1:3::1")).bucket(), ClientAddr(ip("2001:db8:1:2::1")).bucket());
        assert_eq!(ClientAddr(ip("::ffff:192.0.2.1")).bucket(), ip("192.0.2.1"));
        assert_eq!(ClientAddr(ip("192.0.2.1")).bucket(), ip("192.0.2.1"));
    }

    #[test]
    fn trusted_proxies_parse_or_say_what_is_wrong() {
        assert_eq!(parse_trusted("").unwrap(), vec![]);
        assert_eq!(parse_trusted("127.0.0.1, ::1/128").unwrap().len(), 2);
        assert!(parse_trusted("10.0.0.0/33").unwrap_err().contains("10.0.0.0/33"));
        assert!(parse_trusted("proxy.local").is_err());
    }
}
