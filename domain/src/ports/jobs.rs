//! Import jobs (see `crate::job`).

use chrono::{DateTime, Utc};
use serde_json::Value;
use uuid::Uuid;

use crate::{
    audit::AuditEvent,
    job::{ClaimedImportJob, ImportJob, JobState, NewImportJob},
};

/// What a worker adds to a job after a chunk: the chunk's row errors and,
/// for a chunk that wrote nothing (so its transaction did not), its counts.
#[derive(Debug, Clone, Default)]
pub struct JobReport {
    pub errors: Vec<Value>,
    /// Set when the chunk's own transaction did not move the job on.
    pub moved: Option<JobCounts>,
    /// How far the lease now runs.
    pub lease_until: Option<DateTime<Utc>>,
}

/// What a chunk adds to a job's counts.
#[derive(Debug, Clone, Copy, Default)]
pub struct JobCounts {
    pub rows_next: u32,
    pub created: u32,
    pub failed: u32,
    pub emails: u32,
}

pub trait JobStore {
    /// # Errors
    /// When storage fails.
    fn create_import_job(
        &self,
        job: NewImportJob,
        now: DateTime<Utc>,
    ) -> impl Future<Output = anyhow::Result<()>> + Send;

    /// # Errors
    /// When storage fails.
    fn import_job(&self, tenant: Uuid, id: Uuid) -> impl Future<Output = anyhow::Result<Option<ImportJob>>> + Send;

    /// Cancels a job that has not finished, recording the event `audit`
    /// makes of it as it stopped (its counts final: a chunk still running
    /// can no longer move it on); answers the job as it is after.
    ///
    /// # Errors
    /// When storage fails.
    fn cancel_import_job(
        &self,
        tenant: Uuid,
        id: Uuid,
        audit: impl FnOnce(&ImportJob) -> Option<AuditEvent> + Send,
        now: DateTime<Utc>,
    ) -> impl Future<Output = anyhow::Result<Option<ImportJob>>> + Send;

    /// Leases the oldest job queued, or running under a lease that ran out
    /// (its worker died), until `lease_until` under `lease`. Replicas never
    /// lease the same job at once.
    ///
    /// # Errors
    /// When storage fails.
    fn claim_import_job(
        &self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        lease: Uuid,
    ) -> impl Future<Output = anyhow::Result<Option<ClaimedImportJob>>> + Send;

    /// Adds a chunk's report to a job run under `lease`: one still running,
    /// or cancelled after the chunk committed (it takes the chunk's errors,
    /// not the lease's renewal). False unless the job still runs (cancelled,
    /// or its lease taken over): the worker stops.
    ///
    /// # Errors
    /// When storage fails.
    fn report_import_job(
        &self,
        id: Uuid,
        lease: Uuid,
        report: JobReport,
        now: DateTime<Utc>,
    ) -> impl Future<Output = anyhow::Result<bool>> + Send;

    /// Notes that a job still running under `lease` has checked
    /// `rows_checked` rows; false when the note was not written. On SQLite
    /// it is skipped rather than queued behind this process's other
    /// writers (an `all_or_nothing` job writing its rows holds the write
    /// lock throughout); it still waits for a row lock on PostgreSQL, or
    /// another process's write lock on SQLite.
    ///
    /// # Errors
    /// When storage fails.
    fn note_import_job(
        &self,
        id: Uuid,
        lease: Uuid,
        rows_checked: u32,
        now: DateTime<Utc>,
    ) -> impl Future<Output = anyhow::Result<bool>> + Send;

    /// Ends a job running under `lease` in `state`, with `error` for a
    /// failure of the whole job, recording `audit` with it.
    ///
    /// # Errors
    /// When storage fails.
    fn finish_import_job(
        &self,
        id: Uuid,
        lease: Uuid,
        state: JobState,
        error: Option<String>,
        audit: Option<&AuditEvent>,
        now: DateTime<Utc>,
    ) -> impl Future<Output = anyhow::Result<bool>> + Send;
}
