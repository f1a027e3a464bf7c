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

    /// Accepts any case and `_` for `-`, answers the canonical tag.
    ///
    /// # Errors
    /// `InvalidLanguage` when the tag is not on the supported list.
    pub fn parse(raw: &str) -> Result<Self, InvalidLanguage> {
        let wanted = raw.trim().replace('_', "-");
        SUPPORTED_LANGUAGES
            .iter()
            .find(|tag| tag.eq_ignore_ascii_case(&wanted))
            .map(|tag| Self(tag))
            .ok_or(InvalidLanguage)
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
    fn canonicalises_supported_tags() {
        assert_eq!(Language::parse("EN_gb").unwrap().as_str(), "en-GB");
        assert_eq!(Language::parse("de").unwrap().as_str(), "de");
    }

    #[test]
    fn rejects_unsupported_or_malformed_tags() {
        for bad in ["", "klingon", "en-", "xx-YY", "en-GB-x-private"] {
            assert_eq!(Language::parse(bad), Err(InvalidLanguage), "{bad:?}");
        }
    }
}
