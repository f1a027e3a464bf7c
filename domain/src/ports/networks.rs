//! IP allowlists.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::{allowlist::NetworkChange, audit::AuditEvent, values::Cidr};

pub trait NetworkStore {
    /// Applies `change` to a user's allowlist and ends their sessions (but
    /// `keep`), in one transaction with the user locked; answers the list as
    /// stored, or `None` when there is no such user.
    ///
    /// # Errors
    /// When storage fails.
    fn change_networks(
        &self,
        tenant: Uuid,
        user: Uuid,
        change: &NetworkChange,
        keep: Option<Uuid>,
        now: DateTime<Utc>,
        audit: &AuditEvent,
    ) -> impl Future<Output = anyhow::Result<Option<Vec<Cidr>>>> + Send;
}
