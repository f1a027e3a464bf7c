//! The language a user reads the portal and their emails in: a BCP 47 tag
//! from the list the product supports, stored in its canonical spelling
//! (`en-GB`, not `EN_gb`).

use std::fmt;

/// The languages the portal and the emails are offered in.
pub const SUPPORTED_LANGUAGES: &[&str] = &[
    "en", "en-US", "en-GB", "de", "de-DE", "de-AT", "de-CH", "fr", "fr-FR", "fr-CA", "es", "es-ES", "it", "nl", "pt",
    "pt-BR", "pl", "sv", "da", "nb", "fi",
];

#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Language(&'static str);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("is not a supported language; use one of: {}", SUPPORTED_LANGUAGES.join(", "))]
pub struct InvalidLanguage;

impl Language {
    /// English, the language a user has until told otherwise.
    pub const ENGLISH: Self = Self("en");

    /// Accepts a tag of the supported list, spelled as the list spells it
    /// (the OpenAPI document lists them as an enum).
    ///
    /// # Errors
    /// `InvalidLanguage` when the tag is not on the supported list.
    pub fn parse(raw: &str) -> Result<Self, InvalidLanguage> {
        SUPPORTED_LANGUAGES.iter().find(|tag| **tag == raw).map(|tag| Self(tag)).ok_or(InvalidLanguage)
    }

    #[must_use]
    pub fn as_str(&self) -> &'static str {
        self.0
    }
}

impl fmt::Display for Language {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

impl fmt::Debug for Language {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Language({})", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_supported_tags_as_listed() {
        assert_eq!(Language::parse("en-GB").unwrap().as_str(), "en-GB");
        assert_eq!(Language::parse("de").unwrap().as_str(), "de");
    }

    #[test]
    fn rejects_unsupported_or_malformed_tags() {
        for bad in ["", "klingon", "en-", "xx-YY", "en-GB-x-private", "EN_gb", " de"] {
            assert_eq!(Language::parse(bad), Err(InvalidLanguage), "{bad:?}");
        }
    }
}
