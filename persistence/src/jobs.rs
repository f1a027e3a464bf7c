//! Import jobs. A job row is leased like an outbox row; a chunk moves its
//! job on inside the chunk's transaction ([`advance`]).

use anyhow::{Context as _, anyhow};
use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait as _,
    ActiveValue::Set,
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, Iterable as _, Order, QueryFilter, QueryOrder, QuerySelect,
    Select, UpdateMany,
    sea_query::{Expr, ExprTrait as _, LockBehavior, LockType},
};
use serde_json::Value;
use uuid::Uuid;
use voxport_domain::{
    audit::AuditEvent,
    job::{ClaimedImportJob, ImportJob, JOB_MAX_ATTEMPTS, JobCheckpoint, JobState, NewImportJob, gave_up_error},
    permission::PermissionSet,
    ports::{JobCounts, JobReport, JobStore},
    services::ImportMode,
};

use crate::{SeaStore, audit::record, db_err, entities::import_jobs};

fn mode(raw: &str) -> anyhow::Result<ImportMode> {
    ImportMode::parse(raw).ok_or_else(|| anyhow!("import job mode {raw:?}"))
}

fn count(n: i32) -> u32 {
    u32::try_from(n).unwrap_or(0)
}

fn stored(n: u32) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

fn job(m: import_jobs::Model) -> anyhow::Result<ImportJob> {
    Ok(ImportJob {
        id: m.id,
        tenant_id: m.tenant_id,
        state: JobState::parse(&m.state).with_context(|| format!("import job {} state {:?}", m.id, m.state))?,
        mode: mode(&m.mode)?,
        dry_run: m.dry_run,
        rows_total: count(m.rows_total),
        rows_done: count(m.rows_next),
        rows_checked: Ord::max(count(m.rows_checked), count(m.rows_next)),
        rows_created: count(m.rows_created),
        rows_failed: count(m.rows_failed),
        emails_queued: count(m.emails_queued),
        errors: serde_json::from_str(&m.errors).with_context(|| format!("import job {} errors", m.id))?,
        error: m.error,
        created_by: m.created_by,
        created_at: m.created_at,
        updated_at: m.updated_at,
        finished_at: m.finished_at,
    })
}

/// Reads jobs as they are shown: everything but the sealed file (up to
/// 16 MiB, read only by the worker that claims the job).
fn viewed(select: Select<import_jobs::Entity>) -> Select<import_jobs::Entity> {
    select
        .select_only()
        .columns(import_jobs::Column::iter().filter(|c| !matches!(c, import_jobs::Column::SealedFile)))
        .column_as(Expr::value(""), "sealed_file")
}

/// Ends job `id` in `state`, with `error`: its lease and its file go (the
/// file may hold passwords).
fn ending(id: Uuid, state: JobState, error: Option<String>, now: DateTime<Utc>) -> UpdateMany<import_jobs::Entity> {
    let now = crate::stamp(now);
    import_jobs::Entity::update_many()
        .col_expr(import_jobs::Column::State, Expr::value(state.as_str()))
        .col_expr(import_jobs::Column::SealedFile, Expr::value(""))
        .col_expr(import_jobs::Column::Error, Expr::value(error))
        .col_expr(import_jobs::Column::LeaseToken, Expr::value(Option::<Uuid>::None))
        .col_expr(import_jobs::Column::LeaseUntil, Expr::value(Option::<DateTime<Utc>>::None))
        .col_expr(import_jobs::Column::UpdatedAt, Expr::value(now))
        .col_expr(import_jobs::Column::FinishedAt, Expr::value(now))
        .filter(import_jobs::Column::Id.eq(id))
}

