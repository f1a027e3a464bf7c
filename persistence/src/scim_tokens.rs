//! SCIM: tokens (a digest per token, looked up by that digest) and
//! deprovisioning (the tenant's settings, resting numbers, holds ending).

use anyhow::Context as _;
use chrono::{DateTime, Utc};
use std::collections::HashMap;

use sea_orm::{
    ActiveModelTrait as _,
    ActiveValue::Set,
    ColumnTrait, Condition, EntityTrait, Order, PaginatorTrait as _, QueryFilter, QueryOrder, QuerySelect,
    sea_query::{Expr, OnConflict},
};
use uuid::Uuid;
use voxport_domain::{
    audit::{AuditAction, AuditEvent},
    deprovisioning::DeprovisionSettings,
    paging::{Page, PageRequest},
    permission::PermissionSet,
    ports::ScimStore,
    scim_token::{NewScimToken, ScimToken},
    values::Label,
};

use crate::{
    SeaStore,
    audit::record,
    db_err,
    entities::{phone_numbers, scim_settings, scim_tokens, users},
    lock_user,
    users::release_everything,
};

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

impl ScimStore for SeaStore {
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

    async fn deprovision_settings(&self, tenant: Uuid) -> anyhow::Result<DeprovisionSettings> {
        let row = scim_settings::Entity::find_by_id(tenant)
            .one(&self.db)
            .await
            .map_err(|e| db_err(e, "loading deprovisioning settings"))?;
        Ok(row.map(settings).unwrap_or_default())
    }

    async fn set_deprovision_settings(
        &self,
        tenant: Uuid,
        new: DeprovisionSettings,
        audit: &AuditEvent,
    ) -> anyhow::Result<()> {
        let (txn, _writing) = self.begin_write().await?;
        let row = scim_settings::ActiveModel {
            tenant_id: Set(tenant),
            hold_days: Set(i32::try_from(new.hold_days).unwrap_or(i32::MAX)),
            release_station: Set(new.release_station),
            number_cooldown_days: Set(i32::try_from(new.number_rest_days).unwrap_or(i32::MAX)),
            updated_at: Set(crate::at(audit)),
        };
        scim_settings::Entity::insert(row)
            .on_conflict(
                OnConflict::column(scim_settings::Column::TenantId)
                    .update_columns([
                        scim_settings::Column::HoldDays,
                        scim_settings::Column::ReleaseStation,
                        scim_settings::Column::NumberCooldownDays,
                        scim_settings::Column::UpdatedAt,
                    ])
                    .to_owned(),
            )
            .exec(&txn)
            .await
            .map_err(|e| db_err(e, "storing deprovisioning settings"))?;
        record(&txn, audit, None).await?;
        txn.commit().await.map_err(|e| db_err(e, "committing deprovisioning settings"))
    }

