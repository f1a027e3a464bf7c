//! Extensions: the internal numbers (e.g. 204) users are reached on.
//!
//! - The number is digits only, unique in its tenant, and as long as the
//!   tenant's dial plan allows (2 to 6 digits unless its parent changed it).
//! - Type `sip` rings a softphone or desk phone; `web` rings the browser
//!   only. `force_login`: calls ring only while the holder is signed in to
//!   the portal.
//! - Each extension carries SIP credentials, generated when it is created:
//!   a platform-unique username and a random secret of 24 characters. The
//!   secret is stored sealed with the at-rest key and shown only to its
//!   holder and to holders of `extensions:secrets`.
//! - An extension has at most one holder; a user may hold several.

use std::fmt;

use chrono::{DateTime, Utc};
use rand::Rng as _;
use uuid::Uuid;

use crate::{device::Holder, values::Label};

/// The OpenAPI pattern of an extension number; keep it in step with `parse`.
pub const EXTENSION_NUMBER_PATTERN: &str = r"^[0-9]{1,15}$";

/// The longest extension number any dial plan allows.
pub const MAX_EXTENSION_DIGITS: u8 = 15;

/// An extension number: 1 to 15 ASCII digits. Whether a tenant accepts its
/// length is [`ExtensionDigits::admits`]'s business.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct ExtensionNumber(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("must be 1 to 15 digits")]
pub struct InvalidExtensionNumber;

impl ExtensionNumber {
    /// # Errors
    /// `InvalidExtensionNumber` unless `raw` matches [`EXTENSION_NUMBER_PATTERN`].
    pub fn parse(raw: &str) -> Result<Self, InvalidExtensionNumber> {
        let ok =
            (1..=usize::from(MAX_EXTENSION_DIGITS)).contains(&raw.len()) && raw.bytes().all(|b| b.is_ascii_digit());
        if ok { Ok(Self(raw.to_owned())) } else { Err(InvalidExtensionNumber) }
    }

    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }

    fn digits(&self) -> usize {
        self.0.len()
    }
}

impl fmt::Debug for ExtensionNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ExtensionNumber({})", self.0)
    }
}

/// A tenant's dial plan: how many digits its new extension numbers have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExtensionDigits {
    min: u8,
    max: u8,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("must be 1 to 15 digits with min at most max")]
pub struct InvalidExtensionDigits;

impl Default for ExtensionDigits {
    fn default() -> Self {
        Self { min: 2, max: 6 }
    }
}

impl ExtensionDigits {
    /// # Errors
    /// `InvalidExtensionDigits` unless `1 <= min <= max <= 15`.
    pub fn new(min: u32, max: u32) -> Result<Self, InvalidExtensionDigits> {
        let (Ok(min), Ok(max)) = (u8::try_from(min), u8::try_from(max)) else {
            return Err(InvalidExtensionDigits);
        };
        if 1 <= min && min <= max && max <= MAX_EXTENSION_DIGITS {
            Ok(Self { min, max })
        } else {
            Err(InvalidExtensionDigits)
        }
    }

    #[must_use]
    pub fn min(&self) -> u8 {
        self.min
    }

    #[must_use]
    pub fn max(&self) -> u8 {
        self.max
    }

    #[must_use]
    pub fn admits(&self, number: &ExtensionNumber) -> bool {
        (usize::from(self.min)..=usize::from(self.max)).contains(&number.digits())
    }
}

/// How an extension rings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExtensionType {
    /// A softphone or desk phone registers with the SIP credentials.
    Sip,
    /// The browser only (the portal's web dialer); no softphone needed.
    Web,
}

impl ExtensionType {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sip => "sip",
            Self::Web => "web",
        }
    }

    #[must_use]
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "sip" => Some(Self::Sip),
            "web" => Some(Self::Web),
            _ => None,
        }
    }
}

/// A SIP secret in the clear, as generated or after opening. Never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct SipSecret(String);

/// The length of generated SIP secrets (about 143 bits).
pub const SIP_SECRET_CHARS: usize = 24;

const ALPHANUMERIC: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";

pub(crate) fn random_text(len: usize, alphabet: &[u8]) -> String {
    let mut rng = rand::rng();
    (0..len).map(|_| char::from(alphabet[rng.random_range(0..alphabet.len())])).collect()
}

impl SipSecret {
    /// Letters and digits without look-alikes (0/O, 1/l/I), from the
    /// operating system's CSPRNG: easy to type into a desk phone.
    #[must_use]
    pub fn generate() -> Self {
        Self(random_text(SIP_SECRET_CHARS, ALPHANUMERIC))
    }

    /// A secret read back from storage.
    #[must_use]
    pub fn from_opened(secret: String) -> Self {
        Self(secret)
    }

    #[must_use]
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The associated data a secret of extension `id` is sealed with.
    #[must_use]
    pub fn context(id: Uuid) -> String {
        format!("sip-secret:{id}")
    }
}

impl fmt::Debug for SipSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SipSecret(<redacted>)")
    }
}

/// A fresh SIP username: `vx` and 12 lower-case letters and digits,
/// unique on the platform (storage has a UNIQUE index on it).
#[must_use]
pub fn generate_sip_username() -> String {
    format!("vx{}", random_text(12, b"abcdefghijkmnopqrstuvwxyz23456789"))
}

