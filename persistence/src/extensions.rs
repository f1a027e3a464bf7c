//! Extensions. The number is UNIQUE in its tenant, the SIP username on the
//! platform; the secret column holds only the sealed secret. Assigning
//! sets `user_id` with a conditional update (`user_id IS NULL OR user_id =
//! the user`), so of two admins giving one extension to two users at once
//! exactly one wins.

use anyhow::{Context as _, anyhow};
use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait as _,
    ActiveValue::Set,
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, IntoActiveModel as _, JoinType, Order, PaginatorTrait as _,
    QueryFilter, QueryOrder, QuerySelect, RelationTrait as _, UpdateMany,
    sea_query::{Expr, ExprTrait as _, Func},
};
use uuid::Uuid;
use voxport_domain::{
    audit::AuditEvent,
    device::Holder,
    errors::{CreateExtensionError, DeleteExtensionError, TelephonyError, UpdateExtensionError},
    extension::{
        Extension, ExtensionChanges, ExtensionFilter, ExtensionNumber, ExtensionType, NewExtension, StoredSipSecret,
    },
    paging::{Page, PageRequest},
    ports::{DigestSource, ExtensionStore, SecretsOf},
    values::Label,
};

use crate::{
    SeaStore,
    audit::record,
    change_holdings, db_err,
    entities::{extensions, tenants},
    holders, like_pattern, unique_violation,
};

fn kind(m: &extensions::Model) -> anyhow::Result<ExtensionType> {
    ExtensionType::parse(&m.kind).ok_or_else(|| anyhow!("extension {} has type {:?}", m.id, m.kind))
}

fn extension(m: extensions::Model, holder: Option<Holder>) -> anyhow::Result<Extension> {
    Ok(Extension {
        id: m.id,
        tenant_id: m.tenant_id,
        number: ExtensionNumber::parse(&m.number).with_context(|| format!("extension {} number", m.id))?,
        name: m.name.as_deref().map(Label::parse).transpose().with_context(|| format!("extension {} name", m.id))?,
        kind: kind(&m)?,
        force_login: m.force_login,
        voicemail_enabled: m.voicemail_enabled,
        sip_username: m.sip_username,
        holder,
        created_at: m.created_at,
        updated_at: m.updated_at,
    })
}

/// Extensions with their holders, in two queries.
async fn with_holders(db: &impl ConnectionTrait, rows: Vec<extensions::Model>) -> anyhow::Result<Vec<Extension>> {
    let named = holders(db, rows.iter().filter_map(|e| e.user_id)).await?;
    rows.into_iter()
        .map(|m| {
            let holder = m.user_id.and_then(|id| named.get(&id).cloned());
            extension(m, holder)
        })
        .collect()
}

async fn find_extension(db: &impl ConnectionTrait, tenant: Uuid, id: Uuid) -> anyhow::Result<Option<Extension>> {
    let row = extensions::Entity::find_by_id(id)
        .filter(extensions::Column::TenantId.eq(tenant))
        .one(db)
        .await
        .map_err(|e| db_err(e, "loading an extension"))?;
    Ok(with_holders(db, row.into_iter().collect()).await?.pop())
}

/// Sets a secret with its domain and digest hashes.
fn with_secret(update: UpdateMany<extensions::Entity>, secret: &StoredSipSecret) -> UpdateMany<extensions::Entity> {
    update
        .col_expr(extensions::Column::SipSecret, Expr::value(secret.sealed.clone()))
        .col_expr(extensions::Column::SipDomain, Expr::value(secret.domain.clone()))
        .col_expr(extensions::Column::Ha1, Expr::value(secret.ha1.clone()))
        .col_expr(extensions::Column::Ha1b, Expr::value(secret.ha1b.clone()))
}

