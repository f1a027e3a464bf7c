//! A new password that meets the password policy (SECURITY.md, NIST SP
//! 800-63B-4 3.1.1.2, ASVS 5.0 6.2.x): a configured minimum length, at
//! most 128 characters so an attacker cannot make us hash
//! megabytes, length counted in Unicode code points, no composition rules,
//! no truncation, and not a common password nor the user's own login,
//! email or names.
//!
//! A `Password` only exists once the policy said yes; it never prints itself.

use std::fmt;

use rand::Rng;

/// The most characters any policy accepts; longer input is refused before
/// it is hashed.
pub const MAX_PASSWORD_CHARS: usize = 128;

/// The fewest characters any policy may be configured to ask for.
pub const MIN_POLICY_CHARS: usize = 8;

#[derive(Clone)]
pub struct Password(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidPassword {
    #[error("must be at least {0} characters")]
    TooShort(usize),
    #[error("must be at most {MAX_PASSWORD_CHARS} characters")]
    TooLong,
    #[error("is too common; choose a longer or less predictable password")]
    Common,
    #[error("must not contain your login, email address or name")]
    Personal,
}

/// How long a new password must be. Everything else about the policy is
/// fixed by the standards it follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PasswordPolicy {
    min_chars: usize,
}

/// The 12-character default follows OWASP ASVS 5.0 6.2.1; NIST asks 15 for
/// single-factor accounts, which a deployment can configure.
impl Default for PasswordPolicy {
    fn default() -> Self {
        Self { min_chars: 12 }
    }
}

impl PasswordPolicy {
    /// # Errors
    /// When `min_chars` is outside `MIN_POLICY_CHARS..=64` (a policy must
    /// always accept a 64-character password).
    pub fn new(min_chars: usize) -> Result<Self, String> {
        if !(MIN_POLICY_CHARS..=64).contains(&min_chars) {
            return Err(format!("the minimum password length must be between {MIN_POLICY_CHARS} and 64"));
        }
        Ok(Self { min_chars })
    }

    #[must_use]
    pub fn min_chars(&self) -> usize {
        self.min_chars
    }

    /// Checks `raw` as the new password of a user known by `personal`
    /// (their login, email and names).
    ///
    /// # Errors
    /// Returns the first rule `raw` breaks.
    pub fn check(&self, raw: &str, personal: &[&str]) -> Result<Password, InvalidPassword> {
        let chars = raw.chars().count();
        if chars > MAX_PASSWORD_CHARS {
            return Err(InvalidPassword::TooLong);
        }
        if chars < self.min_chars {
            return Err(InvalidPassword::TooShort(self.min_chars));
        }
        let lower = raw.to_lowercase();
        if is_common(&lower) {
            return Err(InvalidPassword::Common);
        }
        if personal_words(personal).any(|word| lower.contains(&word)) {
            return Err(InvalidPassword::Personal);
        }
        Ok(Password(raw.to_owned()))
    }

    /// A random password that satisfies this policy: 20 characters from an
    /// alphabet without look-alikes (about 115 bits of entropy).
    #[must_use]
    pub fn generate(&self) -> Password {
        const ALPHABET: &[u8] = b"abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
        let len = self.min_chars.max(20);
        let mut rng = rand::rng();
        let s = (0..len).map(|_| char::from(ALPHABET[rng.random_range(0..ALPHABET.len())])).collect();
        Password(s)
    }
}

