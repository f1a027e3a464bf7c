//! Tenants: visible to themselves and the tenants above them; created
//! with their built-in roles and first administrator.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::QueuedEmail;

use crate::{
    audit::AuditEvent,
    errors::*,
    paging::{Page, PageRequest},
    tenant::{Tenant, TenantChanges, TenantSeed},
    user::User,
};

pub trait TenantStore {
    /// The tenant `id` when `viewer` is its parent, an ancestor of its
    /// parent, or the tenant itself.
    ///
    /// # Errors
    /// When storage fails.
    fn tenant_visible_to(&self, viewer: Uuid, id: Uuid) -> impl Future<Output = anyhow::Result<Option<Tenant>>> + Send;

    /// The tenants below `ancestor` (children, grandchildren, ...), ordered by slug.
    ///
    /// # Errors
    /// When storage fails.
    fn list_tenants_below(
        &self,
        ancestor: Uuid,
        q: Option<&str>,
        page: PageRequest,
    ) -> impl Future<Output = anyhow::Result<Page<Tenant>>> + Send;

    /// Creates the tenant, its built-in roles and its first administrator
    /// (with their welcome email, if any) in one transaction.
    ///
    /// # Errors
    /// `SlugTaken` when another tenant has the slug; `AdminLoginTaken` when
    /// the administrator's login is in use anywhere on the platform.
    fn create_tenant(
        &self,
        seed: TenantSeed,
        welcome: Option<QueuedEmail>,
        audit: &AuditEvent,
    ) -> impl Future<Output = Result<(Tenant, User), CreateTenantError>> + Send;

    /// # Errors
    /// `NotFound` when the tenant does not exist; `SlugTaken` when another
    /// tenant has the new slug.
    fn update_tenant(
        &self,
        id: Uuid,
        changes: TenantChanges,
        audit: &AuditEvent,
    ) -> impl Future<Output = Result<Tenant, UpdateTenantError>> + Send;

    /// Deletes the tenant with its users, roles and sessions.
    ///
    /// # Errors
    /// `NotFound` when it does not exist; `HasChildren` when tenants still
    /// hang below it.
    fn delete_tenant(&self, id: Uuid, audit: &AuditEvent)
    -> impl Future<Output = Result<(), DeleteTenantError>> + Send;

    /// The platform tenant, if the installation has been bootstrapped.
    ///
    /// # Errors
    /// When storage fails.
    fn platform_tenant(&self) -> impl Future<Output = anyhow::Result<Option<Tenant>>> + Send;

    /// Creates the platform tenant with its roles and first operator at
    /// `now`, unless another process got there first (then answers `None`).
    ///
    /// # Errors
    /// When storage fails.
    fn bootstrap_platform(
        &self,
        seed: TenantSeed,
        now: DateTime<Utc>,
    ) -> impl Future<Output = anyhow::Result<Option<User>>> + Send;
}