/// Inserts an extension, ringing `holder` from the start when given (a
/// user being created holds nothing else yet). Part of the caller's
/// transaction.
pub(crate) async fn insert_extension(
    db: &impl ConnectionTrait,
    tenant: Uuid,
    new: &NewExtension,
    holder: Option<Uuid>,
    now: DateTime<Utc>,
) -> Result<extensions::Model, CreateExtensionError> {
    let row = extensions::ActiveModel {
        id: Set(new.id),
        tenant_id: Set(tenant),
        number: Set(new.number.as_str().to_owned()),
        name: Set(new.name.as_ref().map(|n| n.as_str().to_owned())),
        kind: Set(new.kind.as_str().to_owned()),
        force_login: Set(new.force_login),
        voicemail_enabled: Set(new.voicemail_enabled),
        user_id: Set(holder),
        sip_username: Set(new.sip_username.clone()),
        sip_secret: Set(new.secret.sealed.clone()),
        sip_domain: Set(Some(new.secret.domain.clone())),
        ha1: Set(Some(new.secret.ha1.clone())),
        ha1b: Set(Some(new.secret.ha1b.clone())),
        created_at: Set(now),
        updated_at: Set(now),
    };
    match row.insert(db).await {
        Ok(m) => Ok(m),
        Err(e) if unique_violation(&e, "number") => Err(CreateExtensionError::NumberTaken),
        Err(e) => Err(db_err(e, "inserting an extension").into()),
    }
}

/// Makes extension `id` ring `user` unless it rings someone else. Part of
/// the caller's transaction.
///
/// A free extension that starts ringing `user` gets `fresh_secret` (sealed):
/// whoever held it before, and whoever read its secret then, registers no
/// more. One that already rings `user` keeps its secret.
pub(crate) async fn give_extension(
    db: &impl ConnectionTrait,
    tenant: Uuid,
    user: Uuid,
    id: Uuid,
    fresh_secret: &StoredSipSecret,
    now: DateTime<Utc>,
) -> Result<Extension, TelephonyError> {
    let taken = with_secret(extensions::Entity::update_many(), fresh_secret)
        .col_expr(extensions::Column::UserId, Expr::value(user))
        .col_expr(extensions::Column::UpdatedAt, Expr::value(now))
        .filter(extensions::Column::Id.eq(id))
        .filter(extensions::Column::TenantId.eq(tenant))
        .filter(extensions::Column::UserId.is_null())
        .exec(db)
        .await
        .map_err(|e| db_err(e, "assigning an extension"))?;
    let found = find_extension(db, tenant, id).await?.ok_or(TelephonyError::ExtensionNotFound)?;
    match &found.holder {
        _ if taken.rows_affected > 0 => Ok(found),
        Some(holder) if holder.user_id == user => Ok(found),
        Some(holder) => Err(TelephonyError::ExtensionAssigned(holder.clone())),
        None => Err(anyhow!("extension {id} was freed while it was assigned").into()),
    }
}

/// Stops the extensions of `user` (only `only`, when given) ringing them;
/// answers how many did. Part of the caller's transaction.
pub(crate) async fn free_extensions(
    db: &impl ConnectionTrait,
    user: Uuid,
    only: Option<Uuid>,
    now: DateTime<Utc>,
) -> Result<u64, sea_orm::DbErr> {
    let mut update = extensions::Entity::update_many()
        .col_expr(extensions::Column::UserId, Expr::value(Option::<Uuid>::None))
        .col_expr(extensions::Column::UpdatedAt, Expr::value(now))
        .filter(extensions::Column::UserId.eq(user));
    if let Some(id) = only {
        update = update.filter(extensions::Column::Id.eq(id));
    }
    Ok(update.exec(db).await?.rows_affected)
}

impl ExtensionStore for SeaStore {
    async fn extension_numbers(&self, tenant: Uuid) -> anyhow::Result<Vec<String>> {
        extensions::Entity::find()
            .select_only()
            .column(extensions::Column::Number)
            .filter(extensions::Column::TenantId.eq(tenant))
            .into_tuple()
            .all(&self.db)
            .await
            .map_err(|e| db_err(e, "reading extension numbers"))
    }

    async fn list_extensions(
        &self,
        tenant: Uuid,
        filter: &ExtensionFilter,
        page: PageRequest,
    ) -> anyhow::Result<Page<Extension>> {
        let mut select = extensions::Entity::find().filter(extensions::Column::TenantId.eq(tenant));
        if let Some(q) = filter.q.as_deref().map(str::trim).filter(|q| !q.is_empty()) {
            select = select.filter(
                Condition::any()
                    .add(extensions::Column::Number.like(like_pattern(q)))
                    .add(Expr::expr(Func::lower(Expr::col(extensions::Column::Name))).like(like_pattern(q))),
            );
        }
        if filter.available {
            select = select.filter(extensions::Column::UserId.is_null());
        }
        if let Some(user) = filter.user_id {
            select = select.filter(extensions::Column::UserId.eq(user));
        }
        let total = select.clone().count(&self.db).await.map_err(|e| db_err(e, "counting extensions"))?;
        // Numbers sort as numbers: shorter first, then by digits.
        let rows = select
            .order_by(Expr::expr(Func::char_length(Expr::col(extensions::Column::Number))), Order::Asc)
            .order_by(extensions::Column::Number, Order::Asc)
            .offset(page.offset())
            .limit(page.per_page())
            .all(&self.db)
            .await
            .map_err(|e| db_err(e, "listing extensions"))?;
        let items = with_holders(&self.db, rows).await?;
        Ok(Page { items, total, page: page.page(), per_page: page.per_page() })
    }

