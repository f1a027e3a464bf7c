//! Single-use set-password and reset links.

use chrono::{DateTime, Utc};

use crate::{
    audit::AuditEvent,
    auth::{LinkPurpose, PasswordHash},
    user::AccountId,
};

pub trait LinkStore {
    /// Whose account a valid (unused, unexpired) link belongs to.
    ///
    /// # Errors
    /// When storage fails.
    fn link_owner(
        &self,
        hash: &str,
        purpose: LinkPurpose,
        now: DateTime<Utc>,
    ) -> impl Future<Output = anyhow::Result<Option<AccountId>>> + Send;

    /// Spends the link and sets the password in one transaction, ending
    /// every session of the user; false when the link was no longer valid
    /// (of two concurrent uses exactly one succeeds).
    ///
    /// # Errors
    /// When storage fails.
    fn redeem_link(
        &self,
        hash: &str,
        purpose: LinkPurpose,
        password: PasswordHash,
        now: DateTime<Utc>,
        audit: &AuditEvent,
    ) -> impl Future<Output = anyhow::Result<bool>> + Send;
}
