//! Brute-force counters. A counter is read, changed by the domain's rule
//! and written back inside a write transaction that first makes sure the
//! row exists and locks it (`FOR UPDATE` on PostgreSQL; the write lock on
//! SQLite), so parallel attempts on two replicas are taken one after
//! another.

use anyhow::Context as _;
use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait as _,
    ActiveValue::Set,
    DatabaseTransaction, EntityTrait, QuerySelect,
    sea_query::{LockType, OnConflict},
};
use voxport_domain::{
    audit::AuditEvent,
    ports::ThrottleStore,
    throttle::{Counter, Taken, ThrottleKey, ThrottlePolicy},
};

use crate::{SeaStore, audit::record, begin_write, db_err, entities::login_throttle};

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

    async fn refund(&self, key: &ThrottleKey, policy: &ThrottlePolicy) -> anyhow::Result<()> {
        let id = key.as_string();
        let txn = begin_write(&self.db).await?;
        if let Some(row) = locked_counter(&txn, &id).await?.filter(|r| r.failures > 0) {
            store_counter(&txn, id, &policy.refunded(key, &counter(row))).await?;
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
