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
mod slug;
mod timezone;

pub use cidr::{CIDR_PATTERN, Cidr, InvalidCidr, allowed};
pub use email::{Email, InvalidEmail};
pub use language::{InvalidLanguage, Language, SUPPORTED_LANGUAGES};
pub use login::{InvalidLogin, LOGIN_PATTERN, Login};
pub use name::{InvalidName, Label, NAME_PATTERN, PersonName, TenantName};
pub use password::{InvalidPassword, MAX_PASSWORD_CHARS, Password, PasswordPolicy};
pub use slug::{InvalidSlug, SLUG_PATTERN, Slug};
pub use timezone::{InvalidTimezone, Timezone};

/// True when `s` holds a control character (CR, LF, NUL, ...). Such
/// characters never belong in a name, login or address, and would let a
/// value break out of an email header or a log line.
fn has_control(s: &str) -> bool {
    s.chars().any(char::is_control)
}
