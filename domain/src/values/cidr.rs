//! An entry of an IP allowlist (SECURITY.md "Network"): an IPv4 or IPv6
//! address or CIDR network.
//!
//! Parsing is strict: the address goes through the standard library's
//! parser (which, unlike `ipnet`, refuses leading zeros such as
//! `010.1.1.1`), the prefix must be a plain decimal within range, and an
//! IPv6 entry is written in hex (`::ffff:a01:203`, not `::ffff:10.1.2.3`;
//! write IPv4 entries as IPv4). The stored form has the host bits cleared
//! (`10.1.2.3/8` is kept as `10.0.0.0/8`); a bare address is a /32 or
//! /128. Client addresses are compared in canonical form, so an
//! IPv4-mapped IPv6 peer (`::ffff:10.1.2.3`) matches `10.0.0.0/8`; an
//! IPv4-mapped entry is kept as the IPv4 network it is (`::ffff:a01:203`
//! is `10.1.2.3/32`), or it could never match.

use std::{fmt, net::IpAddr, str::FromStr};

use ipnet::IpNet;

#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Cidr(IpNet);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("is not an IPv4 or IPv6 address or CIDR network such as 192.0.2.0/24 or 2001:db8::/32")]
pub struct InvalidCidr;

/// The OpenAPI pattern of an allowlist entry; a test keeps it in step with
/// [`Cidr::parse`].
pub const CIDR_PATTERN: &str = concat!(
    r"^(((25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])\.){3}(25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])(/(3[0-2]|[12]?[0-9]))?",
    r"|(",
    r"([0-9A-Fa-f]{1,4}:){7}[0-9A-Fa-f]{1,4}",
    r"|([0-9A-Fa-f]{1,4}:){1,7}:",
    r"|([0-9A-Fa-f]{1,4}:){1,6}:[0-9A-Fa-f]{1,4}",
    r"|([0-9A-Fa-f]{1,4}:){1,5}(:[0-9A-Fa-f]{1,4}){1,2}",
    r"|([0-9A-Fa-f]{1,4}:){1,4}(:[0-9A-Fa-f]{1,4}){1,3}",
    r"|([0-9A-Fa-f]{1,4}:){1,3}(:[0-9A-Fa-f]{1,4}){1,4}",
    r"|([0-9A-Fa-f]{1,4}:){1,2}(:[0-9A-Fa-f]{1,4}){1,5}",
    r"|[0-9A-Fa-f]{1,4}:(:[0-9A-Fa-f]{1,4}){1,6}",
    r"|:((:[0-9A-Fa-f]{1,4}){1,7}|:)",
    r")(/(12[0-8]|1[01][0-9]|[1-9]?[0-9]))?)$"
);

impl Cidr {
    /// # Errors
    /// `InvalidCidr` unless `raw` matches [`CIDR_PATTERN`].
    pub fn parse(raw: &str) -> Result<Self, InvalidCidr> {
        let (address, prefix) = match raw.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (raw, None),
        };
        let address = IpAddr::from_str(address).map_err(|_| InvalidCidr)?;
        // IPv4 written inside IPv6 is refused: write it as IPv4.
        if address.is_ipv6() && raw.contains('.') {
            return Err(InvalidCidr);
        }
        let max = if address.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => max,
            Some(p) => {
                let plain = !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) && (p == "0" || !p.starts_with('0'));
                let p: u8 = p.parse().ok().filter(|_| plain).ok_or(InvalidCidr)?;
                if p > max {
                    return Err(InvalidCidr);
                }
                p
            }
        };
        let net = IpNet::new(address, prefix).map_err(|_| InvalidCidr)?.trunc();
        Ok(Self(match net {
            IpNet::V6(v6) if prefix >= 96 => match v6.network().to_ipv4_mapped() {
                Some(v4) => IpNet::new(IpAddr::V4(v4), prefix - 96).map_err(|_| InvalidCidr)?,
                None => net,
            },
            _ => net,
        }))
    }

    /// Whether every address of `other` is inside this network.
    #[must_use]
    pub fn covers(&self, other: &Cidr) -> bool {
        self.0.contains(&other.0)
    }

    /// Whether `client` is inside the network, comparing canonical forms.
    #[must_use]
    pub fn contains(&self, client: IpAddr) -> bool {
        self.0.contains(&client.to_canonical())
    }
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl fmt::Debug for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Cidr({})", self.0)
    }
}