/// Moves job `checkpoint.job` on, in the caller's transaction; false when
/// it is no longer running under the checkpoint's lease.
pub(crate) async fn advance(
    db: &impl ConnectionTrait,
    checkpoint: &JobCheckpoint,
    counts: JobCounts,
) -> anyhow::Result<bool> {
    let moved = import_jobs::Entity::update_many()
        .col_expr(import_jobs::Column::RowsNext, Expr::value(stored(checkpoint.rows_next)))
        .col_expr(
            import_jobs::Column::RowsCreated,
            Expr::col(import_jobs::Column::RowsCreated).add(stored(counts.created)),
        )
        .col_expr(
            import_jobs::Column::RowsFailed,
            Expr::col(import_jobs::Column::RowsFailed).add(stored(counts.failed)),
        )
        .col_expr(
            import_jobs::Column::EmailsQueued,
            Expr::col(import_jobs::Column::EmailsQueued).add(stored(counts.emails)),
        )
        .col_expr(import_jobs::Column::LeaseUntil, Expr::value(crate::stamp(checkpoint.lease_until)))
        // It moved on: only runs that get nowhere count towards giving up.
        .col_expr(import_jobs::Column::Attempts, Expr::value(0))
        .filter(import_jobs::Column::Id.eq(checkpoint.job))
        .filter(import_jobs::Column::LeaseToken.eq(checkpoint.lease))
        .filter(import_jobs::Column::State.eq(JobState::Running.as_str()))
        .exec(db)
        .await
        .map_err(|e| db_err(e, "moving an import job on"))?;
    Ok(moved.rows_affected == 1)
}

impl JobStore for SeaStore {
    async fn create_import_job(&self, new: NewImportJob, now: DateTime<Utc>) -> anyhow::Result<()> {
        let now = crate::stamp(now);
        let (txn, _writing) = self.begin_write().await?;
        import_jobs::ActiveModel {
            id: Set(new.id),
            tenant_id: Set(new.tenant_id),
            home_tenant_id: Set(new.home_tenant_id),
            created_by: Set(new.created_by),
            client_id: Set(new.client_id),
            permissions: Set(new.permissions.to_codes()),
            content_type: Set(new.content_type),
            sealed_file: Set(new.sealed_file),
            mode: Set(new.mode.as_str().to_owned()),
            dry_run: Set(new.dry_run),
            state: Set(JobState::Queued.as_str().to_owned()),
            rows_total: Set(stored(new.rows_total)),
            rows_next: Set(0),
            rows_checked: Set(0),
            rows_created: Set(0),
            rows_failed: Set(0),
            emails_queued: Set(0),
            errors: Set("[]".to_owned()),
            error: Set(None),
            lease_token: Set(None),
            lease_until: Set(None),
            attempts: Set(0),
            created_at: Set(now),
            updated_at: Set(now),
            finished_at: Set(None),
        }
        .insert(&txn)
        .await
        .map_err(|e| db_err(e, "queueing an import job"))?;
        // A retried upload with the same Idempotency-Key queues no second job.
        crate::idempotency::commit(&txn).await?;
        txn.commit().await.map_err(|e| db_err(e, "committing an import job"))
    }

    async fn import_job(&self, tenant: Uuid, id: Uuid) -> anyhow::Result<Option<ImportJob>> {
        viewed(import_jobs::Entity::find_by_id(id).filter(import_jobs::Column::TenantId.eq(tenant)))
            .one(&self.db)
            .await
            .map_err(|e| db_err(e, "loading an import job"))?
            .map(job)
            .transpose()
    }

    async fn cancel_import_job(
        &self,
        tenant: Uuid,
        id: Uuid,
        audit: impl FnOnce(&ImportJob) -> Option<AuditEvent> + Send,
        now: DateTime<Utc>,
    ) -> anyhow::Result<Option<ImportJob>> {
        let stamp = crate::stamp(now);
        let (txn, _writing) = self.begin_write().await?;
        // Waits for a chunk moving the job on (PostgreSQL's row lock, or
        // SQLite's write lock); one that comes after finds it cancelled.
        let cancelled = import_jobs::Entity::update_many()
            .col_expr(import_jobs::Column::State, Expr::value(JobState::Cancelled.as_str()))
            .col_expr(import_jobs::Column::SealedFile, Expr::value(""))
            .col_expr(import_jobs::Column::UpdatedAt, Expr::value(stamp))
            .col_expr(import_jobs::Column::FinishedAt, Expr::value(stamp))
            .filter(import_jobs::Column::Id.eq(id))
            .filter(import_jobs::Column::TenantId.eq(tenant))
            .filter(import_jobs::Column::State.is_in([JobState::Queued.as_str(), JobState::Running.as_str()]))
            // Once every row is written (an all-or-nothing job's one
            // commit, a per-row job's last chunk) the job is only ending.
            .filter(Expr::col(import_jobs::Column::RowsNext).lt(Expr::col(import_jobs::Column::RowsTotal)))
            .exec(&txn)
            .await
            .map_err(|e| db_err(e, "cancelling an import job"))?;
        let found = viewed(import_jobs::Entity::find_by_id(id).filter(import_jobs::Column::TenantId.eq(tenant)))
            .one(&txn)
            .await
            .map_err(|e| db_err(e, "loading an import job"))?
            .map(job)
            .transpose()?;
        if let Some(event) = found.as_ref().filter(|_| cancelled.rows_affected == 1).and_then(audit) {
            record(&txn, &event, None).await?;
        }
        txn.commit().await.map_err(|e| db_err(e, "committing a cancelled import job"))?;
        Ok(found)
    }

