//! The import-job worker (issue 13): leases a job, reads its file with the
//! same code as `POST /v1/users/import`, and runs it: an `all_or_nothing`
//! (or dry-run) job in one transaction, a `per_row` job a chunk at a time,
//! each chunk moving the job on in its own transaction so that a job taken
//! over after a crash resumes after the last chunk committed.

use std::sync::atomic::{AtomicU32, Ordering};

use chrono::{Duration, Utc};
use uuid::Uuid;
use voxport_domain::{
    Voxport,
    actor::Actor,
    job::{ClaimedImportJob, JobCheckpoint, JobState},
    ports::{JobCounts, JobReport, Store},
    services::{ImportMode, ImportOptions, ImportProgress, ImportRow, Repeats},
};

use crate::routes::users::{JOB_MAX_ROWS, read_csv, read_json, report};

/// Rows per transaction of a `per_row` job.
pub const CHUNK_ROWS: usize = 100;
/// How long a worker holds a job without reporting before another may take it over.
const LEASE_SECONDS: i64 = 300;
/// A running job's lease is renewed every this many seconds.
const RENEW_EVERY_BEATS: u32 = 60;

/// Runs every job waiting, one after the other; answers how many ran.
///
/// # Errors
/// When storage fails (the job's lease runs out and a worker takes it up again).
pub async fn run_import_jobs<S: Store>(app: &Voxport<S>) -> anyhow::Result<u32> {
    let mut ran = 0;
    loop {
        let now = Utc::now();
        let lease = Uuid::new_v4();
        let Some((claimed, file, actor)) = app.claim_import_job(now, now + lease_span(), lease).await? else {
            return Ok(ran);
        };
        ran += 1;
        let actor = match actor {
            Ok(actor) => actor,
            Err(why) => {
                app.finish_import_job(None, &claimed.job, lease, JobState::Failed, Some(why), Utc::now()).await?;
                continue;
            }
        };
        // While the job runs, how many rows it has checked is noted every
        // second, and its lease renewed every minute, so that no other
        // replica takes over a long chunk (on SQLite the renewal waits for
        // the chunk's transaction, and so does any other replica's claim).
        let checked = AtomicU32::new(claimed.rows_next);
        let heartbeat = async {
            let (mut noted, mut beats) = (claimed.rows_next, 0_u32);
            loop {
                tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                beats += 1;
                let seen = checked.load(Ordering::Relaxed);
                if seen > noted {
                    match app.note_import_job(claimed.job.id, lease, seen).await {
                        Ok(true) => noted = seen,
                        Ok(false) => {}
                        Err(e) => {
                            tracing::warn!(error = ?e, job = %claimed.job.id, "noting an import job's progress failed")
                        }
                    }
                }
                if beats % RENEW_EVERY_BEATS != 0 {
                    continue;
                }
                match app.renew_import_job(claimed.job.id, lease, Utc::now() + lease_span()).await {
                    Ok(true) => {}
                    Ok(false) => break,
                    Err(e) => {
                        tracing::warn!(error = ?e, job = %claimed.job.id, "renewing an import job's lease failed")
                    }
                }
            }
            std::future::pending::<()>().await;
        };
        tokio::select! {
            done = run(app, &claimed, &file, &actor, lease, &checked) => done?,
            () = heartbeat => {}
        }
    }
}

fn lease_span() -> Duration {
    Duration::seconds(LEASE_SECONDS)
}

fn errors_of(errors: Vec<crate::problem::RowError>) -> Vec<serde_json::Value> {
    errors.into_iter().filter_map(|e| serde_json::to_value(e).ok()).collect()
}

