//! SCIM tokens: a digest per token, looked up by that digest.

use anyhow::Context as _;
use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait as _, ActiveValue::Set, ColumnTrait, EntityTrait, Order, PaginatorTrait as _, QueryFilter,
    QueryOrder, QuerySelect, sea_query::Expr,
};
use uuid::Uuid;
use voxport_domain::{
    audit::AuditEvent,
    paging::{Page, PageRequest},
    permission::PermissionSet,
    ports::ScimTokenStore,
    scim_token::{NewScimToken, ScimToken},
    values::Label,
};

use crate::{SeaStore, audit::record, db_err, entities::scim_tokens};

fn token(m: scim_tokens::Model) -> anyhow::Result<ScimToken> {
    Ok(ScimToken {
        id: m.id,
        tenant_id: m.tenant_id,
        name: Label::parse(&m.name).with_context(|| format!("SCIM token {} name", m.id))?,
        permissions: PermissionSet::from_codes(&m.permissions),
        hint: m.hint,
        created_by: m.created_by,
        created_at: m.created_at,
        last_used_at: m.last_used_at,
    })
}

impl ScimTokenStore for SeaStore {
    async fn list_scim_tokens(&self, tenant: Uuid, page: PageRequest) -> anyhow::Result<Page<ScimToken>> {
        let select = scim_tokens::Entity::find().filter(scim_tokens::Column::TenantId.eq(tenant));
        let total = select.clone().count(&self.db).await.map_err(|e| db_err(e, "counting SCIM tokens"))?;
        let rows = select
            .order_by(scim_tokens::Column::CreatedAt, Order::Desc)
            .order_by(scim_tokens::Column::Id, Order::Desc)
            .offset(page.offset())
            .limit(page.per_page())
            .all(&self.db)
            .await
            .map_err(|e| db_err(e, "listing SCIM tokens"))?;
        let items = rows.into_iter().map(token).collect::<anyhow::Result<_>>()?;
        Ok(Page { items, total, page: page.page(), per_page: page.per_page() })
    }

    async fn scim_token(&self, tenant: Uuid, id: Uuid) -> anyhow::Result<Option<ScimToken>> {
        scim_tokens::Entity::find_by_id(id)
            .filter(scim_tokens::Column::TenantId.eq(tenant))
            .one(&self.db)
            .await
            .map_err(|e| db_err(e, "loading a SCIM token"))?
            .map(token)
            .transpose()
    }

    async fn create_scim_token(
        &self,
        tenant: Uuid,
        new: NewScimToken,
        audit: &AuditEvent,
    ) -> anyhow::Result<ScimToken> {
        let now = crate::at(audit);
        let id = Uuid::now_v7();
        let (txn, _writing) = self.begin_write().await?;
        let row = scim_tokens::ActiveModel {
            id: Set(id),
            tenant_id: Set(tenant),
            name: Set(new.name.as_str().to_owned()),
            permissions: Set(new.permissions.to_codes()),
            hint: Set(new.hint),
            digest: Set(new.digest),
            created_by: Set(audit.actor_user_id),
            created_at: Set(now),
            last_used_at: Set(None),
        }
        .insert(&txn)
        .await
        .map_err(|e| db_err(e, "inserting a SCIM token"))?;
        record(&txn, audit, Some(id)).await?;
        txn.commit().await.map_err(|e| db_err(e, "committing a SCIM token"))?;
        token(row)
    }

    async fn delete_scim_token(&self, tenant: Uuid, id: Uuid, audit: &AuditEvent) -> anyhow::Result<bool> {
        let (txn, _writing) = self.begin_write().await?;
        let deleted = scim_tokens::Entity::delete_many()
            .filter(scim_tokens::Column::Id.eq(id))
            .filter(scim_tokens::Column::TenantId.eq(tenant))
            .exec(&txn)
            .await
            .map_err(|e| db_err(e, "deleting a SCIM token"))?;
        if deleted.rows_affected == 0 {
            return Ok(false);
        }
        record(&txn, audit, None).await?;
        txn.commit().await.map_err(|e| db_err(e, "committing a SCIM token deletion"))?;
        Ok(true)
    }

    async fn scim_token_by_digest(&self, digest: &str) -> anyhow::Result<Option<(ScimToken, String)>> {
        let Some(row) = scim_tokens::Entity::find()
            .filter(scim_tokens::Column::Digest.eq(digest))
            .one(&self.db)
            .await
            .map_err(|e| db_err(e, "finding a SCIM token"))?
        else {
            return Ok(None);
        };
        let digest = row.digest.clone();
        Ok(Some((token(row)?, digest)))
    }

    async fn touch_scim_token(&self, id: Uuid, now: DateTime<Utc>) -> anyhow::Result<()> {
        scim_tokens::Entity::update_many()
            .col_expr(scim_tokens::Column::LastUsedAt, Expr::value(crate::stamp(now)))
            .filter(scim_tokens::Column::Id.eq(id))
            .exec(&self.db)
            .await
            .map_err(|e| db_err(e, "recording a SCIM token's use"))?;
        Ok(())
    }
}
