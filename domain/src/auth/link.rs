//! Single-use links: the set-password link of a welcome email and the
//! password-reset link (SECURITY.md "Credentials"; ASVS 5.0 6.4.1). The
//! token travels in the link only; storage keeps its SHA-256, when it was
//! made, when it expires and when it was used. Redeeming spends it with
//! one conditional update, so of two concurrent uses exactly one succeeds.

use std::fmt;

use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
use chrono::{DateTime, Utc};
use rand::RngCore as _;
use uuid::Uuid;

use super::RefreshToken;

/// What a link lets its holder do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkPurpose {
    /// Choose the first password (welcome email).
    SetPassword,
    /// Choose a new password (forgotten password).
    ResetPassword,
}

impl LinkPurpose {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::SetPassword => "set_password",
            Self::ResetPassword => "reset_password",
        }
    }
}

/// A link token as handed out, once. Never printed.
pub struct LinkToken(String);

impl LinkToken {
    /// 256 random bits, URL-safe, with a prefix that secret scanners know.
    #[must_use]
    pub fn generate() -> Self {
        let mut bytes = [0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        Self(format!("vxl_{}", URL_SAFE_NO_PAD.encode(bytes)))
    }

    #[must_use]
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// What storage keeps: the hex SHA-256 of the token.
    #[must_use]
    pub fn hash_of(presented: &str) -> String {
        RefreshToken::hash_of(presented)
    }
}

impl fmt::Debug for LinkToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("LinkToken(<redacted>)")
    }
}

/// A link about to be stored.
#[derive(Debug, Clone)]
pub struct NewLinkToken {
    pub user_id: Uuid,
    pub purpose: LinkPurpose,
    pub hash: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn link_tokens_are_random_and_never_printed() {
        let a = LinkToken::generate();
        assert_ne!(a.expose(), LinkToken::generate().expose());
        assert!(a.expose().starts_with("vxl_"));
        assert_eq!(LinkToken::hash_of(a.expose()).len(), 64);
        assert!(!format!("{a:?}").contains(a.expose()));
    }
}
