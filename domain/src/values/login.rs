//! A login (PRODUCT.md rule 1): what a person types to sign in to the
//! portal and the desktop app. At most 64 characters, unique across the
//! whole platform without regard to case; when none is given the email
//! address is used, so `@`, `.`, `+`, `-` and `_` are allowed.
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
    #[error("may contain only letters, digits and . _ - + @")]
    BadCharacter,
}

impl Login {
    /// # Errors
    /// Returns which rule `raw` breaks.
    pub fn parse(raw: &str) -> Result<Self, InvalidLogin> {
        let s = raw.trim();
        if s.is_empty() {
            return Err(InvalidLogin::Empty);
        }
        if s.chars().count() > MAX_LOGIN_CHARS {
            return Err(InvalidLogin::TooLong);
        }
        let allowed = |c: char| c.is_alphanumeric() || matches!(c, '.' | '_' | '-' | '+' | '@');
        if !s.chars().all(allowed) {
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

    /// The key for a login typed at sign-in, parsed or not.
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
        let email = Email::parse("Ada.Lovelace+pbx@example.com").unwrap();
        assert_eq!(Login::from_email(&email).unwrap().as_str(), "Ada.Lovelace+pbx@example.com");
    }

    #[test]
    fn sixty_four_characters_is_the_limit() {
        assert!(Login::parse(&"a".repeat(64)).is_ok());
        assert_eq!(Login::parse(&"a".repeat(65)), Err(InvalidLogin::TooLong));
        // Characters, not bytes.
        assert!(Login::parse(&"é".repeat(64)).is_ok());
    }

    #[test]
    fn rejects_bad_logins_with_a_reason() {
        let cases = [
            ("", InvalidLogin::Empty),
            ("  ", InvalidLogin::Empty),
            ("ada lovelace", InvalidLogin::BadCharacter),
            ("ada\r\nx", InvalidLogin::BadCharacter),
            ("ada/../x", InvalidLogin::BadCharacter),
            ("<script>", InvalidLogin::BadCharacter),
        ];
        for (raw, want) in cases {
            assert_eq!(Login::parse(raw), Err(want), "{raw:?}");
        }
    }
}