    async fn extension(&self, tenant: Uuid, id: Uuid) -> anyhow::Result<Option<Extension>> {
        find_extension(&self.db, tenant, id).await
    }

    async fn create_extension(
        &self,
        tenant: Uuid,
        new: &NewExtension,
        audit: &AuditEvent,
    ) -> Result<Extension, CreateExtensionError> {
        let (txn, _writing) = self.begin_write().await?;
        let row = insert_extension(&txn, tenant, new, None, crate::at(audit)).await?;
        record(&txn, audit, Some(row.id)).await?;
        txn.commit().await.map_err(|e| db_err(e, "committing an extension"))?;
        Ok(extension(row, None)?)
    }

    async fn update_extension(
        &self,
        tenant: Uuid,
        id: Uuid,
        changes: ExtensionChanges,
        audit: &AuditEvent,
    ) -> Result<Extension, UpdateExtensionError> {
        let (txn, _writing) = self.begin_write().await?;
        let row = extensions::Entity::find_by_id(id)
            .filter(extensions::Column::TenantId.eq(tenant))
            .one(&txn)
            .await
            .map_err(|e| db_err(e, "loading an extension"))?
            .ok_or(UpdateExtensionError::NotFound)?;
        let mut row = row.into_active_model();
        if let Some(v) = changes.number {
            row.number = Set(v.as_str().to_owned());
        }
        if let Some(v) = changes.name {
            row.name = Set(v.map(|n| n.as_str().to_owned()));
        }
        if let Some(v) = changes.kind {
            row.kind = Set(v.as_str().to_owned());
        }
        if let Some(v) = changes.force_login {
            row.force_login = Set(v);
        }
        if let Some(v) = changes.voicemail_enabled {
            row.voicemail_enabled = Set(v);
        }
        row.updated_at = Set(crate::at(audit));
        match row.update(&txn).await {
            Ok(_) => {}
            Err(e) if unique_violation(&e, "number") => return Err(UpdateExtensionError::NumberTaken),
            Err(e) => return Err(db_err(e, "updating an extension").into()),
        }
        let changed = find_extension(&txn, tenant, id).await?.ok_or(UpdateExtensionError::NotFound)?;
        record(&txn, audit, None).await?;
        txn.commit().await.map_err(|e| db_err(e, "committing an extension change"))?;
        Ok(changed)
    }

    async fn delete_extension(&self, tenant: Uuid, id: Uuid, audit: &AuditEvent) -> Result<(), DeleteExtensionError> {
        let (txn, _writing) = self.begin_write().await?;
        let res = extensions::Entity::delete_many()
            .filter(extensions::Column::Id.eq(id))
            .filter(extensions::Column::TenantId.eq(tenant))
            .filter(extensions::Column::UserId.is_null())
            .exec(&txn)
            .await
            .map_err(|e| db_err(e, "deleting an extension"))?;
        if res.rows_affected == 1 {
            record(&txn, audit, None).await?;
            txn.commit().await.map_err(|e| db_err(e, "committing an extension deletion"))?;
            return Ok(());
        }
        drop(txn);
        match find_extension(&self.db, tenant, id).await?.map(|e| e.holder) {
            None => Err(DeleteExtensionError::NotFound),
            Some(Some(holder)) => Err(DeleteExtensionError::Assigned(holder)),
            Some(None) => Err(anyhow!("extension {id} was freed while it was deleted").into()),
        }
    }

