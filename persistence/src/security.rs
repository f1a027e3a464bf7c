//! Account security: the audit log, second factors, IP allowlists and
//! brute-force counters.
//!
//! - Audit events are inserted by [`record`] inside the transaction of the
//!   change they describe; the table refuses UPDATE and DELETE.
//! - A TOTP step is accepted with one conditional update (`last_step <
//!   step`), so a code works once even if two replicas see it at once.
//! - Throttle counters are read, changed by the domain's rule and written
//!   back inside a write transaction that first makes sure the row exists
//!   and locks it (`FOR UPDATE` on PostgreSQL; the write lock on SQLite),
//!   so parallel attempts on two replicas are taken one after another.

use std::collections::{HashMap, HashSet};

use anyhow::Context as _;
use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait as _,
    ActiveValue::Set,
    ColumnTrait, Condition, ConnectionTrait, DatabaseTransaction, EntityTrait, Order, PaginatorTrait as _, QueryFilter,
    QueryOrder, QuerySelect,
    sea_query::{Expr, LockType, OnConflict},
};
use uuid::Uuid;
use voxport_domain::{
    audit::{AuditAction, AuditEvent, AuditFilter, TargetType},
    paging::{Page, PageRequest},
    ports::{AuditStore, NetworkChange, NetworkStore, ThrottleStore, TotpRecord, TwoFactorStore},
    throttle::{Counter, Taken, ThrottleKey, ThrottlePolicy},
    values::Cidr,
};

use crate::{
    SeaStore, begin_write, db_err,
    entities::{audit_events, login_throttle, recovery_codes, user_networks, user_totp},
    lock_user,
    users::revoke_sessions,
};

/// Writes an audit event; `target` fills in the object when the event
/// left it to storage (an object storage created). Part of the caller's
/// transaction.
pub(crate) async fn record(db: &impl ConnectionTrait, event: &AuditEvent, target: Option<Uuid>) -> anyhow::Result<()> {
    audit_events::ActiveModel {
        id: Set(event.id),
        occurred_at: Set(crate::stamp(event.occurred_at)),
        tenant_id: Set(event.tenant_id),
        actor_user_id: Set(event.actor_user_id),
        actor_tenant_id: Set(event.actor_tenant_id),
        on_behalf_of: Set(event.on_behalf_of),
        action: Set(event.action.code().to_owned()),
        target_type: Set(event.target_type.map(|t| t.as_str().to_owned())),
        target_id: Set(event.target_id.or(target)),
        ip: Set(event.ip.map(|ip| ip.to_canonical().to_string())),
        details: Set(event.details.to_string()),
    }
    .insert(db)
    .await
    .map_err(|e| db_err(e, "writing an audit event"))?;
    Ok(())
}

fn event(m: audit_events::Model) -> anyhow::Result<AuditEvent> {
    Ok(AuditEvent {
        id: m.id,
        occurred_at: m.occurred_at,
        tenant_id: m.tenant_id,
        actor_user_id: m.actor_user_id,
        actor_tenant_id: m.actor_tenant_id,
        on_behalf_of: m.on_behalf_of,
        action: AuditAction::parse(&m.action).with_context(|| format!("audit event {} action {:?}", m.id, m.action))?,
        target_type: m
            .target_type
            .as_deref()
            .map(|t| TargetType::parse(t).with_context(|| format!("target type {t:?}")))
            .transpose()?,
        target_id: m.target_id,
        ip: m.ip.as_deref().map(str::parse).transpose().with_context(|| format!("audit event {} address", m.id))?,
        details: serde_json::from_str(&m.details).with_context(|| format!("audit event {} details", m.id))?,
    })
}

/// Whose second factor is confirmed, of `users`, in one query.
pub(crate) async fn two_factor_of(db: &impl ConnectionTrait, users: &[Uuid]) -> anyhow::Result<HashSet<Uuid>> {
    if users.is_empty() {
        return Ok(HashSet::new());
    }
    let rows = user_totp::Entity::find()
        .filter(user_totp::Column::UserId.is_in(users.iter().copied()))
        .filter(user_totp::Column::ConfirmedAt.is_not_null())
        .all(db)
        .await
        .map_err(|e| db_err(e, "loading second factors"))?;
    Ok(rows.into_iter().map(|r| r.user_id).collect())
}

