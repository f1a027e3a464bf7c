//! Human-readable names: a person's first or last name, a role name, a
//! tenant name. Trimmed, 1 to 100 characters, no control characters (a CR
//! or LF in a name must never reach an email header or a log line).

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidName {
    #[error("must not be empty")]
    Empty,
    #[error("must be at most {0} characters")]
    TooLong(usize),
    #[error("must not contain control characters")]
    ControlCharacter,
}

/// The OpenAPI pattern of a name: no control characters, at least one
/// that is not blank. Keep it in step with `parse_name`.
pub const NAME_PATTERN: &str =
    r"^[^\u0000-\u001F\u007F-\u009F]*[^\s\u0000-\u001F\u007F-\u009F][^\u0000-\u001F\u007F-\u009F]*$";

/// The length is counted as given (as the schema's `maxLength` does);
/// surrounding blanks are then dropped for storage.
fn parse_name(raw: &str, max: usize) -> Result<String, InvalidName> {
    if raw.chars().count() > max {
        return Err(InvalidName::TooLong(max));
    }
    if super::has_control(raw) {
        return Err(InvalidName::ControlCharacter);
    }
    let s = raw.trim();
    if s.is_empty() {
        return Err(InvalidName::Empty);
    }
    Ok(s.to_owned())
}

macro_rules! name_type {
    ($(#[$doc:meta])* $name:ident, $max:expr) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, Hash)]
        pub struct $name(String);

        impl $name {
            pub const MAX_CHARS: usize = $max;

            /// # Errors
            /// Returns which rule `raw` breaks.
            pub fn parse(raw: &str) -> Result<Self, InvalidName> {
                parse_name(raw, Self::MAX_CHARS).map(Self)
            }

            #[must_use]
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!(stringify!($name), "({:?})"), self.0)
            }
        }
    };
}

name_type!(
    /// A person's first or last name.
    PersonName,
    100
);
name_type!(
    /// A short display text: the name of a role (unique inside its tenant
    /// without regard to case), a station, an extension or a phone number,
    /// a device's vendor, model or label.
    Label,
    64
);
name_type!(
    /// The display name of a tenant (a customer company or a reseller).
    TenantName,
    128
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trims_and_keeps_unicode() {
        assert_eq!(PersonName::parse("  Zoë ").unwrap().as_str(), "Zoë");
    }

    #[test]
    fn rejects_empty_long_and_control_characters() {
        assert_eq!(PersonName::parse(" "), Err(InvalidName::Empty));
        assert_eq!(PersonName::parse(&"x".repeat(101)), Err(InvalidName::TooLong(100)));
        assert_eq!(PersonName::parse("Ada\r\nBcc: evil@example.com"), Err(InvalidName::ControlCharacter));
        assert_eq!(Label::parse(&"r".repeat(65)), Err(InvalidName::TooLong(64)));
    }
}
