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
    /// Its provisioning credentials' username and last fetch, once issued.
    pub provisioning: Option<crate::provisioning::ProvisioningInfo>,
}

impl Device {
    /// The line ports a user gets on this device: all of them by default,
    /// never more than it has.
    ///
    /// # Errors
    /// `TooManyPorts` naming the device's ports when `requested` exceeds them.
    pub fn check_ports(&self, requested: Option<u8>) -> Result<u8, TooManyPorts> {
        match requested {
            Some(ports) if ports > self.ports => Err(TooManyPorts { max: self.ports }),
            Some(ports) => Ok(ports),
            None => Ok(self.ports),
        }
    }
}

/// More line ports asked for than a device has.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the device has only {max} line ports")]
pub struct TooManyPorts {
    pub max: u8,
}

/// Who holds a device, an extension or a phone number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holder {
    pub user_id: Uuid,
    pub login: String,
}

/// What a user view shows of their device.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
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
    fn a_user_gets_all_ports_by_default_and_never_more_than_the_device_has() {
        let d = Device {
            id: Uuid::nil(),
            tenant_id: Uuid::nil(),
            mac: MacAddress::parse("aabbccddeeff").unwrap(),
            vendor: Label::parse("Yealink").unwrap(),
            model: Label::parse("T54W").unwrap(),
            ports: 4,
            label: None,
            holder: None,
            provisioning: None,
        };
        assert_eq!(d.check_ports(None), Ok(4));
        assert_eq!(d.check_ports(Some(2)), Ok(2));
        assert_eq!(d.check_ports(Some(5)), Err(TooManyPorts { max: 4 }));
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
