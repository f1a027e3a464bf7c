//! Idempotency keys (see `voxport_domain::idempotency`). UNIQUE (scope,
//! key) decides between two requests claiming one key at once; the
//! business transaction marks the key committed, conditional on its claim
//! token, and the answer is stored once the request is done.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait as _, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter,
    QuerySelect as _, sea_query::Expr,
};
use uuid::Uuid;
use voxport_domain::{
    idempotency::{Claim, IdempotencyKey, KeyState},
    ports::IdempotencyStore,
    request,
};

use crate::{SeaStore, db_err, entities::idempotency_keys, is_unique_violation};

fn taken(row: idempotency_keys::Model, now: DateTime<Utc>) -> KeyState {
    KeyState::Taken {
        fingerprint: row.fingerprint,
        committed: row.committed,
        lease_over: row.locked_until <= now,
        response: row.response,
    }
}

fn of_claim(claim: &Claim) -> Condition {
    Condition::all()
        .add(idempotency_keys::Column::Scope.eq(claim.scope))
        .add(idempotency_keys::Column::Key.eq(claim.key.as_str()))
        .add(idempotency_keys::Column::Claim.eq(claim.token))
        .add(idempotency_keys::Column::Response.is_null())
}

/// Marks the key the current request holds as committed, in the
/// transaction of a change the request writes: the change commits only
/// while the request still holds its key (of two requests that came to
/// hold one key, one commits). Without a key it does nothing. The row is
/// written once per transaction and only read after: an import records
/// thousands of events, and a version of the row per event would slow each
/// later one down (see `stations::Licences`).
///
/// # Errors
/// [`voxport_domain::idempotency::IdempotencyRefusal::InProgress`] when
/// another request took the key over; when storage fails.
pub(crate) async fn commit(db: &impl ConnectionTrait) -> anyhow::Result<()> {
    let Some(claim) = request::idempotency_claim() else { return Ok(()) };
    let held = idempotency_keys::Entity::find()
        .select_only()
        .column(idempotency_keys::Column::Committed)
        .filter(of_claim(&claim))
        .into_tuple::<bool>()
        .one(db)
        .await
        .map_err(|e| db_err(e, "reading an idempotency key"))?;
    match held {
        // Marked by an earlier change of this transaction, which holds
        // the row's lock since.
        Some(true) => return Ok(()),
        Some(false) => {}
        None => return Err(request::lose_idempotency_claim().into()),
    }
    let res = idempotency_keys::Entity::update_many()
        .col_expr(idempotency_keys::Column::Committed, Expr::value(true))
        .filter(of_claim(&claim))
        .exec(db)
        .await
        .map_err(|e| db_err(e, "marking an idempotency key committed"))?;
    if res.rows_affected == 0 {
        return Err(request::lose_idempotency_claim().into());
    }
    Ok(())
}

impl IdempotencyStore for SeaStore {
    async fn claim_idempotency_key(
        &self,
        scope: Uuid,
        key: &IdempotencyKey,
        fingerprint: &str,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        forget_before: DateTime<Utc>,
    ) -> anyhow::Result<KeyState> {
        let (txn, _writing) = self.begin_write().await?;
        let of_key = || {
            idempotency_keys::Entity::find()
                .filter(idempotency_keys::Column::Scope.eq(scope))
                .filter(idempotency_keys::Column::Key.eq(key.as_str()))
        };
        let existing = of_key().one(&txn).await.map_err(|e| db_err(e, "loading an idempotency key"))?;
        let claim = Claim { scope, key: key.clone(), token: Uuid::new_v4() };
        match existing {
            Some(row) if row.created_at < forget_before => {
                idempotency_keys::Entity::delete_by_id(row.id)
                    .exec(&txn)
                    .await
                    .map_err(|e| db_err(e, "forgetting an idempotency key"))?;
            }
            // Its request died before committing anything: take it over.
            Some(row)
                if row.response.is_none()
                    && !row.committed
                    && row.locked_until <= now
                    && row.fingerprint == fingerprint =>
            {
                idempotency_keys::Entity::update_many()
                    .col_expr(idempotency_keys::Column::Claim, Expr::value(claim.token))
                    .col_expr(idempotency_keys::Column::LockedUntil, Expr::value(crate::stamp(lease_until)))
                    .filter(idempotency_keys::Column::Id.eq(row.id))
                    .exec(&txn)
                    .await
                    .map_err(|e| db_err(e, "taking over an idempotency key"))?;
                txn.commit().await.map_err(|e| db_err(e, "committing an idempotency claim"))?;
                return Ok(KeyState::Claimed(claim));
            }
            Some(row) => return Ok(taken(row, now)),
            None => {}
        }
        let inserted = idempotency_keys::ActiveModel {
            id: Set(Uuid::now_v7()),
            scope: Set(scope),
            key: Set(key.as_str().to_owned()),
            fingerprint: Set(fingerprint.to_owned()),
            claim: Set(claim.token),
            locked_until: Set(crate::stamp(lease_until)),
            response: Set(None),
            created_at: Set(crate::stamp(now)),
            committed: Set(false),
        }
        .insert(&txn)
        .await;
        match inserted {
            Ok(_) => {
                txn.commit().await.map_err(|e| db_err(e, "committing an idempotency claim"))?;
                Ok(KeyState::Claimed(claim))
            }
            // A concurrent request claimed it first (PostgreSQL; on SQLite
            // the write lock orders the two).
            Err(e) if is_unique_violation(&e) => {
                drop(txn);
                let row = of_key().one(&self.db).await.map_err(|e| db_err(e, "loading an idempotency key"))?;
                row.map(|row| taken(row, now))
                    .ok_or_else(|| anyhow::anyhow!("an idempotency key vanished while it was claimed"))
            }
            Err(e) => Err(db_err(e, "claiming an idempotency key")),
        }
    }

    async fn settle_idempotency_key(&self, claim: &Claim, sealed_answer: &str, succeeded: bool) -> anyhow::Result<()> {
        // A failure is worth remembering only when work was done anyway.
        let mut worth_keeping = of_claim(claim);
        if !succeeded {
            worth_keeping = worth_keeping.add(idempotency_keys::Column::Committed.eq(true));
        }
        let (txn, _writing) = self.begin_write().await?;
        let remembered = idempotency_keys::Entity::update_many()
            .col_expr(idempotency_keys::Column::Response, Expr::value(sealed_answer.to_owned()))
            .filter(worth_keeping)
            .exec(&txn)
            .await
            .map_err(|e| db_err(e, "remembering an answer"))?;
        if remembered.rows_affected == 0 {
            // Nothing was done: a retry runs again.
            idempotency_keys::Entity::delete_many()
                .filter(of_claim(claim))
                .filter(idempotency_keys::Column::Committed.eq(false))
                .exec(&txn)
                .await
                .map_err(|e| db_err(e, "releasing an idempotency key"))?;
        }
        txn.commit().await.map_err(|e| db_err(e, "settling an idempotency key"))
    }
}
