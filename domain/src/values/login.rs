//! A login (PRODUCT.md rule 1): what a person types to sign in to the
//! portal and the desktop app. 1 to 64 printable ASCII characters, no
//! blanks (so any ASCII email address fits), unique across the whole platform without
//! regard to case; when none is given the email address is used. Exactly
//! what the OpenAPI pattern says: nothing is trimmed or folded on the way in.
//!
//! The login keeps the spelling it was given; [`Login::key`] is the
//! case-folded form that uniqueness and look-ups use.

use std::fmt;

use super::Email;

pub const MAX_LOGIN_CHARS: usize = 64;

#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Login(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidLogin {
    #[error("must not be empty")]
    Empty,
    #[error("must be at most 64 characters")]
    TooLong,
    #[error("may contain only printable ASCII characters, no blanks")]
    BadCharacter,
}

impl Login {
    /// # Errors
    /// Returns which rule `raw` breaks.
    pub fn parse(raw: &str) -> Result<Self, InvalidLogin> {
        let s = raw;
        if s.is_empty() {
            return Err(InvalidLogin::Empty);
        }
        if s.chars().count() > MAX_LOGIN_CHARS {
            return Err(InvalidLogin::TooLong);
        }
        if !s.chars().all(|c| c.is_ascii_graphic()) {
            return Err(InvalidLogin::BadCharacter);
        }
        Ok(Self(s.to_owned()))
    }

    /// The login a user gets when none is given: their email address.
    ///
    /// # Errors
    /// `TooLong` when the address is longer than a login may be.
    pub fn from_email(email: &Email) -> Result<Self, InvalidLogin> {
        Self::parse(email.as_str())
    }

    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The case-insensitive key that makes logins unique platform-wide.
    #[must_use]
    pub fn key(&self) -> String {
        Self::key_of(&self.0)
    }

    /// The key for a login typed at sign-in, parsed or not (surrounding
    /// blanks from a sign-in form are forgiven there).
    #[must_use]
    pub fn key_of(raw: &str) -> String {
        raw.trim().to_lowercase()
    }
}

impl fmt::Display for Login {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Login {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Login({:?})", self.0)
    }
}

/// The OpenAPI pattern of a login; keep it in step with [`Login::parse`].
pub const LOGIN_PATTERN: &str = r"^[!-~]{1,64}$";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_spelling_but_keys_case_insensitively() {
        let login = Login::parse("JSmith").unwrap();
        assert_eq!(login.as_str(), "JSmith");
        assert_eq!(login.key(), Login::parse("jsmith").unwrap().key());
    }

    #[test]
    fn an_email_is_a_valid_login() {
        for raw in ["Ada.Lovelace+pbx@example.com", "o'brien@example.com", "!#$%&*/=?^_`{|}~@example.com"] {
            let email = Email::parse(raw).unwrap();
            assert_eq!(Login::from_email(&email).unwrap().as_str(), raw);
        }
    }

    #[test]
    fn sixty_four_characters_is_the_limit() {
        assert!(Login::parse(&"a".repeat(64)).is_ok());
        assert_eq!(Login::parse(&"a".repeat(65)), Err(InvalidLogin::TooLong));
        assert_eq!(Login::parse(&"é".repeat(3)), Err(InvalidLogin::BadCharacter), "ASCII only");
    }

    #[test]
    fn rejects_bad_logins_with_a_reason() {
        let cases = [
            ("", InvalidLogin::Empty),
            ("  ", InvalidLogin::BadCharacter),
            (" ada", InvalidLogin::BadCharacter),
            ("ada lovelace", InvalidLogin::BadCharacter),
            ("ada\r\nx", InvalidLogin::BadCharacter),
            ("ada\tx", InvalidLogin::BadCharacter),
        ];
        for (raw, want) in cases {
            assert_eq!(Login::parse(raw), Err(want), "{raw:?}");
        }
    }
}
