//! The email outbox (PRODUCT.md rule 5).

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::{
    audit::AuditEvent,
    auth::NewLinkToken,
    email::{ClaimedEmail, Delivery, NewOutboxEmail, OutboxEmail},
    paging::{Page, PageRequest},
};

/// An email to write to the outbox with the change that causes it, and
/// the single-use link it carries, if any.
#[derive(Debug, Clone)]
pub struct QueuedEmail {
    pub email: NewOutboxEmail,
    /// Replaces the user's unused links of the same purpose.
    pub link: Option<NewLinkToken>,
}

pub trait OutboxStore {
    /// The emails written for `user` of `tenant`, newest first.
    ///
    /// # Errors
    /// When storage fails.
    fn emails_of(
        &self,
        tenant: Uuid,
        user: Uuid,
        page: PageRequest,
    ) -> impl Future<Output = anyhow::Result<Page<OutboxEmail>>> + Send;

    /// Writes an email (and its link) in one transaction.
    ///
    /// # Errors
    /// When storage fails.
    fn queue_email(&self, email: QueuedEmail, audit: &AuditEvent) -> impl Future<Output = anyhow::Result<()>> + Send;

    /// Leases up to `limit` emails due at `now` until `lease_until` under
    /// the token `lease`. Concurrent workers (other replicas) never lease
    /// the same row: `FOR UPDATE SKIP LOCKED` on PostgreSQL, the write lock
    /// on SQLite.
    ///
    /// # Errors
    /// When storage fails.
    fn claim_due_emails(
        &self,
        now: DateTime<Utc>,
        limit: u64,
        lease_until: DateTime<Utc>,
        lease: Uuid,
    ) -> impl Future<Output = anyhow::Result<Vec<ClaimedEmail>>> + Send;

    /// Records one attempt and ends the lease; false (and nothing
    /// recorded) when the lease ran out and another worker took the row.
    ///
    /// # Errors
    /// When storage fails.
    fn record_delivery(
        &self,
        id: Uuid,
        lease: Uuid,
        delivery: Delivery,
    ) -> impl Future<Output = anyhow::Result<bool>> + Send;

    /// How many emails wait to be sent, and since when the oldest waits.
    ///
    /// # Errors
    /// When storage fails.
    fn outbox_backlog(&self) -> impl Future<Output = anyhow::Result<(u64, Option<DateTime<Utc>>)>> + Send;
}
