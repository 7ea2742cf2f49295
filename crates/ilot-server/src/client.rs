//! Who is asking. A request's client is the peer's address or — only when the peer is a
//! configured proxy (`ilot server --trusted-proxy`) — the address that proxy wrote in
//! `X-Forwarded-For`: the right-most entry that is not itself a trusted proxy. Anybody else's
//! `X-Forwarded-For` is ignored, so a client cannot choose the address it is counted under.
//!
//! Limits count a client's *network*: an IPv4 address, or the /64 of an IPv6 address (what one
//! subscriber gets, so walking through one's own /64 buys nothing). Behind a proxy each client
//! has its own count, so one noisy address does not lock everybody out.
//!
//! The client is worked out once per request by [`scope`], a middleware on the whole router;
//! handlers take it as an extractor ([`Client`]) or, inside the operator session check,
//! through [`current`].

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts, Request, State};
use axum::http::HeaderMap;
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::Response;
use ipnet::IpNet;

use crate::http::AppState;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Client {
    /// The client's address (an IPv4-mapped IPv6 address is taken as the IPv4 one).
    pub ip: IpAddr,
    /// The trusted proxy the request came through, if it did.
    pub via: Option<IpAddr>,
}

tokio::task_local! {
    static CLIENT: Client;
}

impl Client {
    /// Where nothing is known of the peer (a router served without connection information):
    /// every such request shares one count, which errs on the strict side.
    pub const UNKNOWN: Client = Client {
        ip: IpAddr::V4(Ipv4Addr::UNSPECIFIED),
        via: None,
    };

    /// The client of a request from `peer` with these headers.
    pub fn resolve(peer: IpAddr, headers: &HeaderMap, trusted: &[IpNet]) -> Self {
        let peer = canonical(peer);
        if !is_trusted(peer, trusted) {
            return Self {
                ip: peer,
                via: None,
            };
        }
        // Each proxy appends the address it received from, so the right end is the nearest.
        let entries: Vec<&str> = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .collect();
        for e in entries.iter().rev() {
            match parse_entry(e) {
                Some(ip) if is_trusted(ip, trusted) => continue,
                Some(ip) => {
                    return Self {
                        ip,
                        via: Some(peer),
                    };
                }
                // An entry the proxy did not write well: stop at what is known for sure.
                None => break,
            }
        }
        Self {
            ip: peer,
            via: None,
        }
    }

    /// The network limits count: the address itself for IPv4, its /64 for IPv6.
    pub fn network(&self) -> String {
        match self.ip {
            IpAddr::V4(v4) => v4.to_string(),
            IpAddr::V6(v6) => {
                let s = v6.segments();
                format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        }
    }
}

/// As written in the audit log: `203.0.113.7`, or `203.0.113.7 via 10.0.0.2`.
impl fmt::Display for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.via {
            Some(p) => write!(f, "{} via {p}", self.ip),
            None => write!(f, "{}", self.ip),
        }
    }
}

fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

fn is_trusted(ip: IpAddr, trusted: &[IpNet]) -> bool {
    trusted.iter().any(|n| n.contains(&ip))
}

/// An `X-Forwarded-For` entry: an address, possibly with a port (`1.2.3.4:5678`, `[::1]:80`).
fn parse_entry(e: &str) -> Option<IpAddr> {
    e.parse::<IpAddr>()
        .ok()
        .or_else(|| e.parse::<SocketAddr>().ok().map(|s| s.ip()))
        .map(canonical)
}

/// Middleware over the whole router: works out the client once and makes it available to the
/// extractor and, for the rest of the request, to [`current`].
pub(crate) async fn scope(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let client = match req.extensions().get::<ConnectInfo<SocketAddr>>() {
        Some(ConnectInfo(peer)) => {
            Client::resolve(peer.ip(), req.headers(), &state.0.config.trusted_proxies)
        }
        None => Client::UNKNOWN,
    };
    req.extensions_mut().insert(client);
    CLIENT.scope(client, next.run(req)).await
}

/// The client of the request being handled (on its task; not on the blocking pool).
pub(crate) fn current() -> Client {
    CLIENT.try_with(|c| *c).unwrap_or(Client::UNKNOWN)
}

impl<S: Send + Sync> FromRequestParts<S> for Client {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(parts
            .extensions
            .get::<Client>()
            .copied()
            .unwrap_or(Client::UNKNOWN))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn xff(v: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in v {
            h.append("x-forwarded-for", v.parse().unwrap());
        }
        h
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn forwarded_for_is_read_only_from_a_trusted_proxy() {
        let trusted: Vec<IpNet> = vec!["10.0.0.0/8".parse().unwrap()];
        let h = xff(&["198.51.100.9"]);
        let untrusted = Client::resolve(ip("203.0.113.5"), &h, &trusted);
        assert_eq!(untrusted.ip, ip("203.0.113.5"), "header ignored");
        assert_eq!(untrusted.via, None);
        let proxied = Client::resolve(ip("10.1.2.3"), &h, &trusted);
        assert_eq!(proxied.ip, ip("198.51.100.9"));
        assert_eq!(proxied.to_string(), "198.51.100.9 via 10.1.2.3");
        // No proxy configured: nobody's header counts, loopback included.
        assert_eq!(
            Client::resolve(ip("127.0.0.1"), &h, &[]).ip,
            ip("127.0.0.1")
        );
    }

    #[test]
    fn the_right_most_address_that_is_not_a_proxy_is_the_client() {
        let trusted: Vec<IpNet> = vec!["10.0.0.0/8".parse().unwrap()];
        // The client wrote a fake first entry; our two proxies appended what they saw.
        let h = xff(&["1.1.1.1, 198.51.100.9", "10.0.0.7"]);
        let c = Client::resolve(ip("10.0.0.1"), &h, &trusted);
        assert_eq!(c.ip, ip("198.51.100.9"));
        // Ports and IPv4-mapped addresses are read as the plain address.
        let c = Client::resolve(
            ip("::ffff:10.0.0.1"),
            &xff(&["198.51.100.9:4242"]),
            &trusted,
        );
        assert_eq!((c.ip, c.via), (ip("198.51.100.9"), Some(ip("10.0.0.1"))));
        // Garbage where the proxy should have written an address: the proxy is the client.
        let c = Client::resolve(ip("10.0.0.1"), &xff(&["1.1.1.1, nonsense"]), &trusted);
        assert_eq!((c.ip, c.via), (ip("10.0.0.1"), None));
        // No header at all: the proxy itself.
        let c = Client::resolve(ip("10.0.0.1"), &HeaderMap::new(), &trusted);
        assert_eq!(c.ip, ip("10.0.0.1"));
    }

    #[test]
    fn ipv6_clients_are_counted_by_their_64() {
        let net = |s: &str| {
            Client {
                ip: ip(s),
                via: None,
            }
            .network()
        };
        assert_eq!(net("2001:db8:1:2:aaaa::1"), "2001:db8:1:2::/64");
        assert_eq!(net("2001:db8:1:2:ffff:ffff:ffff:ffff"), "2001:db8:1:2::/64");
        assert_ne!(net("2001:db8:1:3::1"), net("2001:db8:1:2::1"));
        assert_eq!(net("203.0.113.5"), "203.0.113.5");
        assert_ne!(net("203.0.113.5"), net("203.0.113.6"));
    }
}
