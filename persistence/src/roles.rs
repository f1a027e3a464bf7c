//! Roles of a tenant. Built-in roles are refused for change and deletion;
//! a role still held by a user cannot be deleted (checked with the tenant
//! locked, so a user cannot be given the role while it goes).

use sea_orm::{
    ActiveModelTrait as _, ActiveValue::Set, ColumnTrait, EntityTrait, IntoActiveModel as _, Order,
    PaginatorTrait as _, QueryFilter, QueryOrder, QuerySelect,
};
use uuid::Uuid;
use voxport_domain::{
    audit::AuditEvent,
    errors::{CreateRoleError, DeleteRoleError, UpdateRoleError},
    paging::{Page, PageRequest},
    ports::RoleStore,
    role::{BuiltinRole, NewRole, Role, RoleChanges},
};

use crate::{
    SeaStore,
    audit::record,
    convert, db_err,
    entities::{roles, users},
    lock_tenant, unique_violation,
};

impl RoleStore for SeaStore {
    async fn list_roles(&self, tenant: Uuid, page: PageRequest) -> anyhow::Result<Page<Role>> {
        let select = roles::Entity::find().filter(roles::Column::TenantId.eq(tenant));
        let total = select.clone().count(&self.db).await.map_err(|e| db_err(e, "counting roles"))?;
        let rows = select
            .order_by(roles::Column::NameKey, Order::Asc)
            .offset(page.offset())
            .limit(page.per_page())
            .all(&self.db)
            .await
            .map_err(|e| db_err(e, "listing roles"))?;
        let items = rows.into_iter().map(convert::role).collect::<anyhow::Result<_>>()?;
        Ok(Page { items, total, page: page.page(), per_page: page.per_page() })
    }

    async fn role(&self, tenant: Uuid, id: Uuid) -> anyhow::Result<Option<Role>> {
        roles::Entity::find_by_id(id)
            .filter(roles::Column::TenantId.eq(tenant))
            .one(&self.db)
            .await
            .map_err(|e| db_err(e, "loading a role"))?
            .map(convert::role)
            .transpose()
    }

    async fn builtin_role(&self, tenant: Uuid, which: BuiltinRole) -> anyhow::Result<Option<Role>> {
        roles::Entity::find()
            .filter(roles::Column::TenantId.eq(tenant))
            .filter(roles::Column::Builtin.eq(which.key()))
            .one(&self.db)
            .await
            .map_err(|e| db_err(e, "loading a built-in role"))?
            .map(convert::role)
            .transpose()
    }

    async fn create_role(&self, tenant: Uuid, role: NewRole, audit: &AuditEvent) -> Result<Role, CreateRoleError> {
        let now = crate::at(audit);
        let id = Uuid::now_v7();
        let row = roles::ActiveModel {
            id: Set(id),
            tenant_id: Set(tenant),
            name: Set(role.name.as_str().to_owned()),
            name_key: Set(role.name.as_str().to_lowercase()),
            description: Set(role.description),
            permissions: Set(role.permissions.to_codes()),
            builtin: Set(None),
            two_factor_required: Set(role.two_factor_required),
            created_at: Set(now),
            updated_at: Set(now),
        };
        let (txn, _writing) = self.begin_write().await?;
        let created = match row.insert(&txn).await {
            Ok(m) => convert::role(m)?,
            Err(e) if unique_violation(&e, "name_key") || unique_violation(&e, "tenant_name") => {
                return Err(CreateRoleError::NameTaken);
            }
            Err(e) => return Err(db_err(e, "inserting a role").into()),
        };
        record(&txn, audit, Some(id)).await?;
        txn.commit().await.map_err(|e| db_err(e, "committing a role"))?;
        Ok(created)
    }

    async fn update_role(
        &self,
        tenant: Uuid,
        id: Uuid,
        changes: RoleChanges,
        audit: &AuditEvent,
    ) -> Result<Role, UpdateRoleError> {
        let (txn, _writing) = self.begin_write().await?;
        let row = roles::Entity::find_by_id(id)
            .filter(roles::Column::TenantId.eq(tenant))
            .one(&txn)
            .await
            .map_err(|e| db_err(e, "loading a role"))?
            .ok_or(UpdateRoleError::NotFound)?;
        let mut row = row.into_active_model();
        if let Some(name) = changes.name {
            row.name_key = Set(name.as_str().to_lowercase());
            row.name = Set(name.as_str().to_owned());
        }
        if let Some(description) = changes.description {
            row.description = Set(description);
        }
        if let Some(permissions) = changes.permissions {
            row.permissions = Set(permissions.to_codes());
        }
        if let Some(required) = changes.two_factor_required {
            row.two_factor_required = Set(required);
        }
        row.updated_at = Set(crate::at(audit));
        let changed = match row.update(&txn).await {
            Ok(m) => convert::role(m)?,
            Err(e) if unique_violation(&e, "name_key") || unique_violation(&e, "tenant_name") => {
                return Err(UpdateRoleError::NameTaken);
            }
            Err(e) => return Err(db_err(e, "updating a role").into()),
        };
        record(&txn, audit, None).await?;
        txn.commit().await.map_err(|e| db_err(e, "committing a role change"))?;
        Ok(changed)
    }

    async fn delete_role(&self, tenant: Uuid, id: Uuid, audit: &AuditEvent) -> Result<(), DeleteRoleError> {
        let (txn, _writing) = self.begin_write().await?;
        if !lock_tenant(&txn, tenant).await.map_err(|e| db_err(e, "locking a tenant"))? {
            return Err(DeleteRoleError::NotFound);
        }
        // Deleted meanwhile: the domain found it before the transaction.
        roles::Entity::find_by_id(id)
            .filter(roles::Column::TenantId.eq(tenant))
            .one(&txn)
            .await
            .map_err(|e| db_err(e, "loading a role"))?
            .ok_or(DeleteRoleError::NotFound)?;
        let holders = users::Entity::find()
            .filter(users::Column::RoleId.eq(id))
            .count(&txn)
            .await
            .map_err(|e| db_err(e, "counting a role's users"))?;
        if holders > 0 {
            return Err(DeleteRoleError::InUse);
        }
        roles::Entity::delete_by_id(id).exec(&txn).await.map_err(|e| db_err(e, "deleting a role"))?;
        record(&txn, audit, None).await?;
        txn.commit().await.map_err(|e| db_err(e, "committing a role deletion"))?;
        Ok(())
    }
}
