//! Extensions, their holders and their sealed SIP secrets.

use uuid::Uuid;

use crate::{
    audit::AuditEvent,
    errors::*,
    extension::{Extension, ExtensionChanges, ExtensionFilter, NewExtension, StoredSipSecret},
    paging::{Page, PageRequest},
};

pub trait ExtensionStore {
    /// The numbers of every extension of `tenant`, in no order: all that
    /// finding a free number needs.
    ///
    /// # Errors
    /// When storage fails.
    fn extension_numbers(&self, tenant: Uuid) -> impl Future<Output = anyhow::Result<Vec<String>>> + Send;

    /// The extensions of `tenant` that `filter` lets through, by number.
    ///
    /// # Errors
    /// When storage fails.
    fn list_extensions(
        &self,
        tenant: Uuid,
        filter: &ExtensionFilter,
        page: PageRequest,
    ) -> impl Future<Output = anyhow::Result<Page<Extension>>> + Send;

    /// The extension `id` of `tenant`, with its holder.
    ///
    /// # Errors
    /// When storage fails.
    fn extension(&self, tenant: Uuid, id: Uuid) -> impl Future<Output = anyhow::Result<Option<Extension>>> + Send;

    /// # Errors
    /// `NumberTaken` when the tenant has an extension with the number.
    fn create_extension(
        &self,
        tenant: Uuid,
        extension: &NewExtension,
        audit: &AuditEvent,
    ) -> impl Future<Output = Result<Extension, CreateExtensionError>> + Send;

    /// # Errors
    /// `NotFound`, `NumberTaken`.
    fn update_extension(
        &self,
        tenant: Uuid,
        id: Uuid,
        changes: ExtensionChanges,
        audit: &AuditEvent,
    ) -> impl Future<Output = Result<Extension, UpdateExtensionError>> + Send;

    /// # Errors
    /// `NotFound`; `Assigned` naming the holder while it rings a user.
    fn delete_extension(
        &self,
        tenant: Uuid,
        id: Uuid,
        audit: &AuditEvent,
    ) -> impl Future<Output = Result<(), DeleteExtensionError>> + Send;

    /// The extensions of `tenant` with their sealed SIP secrets: the one
    /// `id`, or those `user` holds.
    ///
    /// # Errors
    /// When storage fails.
    fn sealed_sip_secrets(
        &self,
        tenant: Uuid,
        of: SecretsOf,
    ) -> impl Future<Output = anyhow::Result<Vec<(Extension, String)>>> + Send;

    /// Replaces the sealed SIP secret; answers whether the extension exists.
    ///
    /// # Errors
    /// When storage fails.
    fn set_sip_secret(
        &self,
        tenant: Uuid,
        id: Uuid,
        sealed: &StoredSipSecret,
        audit: &AuditEvent,
    ) -> impl Future<Output = anyhow::Result<bool>> + Send;

    /// The stored SIP secrets (of `tenant`, or of all tenants) whose
    /// digest hashes are missing or for another domain than
    /// `<tenant slug>.<domain_suffix>`, with what the hashes are made of.
    ///
    /// # Errors
    /// When storage fails.
    fn stale_digest_sources(
        &self,
        tenant: Option<Uuid>,
        domain_suffix: &str,
    ) -> impl Future<Output = anyhow::Result<Vec<DigestSource>>> + Send;

    /// Stores each extension's secret with its new domain and hashes.
    ///
    /// # Errors
    /// When storage fails.
    fn set_digest_hashes(&self, fresh: &[(Uuid, StoredSipSecret)]) -> impl Future<Output = anyhow::Result<()>> + Send;

    /// Makes `extension` ring `user` too.
    ///
    /// # Errors
    /// `UserNotFound`, `ExtensionNotFound`, `ExtensionAssigned` naming the
    /// holder when it rings another user. A free extension takes
    /// `fresh_secret` (sealed) as its SIP secret; one that already rings
    /// `user` keeps its own.
    fn assign_extension(
        &self,
        tenant: Uuid,
        user: Uuid,
        extension: Uuid,
        fresh_secret: &StoredSipSecret,
        audit: &AuditEvent,
    ) -> impl Future<Output = Result<Extension, TelephonyError>> + Send;

    /// Stops `extension` ringing `user`; nothing happens when it rings
    /// someone else or nobody.
    ///
    /// # Errors
    /// `UserNotFound`, `ExtensionNotFound`.
    fn release_extension(
        &self,
        tenant: Uuid,
        user: Uuid,
        extension: Uuid,
        audit: &AuditEvent,
    ) -> impl Future<Output = Result<(), TelephonyError>> + Send;
}

/// Which extensions' secrets to read.
/// A stored SIP secret and what its digest hashes are made of.
pub struct DigestSource {
    pub extension_id: Uuid,
    pub tenant_slug: String,
    pub username: String,
    pub sealed: String,
}

#[derive(Debug, Clone, Copy)]
pub enum SecretsOf {
    Extension(Uuid),
    User(Uuid),
}
