//! Parsed values: every string that crosses into the domain is parsed into
//! one of these once, at the edge, and never re-checked afterwards.
//!
//! Each type keeps its field private and offers `parse` (returning a typed
//! error that reads well as a 422 message) and `as_str`. There is no
//! `Default`, no `From<String>` and no public constructor that skips parsing.

mod cidr;
mod email;
mod language;
mod login;
mod name;
mod password;
mod secret;
mod slug;
mod timezone;

pub use cidr::{CIDR_PATTERN, Cidr, InvalidCidr, allowed};
pub use email::{Email, InvalidEmail};
pub use language::{InvalidLanguage, Language, SUPPORTED_LANGUAGES};
pub use login::{InvalidLogin, LOGIN_PATTERN, Login};
pub use name::{InvalidName, Label, NAME_PATTERN, PersonName, TenantName};
pub use password::{InvalidPassword, MAX_PASSWORD_CHARS, Password, PasswordPolicy};
pub use secret::Secret;
pub use slug::{InvalidSlug, SLUG_PATTERN, Slug};
pub use timezone::{InvalidTimezone, Timezone};

/// True when `s` holds a control character (CR, LF, NUL, ...). Such
/// characters never belong in a name, login or address, and would let a
/// value break out of an email header or a log line.
fn has_control(s: &str) -> bool {
    s.chars().any(char::is_control)
}

/// Serde for parsed values: written as their text, read back through their
/// parser, so stored text that no longer parses is an error, never a value
/// that skipped parsing.
macro_rules! text_serde {
    ($($t:ty),* $(,)?) => {$(
        impl serde::Serialize for $t {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(self)
            }
        }

        impl<'de> serde::Deserialize<'de> for $t {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let raw = std::borrow::Cow::<str>::deserialize(d)?;
                <$t>::parse(&raw).map_err(serde::de::Error::custom)
            }
        }
    )*};
}

text_serde!(Cidr, Email, Label, Language, Login, PersonName, Slug, TenantName, Timezone);
