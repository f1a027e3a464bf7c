//! Refreshing and ending sessions (RFC 9700 4.14.2): a refresh token is
//! spent on use, and one presented twice ends its whole session.

use std::net::IpAddr;

use chrono::{DateTime, Utc};
use serde_json::json;

use super::{SignedIn, Voxport};
use crate::{
    audit::{AuditAction, AuditEvent},
    auth::{RefreshToken, Session},
    errors::RefreshError,
    ports::{RefreshUse, Store},
    user::UserStatus,
    values::allowed,
};

impl<S: Store> Voxport<S> {
    /// Rotates a refresh token. A token presented a second time ends its
    /// whole session (RFC 9700 4.14.2).
    ///
    /// # Errors
    /// `InvalidToken` when the token is unknown, spent, expired or its
    /// session has ended, or its user may no longer sign in;
    /// `IpNotAllowed` from outside the user's allowlist.
    pub async fn refresh(
        &self,
        presented: &str,
        ip: Option<IpAddr>,
        now: DateTime<Utc>,
    ) -> Result<SignedIn, RefreshError> {
        // The next token is stored as this one is spent, while the session
        // goes on; it is handed out only if the checks below pass too.
        let refresh = RefreshToken::generate();
        let continues = |session: &Session, expires_at: DateTime<Utc>| {
            (session.is_live(now) && expires_at > now).then(|| self.refresh_expiry(session, now))
        };
        let presented = RefreshToken::hash_of(presented);
        let (session, expires_at) =
            match self.store.rotate_refresh_token(&presented, &refresh.hash(), continues, now).await? {
                RefreshUse::Fresh { session, expires_at } => (session, expires_at),
                RefreshUse::Replayed { session_id } => {
                    tracing::warn!(session = %session_id, "refresh token reused; ending the session");
                    let owner = self.store.session(session_id).await?;
                    let audit = AuditEvent::anonymous(
                        AuditAction::RefreshTokenReused,
                        owner.as_ref().map(|s| s.tenant_id),
                        owner.as_ref().map(|s| s.user_id),
                        ip,
                        now,
                    )
                    .with(json!({"session_id": session_id}));
                    self.store.revoke_session(session_id, now, &audit).await?;
                    self.tokens_may_have_changed();
                    return Err(RefreshError::InvalidToken);
                }
                RefreshUse::NotFound => return Err(RefreshError::InvalidToken),
            };
        if !session.is_live(now) || expires_at <= now {
            return Err(RefreshError::InvalidToken);
        }
        let user = match self.store.user(session.tenant_id, session.user_id).await? {
            Some(user) if user.status(now) == UserStatus::Active && session.client.allowed_for(&user) => user,
            _ => return Err(RefreshError::InvalidToken),
        };
        if !allowed(&user.allowed_networks, ip) {
            return Err(RefreshError::IpNotAllowed);
        }
        Ok(self.signed_in(user, &session, refresh, now)?)
    }

    /// Ends the session a refresh token belongs to. Unknown tokens are
    /// ignored: signing out twice is not an error.
    ///
    /// # Errors
    /// When storage fails.
    pub async fn logout(&self, presented: &str, ip: Option<IpAddr>, now: DateTime<Utc>) -> anyhow::Result<()> {
        if let Some(session) = self.store.session_of_refresh_token(&RefreshToken::hash_of(presented)).await?
            && let Some(found) = self.store.session(session).await?
            && found.revoked_at.is_none()
        {
            let audit = AuditEvent::own(AuditAction::SignedOut, found.tenant_id, found.user_id, ip, now)
                .with(json!({"session_id": session}));
            self.store.revoke_session(session, now, &audit).await?;
            self.tokens_may_have_changed();
        }
        Ok(())
    }

    /// When a refresh token issued now in `session` stops working: after
    /// the idle lifetime, and never after the session itself.
    pub(super) fn refresh_expiry(&self, session: &Session, now: DateTime<Utc>) -> DateTime<Utc> {
        (now + self.lifetimes.refresh_idle).min(session.expires_at)
    }
}
