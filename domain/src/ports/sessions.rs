//! Sessions and their refresh tokens (RFC 9700 4.14.2).

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::{audit::AuditEvent, auth::Session};

/// What became of a refresh token presented for rotation.
#[derive(Debug, Clone)]
pub enum RefreshUse {
    /// First use: it is now spent, and belongs to this session.
    Fresh {
        session: Session,
        expires_at: DateTime<Utc>,
    },
    /// It had been spent before: someone replays it.
    Replayed {
        session_id: Uuid,
    },
    NotFound,
}

pub trait SessionStore {
    /// Stores a new session with its first refresh token.
    ///
    /// # Errors
    /// When storage fails.
    fn create_session(
        &self,
        session: &Session,
        refresh_hash: &str,
        refresh_expires_at: DateTime<Utc>,
        audit: &AuditEvent,
    ) -> impl Future<Output = anyhow::Result<()>> + Send;

    /// The session `id`, live or not.
    ///
    /// # Errors
    /// When storage fails.
    fn session(&self, id: Uuid) -> impl Future<Output = anyhow::Result<Option<Session>>> + Send;

    /// Spends the refresh token with this hash and, when `next` answers
    /// an expiry for the session it belonged to, stores the session's next
    /// token `next_hash` expiring then. Spending is atomic: of two
    /// concurrent uses exactly one sees `Fresh`.
    ///
    /// # Errors
    /// When storage fails.
    fn rotate_refresh_token(
        &self,
        hash: &str,
        next_hash: &str,
        next: impl FnOnce(&Session, DateTime<Utc>) -> Option<DateTime<Utc>> + Send,
        now: DateTime<Utc>,
    ) -> impl Future<Output = anyhow::Result<RefreshUse>> + Send;

    /// Ends a session, recording `audit` with it.
    ///
    /// # Errors
    /// When storage fails.
    fn revoke_session(
        &self,
        id: Uuid,
        now: DateTime<Utc>,
        audit: &AuditEvent,
    ) -> impl Future<Output = anyhow::Result<()>> + Send;

    /// The session a refresh token belongs to, spent or not.
    ///
    /// # Errors
    /// When storage fails.
    fn session_of_refresh_token(&self, hash: &str) -> impl Future<Output = anyhow::Result<Option<Uuid>>> + Send;
}
