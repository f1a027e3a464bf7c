//! Sessions and refresh tokens (RFC 9700 4.14.2).
//!
//! A sign-in starts a session: the family of refresh tokens that descend
//! from it. A refresh token is opaque, stored only as its SHA-256, and
//! spent on use: refreshing answers a new one. Presenting a spent token
//! means it was stolen or replayed, and ends the whole session. A session
//! has an absolute end, and a refresh token unused for a while expires
//! ([`SessionLifetimes`]).
//! Access tokens carry their session id and are refused once it ends.

use std::fmt;

use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
use chrono::{DateTime, Duration, Utc};
use rand::RngCore as _;
use sha2::{Digest as _, Sha256};
use uuid::Uuid;

/// Where a session was started from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Client {
    Portal,
    Desktop,
    Api,
}

impl Client {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Portal => "portal",
            Self::Desktop => "desktop",
            Self::Api => "api",
        }
    }

    /// Whether `user` may use this client: the desktop app needs the
    /// `desktop_app` application (PRODUCT.md rule 9).
    #[must_use]
    pub fn allowed_for(self, user: &crate::user::User) -> bool {
        match self {
            Self::Desktop => user.applications.contains(&crate::station::Application::DesktopApp),
            Self::Portal | Self::Api => true,
        }
    }

    #[must_use]
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "portal" => Some(Self::Portal),
            "desktop" => Some(Self::Desktop),
            "api" => Some(Self::Api),
            _ => None,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Session {
    pub id: Uuid,
    pub user_id: Uuid,
    pub tenant_id: Uuid,
    pub client: Client,
    pub created_at: DateTime<Utc>,
    /// The absolute end: no refresh extends a session past it.
    pub expires_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
    /// The customer tenant a parent's support agent acts in through this
    /// session (PRODUCT.md rule 11).
    pub acting_tenant_id: Option<Uuid>,
}

impl Session {
    #[must_use]
    pub fn is_live(&self, now: DateTime<Utc>) -> bool {
        self.revoked_at.is_none() && now < self.expires_at
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionLifetimes {
    pub access: Duration,
    pub refresh_idle: Duration,
    pub session_absolute: Duration,
}

impl Default for SessionLifetimes {
    fn default() -> Self {
        Self { access: Duration::minutes(10), refresh_idle: Duration::hours(1), session_absolute: Duration::hours(12) }
    }
}

/// A refresh token as handed to the client, once. Never printed.
pub struct RefreshToken(String);

impl RefreshToken {
    /// 256 random bits, URL-safe, with a prefix that secret scanners know.
    #[must_use]
    pub fn generate() -> Self {
        let mut bytes = [0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        Self(format!("vxr_{}", URL_SAFE_NO_PAD.encode(bytes)))
    }

    #[must_use]
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// What storage keeps: the hex SHA-256 of the token.
    #[must_use]
    pub fn hash(&self) -> String {
        Self::hash_of(&self.0)
    }

    /// The storage form of a token a client presented.
    #[must_use]
    pub fn hash_of(presented: &str) -> String {
        Sha256::digest(presented.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
    }
}

impl fmt::Debug for RefreshToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RefreshToken(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_and_stored_hashed() {
        let a = RefreshToken::generate();
        let b = RefreshToken::generate();
        assert_ne!(a.expose(), b.expose());
        assert!(a.expose().starts_with("vxr_"));
        assert_eq!(a.hash(), RefreshToken::hash_of(a.expose()));
        assert_eq!(a.hash().len(), 64);
        assert!(!a.hash().contains(a.expose()));
        assert!(!format!("{a:?}").contains(a.expose()));
    }

    #[test]
    fn a_session_ends_when_revoked_or_past_its_absolute_end() {
        let now = Utc::now();
        let mut s = Session {
            id: Uuid::new_v4(),
            user_id: Uuid::new_v4(),
            tenant_id: Uuid::new_v4(),
            client: Client::Portal,
            created_at: now,
            expires_at: now + Duration::hours(12),
            revoked_at: None,
            acting_tenant_id: None,
        };
        assert!(s.is_live(now));
        assert!(!s.is_live(now + Duration::hours(12)));
        s.revoked_at = Some(now);
        assert!(!s.is_live(now));
    }
}