/// Whether `client` may come in under `allowlist`: always when the list
/// is empty, else only from one of its networks. An unknown client address
/// is refused by a non-empty list.
#[must_use]
pub fn allowed(allowlist: &[Cidr], client: Option<IpAddr>) -> bool {
    allowlist.is_empty() || client.is_some_and(|ip| allowlist.iter().any(|net| net.contains(ip)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn canonical(raw: &str) -> Result<String, InvalidCidr> {
        Cidr::parse(raw).map(|c| c.to_string())
    }

    #[test]
    fn entries_are_kept_canonical_with_host_bits_cleared() {
        for (raw, want) in [
            ("192.0.2.0/24", "192.0.2.0/24"),
            ("10.1.2.3/8", "10.0.0.0/8"),
            ("203.0.113.7", "203.0.113.7/32"),
            ("0.0.0.0/0", "0.0.0.0/0"),
            ("2001:DB8::1/32", "2001:db8::/32"),
            ("2001:db8:0:0:0:0:0:1", "2001:db8::1/128"),
            ("::/0", "::/0"),
            ("::1", "::1/128"),
            ("fe80::1:2/64", "fe80::/64"),
            ("::ffff:a01:203", "10.1.2.3/32"),
            ("::ffff:a01:203/120", "10.1.2.0/24"),
            ("::ffff:0:0/96", "0.0.0.0/0"),
        ] {
            assert_eq!(canonical(raw).as_deref(), Ok(want), "{raw}");
        }
    }

    #[test]
    fn sloppy_or_ambiguous_entries_are_refused() {
        for raw in [
            "",
            "010.1.1.1",
            "10.1.1.1/08",
            "10.1.1.1/33",
            "10.1.1/24",
            "10.1.1.1/",
            "10.1.1.1/+8",
            "256.1.1.1",
            "2001:db8::/129",
            "2001:db8::/032",
            "::ffff:10.1.2.3",
            "fe80::1%eth0",
            " 10.1.1.1",
            "10.1.1.1/24/8",
            "example.com",
        ] {
            assert_eq!(Cidr::parse(raw), Err(InvalidCidr), "{raw:?}");
        }
    }

    #[test]
    fn mapped_ipv6_clients_match_ipv4_networks() {
        let net = Cidr::parse("10.0.0.0/8").unwrap();
        assert!(net.contains("10.1.2.3".parse().unwrap()));
        assert!(net.contains("::ffff:10.1.2.3".parse().unwrap()));
        assert!(!net.contains("11.1.2.3".parse().unwrap()));
        assert!(!net.contains("::ffff:11.1.2.3".parse().unwrap()));
        let mapped_entry = Cidr::parse("::ffff:a01:200/120").unwrap();
        assert!(
            mapped_entry.contains("10.1.2.3".parse().unwrap())
                && mapped_entry.contains("::ffff:10.1.2.3".parse().unwrap())
        );
    }

    #[test]
    fn an_empty_list_allows_everyone_and_a_list_only_its_networks() {
        let list = [Cidr::parse("192.0.2.0/24").unwrap(), Cidr::parse("2001:db8::/32").unwrap()];
        assert!(allowed(&[], None));
        assert!(allowed(&list, Some("192.0.2.77".parse().unwrap())));
        assert!(allowed(&list, Some("2001:db8::5".parse().unwrap())));
        assert!(!allowed(&list, Some("198.51.100.1".parse().unwrap())));
        assert!(!allowed(&list, None));
    }

    #[test]
    fn the_pattern_accepts_exactly_what_parse_accepts() {
        let pattern = regex::Regex::new(CIDR_PATTERN).unwrap();
        let samples = [
            "192.0.2.0/24",
            "10.1.2.3/8",
            "203.0.113.7",
            "0.0.0.0/0",
            "255.255.255.255/32",
            "2001:DB8::1/32",
            "2001:db8:0:0:0:0:0:1",
            "::/0",
            "::1",
            "fe80::1:2/64",
            "1::",
            "1:2:3:4:5:6:7::",
            "::2:3:4:5:6:7:8",
            "1:2:3:4:5:6::8",
            "1::8/128",
            "",
            "010.1.1.1",
            "10.1.1.1/08",
            "10.1.1.1/33",
            "10.1.1/24",
            "10.1.1.1/",
            "256.1.1.1",
            "2001:db8::/129",
            "2001:db8::/032",
            "::ffff:10.1.2.3",
            "fe80::1%eth0",
            " 10.1.1.1",
            "1:2:3:4:5:6:7:8:9",
            "1::2::3",
            ":1",
            "1:",
            "12345::",
            "10.1.1.1/24/8",
            "01.2.3.4",
            "1.2.3.04",
        ];
        for s in samples {
            assert_eq!(pattern.is_match(s), Cidr::parse(s).is_ok(), "{s:?}");
        }
    }
}
