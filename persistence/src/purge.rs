//! Forgetting what outlived its use.

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, Condition, EntityTrait, QueryFilter};
use voxport_domain::ports::PurgeStore;

use crate::{
    SeaStore, db_err,
    entities::{idempotency_keys, login_throttle, password_tokens},
};

impl PurgeStore for SeaStore {
    async fn purge(&self, now: DateTime<Utc>, keys_before: DateTime<Utc>) -> anyhow::Result<u64> {
        let keys = idempotency_keys::Entity::delete_many()
            .filter(idempotency_keys::Column::CreatedAt.lt(crate::stamp(keys_before)))
            .exec(&self.db)
            .await
            .map_err(|e| db_err(e, "forgetting idempotency keys"))?;
        let links = password_tokens::Entity::delete_many()
            .filter(
                Condition::any()
                    .add(password_tokens::Column::ExpiresAt.lt(crate::stamp(now)))
                    .add(password_tokens::Column::UsedAt.is_not_null()),
            )
            .exec(&self.db)
            .await
            .map_err(|e| db_err(e, "forgetting spent links"))?;
        // A counter nobody has failed against for a day has nothing to say,
        // unless it holds a lock still running or one only an
        // administrator lifts.
        let counters = login_throttle::Entity::delete_many()
            .filter(login_throttle::Column::LastFailureAt.lt(crate::stamp(now - chrono::Duration::days(1))))
            .filter(login_throttle::Column::HardLocked.eq(false))
            .filter(
                Condition::any()
                    .add(login_throttle::Column::LockedUntil.is_null())
                    .add(login_throttle::Column::LockedUntil.lt(crate::stamp(now))),
            )
            .exec(&self.db)
            .await
            .map_err(|e| db_err(e, "forgetting old counters"))?;
        Ok(keys.rows_affected + links.rows_affected + counters.rows_affected)
    }
}