    async fn claim_import_job(
        &self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        lease: Uuid,
    ) -> anyhow::Result<Option<ClaimedImportJob>> {
        let now = crate::stamp(now);
        let runnable = || {
            Condition::any().add(import_jobs::Column::State.eq(JobState::Queued.as_str())).add(
                Condition::all()
                    .add(import_jobs::Column::State.eq(JobState::Running.as_str()))
                    .add(import_jobs::Column::LeaseUntil.lte(now)),
            )
        };
        // An idle worker reads; it takes the write lock only for a job.
        let any = import_jobs::Entity::find()
            .select_only()
            .column(import_jobs::Column::Id)
            .filter(runnable())
            .into_tuple::<Uuid>()
            .one(&self.db)
            .await
            .map_err(|e| db_err(e, "looking for import jobs"))?;
        if any.is_none() {
            return Ok(None);
        }
        let (txn, _writing) = self.begin_write().await?;
        let found = loop {
            let Some(found) = import_jobs::Entity::find()
                .filter(runnable())
                .order_by(import_jobs::Column::CreatedAt, Order::Asc)
                .order_by(import_jobs::Column::Id, Order::Asc)
                .limit(1)
                .lock_with_behavior(LockType::Update, LockBehavior::SkipLocked)
                .one(&txn)
                .await
                .map_err(|e| db_err(e, "finding an import job"))?
            else {
                txn.commit().await.map_err(|e| db_err(e, "committing the jobs given up on"))?;
                return Ok(None);
            };
            if found.attempts < JOB_MAX_ATTEMPTS {
                break found;
            }
            tracing::warn!(job = %found.id, attempts = found.attempts, "giving up on an import job");
            ending(found.id, JobState::Failed, Some(gave_up_error()), now)
                .exec(&txn)
                .await
                .map_err(|e| db_err(e, "giving up on an import job"))?;
        };
        import_jobs::Entity::update_many()
            .col_expr(import_jobs::Column::State, Expr::value(JobState::Running.as_str()))
            .col_expr(import_jobs::Column::LeaseToken, Expr::value(lease))
            .col_expr(import_jobs::Column::LeaseUntil, Expr::value(crate::stamp(lease_until)))
            .col_expr(import_jobs::Column::UpdatedAt, Expr::value(now))
            .col_expr(import_jobs::Column::Attempts, Expr::col(import_jobs::Column::Attempts).add(1))
            // This run checks again from where the last one committed.
            .col_expr(import_jobs::Column::RowsChecked, Expr::col(import_jobs::Column::RowsNext))
            .filter(import_jobs::Column::Id.eq(found.id))
            .exec(&txn)
            .await
            .map_err(|e| db_err(e, "leasing an import job"))?;
        txn.commit().await.map_err(|e| db_err(e, "committing an import job lease"))?;
        Ok(Some(ClaimedImportJob {
            rows_next: count(found.rows_next),
            job: NewImportJob {
                id: found.id,
                tenant_id: found.tenant_id,
                home_tenant_id: found.home_tenant_id,
                created_by: found.created_by,
                client_id: found.client_id,
                permissions: PermissionSet::from_codes(&found.permissions),
                content_type: found.content_type,
                sealed_file: found.sealed_file,
                mode: mode(&found.mode)?,
                dry_run: found.dry_run,
                rows_total: count(found.rows_total),
            },
        }))
    }

