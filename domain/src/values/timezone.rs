//! An IANA time-zone name (`Europe/Berlin`), checked against the tz
//! database compiled into `chrono-tz` and stored in its canonical spelling.

use std::{fmt, str::FromStr};

#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Timezone(chrono_tz::Tz);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("is not an IANA time zone such as Europe/Berlin")]
pub struct InvalidTimezone;

impl Timezone {
    /// Coordinated Universal Time, the zone a user has until told otherwise.
    pub const UTC: Self = Self(chrono_tz::UTC);

    /// # Errors
    /// `InvalidTimezone` when `raw` names no zone of the tz database.
    pub fn parse(raw: &str) -> Result<Self, InvalidTimezone> {
        chrono_tz::Tz::from_str(raw).map(Self).map_err(|_| InvalidTimezone)
    }

    #[must_use]
    pub fn as_str(&self) -> &'static str {
        self.0.name()
    }

    #[must_use]
    pub fn tz(&self) -> chrono_tz::Tz {
        self.0
    }

    /// Every zone name, for the OpenAPI enum.
    pub fn all_names() -> impl Iterator<Item = &'static str> {
        chrono_tz::TZ_VARIANTS.iter().map(|tz| tz.name())
    }
}

impl fmt::Display for Timezone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for Timezone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Timezone({})", self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_iana_names() {
        assert_eq!(Timezone::parse("Europe/Berlin").unwrap().as_str(), "Europe/Berlin");
        assert_eq!(Timezone::parse("UTC").unwrap(), Timezone::UTC);
    }

    #[test]
    fn rejects_offsets_and_inventions() {
        for bad in ["", "+02:00", "Mars/Olympus_Mons", "europe/berlin/x", " UTC"] {
            assert_eq!(Timezone::parse(bad), Err(InvalidTimezone), "{bad:?}");
        }
    }
}
