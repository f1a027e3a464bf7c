//! SCIM: its tokens (see `crate::scim_token`) and deprovisioning (see
//! `crate::deprovisioning`).

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::{
    audit::AuditEvent,
    deprovisioning::DeprovisionSettings,
    paging::{Page, PageRequest},
    scim_token::{NewScimToken, ScimToken},
};

pub trait ScimStore {
    /// The tokens of `tenant`, newest first.
    ///
    /// # Errors
    /// When storage fails.
    fn list_scim_tokens(
        &self,
        tenant: Uuid,
        page: PageRequest,
    ) -> impl Future<Output = anyhow::Result<Page<ScimToken>>> + Send;

    /// # Errors
    /// When storage fails.
    fn scim_token(&self, tenant: Uuid, id: Uuid) -> impl Future<Output = anyhow::Result<Option<ScimToken>>> + Send;

    /// # Errors
    /// When storage fails.
    fn create_scim_token(
        &self,
        tenant: Uuid,
        new: NewScimToken,
        audit: &AuditEvent,
    ) -> impl Future<Output = anyhow::Result<ScimToken>> + Send;

    /// Deletes (revokes) a token; answers whether it existed.
    ///
    /// # Errors
    /// When storage fails.
    fn delete_scim_token(
        &self,
        tenant: Uuid,
        id: Uuid,
        audit: &AuditEvent,
    ) -> impl Future<Output = anyhow::Result<bool>> + Send;

    /// The token whose digest this is, with its digest, on any tenant.
    ///
    /// # Errors
    /// When storage fails.
    fn scim_token_by_digest(
        &self,
        digest: &str,
    ) -> impl Future<Output = anyhow::Result<Option<(ScimToken, String)>>> + Send;

    /// Records that the token was used at `now`.
    ///
    /// # Errors
    /// When storage fails.
    fn touch_scim_token(&self, id: Uuid, now: DateTime<Utc>) -> impl Future<Output = anyhow::Result<()>> + Send;

    /// The tenant's deprovisioning settings (the defaults until set).
    ///
    /// # Errors
    /// When storage fails.
    fn deprovision_settings(&self, tenant: Uuid) -> impl Future<Output = anyhow::Result<DeprovisionSettings>> + Send;

    /// # Errors
    /// When storage fails.
    fn set_deprovision_settings(
        &self,
        tenant: Uuid,
        settings: DeprovisionSettings,
        audit: &AuditEvent,
    ) -> impl Future<Output = anyhow::Result<()>> + Send;

    /// Frees what users deactivated longer ago than their tenant's hold
    /// (at `now`) still hold, each in a transaction with an audit event;
    /// answers how many users.
    ///
    /// # Errors
    /// When storage fails.
    fn end_holds(&self, now: DateTime<Utc>) -> impl Future<Output = anyhow::Result<u64>> + Send;
}
