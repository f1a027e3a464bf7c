//! Tenants: created with their four built-in roles and first administrator
//! in one transaction; visible to themselves and the tenants above them
//! through the materialised `path`.

use anyhow::Context as _;
use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait as _,
    ActiveValue::Set,
    ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, IntoActiveModel as _, Order, PaginatorTrait as _,
    QueryFilter, QueryOrder, QuerySelect,
    sea_query::{Expr, ExprTrait as _, Func},
};
use uuid::Uuid;
use voxport_domain::{
    audit::AuditEvent,
    errors::{CreateTenantError, DeleteTenantError, UpdateTenantError},
    paging::{Page, PageRequest},
    ports::{QueuedEmail, TenantStore},
    tenant::{Tenant, TenantChanges, TenantKind, TenantSeed},
    user::User,
};

use crate::{
    SeaStore,
    audit::record,
    convert, db_err,
    entities::{roles, tenants, users},
    is_unique_violation, like_pattern, lock_tenant, outbox, unique_violation, user_counts,
    users::{find_user, new_user_model},
};

fn below(ancestor: Uuid) -> Condition {
    Condition::all().add(tenants::Column::Path.like(format!("%/{ancestor}/%")))
}

/// Inserts a tenant with its roles and first administrator, as the domain
/// seeded them. Fails with the raw error so callers can tell which UNIQUE
/// constraint was hit.
async fn insert_seed(
    txn: &impl ConnectionTrait,
    parent: Option<&tenants::Model>,
    seed: &TenantSeed,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    let TenantSeed { tenant, roles, admin } = seed;
    let path = format!("{}{}/", parent.map_or("/", |p| p.path.as_str()), tenant.id);
    tenants::ActiveModel {
        id: Set(tenant.id),
        parent_id: Set(tenant.parent_id),
        kind: Set(tenant.kind.as_str().to_owned()),
        name: Set(tenant.name.as_str().to_owned()),
        slug: Set(tenant.slug.as_str().to_owned()),
        path: Set(path),
        extension_min_digits: Set(i32::from(tenant.extension_digits.min())),
        extension_max_digits: Set(i32::from(tenant.extension_digits.max())),
        own_phone_numbers: Set(tenant.own_phone_numbers),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(txn)
    .await?;
    for role in roles {
        let name = role.builtin.name();
        roles::ActiveModel {
            id: Set(role.id),
            tenant_id: Set(tenant.id),
            name: Set(name.to_owned()),
            name_key: Set(name.to_lowercase()),
            description: Set(Some(role.builtin.description().to_owned())),
            permissions: Set(role.permissions.to_codes()),
            builtin: Set(Some(role.builtin.key().to_owned())),
            two_factor_required: Set(false),
            created_at: Set(now),
            updated_at: Set(now),
        }
        .insert(txn)
        .await?;
    }
    new_user_model(admin, now).insert(txn).await?;
    user_counts::start(txn, tenant.id, 1).await
}

async fn find_tenant(db: &impl ConnectionTrait, id: Uuid) -> anyhow::Result<Option<Tenant>> {
    tenants::Entity::find_by_id(id)
        .one(db)
        .await
        .map_err(|e| db_err(e, "loading a tenant"))?
        .map(convert::tenant)
        .transpose()
}

async fn load_user(db: &impl ConnectionTrait, tenant: Uuid, id: Uuid) -> anyhow::Result<User> {
    find_user(db, tenant, id).await?.context("reading back a new administrator")
}

impl TenantStore for SeaStore {
    async fn tenant_visible_to(&self, viewer: Uuid, id: Uuid) -> anyhow::Result<Option<Tenant>> {
        tenants::Entity::find_by_id(id)
            .filter(below(viewer))
            .one(&self.db)
            .await
            .map_err(|e| db_err(e, "loading a tenant"))?
            .map(convert::tenant)
            .transpose()
    }

    async fn list_tenants_below(
        &self,
        ancestor: Uuid,
        q: Option<&str>,
        page: PageRequest,
    ) -> anyhow::Result<Page<Tenant>> {
        let mut select = tenants::Entity::find().filter(below(ancestor)).filter(tenants::Column::Id.ne(ancestor));
        if let Some(q) = q.map(str::trim).filter(|q| !q.is_empty()) {
            select = select.filter(
                Condition::any()
                    .add(tenants::Column::Slug.like(like_pattern(q)))
                    .add(Expr::expr(Func::lower(Expr::col(tenants::Column::Name))).like(like_pattern(q))),
            );
        }
        let total = select.clone().count(&self.db).await.map_err(|e| db_err(e, "counting tenants"))?;
        let rows = select
            .order_by(tenants::Column::Slug, Order::Asc)
            .offset(page.offset())
            .limit(page.per_page())
            .all(&self.db)
            .await
            .map_err(|e| db_err(e, "listing tenants"))?;
        let items = rows.into_iter().map(convert::tenant).collect::<anyhow::Result<_>>()?;
        Ok(Page { items, total, page: page.page(), per_page: page.per_page() })
    }

    async fn create_tenant(
        &self,
        seed: TenantSeed,
        welcome: Option<QueuedEmail>,
        audit: &AuditEvent,
    ) -> Result<(Tenant, User), CreateTenantError> {
        let now = crate::at(audit);
        let parent_id = seed.tenant.parent_id.context("a customer or reseller tenant without a parent")?;
        let (txn, _writing) = self.begin_write().await?;
        // Locks the parent so a concurrent deletion of it waits, then sees the child.
        if !lock_tenant(&txn, parent_id).await.map_err(|e| db_err(e, "locking the parent tenant"))? {
            return Err(CreateTenantError::ParentNotFound);
        }
        let parent = tenants::Entity::find_by_id(parent_id)
            .one(&txn)
            .await
            .map_err(|e| db_err(e, "loading the parent tenant"))?
            .ok_or(CreateTenantError::ParentNotFound)?;
        let (id, admin_id) = (seed.tenant.id, seed.admin.id);
        match insert_seed(&txn, Some(&parent), &seed, now).await {
            Ok(()) => {}
            Err(e) if unique_violation(&e, "slug") => return Err(CreateTenantError::SlugTaken),
            Err(e) if unique_violation(&e, "login_key") => return Err(CreateTenantError::AdminLoginTaken),
            Err(e) => return Err(db_err(e, "creating a tenant").into()),
        };
        if let Some(welcome) = welcome {
            outbox::queue(&txn, welcome).await?;
        }
        record(&txn, audit, None).await?;
        let created = find_tenant(&txn, id).await?.context("reading back a new tenant")?;
        let admin = load_user(&txn, id, admin_id).await?;
        txn.commit().await.map_err(|e| db_err(e, "committing a new tenant"))?;
        Ok((created, admin))
    }

    async fn update_tenant(
        &self,
        id: Uuid,
        changes: TenantChanges,
        audit: &AuditEvent,
    ) -> Result<Tenant, UpdateTenantError> {
        let (txn, _writing) = self.begin_write().await?;
        let row = tenants::Entity::find_by_id(id)
            .one(&txn)
            .await
            .map_err(|e| db_err(e, "loading a tenant"))?
            .ok_or(UpdateTenantError::NotFound)?;
        let mut row = row.into_active_model();
        if let Some(name) = changes.name {
            row.name = Set(name.as_str().to_owned());
        }
        if let Some(slug) = changes.slug {
            row.slug = Set(slug.as_str().to_owned());
        }
        if let Some(digits) = changes.extension_digits {
            row.extension_min_digits = Set(i32::from(digits.min()));
            row.extension_max_digits = Set(i32::from(digits.max()));
        }
        if let Some(own) = changes.own_phone_numbers {
            row.own_phone_numbers = Set(own);
        }
        row.updated_at = Set(crate::at(audit));
        let changed = match row.update(&txn).await {
            Ok(m) => convert::tenant(m)?,
            Err(e) if unique_violation(&e, "slug") => return Err(UpdateTenantError::SlugTaken),
            Err(e) => return Err(db_err(e, "updating a tenant").into()),
        };
        record(&txn, audit, None).await?;
        txn.commit().await.map_err(|e| db_err(e, "committing a tenant change"))?;
        Ok(changed)
    }

    async fn delete_tenant(&self, id: Uuid, audit: &AuditEvent) -> Result<(), DeleteTenantError> {
        let (txn, _writing) = self.begin_write().await?;
        if !lock_tenant(&txn, id).await.map_err(|e| db_err(e, "locking a tenant"))? {
            return Err(DeleteTenantError::NotFound);
        }
        let children = tenants::Entity::find()
            .filter(tenants::Column::ParentId.eq(id))
            .count(&txn)
            .await
            .map_err(|e| db_err(e, "counting child tenants"))?;
        if children > 0 {
            return Err(DeleteTenantError::HasChildren);
        }
        // Users first: their role references are RESTRICT, and PostgreSQL
        // checks RESTRICT before the cascade from the tenant reaches them.
        users::Entity::delete_many()
            .filter(users::Column::TenantId.eq(id))
            .exec(&txn)
            .await
            .map_err(|e| db_err(e, "deleting a tenant's users"))?;
        let res = tenants::Entity::delete_by_id(id).exec(&txn).await.map_err(|e| db_err(e, "deleting a tenant"))?;
        if res.rows_affected == 0 {
            return Err(DeleteTenantError::NotFound);
        }
        record(&txn, audit, None).await?;
        txn.commit().await.map_err(|e| db_err(e, "committing a tenant deletion"))?;
        Ok(())
    }

    async fn platform_tenant(&self) -> anyhow::Result<Option<Tenant>> {
        tenants::Entity::find()
            .filter(tenants::Column::Kind.eq(TenantKind::Platform.as_str()))
            .one(&self.db)
            .await
            .map_err(|e| db_err(e, "loading the platform tenant"))?
            .map(convert::tenant)
            .transpose()
    }

    async fn bootstrap_platform(&self, seed: TenantSeed, now: DateTime<Utc>) -> anyhow::Result<Option<User>> {
        let now = crate::stamp(now);
        let (txn, _writing) = self.begin_write().await?;
        match insert_seed(&txn, None, &seed, now).await {
            Ok(()) => {
                let admin = load_user(&txn, seed.tenant.id, seed.admin.id).await?;
                txn.commit().await.map_err(|e| db_err(e, "committing the bootstrap"))?;
                Ok(Some(admin))
            }
            // Another replica bootstrapped first.
            Err(e) if is_unique_violation(&e) => Ok(None),
            Err(e) => Err(db_err(e, "bootstrapping the platform tenant")),
        }
    }
}