    async fn report_import_job(
        &self,
        id: Uuid,
        lease: Uuid,
        report: JobReport,
        now: DateTime<Utc>,
    ) -> anyhow::Result<bool> {
        let (txn, _writing) = self.begin_write().await?;
        // Locked as it is read (on PostgreSQL; SQLite has one writer), so
        // that no other report or cancel lands between the read and the
        // write. A job cancelled after its chunk committed still takes that
        // chunk's errors (its lease stays on it); only a running job's
        // lease runs on, and only it goes on.
        let Some((state, stored_errors)) = import_jobs::Entity::find_by_id(id)
            .select_only()
            .columns([import_jobs::Column::State, import_jobs::Column::Errors])
            .filter(import_jobs::Column::LeaseToken.eq(lease))
            .filter(import_jobs::Column::State.is_in([JobState::Running.as_str(), JobState::Cancelled.as_str()]))
            .lock_exclusive()
            .into_tuple::<(String, String)>()
            .one(&txn)
            .await
            .map_err(|e| db_err(e, "loading an import job"))?
        else {
            return Ok(false);
        };
        let running = state == JobState::Running.as_str();
        let mut update =
            import_jobs::Entity::update_many().col_expr(import_jobs::Column::UpdatedAt, Expr::value(crate::stamp(now)));
        if !report.errors.is_empty() {
            let mut errors: Vec<Value> = serde_json::from_str(&stored_errors).context("an import job's errors")?;
            errors.extend(report.errors);
            update = update.col_expr(import_jobs::Column::Errors, Expr::value(Value::Array(errors).to_string()));
        }
        if let Some(lease_until) = report.lease_until.filter(|_| running) {
            update = update.col_expr(import_jobs::Column::LeaseUntil, Expr::value(crate::stamp(lease_until)));
        }
        if let Some(moved) = report.moved {
            update = update
                .col_expr(import_jobs::Column::RowsNext, Expr::value(stored(moved.rows_next)))
                .col_expr(
                    import_jobs::Column::RowsCreated,
                    Expr::col(import_jobs::Column::RowsCreated).add(stored(moved.created)),
                )
                .col_expr(
                    import_jobs::Column::RowsFailed,
                    Expr::col(import_jobs::Column::RowsFailed).add(stored(moved.failed)),
                );
        }
        update
            .filter(import_jobs::Column::Id.eq(id))
            .exec(&txn)
            .await
            .map_err(|e| db_err(e, "reporting on an import job"))?;
        txn.commit().await.map_err(|e| db_err(e, "committing an import job report"))?;
        Ok(running)
    }

    async fn note_import_job(
        &self,
        id: Uuid,
        lease: Uuid,
        rows_checked: u32,
        now: DateTime<Utc>,
    ) -> anyhow::Result<bool> {
        let Some(_turn) = self.try_write_turn() else { return Ok(false) };
        let noted = import_jobs::Entity::update_many()
            .col_expr(import_jobs::Column::RowsChecked, Expr::value(stored(rows_checked)))
            .col_expr(import_jobs::Column::UpdatedAt, Expr::value(crate::stamp(now)))
            .filter(import_jobs::Column::Id.eq(id))
            .filter(import_jobs::Column::LeaseToken.eq(lease))
            .filter(import_jobs::Column::State.eq(JobState::Running.as_str()))
            .exec(&self.db)
            .await
            .map_err(|e| db_err(e, "noting an import job's progress"))?;
        Ok(noted.rows_affected == 1)
    }

    async fn finish_import_job(
        &self,
        id: Uuid,
        lease: Uuid,
        state: JobState,
        error: Option<String>,
        audit: Option<&AuditEvent>,
        now: DateTime<Utc>,
    ) -> anyhow::Result<bool> {
        let (txn, _writing) = self.begin_write().await?;
        let done = ending(id, state, error, now)
            .filter(import_jobs::Column::LeaseToken.eq(lease))
            .filter(import_jobs::Column::State.eq(JobState::Running.as_str()))
            .exec(&txn)
            .await
            .map_err(|e| db_err(e, "ending an import job"))?;
        if done.rows_affected != 1 {
            return Ok(false);
        }
        if let Some(audit) = audit {
            record(&txn, audit, None).await?;
        }
        txn.commit().await.map_err(|e| db_err(e, "committing the end of an import job"))?;
        Ok(true)
    }
}