#[derive(Debug, Clone)]
pub struct Extension {
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub number: ExtensionNumber,
    /// The display name, also sent as the caller id name.
    pub name: Option<Label>,
    pub kind: ExtensionType,
    pub force_login: bool,
    pub voicemail_enabled: bool,
    pub sip_username: String,
    /// The user the extension rings, if any.
    pub holder: Option<Holder>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// What a user view shows of each extension they hold.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ExtensionRef {
    pub id: Uuid,
    pub number: String,
    pub kind: ExtensionType,
    pub force_login: bool,
}

/// A SIP secret as stored: sealed, with the SIP domain it is for and the
/// digest hashes a registrar checks instead of the secret (Kamailio's
/// `auth_db` with `calculate_ha1` off). A hash is as good as the secret to
/// a registrar, so none of it is ever printed.
#[derive(Clone, PartialEq, Eq)]
pub struct StoredSipSecret {
    pub sealed: String,
    /// The SIP domain the hashes are for, lower case.
    pub domain: String,
    /// `md5(username:domain:secret)`, lower-case hex.
    pub ha1: String,
    /// `md5(username@domain:domain:secret)`, lower-case hex.
    pub ha1b: String,
}

impl StoredSipSecret {
    /// `sealed` with the digest hashes of `secret` for `username` at
    /// `domain`.
    #[must_use]
    pub fn new(sealed: String, username: &str, domain: &str, secret: &str) -> Self {
        use md5::{Digest as _, Md5};
        let hex =
            |input: String| -> String { Md5::digest(input.as_bytes()).iter().map(|b| format!("{b:02x}")).collect() };
        let (username, domain) = (username.to_lowercase(), domain.to_lowercase());
        let ha1 = hex(format!("{username}:{domain}:{secret}"));
        let ha1b = hex(format!("{username}@{domain}:{domain}:{secret}"));
        Self { sealed, domain, ha1, ha1b }
    }
}

impl fmt::Debug for StoredSipSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StoredSipSecret").field("domain", &self.domain).finish_non_exhaustive()
    }
}

/// An extension about to be stored, with its secret already sealed.
#[derive(Debug, Clone)]
pub struct NewExtension {
    pub id: Uuid,
    pub number: ExtensionNumber,
    pub name: Option<Label>,
    pub kind: ExtensionType,
    pub force_login: bool,
    pub voicemail_enabled: bool,
    pub sip_username: String,
    pub secret: StoredSipSecret,
}

/// Changes to an extension; `None` leaves a field alone.
#[derive(Debug, Clone, Default)]
pub struct ExtensionChanges {
    pub number: Option<ExtensionNumber>,
    pub name: Option<Option<Label>>,
    pub kind: Option<ExtensionType>,
    pub force_login: Option<bool>,
    pub voicemail_enabled: Option<bool>,
}

/// Which extensions a list shows.
#[derive(Debug, Clone, Default)]
pub struct ExtensionFilter {
    /// Matches the number or the name.
    pub q: Option<String>,
    /// Only extensions nobody holds.
    pub available: bool,
    /// Only the extensions of this user.
    pub user_id: Option<Uuid>,
}

/// What a softphone or desk phone needs to register an extension.
#[derive(Debug, Clone)]
pub struct SipCredentials {
    pub extension_id: Uuid,
    pub number: String,
    pub username: String,
    pub secret: SipSecret,
    /// The SIP domain (registrar) of the extension's tenant.
    pub domain: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_digits_only() {
        for ok in ["1", "204", "123456789012345"] {
            assert!(ExtensionNumber::parse(ok).is_ok(), "{ok}");
        }
        for bad in ["", "20a", " 204", "+204", "1234567890123456", "２０４"] {
            assert_eq!(ExtensionNumber::parse(bad), Err(InvalidExtensionNumber), "{bad:?}");
        }
    }

    #[test]
    fn the_dial_plan_bounds_the_length() {
        let plan = ExtensionDigits::default();
        assert_eq!((plan.min(), plan.max()), (2, 6));
        let n = |s: &str| ExtensionNumber::parse(s).unwrap();
        assert!(!plan.admits(&n("1")));
        assert!(plan.admits(&n("20")));
        assert!(plan.admits(&n("123456")));
        assert!(!plan.admits(&n("1234567")));
        assert!(ExtensionDigits::new(3, 3).is_ok());
        for (min, max) in [(0, 4), (4, 3), (1, 16), (300, 301)] {
            assert_eq!(ExtensionDigits::new(min, max), Err(InvalidExtensionDigits), "{min}..{max}");
        }
    }

    #[test]
    fn secrets_are_long_random_and_never_printed() {
        let stored = StoredSipSecret::new("v1.sealed".into(), "Alice", "Acme.SIP.example", "s3cret");
        // RFC 2617 HA1 of alice:acme.sip.example:s3cret, and the @domain form.
        // (computed independently with Python's hashlib.)
        assert_eq!(stored.ha1, "cbdf697ac7663afc4b19b64544924dc1");
        assert_eq!(stored.ha1b, "d0cb66b1551c810e7ee9c3a1a8aec160");
        assert_eq!(stored.domain, "acme.sip.example");
        assert!(!format!("{stored:?}").contains(&stored.ha1), "hashes never print");
        let a = SipSecret::generate();
        assert_eq!(a.expose().chars().count(), SIP_SECRET_CHARS);
        assert!(a.expose().chars().all(|c| c.is_ascii_alphanumeric()));
        assert_ne!(a, SipSecret::generate());
        assert!(!format!("{a:?}").contains(a.expose()));
        let user = generate_sip_username();
        assert_eq!(user.len(), 14);
        assert_ne!(user, generate_sip_username());
    }
}
