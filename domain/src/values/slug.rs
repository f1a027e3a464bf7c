//! A tenant's slug: the short, URL-safe, platform-unique handle of a
//! customer company (`acme`, `acme-west`). Lower-case ASCII letters, digits
//! and single hyphens, 2 to 63 characters (a DNS label), so it can become a
//! sub-domain of the portal.

use std::fmt;

#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Slug(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidSlug {
    #[error("must be 2 to 63 characters")]
    Length,
    #[error("may contain only lower-case letters, digits and hyphens, and must start and end with a letter or digit")]
    BadCharacter,
}

impl Slug {
    /// # Errors
    /// Returns which rule `raw` breaks.
    pub fn parse(raw: &str) -> Result<Self, InvalidSlug> {
        let s = raw;
        if !(2..=63).contains(&s.len()) {
            return Err(InvalidSlug::Length);
        }
        let ok_chars = s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        let ok_ends = !s.starts_with('-') && !s.ends_with('-') && !s.contains("--");
        if !ok_chars || !ok_ends {
            return Err(InvalidSlug::BadCharacter);
        }
        Ok(Self(s.to_owned()))
    }

    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Slug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Slug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Slug({:?})", self.0)
    }
}

/// The OpenAPI pattern of a slug; keep it in step with [`Slug::parse`].
pub const SLUG_PATTERN: &str = r"^[a-z0-9]+(-[a-z0-9]+)*$";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_dns_labels() {
        for ok in ["acme", "acme-west", "a1", "123"] {
            assert!(Slug::parse(ok).is_ok(), "{ok}");
        }
    }

    #[test]
    fn rejects_what_is_not_a_dns_label() {
        let cases = [
            ("a", InvalidSlug::Length),
            ("ACME", InvalidSlug::BadCharacter),
            ("-acme", InvalidSlug::BadCharacter),
            ("acme-", InvalidSlug::BadCharacter),
            ("ac--me", InvalidSlug::BadCharacter),
            ("ac me", InvalidSlug::BadCharacter),
            ("acmé", InvalidSlug::BadCharacter),
            (" acme", InvalidSlug::BadCharacter),
        ];
        for (raw, want) in cases {
            assert_eq!(Slug::parse(raw), Err(want), "{raw:?}");
        }
        assert_eq!(Slug::parse(&"a".repeat(64)), Err(InvalidSlug::Length));
    }
}
