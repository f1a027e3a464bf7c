//! The client's address (SECURITY.md "Network"): the socket peer, unless
//! the peer is a configured trusted proxy; then the right-most address in
//! `X-Forwarded-For` (or `Forwarded: for=`) that is not itself a trusted
//! proxy. Never the left-most value, which the client writes itself.

use std::net::IpAddr;

use actix_web::{FromRequest, HttpRequest, dev::Payload, web};
use ipnet::IpNet;

/// The networks whose forwarding headers are believed.
#[derive(Debug, Clone, Default)]
pub struct TrustedProxies(pub Vec<IpNet>);

impl TrustedProxies {
    fn trusts(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        self.0.iter().any(|net| net.contains(&ip))
    }

    /// The client address of a request from `peer` carrying these
    /// forwarding headers (outermost hop first, as they are written).
    #[must_use]
    pub fn client(&self, peer: IpAddr, forwarded_for: &[IpAddr]) -> IpAddr {
        if !self.trusts(peer) {
            return peer.to_canonical();
        }
        forwarded_for
            .iter()
            .rev()
            .map(|ip| ip.to_canonical())
            .find(|ip| !self.trusts(*ip))
            .or_else(|| forwarded_for.first().map(|ip| ip.to_canonical()))
            .unwrap_or_else(|| peer.to_canonical())
    }
}

/// The address the request came from, for logs and access checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientIp(pub Option<IpAddr>);

fn hops(req: &HttpRequest) -> Vec<IpAddr> {
    let headers = req.headers();
    let xff = headers.get_all("x-forwarded-for").filter_map(|v| v.to_str().ok()).flat_map(|v| v.split(','));
    let mut hops: Vec<IpAddr> = xff.filter_map(|s| s.trim().parse().ok()).collect();
    if hops.is_empty() {
        // RFC 7239: for="[2001:db8::1]:4711" or for=192.0.2.1
        hops = headers
            .get_all("forwarded")
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .filter_map(|element| {
                element.split(';').find_map(|pair| {
                    let (key, value) = pair.trim().split_once('=')?;
                    if !key.eq_ignore_ascii_case("for") {
                        return None;
                    }
                    let value = value.trim_matches('"');
                    let host = match value.strip_prefix('[') {
                        Some(rest) => rest.split(']').next()?,
                        None => value.split(':').next()?,
                    };
                    host.parse().ok()
                })
            })
            .collect();
    }
    hops
}

impl FromRequest for ClientIp {
    type Error = actix_web::Error;
    type Future = std::future::Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let trusted = req.app_data::<web::Data<TrustedProxies>>().map(|t| t.get_ref().clone()).unwrap_or_default();
        let ip = req.peer_addr().map(|peer| trusted.client(peer.ip(), &hops(req)));
        std::future::ready(Ok(ClientIp(ip)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn a_direct_client_cannot_forge_its_address() {
        let trusted = TrustedProxies(vec!["10.0.0.0/8".parse().unwrap()]);
        assert_eq!(trusted.client(ip("203.0.113.9"), &[ip("198.51.100.1")]), ip("203.0.113.9"));
    }

    #[test]
    fn behind_proxies_the_rightmost_untrusted_hop_is_the_client() {
        let trusted = TrustedProxies(vec!["10.0.0.0/8".parse().unwrap()]);
        // The client wrote 1.1.1.1 itself; 203.0.113.9 is what our proxy saw.
        let hops = [ip("1.1.1.1"), ip("203.0.113.9"), ip("10.0.0.2")];
        assert_eq!(trusted.client(ip("10.0.0.1"), &hops), ip("203.0.113.9"));
    }

    #[test]
    fn mapped_ipv4_addresses_are_canonical() {
        let trusted = TrustedProxies(vec!["10.0.0.0/8".parse().unwrap()]);
        assert_eq!(trusted.client(ip("::ffff:10.0.0.1"), &[ip("::ffff:192.0.2.7")]), ip("192.0.2.7"));
    }
}
