//! The client's address (SECURITY.md "Network"): the socket peer, unless
//! the peer is a configured trusted proxy; then the right-most address in
//! the one forwarding header the proxies are configured to write
//! (`X-Forwarded-For` or `Forwarded`) that is not itself a trusted proxy.
//! Never the left-most value, which the client writes itself, and never
//! the other header, which a proxy that does not write it passes through
//! from the client. A hop that does not parse ends the walk: what stands
//! left of it cannot be trusted, so the proxy that received it is taken.

use std::net::IpAddr;

use actix_web::{FromRequest, HttpRequest, dev::Payload, web};
use ipnet::IpNet;

/// Which header the trusted proxies write.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ForwardedHeader {
    #[default]
    XForwardedFor,
    /// RFC 7239.
    Forwarded,
}

/// The networks whose forwarding header is believed, and which header.
#[derive(Debug, Clone, Default)]
pub struct TrustedProxies {
    pub networks: Vec<IpNet>,
    pub header: ForwardedHeader,
}

impl TrustedProxies {
    fn trusts(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        self.networks.iter().any(|net| net.contains(&ip))
    }

    /// The client address of a request from `peer` carrying these hops
    /// (outermost first, as written; `None` for a hop that did not parse).
    #[must_use]
    pub fn client(&self, peer: IpAddr, hops: &[Option<IpAddr>]) -> IpAddr {
        let mut nearest = peer.to_canonical();
        if !self.trusts(nearest) {
            return nearest;
        }
        for hop in hops.iter().rev() {
            match hop.map(|ip| ip.to_canonical()) {
                Some(ip) if self.trusts(ip) => nearest = ip,
                Some(ip) => return ip,
                None => return nearest,
            }
        }
        nearest
    }
}

/// The address the request came from, for logs and access checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientIp(pub Option<IpAddr>);

fn header_values<'a>(req: &'a HttpRequest, name: &str) -> impl Iterator<Item = &'a str> {
    req.headers().get_all(name).map(|v| v.to_str().unwrap_or("")).flat_map(|v| v.split(','))
}

/// The hops of the configured header, outermost first.
fn hops(req: &HttpRequest, header: ForwardedHeader) -> Vec<Option<IpAddr>> {
    match header {
        ForwardedHeader::XForwardedFor => {
            header_values(req, "x-forwarded-for").map(|s| s.trim().parse().ok()).collect()
        }
        // RFC 7239: for="[2001:db8::1]:4711" or for=192.0.2.1
        ForwardedHeader::Forwarded => header_values(req, "forwarded")
            .map(|element| {
                let value = element.split(';').find_map(|pair| {
                    let (key, value) = pair.trim().split_once('=')?;
                    key.eq_ignore_ascii_case("for").then(|| value.trim_matches('"'))
                })?;
                let host = match value.strip_prefix('[') {
                    Some(rest) => rest.split(']').next()?,
                    None => value.split(':').next()?,
                };
                host.parse().ok()
            })
            .collect(),
    }
}

/// The client address of `req` under the configured trusted proxies.
#[must_use]
pub fn client_ip(req: &HttpRequest) -> Option<IpAddr> {
    let trusted = req.app_data::<web::Data<TrustedProxies>>();
    let peer = req.peer_addr()?.ip();
    Some(match trusted {
        Some(t) => t.client(peer, &hops(req, t.header)),
        None => peer.to_canonical(),
    })
}

impl FromRequest for ClientIp {
    type Error = actix_web::Error;
    type Future = std::future::Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(Ok(ClientIp(client_ip(req))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn trusted() -> TrustedProxies {
        TrustedProxies { networks: vec!["10.0.0.0/8".parse().unwrap()], header: ForwardedHeader::XForwardedFor }
    }

    #[test]
    fn a_direct_client_cannot_forge_its_address() {
        assert_eq!(trusted().client(ip("203.0.113.9"), &[Some(ip("198.51.100.1"))]), ip("203.0.113.9"));
    }

    #[test]
    fn behind_proxies_the_rightmost_untrusted_hop_is_the_client() {
        // The client wrote 1.1.1.1 itself; 203.0.113.9 is what our proxy saw.
        let hops = [Some(ip("1.1.1.1")), Some(ip("203.0.113.9")), Some(ip("10.0.0.2"))];
        assert_eq!(trusted().client(ip("10.0.0.1"), &hops), ip("203.0.113.9"));
    }

    #[test]
    fn an_unparsable_hop_ends_the_walk_at_the_proxy_that_received_it() {
        let hops = [Some(ip("1.1.1.1")), None, Some(ip("10.0.0.2"))];
        assert_eq!(trusted().client(ip("10.0.0.1"), &hops), ip("10.0.0.2"));
    }

    #[test]
    fn mapped_ipv4_addresses_are_canonical() {
        assert_eq!(trusted().client(ip("::ffff:10.0.0.1"), &[Some(ip("::ffff:192.0.2.7"))]), ip("192.0.2.7"));
    }
}