    async fn sealed_sip_secrets(&self, tenant: Uuid, of: SecretsOf) -> anyhow::Result<Vec<(Extension, String)>> {
        let select = extensions::Entity::find().filter(extensions::Column::TenantId.eq(tenant));
        let select = match of {
            SecretsOf::Extension(id) => select.filter(extensions::Column::Id.eq(id)),
            SecretsOf::User(user) => select.filter(extensions::Column::UserId.eq(user)),
        };
        let rows = select
            .order_by(extensions::Column::Number, Order::Asc)
            .all(&self.db)
            .await
            .map_err(|e| db_err(e, "loading SIP secrets"))?;
        let sealed: Vec<String> = rows.iter().map(|m| m.sip_secret.clone()).collect();
        Ok(with_holders(&self.db, rows).await?.into_iter().zip(sealed).collect())
    }

    async fn stale_digest_sources(
        &self,
        tenant: Option<Uuid>,
        domain_suffix: &str,
    ) -> anyhow::Result<Vec<DigestSource>> {
        // Slugs are lower case, so the expected domain is the slug, a dot
        // and the (lower-case) suffix; a current row is not read at all.
        let stale = Expr::cust_with_values(
            "(extensions.sip_domain IS NULL OR extensions.sip_domain <> tenants.slug || $1)",
            [format!(".{domain_suffix}")],
        );
        let mut select = extensions::Entity::find()
            .select_only()
            .columns([extensions::Column::Id, extensions::Column::SipUsername, extensions::Column::SipSecret])
            .column(tenants::Column::Slug)
            .join(JoinType::InnerJoin, extensions::Relation::Tenant.def())
            .filter(stale);
        if let Some(tenant) = tenant {
            select = select.filter(extensions::Column::TenantId.eq(tenant));
        }
        let rows: Vec<(Uuid, String, String, String)> =
            select.into_tuple().all(&self.db).await.map_err(|e| db_err(e, "loading SIP secrets to hash"))?;
        Ok(rows
            .into_iter()
            .map(|(extension_id, username, sealed, tenant_slug)| DigestSource {
                extension_id,
                tenant_slug,
                username,
                sealed,
            })
            .collect())
    }

    async fn set_digest_hashes(&self, fresh: &[(Uuid, StoredSipSecret)]) -> anyhow::Result<()> {
        for chunk in fresh.chunks(500) {
            let (txn, _writing) = self.begin_write().await?;
            for (id, secret) in chunk {
                with_secret(extensions::Entity::update_many(), secret)
                    .filter(extensions::Column::Id.eq(*id))
                    .filter(extensions::Column::SipSecret.eq(secret.sealed.clone()))
                    .exec(&txn)
                    .await
                    .map_err(|e| db_err(e, "storing SIP digest hashes"))?;
            }
            txn.commit().await.map_err(|e| db_err(e, "committing SIP digest hashes"))?;
        }
        Ok(())
    }

    async fn set_sip_secret(
        &self,
        tenant: Uuid,
        id: Uuid,
        sealed: &StoredSipSecret,
        audit: &AuditEvent,
    ) -> anyhow::Result<bool> {
        let (txn, _writing) = self.begin_write().await?;
        let res = with_secret(extensions::Entity::update_many(), sealed)
            .col_expr(extensions::Column::UpdatedAt, Expr::value(crate::at(audit)))
            .filter(extensions::Column::Id.eq(id))
            .filter(extensions::Column::TenantId.eq(tenant))
            .exec(&txn)
            .await
            .map_err(|e| db_err(e, "storing a SIP secret"))?;
        if res.rows_affected != 1 {
            return Ok(false);
        }
        record(&txn, audit, None).await?;
        txn.commit().await.map_err(|e| db_err(e, "committing a SIP secret"))?;
        Ok(true)
    }

    async fn assign_extension(
        &self,
        tenant: Uuid,
        user: Uuid,
        id: Uuid,
        fresh_secret: &StoredSipSecret,
        audit: &AuditEvent,
    ) -> Result<Extension, TelephonyError> {
        change_holdings(self, tenant, user, audit, async |txn| {
            Ok((give_extension(txn, tenant, user, id, fresh_secret, crate::at(audit)).await?, true))
        })
        .await
    }

    async fn release_extension(
        &self,
        tenant: Uuid,
        user: Uuid,
        id: Uuid,
        audit: &AuditEvent,
    ) -> Result<(), TelephonyError> {
        change_holdings(self, tenant, user, audit, async |txn| {
            find_extension(txn, tenant, id).await?.ok_or(TelephonyError::ExtensionNotFound)?;
            let freed = free_extensions(txn, user, Some(id), crate::at(audit))
                .await
                .map_err(|e| db_err(e, "releasing an extension"))?;
            Ok(((), freed > 0))
        })
        .await
    }
}
