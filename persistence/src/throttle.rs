//! Brute-force counters and known addresses. A counter is changed inside a
//! write transaction that first creates-or-locks its row with one upsert
//! (`INSERT … ON CONFLICT DO UPDATE … RETURNING`): the row cannot vanish
//! between making sure it exists and locking it, and concurrent failures
//! on two replicas are counted one after the other (`FOR UPDATE`
//! semantics on PostgreSQL; the write lock on SQLite).

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait as _,
    ActiveValue::Set,
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter,
    sea_query::{LikeExpr, OnConflict},
};
use uuid::Uuid;
use voxport_domain::{
    audit::AuditEvent,
    ports::ThrottleStore,
    throttle::{Counter, SignInKeys, Success, Taken, ThrottleKey, ThrottlePolicy, ThrottleState},
};

use crate::{
    SeaStore,
    audit::record,
    db_err,
    entities::{known_addresses, login_throttle},
};

/// The counter stored under `id`, created empty when missing and locked
/// for the rest of the transaction; `None` when it counts nothing yet.
async fn locked_counter(db: &impl ConnectionTrait, id: &str, now: DateTime<Utc>) -> anyhow::Result<Option<Counter>> {
    let row = login_throttle::Entity::insert(login_throttle::ActiveModel {
        key: Set(id.to_owned()),
        failures: Set(0),
        window_started_at: Set(now),
        last_failure_at: Set(now),
        locked_until: Set(None),
        hard_locked: Set(false),
    })
    .on_conflict(OnConflict::column(login_throttle::Column::Key).update_column(login_throttle::Column::Key).to_owned())
    .exec_with_returning(db)
    .await
    .map_err(|e| db_err(e, "locking a throttle counter"))?;
    Ok((row.failures > 0).then(|| counter(row)))
}

async fn store_counter(db: &impl ConnectionTrait, id: String, c: &Counter) -> anyhow::Result<()> {
    login_throttle::ActiveModel {
        key: Set(id),
        failures: Set(i32::try_from(c.failures).unwrap_or(i32::MAX)),
        window_started_at: Set(crate::stamp(c.window_started_at)),
        last_failure_at: Set(crate::stamp(c.last_failure_at)),
        locked_until: Set(c.locked_until.map(crate::stamp)),
        hard_locked: Set(c.hard_locked),
    }
    .update(db)
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

/// `prefix` as a LIKE pattern matching what starts with it.
fn starting_with(prefix: &str) -> LikeExpr {
    let escaped: String = prefix
        .chars()
        .flat_map(|c| match c {
            '%' | '_' | '\\' => vec!['\\', c],
            c => vec![c],
        })
        .collect();
    LikeExpr::new(format!("{escaped}%")).escape('\\')
}

impl ThrottleStore for SeaStore {
    async fn throttle_state(
        &self,
        keys: &SignInKeys,
        user: Option<Uuid>,
        known_since: DateTime<Utc>,
    ) -> anyhow::Result<ThrottleState> {
        let ids = keys.all().map(ThrottleKey::as_string);
        let rows = login_throttle::Entity::find()
            .filter(login_throttle::Column::Key.is_in(ids.iter().cloned()))
            .filter(login_throttle::Column::Failures.gt(0))
            .all(&self.db)
            .await
            .map_err(|e| db_err(e, "reading throttle counters"))?;
        let find = |id: &str| rows.iter().find(|r| r.key == id).cloned().map(counter);
        // A login nobody has is looked up all the same, as the nil user.
        let known = known_addresses::Entity::find_by_id((user.unwrap_or_default(), keys.address_key.clone()))
            .filter(known_addresses::Column::LastSuccessAt.gte(crate::stamp(known_since)))
            .one(&self.db)
            .await
            .map_err(|e| db_err(e, "reading a known address"))?;
        Ok(ThrottleState {
            pair: find(&ids[0]),
            account: find(&ids[1]),
            address: find(&ids[2]),
            known_since: known.map(|k| k.last_success_at),
        })
    }

    async fn record_failures(
        &self,
        keys: &[&ThrottleKey],
        policy: &ThrottlePolicy,
        now: DateTime<Utc>,
    ) -> anyhow::Result<Vec<Counter>> {
        let now = crate::stamp(now);
        let (txn, _writing) = self.begin_write().await?;
        let mut after = Vec::with_capacity(keys.len());
        for key in keys {
            let id = key.as_string();
            let before = locked_counter(&txn, &id, now).await?;
            let counted = policy.failure(key, before.as_ref(), now);
            store_counter(&txn, id, &counted).await?;
            after.push(counted);
        }
        txn.commit().await.map_err(|e| db_err(e, "committing failures"))?;
        Ok(after)
    }

    async fn record_success(
        &self,
        keys: &SignInKeys,
        user: Uuid,
        success: Success,
        now: DateTime<Utc>,
    ) -> anyhow::Result<()> {
        if !success.writes() {
            return Ok(());
        }
        let (txn, _writing) = self.begin_write().await?;
        if success.clear_pair {
            login_throttle::Entity::delete_by_id(keys.pair.as_string())
                .exec(&txn)
                .await
                .map_err(|e| db_err(e, "clearing a throttle counter"))?;
        }
        if success.reset_account {
            login_throttle::Entity::delete_many()
                .filter(login_throttle::Column::Key.eq(keys.account.as_string()))
                .filter(login_throttle::Column::HardLocked.eq(false))
                .exec(&txn)
                .await
                .map_err(|e| db_err(e, "resetting a throttle counter"))?;
        }
        if success.remember_address {
            known_addresses::Entity::insert(known_addresses::ActiveModel {
                user_id: Set(user),
                address: Set(keys.address_key.clone()),
                last_success_at: Set(crate::stamp(now)),
            })
            .on_conflict(
                OnConflict::columns([known_addresses::Column::UserId, known_addresses::Column::Address])
                    .update_column(known_addresses::Column::LastSuccessAt)
                    .to_owned(),
            )
            .exec_without_returning(&txn)
            .await
            .map_err(|e| db_err(e, "remembering a known address"))?;
        }
        txn.commit().await.map_err(|e| db_err(e, "committing a sign-in"))
    }

    async fn take_attempt(
        &self,
        key: &ThrottleKey,
        policy: &ThrottlePolicy,
        now: DateTime<Utc>,
    ) -> anyhow::Result<Taken> {
        let id = key.as_string();
        let now = crate::stamp(now);
        let (txn, _writing) = self.begin_write().await?;
        let before = locked_counter(&txn, &id, now).await?;
        let taken = policy.take(key, before.as_ref(), now);
        if let Taken::Counted(after) = &taken {
            store_counter(&txn, id, after).await?;
        }
        txn.commit().await.map_err(|e| db_err(e, "committing an attempt"))?;
        Ok(taken)
    }

    async fn unlock_login(&self, login: &str, audit: &AuditEvent) -> anyhow::Result<()> {
        let (pairs, account) = ThrottleKey::of_login(login);
        let (txn, _writing) = self.begin_write().await?;
        login_throttle::Entity::delete_many()
            .filter(
                sea_orm::Condition::any()
                    .add(login_throttle::Column::Key.eq(account))
                    .add(login_throttle::Column::Key.like(starting_with(&pairs))),
            )
            .exec(&txn)
            .await
            .map_err(|e| db_err(e, "clearing a login's counters"))?;
        record(&txn, audit, None).await?;
        txn.commit().await.map_err(|e| db_err(e, "committing an unlock"))
    }
}