fn counted(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

async fn run<S: Store>(
    app: &Voxport<S>,
    claimed: &ClaimedImportJob,
    file: &[u8],
    actor: &Actor,
    lease: Uuid,
    checked: &AtomicU32,
) -> anyhow::Result<()> {
    let job = &claimed.job;
    let read = if job.content_type == "text/csv" {
        let refs = app.import_references(actor).await?;
        read_csv(file, &refs, JOB_MAX_ROWS)
    } else {
        read_json(file, JOB_MAX_ROWS)
    };
    let mut rows: Vec<ImportRow> = match read {
        Ok(rows) => rows,
        Err(e) => {
            app.finish_import_job(Some(actor), job, lease, JobState::Failed, Some(e.to_string()), Utc::now()).await?;
            return Ok(());
        }
    };
    let total = rows.len();
    if !job.dry_run && usize::try_from(claimed.rows_next).unwrap_or(0) >= total && total > 0 {
        // Its work committed; the worker died before saying so.
        app.finish_import_job(Some(actor), job, lease, JobState::Succeeded, None, Utc::now()).await?;
        return Ok(());
    }
    if job.mode == ImportMode::AllOrNothing || job.dry_run {
        let checkpoint = (!job.dry_run).then(|| JobCheckpoint {
            job: job.id,
            lease,
            rows_next: counted(total),
            lease_until: Utc::now() + lease_span(),
        });
        let progress = |p: ImportProgress| {
            checked.fetch_max(p.checked, Ordering::Relaxed);
        };
        let options = ImportOptions { checkpoint, progress: &progress, ..ImportOptions::new(job.mode, job.dry_run) };
        let outcome = app.import_users(actor, rows, options, Utc::now()).await?;
        if outcome.interrupted {
            return Ok(());
        }
        let (committed, created, failed) = (outcome.committed, outcome.created.len(), outcome.failures.len());
        let view = report(outcome, job.dry_run, job.mode.into());
        let moved = (!committed).then(|| JobCounts {
            rows_next: counted(total),
            created: if job.dry_run { counted(created) } else { 0 },
            failed: counted(failed),
            emails: 0,
        });
        let report = JobReport { errors: errors_of(view.errors), moved, lease_until: None };
        if !app.report_import_job(job.id, lease, report, Utc::now()).await? {
            return Ok(());
        }
        let (state, error) = if committed || job.dry_run || failed == 0 {
            (JobState::Succeeded, None)
        } else {
            (JobState::Failed, Some("rows were refused, so nothing was written (see errors)".to_owned()))
        };
        app.finish_import_job(Some(actor), job, lease, state, error, Utc::now()).await?;
        return Ok(());
    }
    // A row repeating one of an earlier chunk (or of rows run before a
    // restart) is a repeat as in one transaction.
    let repeats = Repeats::of(&rows);
    let mut next = usize::try_from(claimed.rows_next).unwrap_or(usize::MAX).min(total);
    rows.drain(..next);
    while !rows.is_empty() {
        let chunk: Vec<ImportRow> = rows.drain(..CHUNK_ROWS.min(rows.len())).collect();
        let end = next + chunk.len();
        let checkpoint =
            JobCheckpoint { job: job.id, lease, rows_next: counted(end), lease_until: Utc::now() + lease_span() };
        let start = counted(next);
        let progress = |p: ImportProgress| {
            checked.fetch_max(start.saturating_add(p.checked), Ordering::Relaxed);
        };
        let options = ImportOptions {
            checkpoint: Some(checkpoint),
            progress: &progress,
            repeats: Some(&repeats),
            ..ImportOptions::new(ImportMode::PerRow, false)
        };
        let outcome = app.import_users(actor, chunk, options, Utc::now()).await?;
        if outcome.interrupted {
            return Ok(());
        }
        let (committed, failed) = (outcome.committed, outcome.failures.len());
        let view = report(outcome, false, job.mode.into());
        let moved =
            (!committed).then(|| JobCounts { rows_next: counted(end), created: 0, failed: counted(failed), emails: 0 });
        let report = JobReport { errors: errors_of(view.errors), moved, lease_until: Some(Utc::now() + lease_span()) };
        if !app.report_import_job(job.id, lease, report, Utc::now()).await? {
            return Ok(());
        }
        next = end;
    }
    app.finish_import_job(Some(actor), job, lease, JobState::Succeeded, None, Utc::now()).await?;
    Ok(())
}
