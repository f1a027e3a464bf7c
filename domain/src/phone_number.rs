//! Phone numbers (DIDs): E.164 numbers a tenant owns, each free or given to
//! one user (PRODUCT.md rule 4). A number is unique on the platform; a user
//! holds at most one. The parent tenant adds numbers for its customers; a
//! customer's admins add their own only when the parent allows it.

use std::fmt;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::{device::Holder, values::Label};

/// An E.164 number (ITU-T E.164): `+`, a country code that does not start
/// with 0, and at most 15 digits in all. Accepted with the international
/// prefix written `+` or `00` and with spaces, dots, hyphens and
/// parentheses between the digits; kept as `+` and digits only
/// (`+1 (415) 555-0100` becomes `+14155550100`).
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct E164(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("is not an international number such as +14155550100 (+ or 00, then 7 to 15 digits, the first not 0)")]
pub struct InvalidE164;

/// The OpenAPI pattern of a phone number; keep it in step with `parse`.
pub const E164_PATTERN: &str = r"^(\+|00)[ ().-]*[1-9]([ ().-]*[0-9]){6,14}[ ().-]*$";

const SEPARATORS: &[char] = &[' ', '(', ')', '.', '-'];

impl E164 {
    /// # Errors
    /// `InvalidE164` unless `raw` matches [`E164_PATTERN`].
    pub fn parse(raw: &str) -> Result<Self, InvalidE164> {
        let rest = raw.strip_prefix('+').or_else(|| raw.strip_prefix("00")).ok_or(InvalidE164)?;
        if !rest.chars().all(|c| c.is_ascii_digit() || SEPARATORS.contains(&c)) {
            return Err(InvalidE164);
        }
        let digits: String = rest.chars().filter(char::is_ascii_digit).collect();
        if !(7..=15).contains(&digits.len()) || digits.starts_with('0') {
            return Err(InvalidE164);
        }
        Ok(Self(format!("+{digits}")))
    }

    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for E164 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "E164({})", self.0)
    }
}

#[derive(Debug, Clone)]
pub struct PhoneNumber {
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub number: E164,
    pub label: Option<Label>,
    /// The user the number rings, if any.
    pub holder: Option<Holder>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// What a user view shows of their number.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PhoneNumberRef {
    pub id: Uuid,
    pub number: String,
}

#[derive(Debug, Clone)]
pub struct NewPhoneNumber {
    pub number: E164,
    pub label: Option<Label>,
}

#[derive(Debug, Clone, Default)]
pub struct PhoneNumberChanges {
    pub label: Option<Option<Label>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_spellings_become_e164() {
        for (raw, want) in [
            ("+14155550100", "+14155550100"),
            ("+1 (415) 555-0100", "+14155550100"),
            ("0049 30 1234567", "+49301234567"),
            ("+44.20.7946.0018", "+442079460018"),
            ("+1234567", "+1234567"),
            ("+123456789012345", "+123456789012345"),
        ] {
            assert_eq!(E164::parse(raw).map(|n| n.0), Ok(want.to_owned()), "{raw}");
        }
    }

    #[test]
    fn anything_else_is_refused() {
        for raw in [
            "",
            "14155550100",
            "+0123456789",
            "+123456",
            "+1234567890123456",
            "+1 415 555 01OO",
            " +14155550100",
            "+1415555010x",
            "+",
            "00",
            "0+14155550100",
            "+١٤١٥٥٥٥٠١٠٠",
        ] {
            assert_eq!(E164::parse(raw), Err(InvalidE164), "{raw:?}");
        }
    }
}
