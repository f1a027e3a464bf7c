//! The append-only audit log.

use uuid::Uuid;

use crate::{
    audit::{AuditEvent, AuditFilter},
    paging::{Page, PageRequest},
};

pub trait AuditStore {
    /// Writes an event on its own, for what changes nothing else (a failed
    /// sign-in that did not count, a secret read).
    ///
    /// # Errors
    /// When storage fails.
    fn record(&self, event: &AuditEvent) -> impl Future<Output = anyhow::Result<()>> + Send;

    /// Writes events together: all or none.
    ///
    /// # Errors
    /// When storage fails.
    fn record_all(&self, events: &[AuditEvent]) -> impl Future<Output = anyhow::Result<()>> + Send;

    /// The events of `tenant` (with `include_anonymous`, also those of no
    /// tenant, such as sign-ins with unknown logins), newest first.
    ///
    /// # Errors
    /// When storage fails.
    fn list_events(
        &self,
        tenant: Uuid,
        include_anonymous: bool,
        filter: &AuditFilter,
        page: PageRequest,
    ) -> impl Future<Output = anyhow::Result<Page<AuditEvent>>> + Send;
}
