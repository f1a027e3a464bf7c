//! Second factors. A TOTP step is accepted with one conditional update
//! (`last_step < step`), so a code works once even if two replicas see it
//! at once.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait as _,
    ActiveValue::Set,
    ColumnTrait, Condition, EntityTrait, QueryFilter, QuerySelect,
    sea_query::{Expr, LockType},
};
use uuid::Uuid;
use voxport_domain::{
    audit::AuditEvent,
    ports::{TotpRecord, TwoFactorStore},
};

use crate::{
    SeaStore,
    audit::record,
    db_err,
    entities::{recovery_codes, user_totp},
    sessions::revoke_sessions,
};

fn step(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
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
        let (txn, _writing) = self.begin_write().await?;
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
        keep: Option<Uuid>,
        now: DateTime<Utc>,
        audit: &AuditEvent,
    ) -> anyhow::Result<bool> {
        let (txn, _writing) = self.begin_write().await?;
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
        revoke_sessions(&txn, user, keep, now).await.map_err(|e| db_err(e, "ending sessions"))?;
        record(&txn, audit, None).await?;
        txn.commit().await.map_err(|e| db_err(e, "committing a second factor"))?;
        Ok(true)
    }

    async fn remove_two_factor(
        &self,
        user: Uuid,
        keep: Option<Uuid>,
        now: DateTime<Utc>,
        audit: &AuditEvent,
    ) -> anyhow::Result<()> {
        let (txn, _writing) = self.begin_write().await?;
        user_totp::Entity::delete_by_id(user).exec(&txn).await.map_err(|e| db_err(e, "removing a TOTP"))?;
        recovery_codes::Entity::delete_many()
            .filter(recovery_codes::Column::UserId.eq(user))
            .exec(&txn)
            .await
            .map_err(|e| db_err(e, "removing recovery codes"))?;
        revoke_sessions(&txn, user, keep, now).await.map_err(|e| db_err(e, "ending sessions"))?;
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
        let (txn, _writing) = self.begin_write().await?;
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
        let (txn, _writing) = self.begin_write().await?;
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
