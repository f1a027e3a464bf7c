//! Desk phones (PRODUCT.md rule 3): known by their MAC address, with a
//! vendor, a model and a number of line ports. A device serves at most one
//! user and a user holds at most one device; storage enforces both with
//! UNIQUE constraints, so concurrent assignments cannot break the rule.

use std::fmt;

use uuid::Uuid;

use crate::values::Label;

/// A MAC address, accepted in the common spellings (`aa:bb:cc:dd:ee:ff`,
/// `AA-BB-CC-DD-EE-FF`, `aabb.ccdd.eeff`, `aabbccddeeff`) and kept in the
/// canonical one: lower-case, colon-separated.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct MacAddress(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("is not a MAC address such as aa:bb:cc:dd:ee:ff, AA-BB-CC-DD-EE-FF, aabb.ccdd.eeff or aabbccddeeff")]
pub struct InvalidMac;

/// The OpenAPI pattern of a MAC address; keep it in step with `parse`.
pub const MAC_PATTERN: &str = r"^(([0-9A-Fa-f]{2}:){5}[0-9A-Fa-f]{2}|([0-9A-Fa-f]{2}-){5}[0-9A-Fa-f]{2}|[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4}|[0-9A-Fa-f]{12})$";

impl MacAddress {
    /// # Errors
    /// `InvalidMac` unless `raw` is one of the accepted spellings.
    pub fn parse(raw: &str) -> Result<Self, InvalidMac> {
        let hex_pairs = |sep: char| {
            let parts: Vec<&str> = raw.split(sep).collect();
            (parts.len() == 6 && parts.iter().all(|p| p.len() == 2)).then(|| parts.concat())
        };
        let dotted = || {
            let parts: Vec<&str> = raw.split('.').collect();
            (parts.len() == 3 && parts.iter().all(|p| p.len() == 4)).then(|| parts.concat())
        };
        let digits = hex_pairs(':')
            .or_else(|| hex_pairs('-'))
            .or_else(dotted)
            .or_else(|| (raw.len() == 12).then(|| raw.to_owned()))
            .filter(|d| d.len() == 12 && d.bytes().all(|b| b.is_ascii_hexdigit()))
            .ok_or(InvalidMac)?
            .to_ascii_lowercase();
        let pairs: Vec<&str> = (0..6).filter_map(|i| digits.get(2 * i..2 * i + 2)).collect();
        Ok(Self(pairs.join(":")))
    }

    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for MacAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MacAddress({})", self.0)
    }
}

/// The most line ports a desk phone has.
pub const MAX_PORTS: u8 = 16;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("must be between 1 and {MAX_PORTS}")]
pub struct InvalidPorts;

/// # Errors
/// `InvalidPorts` outside `1..=MAX_PORTS`.
pub fn check_ports(ports: u32) -> Result<u8, InvalidPorts> {
    u8::try_from(ports).ok().filter(|p| (1..=MAX_PORTS).contains(p)).ok_or(InvalidPorts)
}

#[derive(Debug, Clone)]
pub struct Device {
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub mac: MacAddress,
    pub vendor: Label,
    pub model: Label,
    pub ports: u8,
    pub label: Option<Label>,
    /// The user the device serves, if any.
    pub holder: Option<Holder>,
}

/// Who holds a device, an extension or a phone number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holder {
    pub user_id: Uuid,
    pub login: String,
}

/// What a user view shows of their device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceRef {
    pub id: Uuid,
    pub mac: String,
    pub model: String,
    /// The line ports the user is given on it.
    pub ports: u8,
}

#[derive(Debug, Clone)]
pub struct NewDevice {
    pub mac: MacAddress,
    pub vendor: Label,
    pub model: Label,
    pub ports: u8,
    pub label: Option<Label>,
}

#[derive(Debug, Clone, Default)]
pub struct DeviceChanges {
    pub vendor: Option<Label>,
    pub model: Option<Label>,
    pub label: Option<Option<Label>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_common_spelling_becomes_the_canonical_one() {
        for raw in ["aa:bb:cc:dd:ee:0f", "AA-BB-CC-DD-EE-0F", "aabb.ccdd.ee0f", "AABBCCDDEE0F", "Aa:bB:cc:DD:ee:0F"] {
            assert_eq!(MacAddress::parse(raw).map(|m| m.0), Ok("aa:bb:cc:dd:ee:0f".to_owned()), "{raw}");
        }
    }

    #[test]
    fn anything_else_is_refused() {
        for raw in [
            "",
            "aa:bb:cc:dd:ee",
            "aa:bb:cc:dd:ee:ff:00",
            "aa-bb:cc-dd:ee-ff",
            "gg:bb:cc:dd:ee:ff",
            "aabbccddeef",
            "aabb.ccdd.eeff.0011",
            " aa:bb:cc:dd:ee:ff",
            "aa:bb:cc:dd:ee:f",
            "a:bb:cc:dd:ee:fff",
        ] {
            assert_eq!(MacAddress::parse(raw), Err(InvalidMac), "{raw:?}");
        }
    }

    #[test]
    fn ports_are_one_to_sixteen() {
        assert_eq!(check_ports(1), Ok(1));
        assert_eq!(check_ports(16), Ok(16));
        assert!(check_ports(0).is_err());
        assert!(check_ports(17).is_err());
        assert!(check_ports(u32::MAX).is_err());
    }
}