    async fn end_holds(&self, now: DateTime<Utc>) -> anyhow::Result<u64> {
        let now = crate::stamp(now);
        // Rests that are over: the numbers are available again.
        phone_numbers::Entity::update_many()
            .col_expr(phone_numbers::Column::AvailableAt, Expr::value(Option::<DateTime<Utc>>::None))
            .filter(phone_numbers::Column::AvailableAt.lte(now))
            .exec(&self.db)
            .await
            .map_err(|e| db_err(e, "ending the rest of phone numbers"))?;
        // Every tenant's rules, read once: a user whose hold cannot be over
        // under the shortest of them is not looked at.
        let tenants: HashMap<Uuid, DeprovisionSettings> = scim_settings::Entity::find()
            .all(&self.db)
            .await
            .map_err(|e| db_err(e, "reading deprovisioning settings"))?
            .into_iter()
            .map(|m| (m.tenant_id, settings(m)))
            .collect();
        let shortest = tenants.values().chain([&DeprovisionSettings::default()]).map(|r| r.hold_days).min();
        let over_for_some = now - chrono::Duration::days(i64::from(shortest.unwrap_or(0)));
        let mut ended = 0;
        // Page by page, oldest deactivation first: a tenant with a long
        // hold does not hold up another's short one.
        let mut after: Option<(DateTime<Utc>, Uuid)> = None;
        loop {
            let mut page = users::Entity::find()
                .filter(users::Column::DeprovisionedAt.is_not_null())
                .filter(users::Column::Disabled.eq(true))
                .filter(users::Column::DeprovisionedAt.lte(over_for_some));
            if let Some((at, id)) = after {
                page =
                    page.filter(Condition::any().add(users::Column::DeprovisionedAt.gt(at)).add(
                        Condition::all().add(users::Column::DeprovisionedAt.eq(at)).add(users::Column::Id.gt(id)),
                    ));
            }
            let held = page
                .order_by(users::Column::DeprovisionedAt, Order::Asc)
                .order_by(users::Column::Id, Order::Asc)
                .limit(HOLDS_PER_PAGE)
                .all(&self.db)
                .await
                .map_err(|e| db_err(e, "finding deactivated users"))?;
            let last_page = held.len() < usize::try_from(HOLDS_PER_PAGE).unwrap_or(usize::MAX);
            after = held.last().and_then(|u| u.deprovisioned_at.map(|at| (at, u.id)));
            for user in held {
                let Some(since) = user.deprovisioned_at else { continue };
                let rules = tenants.get(&user.tenant_id).copied().unwrap_or_default();
                if rules.hold_ends(since) > now {
                    continue;
                }
                if self.end_hold(&user, since, rules, now).await? {
                    ended += 1;
                }
            }
            if last_page || after.is_none() {
                return Ok(ended);
            }
        }
    }
}

impl SeaStore {
    /// Frees what `user`, deactivated `since`, held, if they are still
    /// deactivated since then; answers whether they were.
    async fn end_hold(
        &self,
        user: &users::Model,
        since: DateTime<Utc>,
        rules: DeprovisionSettings,
        now: DateTime<Utc>,
    ) -> anyhow::Result<bool> {
        let (txn, _writing) = self.begin_write().await?;
        if !lock_user(&txn, user.tenant_id, user.id).await.map_err(|e| db_err(e, "locking a user"))? {
            return Ok(false);
        }
        // Still deactivated since then (not reactivated meanwhile).
        let still = users::Entity::update_many()
            .col_expr(users::Column::DeprovisionedAt, Expr::value(Option::<DateTime<Utc>>::None))
            .col_expr(users::Column::HeldStationId, Expr::value(Option::<Uuid>::None))
            .filter(users::Column::Id.eq(user.id))
            .filter(users::Column::Disabled.eq(true))
            .filter(users::Column::DeprovisionedAt.eq(since))
            .exec(&txn)
            .await
            .map_err(|e| db_err(e, "ending a hold"))?;
        if still.rows_affected == 0 {
            return Ok(false);
        }
        release_everything(&txn, user.id, now).await.map_err(|e| db_err(e, "freeing what a user held"))?;
        let audit = AuditEvent::anonymous(AuditAction::HoldEnded, Some(user.tenant_id), Some(user.id), None, now)
            .with(serde_json::json!({"deactivated_at": since, "hold_days": rules.hold_days}));
        record(&txn, &audit, None).await?;
        txn.commit().await.map_err(|e| db_err(e, "committing the end of a hold"))?;
        Ok(true)
    }
}

/// How many deactivated users housekeeping reads at a time.
const HOLDS_PER_PAGE: u64 = 500;

fn settings(m: scim_settings::Model) -> DeprovisionSettings {
    DeprovisionSettings {
        hold_days: u32::try_from(m.hold_days).unwrap_or(0),
        release_station: m.release_station,
        number_rest_days: u32::try_from(m.number_cooldown_days).unwrap_or(0),
    }
}
