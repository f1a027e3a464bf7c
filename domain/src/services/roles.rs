//! Roles: the four built-in ones are fixed; custom ones are created,
//! changed and deleted by admins holding `roles:write`, never with a
//! permission the admin lacks (PRODUCT.md rule 7).

use chrono::{DateTime, Utc};
use serde_json::json;
use uuid::Uuid;

use super::{Voxport, touched_fields};
use crate::{
    actor::Actor,
    audit::{AuditAction, AuditEvent, TargetType},
    errors::{CreateRoleError, DeleteRoleError, UpdateRoleError},
    paging::{Page, PageRequest},
    ports::Store,
    role::{NewRole, Role, RoleChanges},
};

impl<S: Store> Voxport<S> {
    /// # Errors
    /// When storage fails.
    pub async fn list_roles(&self, actor: &Actor, page: PageRequest) -> anyhow::Result<Page<Role>> {
        self.store.list_roles(actor.tenant_id, page).await
    }

    /// # Errors
    /// When storage fails.
    pub async fn role(&self, actor: &Actor, id: Uuid) -> anyhow::Result<Option<Role>> {
        self.store.role(actor.tenant_id, id).await
    }

    /// # Errors
    /// See [`CreateRoleError`].
    pub async fn create_role(&self, actor: &Actor, role: NewRole, now: DateTime<Utc>) -> Result<Role, CreateRoleError> {
        let missing = actor.cannot_grant(&role.permissions);
        if !missing.is_empty() {
            return Err(CreateRoleError::PermissionNotHeld(missing));
        }
        let audit = AuditEvent::by(actor, AuditAction::RoleCreated, TargetType::Role, None, now)
            .with(json!({"permissions": role.permissions.to_codes(), "two_factor_required": role.two_factor_required}));
        let role = self.store.create_role(actor.tenant_id, role, &audit).await?;
        tracing::info!(actor = %actor.caller_id(), role = %role.id, "created role");
        Ok(role)
    }

    /// # Errors
    /// See [`UpdateRoleError`].
    pub async fn update_role(
        &self,
        actor: &Actor,
        id: Uuid,
        changes: RoleChanges,
        now: DateTime<Utc>,
    ) -> Result<Role, UpdateRoleError> {
        // Changing a role changes what its holders may do: the actor must
        // hold what it grants now as well as what it will grant.
        let current = self.store.role(actor.tenant_id, id).await?.ok_or(UpdateRoleError::NotFound)?;
        let missing = actor.cannot_grant(&current.permissions);
        if !missing.is_empty() {
            return Err(UpdateRoleError::PermissionNotHeld(missing));
        }
        if let Some(permissions) = &changes.permissions {
            let missing = actor.cannot_grant(permissions);
            if !missing.is_empty() {
                return Err(UpdateRoleError::PermissionNotHeld(missing));
            }
        }
        // The product's four roles are fixed (and stay built in: nothing
        // makes a role built in after it was created).
        if current.builtin.is_some() {
            return Err(UpdateRoleError::BuiltIn);
        }
        let audit = AuditEvent::by(actor, AuditAction::RoleUpdated, TargetType::Role, Some(id), now).with(json!({
            "fields": touched_fields(&[
                ("name", changes.name.is_some()),
                ("description", changes.description.is_some()),
                ("permissions", changes.permissions.is_some()),
                ("two_factor_required", changes.two_factor_required.is_some()),
            ]),
        }));
        let role = self.store.update_role(actor.tenant_id, id, changes, &audit).await?;
        self.tokens_may_have_changed();
        tracing::info!(actor = %actor.caller_id(), role = %role.id, "changed role");
        Ok(role)
    }

    /// # Errors
    /// See [`DeleteRoleError`].
    pub async fn delete_role(&self, actor: &Actor, id: Uuid, now: DateTime<Utc>) -> Result<(), DeleteRoleError> {
        let current = self.store.role(actor.tenant_id, id).await?.ok_or(DeleteRoleError::NotFound)?;
        if current.builtin.is_some() {
            return Err(DeleteRoleError::BuiltIn);
        }
        let audit = AuditEvent::by(actor, AuditAction::RoleDeleted, TargetType::Role, Some(id), now);
        self.store.delete_role(actor.tenant_id, id, &audit).await?;
        self.tokens_may_have_changed();
        tracing::info!(actor = %actor.caller_id(), role = %id, "deleted role");
        Ok(())
    }
}
