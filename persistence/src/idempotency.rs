//! Idempotency keys (see `voxport_domain::idempotency`). UNIQUE (scope,
//! key) decides between two requests claiming one key at once; the answer
//! is stored by the business transaction, conditional on its claim token.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait as _, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, sea_query::Expr,
};
use uuid::Uuid;
use voxport_domain::{
    idempotency::{Claim, IdempotencyKey, KeyState},
    ports::IdempotencyStore,
};

use crate::{SeaStore, db_err, entities::idempotency_keys, is_unique_violation};

fn taken(row: idempotency_keys::Model) -> KeyState {
    KeyState::Taken { fingerprint: row.fingerprint, response: row.response }
}

/// Stores the sealed answer on a claimed key; false when the claim is no
/// longer this request's. Part of the business transaction.
pub(crate) async fn complete(db: &impl ConnectionTrait, claim: &Claim, sealed: &str) -> anyhow::Result<bool> {
    let res = idempotency_keys::Entity::update_many()
        .col_expr(idempotency_keys::Column::Response, Expr::value(sealed.to_owned()))
        .filter(idempotency_keys::Column::Scope.eq(claim.scope))
        .filter(idempotency_keys::Column::Key.eq(claim.key.as_str()))
        .filter(idempotency_keys::Column::Claim.eq(claim.token))
        .filter(idempotency_keys::Column::Response.is_null())
        .exec(db)
        .await
        .map_err(|e| db_err(e, "remembering an answer"))?;
    Ok(res.rows_affected == 1)
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
            Some(row) if row.response.is_none() && row.locked_until <= now && row.fingerprint == fingerprint => {
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
            Some(row) => return Ok(taken(row)),
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
                row.map(taken).ok_or_else(|| anyhow::anyhow!("an idempotency key vanished while it was claimed"))
            }
            Err(e) => Err(db_err(e, "claiming an idempotency key")),
        }
    }

    async fn release_idempotency_key(&self, claim: &Claim) -> anyhow::Result<()> {
        idempotency_keys::Entity::delete_many()
            .filter(idempotency_keys::Column::Scope.eq(claim.scope))
            .filter(idempotency_keys::Column::Key.eq(claim.key.as_str()))
            .filter(idempotency_keys::Column::Claim.eq(claim.token))
            .filter(idempotency_keys::Column::Response.is_null())
            .exec(&self.db)
            .await
            .map_err(|e| db_err(e, "releasing an idempotency key"))?;
        Ok(())
    }
}
