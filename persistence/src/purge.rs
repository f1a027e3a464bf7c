//! Forgetting what outlived its use, in batches: each statement deletes at
//! most a batch of rows it selects by primary key, so no purge holds locks
//! for long, and a purge running on two replicas deletes each row once.

use sea_orm::{
    ColumnTrait, Condition, EntityTrait, QueryFilter,
    sea_query::{Expr, ExprTrait as _, Query, SelectStatement},
};
use voxport_domain::{
    ports::{Purge, PurgeStore},
    webhook::DeliveryState,
};

use crate::{
    SeaStore, db_err,
    entities::{
        api_client_tokens, idempotency_keys, known_addresses, login_throttle, password_tokens, sessions,
        webhook_attempts, webhook_deliveries,
    },
};

impl SeaStore {
    /// Deletes the rows of `E` whose `key` is among those `select` picks,
    /// a batch at a time, until none is left; answers how many went.
    async fn delete_in_batches<E: EntityTrait>(
        &self,
        key: impl ColumnTrait + Copy,
        select: impl Fn() -> SelectStatement,
        what: &'static str,
    ) -> anyhow::Result<u64> {
        let mut gone = 0;
        loop {
            let res =
                E::delete_many().filter(key.in_subquery(select())).exec(&self.db).await.map_err(|e| db_err(e, what))?;
            gone += res.rows_affected;
            if res.rows_affected == 0 {
                return Ok(gone);
            }
        }
    }
}

impl PurgeStore for SeaStore {
    async fn purge(&self, p: &Purge) -> anyhow::Result<u64> {
        let now = crate::stamp(p.now);
        let batch = Ord::max(p.batch, 1);
        let picked = |table: sea_orm::sea_query::TableRef, key: sea_orm::sea_query::ColumnRef, cond: Condition| {
            let mut q = Query::select();
            q.column(key).from(table).cond_where(cond).limit(batch);
            q
        };
        let keys = self
            .delete_in_batches::<idempotency_keys::Entity>(
                idempotency_keys::Column::Id,
                || {
                    picked(
                        idempotency_keys::Entity.into(),
                        idempotency_keys::Column::Id.into(),
                        Condition::all().add(idempotency_keys::Column::CreatedAt.lt(crate::stamp(p.keys_before))),
                    )
                },
                "forgetting idempotency keys",
            )
            .await?;
        let links = self
            .delete_in_batches::<password_tokens::Entity>(
                password_tokens::Column::Id,
                || {
                    picked(
                        password_tokens::Entity.into(),
                        password_tokens::Column::Id.into(),
                        Condition::any()
                            .add(password_tokens::Column::ExpiresAt.lt(now))
                            .add(password_tokens::Column::UsedAt.is_not_null()),
                    )
                },
                "forgetting spent links",
            )
            .await?;
        let counters = self
            .delete_in_batches::<login_throttle::Entity>(
                login_throttle::Column::Key,
                || {
                    picked(
                        login_throttle::Entity.into(),
                        login_throttle::Column::Key.into(),
                        Condition::all()
                            .add(login_throttle::Column::LastFailureAt.lt(crate::stamp(p.counters_before)))
                            .add(login_throttle::Column::HardLocked.eq(false))
                            .add(
                                Condition::any()
                                    .add(login_throttle::Column::LockedUntil.is_null())
                                    .add(login_throttle::Column::LockedUntil.lt(now)),
                            ),
                    )
                },
                "forgetting old counters",
            )
            .await?;
        let known = known_addresses::Entity::delete_many()
            .filter(known_addresses::Column::LastSuccessAt.lt(crate::stamp(p.known_before)))
            .exec(&self.db)
            .await
            .map_err(|e| db_err(e, "forgetting known addresses"))?
            .rows_affected;
        // Refresh tokens go with their session (ON DELETE CASCADE).
        let ended = crate::stamp(p.sessions_before);
        let sessions = self
            .delete_in_batches::<sessions::Entity>(
                sessions::Column::Id,
                || {
                    picked(
                        sessions::Entity.into(),
                        sessions::Column::Id.into(),
                        Condition::any()
                            .add(sessions::Column::ExpiresAt.lt(ended))
                            .add(sessions::Column::RevokedAt.lt(ended)),
                    )
                },
                "forgetting ended sessions",
            )
            .await?;
        // An API client's token row outlives its end only to answer
        // introspection "inactive", which a missing row answers too.
        let client_tokens = self
            .delete_in_batches::<api_client_tokens::Entity>(
                api_client_tokens::Column::Id,
                || {
                    picked(
                        api_client_tokens::Entity.into(),
                        api_client_tokens::Column::Id.into(),
                        Condition::all().add(api_client_tokens::Column::ExpiresAt.lt(ended)),
                    )
                },
                "forgetting ended client tokens",
            )
            .await?;
        // A webhook's deliveries show for a month once they are settled.
        let settled = || {
            Condition::all().add(webhook_deliveries::Column::State.ne(DeliveryState::Pending.as_str())).add(
                // Counted from when it settled: its last attempt, or
                // when it was written for one given up untried.
                Condition::any()
                    .add(webhook_deliveries::Column::LastAttemptAt.lt(crate::stamp(p.deliveries_before)))
                    .add(
                        Condition::all()
                            .add(webhook_deliveries::Column::LastAttemptAt.is_null())
                            .add(webhook_deliveries::Column::CreatedAt.lt(crate::stamp(p.deliveries_before))),
                    ),
            )
        };
        let attempts = self
            .delete_in_batches::<webhook_attempts::Entity>(
                webhook_attempts::Column::Id,
                || {
                    let old = Query::select()
                        .column(webhook_deliveries::Column::Id)
                        .from(webhook_deliveries::Entity)
                        .cond_where(settled())
                        .to_owned();
                    picked(
                        webhook_attempts::Entity.into(),
                        webhook_attempts::Column::Id.into(),
                        Condition::all().add(Expr::col(webhook_attempts::Column::DeliveryId).in_subquery(old)),
                    )
                },
                "forgetting old webhook attempts",
            )
            .await?;
        let deliveries = self
            .delete_in_batches::<webhook_deliveries::Entity>(
                webhook_deliveries::Column::Id,
                || picked(webhook_deliveries::Entity.into(), webhook_deliveries::Column::Id.into(), settled()),
                "forgetting old webhook deliveries",
            )
            .await?;
        Ok(keys + links + counters + known + sessions + client_tokens + attempts + deliveries)
    }
}