/// The parts of a user's identity a password must not contain: each of
/// login, email, local part and name, when at least 4 characters long (a
/// shorter name inside a long password is no weakness).
fn personal_words<'a>(personal: &'a [&'a str]) -> impl Iterator<Item = String> + 'a {
    personal
        .iter()
        .flat_map(|value| {
            let local = value.split('@').next().unwrap_or(value);
            [value.to_lowercase(), local.to_lowercase()]
        })
        .chain(std::iter::once("voxport".to_owned()))
        .filter(|word| word.chars().count() >= 4)
}

fn is_common(lower: &str) -> bool {
    COMMON_PASSWORDS.contains(&lower)
}

/// Passwords that breach corpora show again and again and that are at
/// least as long as a policy may ask for.
const COMMON_PASSWORDS: &[&str] = &[
    "123456789012",
    "1234567890123",
    "12345678901234",
    "123456789012345",
    "1234567890",
    "12345678",
    "123456789",
    "1q2w3e4r5t6y",
    "1qaz2wsx3edc",
    "abcdefghijkl",
    "abc123456789",
    "adminadmin123",
    "administrator",
    "changeme1234",
    "letmein12345",
    "password",
    "password1",
    "password12",
    "password123",
    "password1234",
    "password12345",
    "password123!",
    "passw0rd1234",
    "p@ssw0rd1234",
    "p@ssword1234",
    "qwertyuiop",
    "qwertyuiop12",
    "qwertyuiop123",
    "qwerty123456",
    "qwerty12345678",
    "qazwsxedcrfv",
    "iloveyou1234",
    "welcome12345",
    "welcome123456",
    "football1234",
    "baseball1234",
    "sunshine1234",
    "princess1234",
    "superman1234",
    "trustno1trustno1",
    "monkey123456",
    "dragon123456",
    "master123456",
    "111111111111",
    "000000000000",
    "aaaaaaaaaaaa",
    "123123123123",
    "121212121212",
    "987654321098",
    "0987654321",
    "asdfghjkl123",
    "asdfasdfasdf",
    "zxcvbnm12345",
    "1234qwerasdf",
    "passwordpassword",
    "secret123456",
    "summer2024!!",
    "winter2024!!",
    "spring2025!!",
    "autumn2025!!",
    "summer2025!!",
    "winter2025!!",
    "summer2026!!",
    "winter2026!!",
    "correcthorsebatterystaple",
    "iloveyouiloveyou",
    "mypassword123",
    "thisismypassword",
    "letmeinletmein",
    "loginlogin12",
    "useruser1234",
    "testtest1234",
    "test12345678",
    "default12345",
    "guestguest12",
    "qwerty123!@#",
    "!qaz2wsx#edc",
];

impl Password {
    /// The password itself, for hashing and for showing once when it was
    /// generated. Never log it.
    #[must_use]
    pub fn expose(&self) -> &str {
        &self.0
    }
}

/// Serde for a generated password remembered with the answer that showed
/// it (sealed at rest, for an idempotent retry): the one place a password
/// is written out, and read back without the policy that made it.
pub mod remembered_password {
    use serde::{Deserialize as _, Deserializer, Serializer};

    use super::Password;

    /// # Errors
    /// As the serializer.
    pub fn serialize<S: Serializer>(password: &Option<Password>, s: S) -> Result<S::Ok, S::Error> {
        match password {
            Some(p) => s.serialize_some(p.expose()),
            None => s.serialize_none(),
        }
    }

    /// # Errors
    /// As the deserializer.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Password>, D::Error> {
        Ok(Option::<String>::deserialize(d)?.map(Password))
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> PasswordPolicy {
        PasswordPolicy::default()
    }

    #[test]
    fn length_is_counted_in_code_points_between_min_and_128() {
        assert_eq!(policy().check("short-pass1", &[]).err(), Some(InvalidPassword::TooShort(12)));
        assert!(policy().check("twelve-chars", &[]).is_ok());
        // 12 code points, 24 bytes.
        assert!(policy().check("éééééééééééé", &[]).is_ok());
        assert!(policy().check(&"x7".repeat(32), &[]).is_ok(), "64 characters must be accepted");
        assert!(policy().check(&"y".repeat(128), &[]).is_ok());
        assert_eq!(policy().check(&"y".repeat(129), &[]).err(), Some(InvalidPassword::TooLong));
    }

    #[test]
    fn no_composition_rules_and_no_truncation() {
        assert!(policy().check("all lower case words", &[]).is_ok());
        let long = format!("{}tail", "z".repeat(100));
        assert_eq!(policy().check(&long, &[]).unwrap().expose(), long);
    }

    #[test]
    fn refuses_common_and_personal_passwords() {
        assert_eq!(policy().check("Password1234", &[]).err(), Some(InvalidPassword::Common));
        assert_eq!(policy().check("QWERTYUIOP123", &[]).err(), Some(InvalidPassword::Common));
        let me = ["jsmith", "john.smith@example.com", "John", "Smith"];
        assert_eq!(policy().check("JSmith-forever", &me).err(), Some(InvalidPassword::Personal));
        assert_eq!(policy().check("john.smith!2026", &me).err(), Some(InvalidPassword::Personal));
        assert_eq!(policy().check("my-voxport-pass", &[]).err(), Some(InvalidPassword::Personal));
        // "John" is four letters and refused; a two-letter name is not a word to avoid.
        assert!(policy().check("al-is-my-friend", &["al"]).is_ok());
    }

    #[test]
    fn the_minimum_is_configurable_within_bounds() {
        assert_eq!(PasswordPolicy::new(15).unwrap().min_chars(), 15);
        assert!(PasswordPolicy::new(4).is_err());
        assert!(PasswordPolicy::new(65).is_err());
    }

    #[test]
    fn generated_passwords_pass_the_policy_and_differ() {
        let a = policy().generate();
        let b = policy().generate();
        assert_eq!(a.expose().chars().count(), 20);
        assert!(policy().check(a.expose(), &[]).is_ok());
        assert_ne!(a.expose(), b.expose());
    }

    #[test]
    fn debug_never_shows_the_password() {
        let p = policy().check("correct-horse-battery", &[]).unwrap();
        assert!(!format!("{p:?}").contains("horse"));
    }
}
