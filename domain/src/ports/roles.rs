//! Roles of a tenant.

use uuid::Uuid;

use crate::{
    audit::AuditEvent,
    errors::*,
    paging::{Page, PageRequest},
    role::{BuiltinRole, NewRole, Role, RoleChanges},
};

pub trait RoleStore {
    /// The roles of `tenant`, built-in ones first.
    ///
    /// # Errors
    /// When storage fails.
    fn list_roles(&self, tenant: Uuid, page: PageRequest) -> impl Future<Output = anyhow::Result<Page<Role>>> + Send;

    /// The role `id` of `tenant`.
    ///
    /// # Errors
    /// When storage fails.
    fn role(&self, tenant: Uuid, id: Uuid) -> impl Future<Output = anyhow::Result<Option<Role>>> + Send;

    /// The built-in role `which` of `tenant`.
    ///
    /// # Errors
    /// When storage fails.
    fn builtin_role(
        &self,
        tenant: Uuid,
        which: BuiltinRole,
    ) -> impl Future<Output = anyhow::Result<Option<Role>>> + Send;

    /// # Errors
    /// `NameTaken` when the tenant has a role of that name (any case).
    fn create_role(
        &self,
        tenant: Uuid,
        role: NewRole,
        audit: &AuditEvent,
    ) -> impl Future<Output = Result<Role, CreateRoleError>> + Send;

    /// # Errors
    /// `NotFound`, `NameTaken`. (The domain refuses built-in roles before.)
    fn update_role(
        &self,
        tenant: Uuid,
        id: Uuid,
        changes: RoleChanges,
        audit: &AuditEvent,
    ) -> impl Future<Output = Result<Role, UpdateRoleError>> + Send;

    /// # Errors
    /// `NotFound`, `InUse` while any user holds the role. (The domain
    /// refuses built-in roles before.)
    fn delete_role(
        &self,
        tenant: Uuid,
        id: Uuid,
        audit: &AuditEvent,
    ) -> impl Future<Output = Result<(), DeleteRoleError>> + Send;
}
