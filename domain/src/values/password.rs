//! A new password that meets the password policy (SECURITY.md, NIST SP
//! 800-63B-4 3.1.1.2, ASVS 5.0 6.2.x): a configured minimum length, at
//! most 128 characters so an attacker cannot make us hash
//! megabytes, length counted in Unicode code points, no composition rules,
//! no truncation, not the user's own login, email or names, and strong
//! enough by zxcvbn's estimate ([`MIN_STRENGTH`]), which knows the common
//! passwords of the breach corpora.
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
    /// zxcvbn scores it below [`MIN_STRENGTH`]; says why.
    #[error("is too easy to guess: {0}")]
    Guessable(String),
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
        if personal_words(personal).any(|word| lower.contains(&word)) {
            return Err(InvalidPassword::Personal);
        }
        if let Some(why) = weakness(raw, personal) {
            return Err(InvalidPassword::Guessable(why));
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

/// The least zxcvbn score (0 to 4) a new password needs: 3 is "safely
/// unguessable", about 10^10 guesses, which against argon2id at OWASP's
/// cost is out of reach of an offline attack on a stolen hash. zxcvbn
/// ships the breach corpora, English words, names and keyboard patterns it
/// scores against, and is given the user's own login, email and names.
pub const MIN_STRENGTH: zxcvbn::Score = zxcvbn::Score::Three;

/// Why zxcvbn finds `raw` guessable, in words a user can act on; `None`
/// when it is strong enough.
fn weakness(raw: &str, personal: &[&str]) -> Option<String> {
    let entropy = zxcvbn::zxcvbn(raw, personal);
    if entropy.score() >= MIN_STRENGTH {
        return None;
    }
    let mut why: Vec<String> = Vec::new();
    if let Some(feedback) = entropy.feedback() {
        why.extend(feedback.warning().map(|w| w.to_string()));
        why.extend(feedback.suggestions().iter().map(ToString::to_string));
    }
    if why.is_empty() {
        why.push("Add more words or characters that are not a common pattern.".to_owned());
    }
    Some(format!(
        "scores {} of 4 for strength, at least {} needed. {}",
        entropy.score() as u8,
        MIN_STRENGTH as u8,
        why.join(" ")
    ))
}

impl Password {
    /// The password itself, for hashing and for showing once when it was
    /// generated. Never log it.
    #[must_use]
    pub fn expose(&self) -> &str {
        &self.0
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
        assert!(policy().check("kq7-vb2m-x9wz", &[]).is_ok());
        // 12 code points, 24 bytes.
        assert!(policy().check("éàüößçñøåæœð", &[]).is_ok());
        let varied = |n: usize| -> String {
            let pool = "correct stable quiet harbour violet 7 fjord Umbra-29 zephyr";
            pool.chars()
                .cycle()
                .enumerate()
                .map(|(i, c)| if i % 7 == 3 { char::from(b'a' + (i % 26) as u8) } else { c })
                .take(n)
                .collect()
        };
        assert!(policy().check(&varied(64), &[]).is_ok(), "64 characters must be accepted");
        assert!(policy().check(&varied(128), &[]).is_ok());
        assert_eq!(policy().check(&varied(129), &[]).err(), Some(InvalidPassword::TooLong));
    }

    #[test]
    fn no_composition_rules_and_no_truncation() {
        assert!(policy().check("quiet lower case harbour words", &[]).is_ok());
        let long = format!("{}tail", "fjord-umbra-29-zephyr ".repeat(5));
        assert_eq!(policy().check(&long, &[]).unwrap().expose(), long);
    }

    #[test]
    fn refuses_guessable_and_personal_passwords_saying_why() {
        for weak in ["Password1234", "QWERTYUIOP123", "aaaaaaaaaaaaaa", "123456789012", "iloveyou2026"] {
            match policy().check(weak, &[]) {
                Err(InvalidPassword::Guessable(why)) => assert!(why.contains("of 4"), "{weak}: {why}"),
                other => panic!("{weak} was not refused as guessable: {other:?}"),
            }
        }
        let me = ["jsmith", "john.smith@example.com", "John", "Smith"];
        assert_eq!(policy().check("JSmith-forever", &me).err(), Some(InvalidPassword::Personal));
        assert_eq!(policy().check("john.smith!2026", &me).err(), Some(InvalidPassword::Personal));
        assert_eq!(policy().check("my-voxport-pass", &[]).err(), Some(InvalidPassword::Personal));
        // "John" is four letters and refused; a two-letter name is not a word to avoid.
        assert!(policy().check("al-is-my-quiet-friend", &["al"]).is_ok());
    }

    #[test]
    fn the_passwords_of_the_readme_pass() {
        for example in ["violet-lantern-orbit", "quiet-harbour-lights", "copper-meadow-signal"] {
            assert!(policy().check(example, &[]).is_ok(), "{example}");
        }
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