/// The allowlists of `users`, in one query.
pub(crate) async fn networks_of(db: &impl ConnectionTrait, users: &[Uuid]) -> anyhow::Result<HashMap<Uuid, Vec<Cidr>>> {
    if users.is_empty() {
        return Ok(HashMap::new());
    }
    let rows = user_networks::Entity::find()
        .filter(user_networks::Column::UserId.is_in(users.iter().copied()))
        .order_by(user_networks::Column::CreatedAt, Order::Asc)
        .order_by(user_networks::Column::Id, Order::Asc)
        .all(db)
        .await
        .map_err(|e| db_err(e, "loading allowlists"))?;
    let mut lists: HashMap<Uuid, Vec<Cidr>> = HashMap::new();
    for row in rows {
        let net = Cidr::parse(&row.network).map_err(|e| anyhow::anyhow!("allowlist entry {}: {e}", row.id))?;
        lists.entry(row.user_id).or_default().push(net);
    }
    Ok(lists)
}

fn step(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

impl AuditStore for SeaStore {
    async fn record(&self, event: &AuditEvent) -> anyhow::Result<()> {
        record(&self.db, event, None).await
    }

    async fn record_all(&self, events: &[AuditEvent]) -> anyhow::Result<()> {
        let txn = begin_write(&self.db).await?;
        for event in events {
            record(&txn, event, None).await?;
        }
        txn.commit().await.map_err(|e| db_err(e, "committing audit events"))
    }

    async fn list_events(
        &self,
        tenant: Uuid,
        include_anonymous: bool,
        filter: &AuditFilter,
        page: PageRequest,
    ) -> anyhow::Result<Page<AuditEvent>> {
        let mut scope = Condition::any().add(audit_events::Column::TenantId.eq(tenant));
        if include_anonymous {
            scope = scope.add(audit_events::Column::TenantId.is_null());
        }
        let mut select = audit_events::Entity::find().filter(scope);
        if let Some(actor) = filter.actor_user_id {
            select = select.filter(audit_events::Column::ActorUserId.eq(actor));
        }
        if let Some(action) = filter.action {
            select = select.filter(audit_events::Column::Action.eq(action.code()));
        }
        if let Some(target) = filter.target_type {
            select = select.filter(audit_events::Column::TargetType.eq(target.as_str()));
        }
        if let Some(target) = filter.target_id {
            select = select.filter(audit_events::Column::TargetId.eq(target));
        }
        if let Some(from) = filter.from {
            select = select.filter(audit_events::Column::OccurredAt.gte(crate::stamp(from)));
        }
        if let Some(to) = filter.to {
            select = select.filter(audit_events::Column::OccurredAt.lt(crate::stamp(to)));
        }
        let total = select.clone().count(&self.db).await.map_err(|e| db_err(e, "counting audit events"))?;
        let rows = select
            .order_by(audit_events::Column::OccurredAt, Order::Desc)
            .order_by(audit_events::Column::Id, Order::Desc)
            .offset(page.offset())
            .limit(page.per_page())
            .all(&self.db)
            .await
            .map_err(|e| db_err(e, "listing audit events"))?;
        let items = rows.into_iter().map(event).collect::<anyhow::Result<_>>()?;
        Ok(Page { items, total, page: page.page(), per_page: page.per_page() })
    }
}

impl TwoFactorStore for SeaStore {
    async fn totp(&self, user: Uuid) -> anyhow::Result<Option<TotpRecord>> {
        let row = user_totp::Entity::find_by_id(user).one(&self.db).await.map_err(|e| db_err(e, "loading a TOTP"))?;
        Ok(row.map(|r| TotpRecord {
            sealed_secret: r.secret,
            confirmed: r.confirmed_at.is_some(),
            last_step: r.last_step.and_then(|s| u64::try_from(s).ok()),
            failed_step: r.failed_step.and_then(|s| u64::try_from(s).ok()),
            failures: u32::try_from(r.failures).unwrap_or(0),
        }))
    }

    async fn begin_enrolment(
        &self,
        user: Uuid,
        sealed_secret: &str,
        now: DateTime<Utc>,
        audit: &AuditEvent,
    ) -> anyhow::Result<bool> {
        let txn = begin_write(&self.db).await?;
        let existing = user_totp::Entity::find_by_id(user).one(&txn).await.map_err(|e| db_err(e, "loading a TOTP"))?;
        if existing.as_ref().is_some_and(|r| r.confirmed_at.is_some()) {
            return Ok(false);
        }
        user_totp::Entity::delete_by_id(user).exec(&txn).await.map_err(|e| db_err(e, "dropping an enrolment"))?;
        user_totp::ActiveModel {
            user_id: Set(user),
            secret: Set(sealed_secret.to_owned()),
            confirmed_at: Set(None),
            last_step: Set(None),
            failed_step: Set(None),
            failures: Set(0),
            created_at: Set(crate::stamp(now)),
        }
        .insert(&txn)
        .await
        .map_err(|e| db_err(e, "storing an enrolment"))?;
        record(&txn, audit, None).await?;
        txn.commit().await.map_err(|e| db_err(e, "committing an enrolment"))?;
        Ok(true)
    }

    async fn confirm_enrolment(
        &self,
        user: Uuid,
        at_step: u64,
        recovery_hashes: &[String],
        now: DateTime<Utc>,
        audit: &AuditEvent,
    ) -> anyhow::Result<bool> {
        let txn = begin_write(&self.db).await?;
        let confirmed = user_totp::Entity::update_many()
            .col_expr(user_totp::Column::ConfirmedAt, Expr::value(crate::stamp(now)))
            .col_expr(user_totp::Column::LastStep, Expr::value(step(at_step)))
            .filter(user_totp::Column::UserId.eq(user))
            .filter(user_totp::Column::ConfirmedAt.is_null())
            .exec(&txn)
            .await
            .map_err(|e| db_err(e, "confirming an enrolment"))?;
        if confirmed.rows_affected != 1 {
            return Ok(false);
        }
        recovery_codes::Entity::delete_many()
            .filter(recovery_codes::Column::UserId.eq(user))
            .exec(&txn)
            .await
            .map_err(|e| db_err(e, "dropping old recovery codes"))?;
        for hash in recovery_hashes {
            recovery_codes::ActiveModel {
                id: Set(Uuid::now_v7()),
                user_id: Set(user),
                code_hash: Set(hash.clone()),
                used_at: Set(None),
                created_at: Set(crate::stamp(now)),
            }
            .insert(&txn)
            .await
            .map_err(|e| db_err(e, "storing a recovery code"))?;
        }
        record(&txn, audit, None).await?;
        txn.commit().await.map_err(|e| db_err(e, "committing a second factor"))?;
        Ok(true)
    }

    async fn remove_two_factor(
        &self,
        user: Uuid,
        end_sessions: bool,
        now: DateTime<Utc>,
        audit: &AuditEvent,
    ) -> anyhow::Result<()> {
        let txn = begin_write(&self.db).await?;
        user_totp::Entity::delete_by_id(user).exec(&txn).await.map_err(|e| db_err(e, "removing a TOTP"))?;
        recovery_codes::Entity::delete_many()
            .filter(recovery_codes::Column::UserId.eq(user))
            .exec(&txn)
            .await
            .map_err(|e| db_err(e, "removing recovery codes"))?;
        if end_sessions {
            revoke_sessions(&txn, user, None, now).await.map_err(|e| db_err(e, "ending sessions"))?;
        }
        record(&txn, audit, None).await?;
        txn.commit().await.map_err(|e| db_err(e, "committing a second factor's removal"))
    }

    async fn accept_step(&self, user: Uuid, at_step: u64) -> anyhow::Result<bool> {
        let res = user_totp::Entity::update_many()
            .col_expr(user_totp::Column::LastStep, Expr::value(step(at_step)))
            .filter(user_totp::Column::UserId.eq(user))
            .filter(user_totp::Column::ConfirmedAt.is_not_null())
            .filter(
                Condition::any()
                    .add(user_totp::Column::LastStep.is_null())
                    .add(user_totp::Column::LastStep.lt(step(at_step))),
            )
            .exec(&self.db)
            .await
            .map_err(|e| db_err(e, "accepting a TOTP step"))?;
        Ok(res.rows_affected == 1)
    }

    async fn count_wrong_code(&self, user: Uuid, at_step: u64) -> anyhow::Result<u32> {
        let txn = begin_write(&self.db).await?;
        let Some(row) = user_totp::Entity::find_by_id(user)
            .lock(LockType::Update)
            .one(&txn)
            .await
            .map_err(|e| db_err(e, "loading a TOTP"))?
        else {
            return Ok(0);
        };
        let failures = if row.failed_step == Some(step(at_step)) { row.failures.saturating_add(1) } else { 1 };
        user_totp::Entity::update_many()
            .col_expr(user_totp::Column::FailedStep, Expr::value(step(at_step)))
            .col_expr(user_totp::Column::Failures, Expr::value(failures))
            .filter(user_totp::Column::UserId.eq(user))
            .exec(&txn)
            .await
            .map_err(|e| db_err(e, "counting a wrong code"))?;
        txn.commit().await.map_err(|e| db_err(e, "committing a wrong code"))?;
        Ok(u32::try_from(failures).unwrap_or(0))
    }

    async fn use_recovery_code(
        &self,
        user: Uuid,
        hash: &str,
        now: DateTime<Utc>,
        audit: &AuditEvent,
    ) -> anyhow::Result<bool> {
        let txn = begin_write(&self.db).await?;
        let res = recovery_codes::Entity::update_many()
            .col_expr(recovery_codes::Column::UsedAt, Expr::value(crate::stamp(now)))
            .filter(recovery_codes::Column::UserId.eq(user))
            .filter(recovery_codes::Column::CodeHash.eq(hash))
            .filter(recovery_codes::Column::UsedAt.is_null())
            .exec(&txn)
            .await
            .map_err(|e| db_err(e, "spending a recovery code"))?;
        if res.rows_affected != 1 {
            return Ok(false);
        }
        record(&txn, audit, None).await?;
        txn.commit().await.map_err(|e| db_err(e, "committing a spent recovery code"))?;
        Ok(true)
    }
}

impl NetworkStore for SeaStore {
    async fn change_networks(
        &self,
        tenant: Uuid,
        user: Uuid,
        change: &NetworkChange,
        keep: Option<Uuid>,
        now: DateTime<Utc>,
        audit: &AuditEvent,
    ) -> anyhow::Result<Option<Vec<Cidr>>> {
        let txn = begin_write(&self.db).await?;
        if !lock_user(&txn, tenant, user).await.map_err(|e| db_err(e, "locking a user"))? {
            return Ok(None);
        }
        let current = networks_of(&txn, &[user]).await?.remove(&user).unwrap_or_default();
        let wanted = change.apply(&current);
        user_networks::Entity::delete_many()
            .filter(user_networks::Column::UserId.eq(user))
            .exec(&txn)
            .await
            .map_err(|e| db_err(e, "clearing an allowlist"))?;
        for (i, net) in wanted.iter().enumerate() {
            // Keeps the order: entries are listed by creation.
            let created = crate::stamp(now) + chrono::Duration::microseconds(i64::try_from(i).unwrap_or(0));
            user_networks::ActiveModel {
                id: Set(Uuid::now_v7()),
                user_id: Set(user),
                network: Set(net.to_string()),
                created_at: Set(created),
            }
            .insert(&txn)
            .await
            .map_err(|e| db_err(e, "storing an allowlist entry"))?;
        }
        if wanted != current {
            revoke_sessions(&txn, user, keep, now).await.map_err(|e| db_err(e, "ending sessions"))?;
        }
        record(&txn, audit, None).await?;
        txn.commit().await.map_err(|e| db_err(e, "committing an allowlist"))?;
        Ok(Some(wanted))
    }
}

async fn locked_counter(txn: &DatabaseTransaction, id: &str) -> anyhow::Result<Option<login_throttle::Model>> {
    login_throttle::Entity::find_by_id(id.to_owned())
        .lock(LockType::Update)
        .one(txn)
        .await
        .map_err(|e| db_err(e, "locking a throttle counter"))
}

async fn store_counter(txn: &DatabaseTransaction, id: String, c: &Counter) -> anyhow::Result<()> {
    login_throttle::ActiveModel {
        key: Set(id),
        failures: Set(i32::try_from(c.failures).unwrap_or(i32::MAX)),
        window_started_at: Set(crate::stamp(c.window_started_at)),
        last_failure_at: Set(crate::stamp(c.last_failure_at)),
        locked_until: Set(c.locked_until.map(crate::stamp)),
        hard_locked: Set(c.hard_locked),
    }
    .update(txn)
    .await
    .map_err(|e| db_err(e, "storing a throttle counter"))?;
    Ok(())
}

fn counter(m: login_throttle::Model) -> Counter {
    Counter {
        failures: u32::try_from(m.failures).unwrap_or(0),
        window_started_at: m.window_started_at,
        last_failure_at: m.last_failure_at,
        locked_until: m.locked_until,
        hard_locked: m.hard_locked,
    }
}

impl ThrottleStore for SeaStore {
    async fn take_attempt(
        &self,
        key: &ThrottleKey,
        policy: &ThrottlePolicy,
        now: DateTime<Utc>,
    ) -> anyhow::Result<Taken> {
        let id = key.as_string();
        let now = crate::stamp(now);
        let txn = begin_write(&self.db).await?;
        // Make sure the row exists, then lock it: concurrent attempts on
        // other replicas wait here and see this one's count.
        login_throttle::Entity::insert(login_throttle::ActiveModel {
            key: Set(id.clone()),
            failures: Set(0),
            window_started_at: Set(now),
            last_failure_at: Set(now),
            locked_until: Set(None),
            hard_locked: Set(false),
        })
        .on_conflict(OnConflict::column(login_throttle::Column::Key).do_nothing().to_owned())
        .exec_without_returning(&txn)
        .await
        .map_err(|e| db_err(e, "creating a throttle counter"))?;
        let row = locked_counter(&txn, &id).await?.context("a throttle counter vanished")?;
        let before = (row.failures > 0).then(|| counter(row));
        let taken = policy.take(key, before.as_ref(), now);
        if let Taken::Counted(after) = &taken {
            store_counter(&txn, id, after).await?;
        }
        txn.commit().await.map_err(|e| db_err(e, "committing an attempt"))?;
        Ok(taken)
    }

    async fn give_back(&self, key: &ThrottleKey, policy: &ThrottlePolicy) -> anyhow::Result<()> {
        let id = key.as_string();
        let txn = begin_write(&self.db).await?;
        if let Some(row) = locked_counter(&txn, &id).await?.filter(|r| r.failures > 0) {
            store_counter(&txn, id, &policy.give_back(key, &counter(row))).await?;
        }
        txn.commit().await.map_err(|e| db_err(e, "committing a given-back attempt"))
    }

    async fn clear(&self, key: &ThrottleKey, audit: Option<&AuditEvent>) -> anyhow::Result<()> {
        let txn = begin_write(&self.db).await?;
        login_throttle::Entity::delete_by_id(key.as_string())
            .exec(&txn)
            .await
            .map_err(|e| db_err(e, "clearing a throttle counter"))?;
        if let Some(audit) = audit {
            record(&txn, audit, None).await?;
        }
        txn.commit().await.map_err(|e| db_err(e, "committing a cleared counter"))
    }
}
