//! Claims on desk phones and phone numbers (issue 11, finding 6). A MAC
//! address and a phone number are unique on the whole platform, so a
//! tenant that registers another's desk phone or number first keeps it
//! from them. The refusal names no tenant; the attempt is kept as a claim
//! for the platform operator, who can move the object to the claimant.

use chrono::{DateTime, Utc};
use uuid::Uuid;

/// What is claimed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClaimKind {
    /// A desk phone, by its MAC address.
    Device,
    /// A phone number, by its E.164 form.
    PhoneNumber,
}

impl ClaimKind {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Device => "device",
            Self::PhoneNumber => "phone_number",
        }
    }

    #[must_use]
    pub fn parse(s: &str) -> Option<Self> {
        [Self::Device, Self::PhoneNumber].into_iter().find(|k| k.as_str() == s)
    }
}

/// A tenant's attempt to register what another tenant holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claim {
    pub id: Uuid,
    pub kind: ClaimKind,
    /// The MAC address or the number.
    pub key: String,
    /// The device or phone number as it is held.
    pub object_id: Uuid,
    pub holder_tenant_id: Uuid,
    pub claimant_tenant_id: Uuid,
    /// Who tried; `None` for the command line.
    pub claimed_by: Option<Uuid>,
    pub claimed_at: DateTime<Utc>,
}

/// A claim as a refused registration makes it.
#[derive(Debug, Clone)]
pub struct NewClaim {
    pub kind: ClaimKind,
    pub key: String,
    pub claimant_tenant_id: Uuid,
    pub claimed_by: Option<Uuid>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_round_trip() {
        for kind in [ClaimKind::Device, ClaimKind::PhoneNumber] {
            assert_eq!(ClaimKind::parse(kind.as_str()), Some(kind));
        }
        assert_eq!(ClaimKind::parse("extension"), None);
    }
}
