//! An email address as users type it: trimmed, at most 254 characters
//! (RFC 5321 4.5.3.1.3), syntactically valid per the HTML living standard's
//! definition that `validator` implements, and free of control characters
//! so it can never inject an email header.

use std::fmt;

use validator::ValidateEmail;

#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Email(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidEmail {
    #[error("must not be empty")]
    Empty,
    #[error("must be at most 254 characters")]
    TooLong,
    #[error("is not a valid email address")]
    Malformed,
}

impl Email {
    /// # Errors
    /// Returns which rule `raw` breaks.
    pub fn parse(raw: &str) -> Result<Self, InvalidEmail> {
        let s = raw.trim();
        if s.is_empty() {
            return Err(InvalidEmail::Empty);
        }
        if s.chars().count() > 254 {
            return Err(InvalidEmail::TooLong);
        }
        if super::has_control(s) || !s.validate_email() {
            return Err(InvalidEmail::Malformed);
        }
        Ok(Self(s.to_owned()))
    }

    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for Email {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Email({:?})", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_ordinary_addresses_and_trims_them() {
        assert_eq!(Email::parse(" ada@example.com ").map(|e| e.0), Ok("ada@example.com".into()));
        assert!(Email::parse("first.last+tag@sub.example.co.uk").is_ok());
    }

    #[test]
    fn rejects_bad_addresses_with_a_reason() {
        let cases = [
            ("", InvalidEmail::Empty, "empty"),
            ("   ", InvalidEmail::Empty, "blank"),
            ("ada", InvalidEmail::Malformed, "no @"),
            ("ada@", InvalidEmail::Malformed, "no domain"),
            ("@example.com", InvalidEmail::Malformed, "no local part"),
            ("ada@example.com\r\nBcc: x@evil.test", InvalidEmail::Malformed, "header injection"),
            ("ada lovelace@example.com", InvalidEmail::Malformed, "space"),
        ];
        for (raw, want, why) in cases {
            assert_eq!(Email::parse(raw), Err(want), "{why}: {raw:?}");
        }
        let long = format!("{}@example.com", "a".repeat(250));
        assert_eq!(Email::parse(&long), Err(InvalidEmail::TooLong));
    }
}
