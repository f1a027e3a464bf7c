//! Claims on what another tenant holds. A claim is kept with the tenant
//! that holds its key when it was made; granting moves the object only if
//! it is still there, so a grant racing a delete or another grant moves
//! nothing twice.

use anyhow::Context as _;
use sea_orm::{
    ActiveModelTrait as _, ActiveValue::Set, ColumnTrait, EntityTrait, Order, PaginatorTrait as _, QueryFilter,
    QueryOrder, QuerySelect, sea_query::Expr,
};
use uuid::Uuid;
use voxport_domain::{
    audit::AuditEvent,
    claim::{Claim, ClaimKind, NewClaim},
    paging::{Page, PageRequest},
    ports::ClaimStore,
};

use crate::{
    SeaStore,
    audit::record,
    db_err,
    entities::{claims, device_assignments, device_provisioning, devices, phone_numbers},
    is_unique_violation,
};

fn claim(m: claims::Model) -> anyhow::Result<Claim> {
    Ok(Claim {
        id: m.id,
        kind: ClaimKind::parse(&m.kind).with_context(|| format!("claim {} kind {:?}", m.id, m.kind))?,
        key: m.key,
        object_id: m.object_id,
        holder_tenant_id: m.holder_tenant_id,
        claimant_tenant_id: m.claimant_tenant_id,
        claimed_by: m.claimed_by,
        claimed_at: m.claimed_at,
    })
}

impl SeaStore {
    /// The object `key` names and its tenant, if anyone holds it.
    async fn holder_of(&self, kind: ClaimKind, key: &str) -> anyhow::Result<Option<(Uuid, Uuid)>> {
        Ok(match kind {
            ClaimKind::Device => devices::Entity::find()
                .filter(devices::Column::Mac.eq(key))
                .one(&self.db)
                .await
                .map_err(|e| db_err(e, "finding a claimed device"))?
                .map(|d| (d.id, d.tenant_id)),
            ClaimKind::PhoneNumber => phone_numbers::Entity::find()
                .filter(phone_numbers::Column::Number.eq(key))
                .one(&self.db)
                .await
                .map_err(|e| db_err(e, "finding a claimed number"))?
                .map(|n| (n.id, n.tenant_id)),
        })
    }
}

impl ClaimStore for SeaStore {
    async fn record_claim(&self, new: &NewClaim, audit: &AuditEvent) -> anyhow::Result<bool> {
        let Some((object, holder)) = self.holder_of(new.kind, &new.key).await? else {
            return Ok(false);
        };
        if holder == new.claimant_tenant_id {
            return Ok(false);
        }
        let row = claims::ActiveModel {
            id: Set(Uuid::now_v7()),
            kind: Set(new.kind.as_str().to_owned()),
            key: Set(new.key.clone()),
            object_id: Set(object),
            holder_tenant_id: Set(holder),
            claimant_tenant_id: Set(new.claimant_tenant_id),
            claimed_by: Set(new.claimed_by),
            claimed_at: Set(crate::at(audit)),
        };
        let (txn, _writing) = self.begin_write().await?;
        match row.insert(&txn).await {
            Ok(_) => {}
            // Claimed before: one claim, one event.
            Err(e) if is_unique_violation(&e) => return Ok(true),
            Err(e) => return Err(db_err(e, "recording a claim")),
        }
        record(&txn, audit, None).await?;
        txn.commit().await.map_err(|e| db_err(e, "committing a claim"))?;
        Ok(true)
    }

    async fn list_claims(&self, page: PageRequest) -> anyhow::Result<Page<Claim>> {
        let select = claims::Entity::find();
        let total = select.clone().count(&self.db).await.map_err(|e| db_err(e, "counting claims"))?;
        let rows = select
            .order_by(claims::Column::ClaimedAt, Order::Asc)
            .order_by(claims::Column::Id, Order::Asc)
            .offset(page.offset())
            .limit(page.per_page())
            .all(&self.db)
            .await
            .map_err(|e| db_err(e, "listing claims"))?;
        let items = rows.into_iter().map(claim).collect::<anyhow::Result<_>>()?;
        Ok(Page { items, total, page: page.page(), per_page: page.per_page() })
    }

    async fn claim(&self, id: Uuid) -> anyhow::Result<Option<Claim>> {
        claims::Entity::find_by_id(id)
            .one(&self.db)
            .await
            .map_err(|e| db_err(e, "reading a claim"))?
            .map(claim)
            .transpose()
    }

    async fn grant_claim(&self, granted: &Claim, audit: &[AuditEvent]) -> anyhow::Result<bool> {
        let now = audit.first().map_or_else(chrono::Utc::now, crate::at);
        let (txn, _writing) = self.begin_write().await?;
        let moved = match granted.kind {
            ClaimKind::Device => {
                device_assignments::Entity::delete_many()
                    .filter(device_assignments::Column::DeviceId.eq(granted.object_id))
                    .filter(device_assignments::Column::TenantId.eq(granted.holder_tenant_id))
                    .exec(&txn)
                    .await
                    .map_err(|e| db_err(e, "freeing a claimed device"))?;
                let moved = devices::Entity::update_many()
                    .col_expr(devices::Column::TenantId, Expr::value(granted.claimant_tenant_id))
                    .col_expr(devices::Column::Label, Expr::value(Option::<String>::None))
                    .col_expr(devices::Column::UpdatedAt, Expr::value(now))
                    .filter(devices::Column::Id.eq(granted.object_id))
                    .filter(devices::Column::TenantId.eq(granted.holder_tenant_id))
                    .filter(devices::Column::Mac.eq(&granted.key))
                    .exec(&txn)
                    .await
                    .map_err(|e| db_err(e, "moving a claimed device"))?;
                // The old tenant's administrators know its provisioning
                // password: it must not fetch the new tenant's lines.
                if moved.rows_affected > 0 {
                    device_provisioning::Entity::delete_by_id(granted.object_id)
                        .exec(&txn)
                        .await
                        .map_err(|e| db_err(e, "revoking a moved device's provisioning"))?;
                }
                moved
            }
            ClaimKind::PhoneNumber => phone_numbers::Entity::update_many()
                .col_expr(phone_numbers::Column::TenantId, Expr::value(granted.claimant_tenant_id))
                .col_expr(phone_numbers::Column::UserId, Expr::value(Option::<Uuid>::None))
                .col_expr(phone_numbers::Column::Label, Expr::value(Option::<String>::None))
                .col_expr(phone_numbers::Column::UpdatedAt, Expr::value(now))
                .filter(phone_numbers::Column::Id.eq(granted.object_id))
                .filter(phone_numbers::Column::TenantId.eq(granted.holder_tenant_id))
                .filter(phone_numbers::Column::Number.eq(&granted.key))
                .exec(&txn)
                .await
                .map_err(|e| db_err(e, "moving a claimed number"))?,
        };
        let ok = moved.rows_affected == 1;
        let dropped = if ok {
            claims::Entity::delete_many()
                .filter(claims::Column::Kind.eq(granted.kind.as_str()))
                .filter(claims::Column::Key.eq(&granted.key))
        } else {
            claims::Entity::delete_many().filter(claims::Column::Id.eq(granted.id))
        };
        dropped.exec(&txn).await.map_err(|e| db_err(e, "dropping claims"))?;
        if ok {
            for event in audit {
                record(&txn, event, None).await?;
            }
        }
        txn.commit().await.map_err(|e| db_err(e, "committing a granted claim"))?;
        Ok(ok)
    }
}
