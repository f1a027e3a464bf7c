//! Import jobs (issue 13): an import too large for one request runs in the
//! background. Its state lives in the database: it survives a restart of
//! the API, one replica at a time runs it (a lease it renews), and a
//! `per_row` job resumes after the last chunk it committed, because each
//! chunk moves the job on in the chunk's own transaction.

use chrono::{DateTime, Utc};
use serde_json::Value;
use uuid::Uuid;

use crate::{permission::PermissionSet, services::ImportMode};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobState {
    Queued,
    Running,
    Succeeded,
    /// The file could not be read, or an all-or-nothing import was refused.
    Failed,
    Cancelled,
}

impl JobState {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Running => "running",
            Self::Succeeded => "succeeded",
            Self::Failed => "failed",
            Self::Cancelled => "cancelled",
        }
    }

    #[must_use]
    pub fn parse(raw: &str) -> Option<Self> {
        [Self::Queued, Self::Running, Self::Succeeded, Self::Failed, Self::Cancelled]
            .into_iter()
            .find(|s| s.as_str() == raw)
    }

    #[must_use]
    pub fn finished(self) -> bool {
        matches!(self, Self::Succeeded | Self::Failed | Self::Cancelled)
    }
}

/// A job as its submitter sees it.
#[derive(Debug, Clone)]
pub struct ImportJob {
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub state: JobState,
    pub mode: ImportMode,
    pub dry_run: bool,
    pub rows_total: u32,
    /// Rows dealt with so far (created or refused).
    pub rows_done: u32,
    /// Rows checked so far, at least `rows_done`.
    pub rows_checked: u32,
    pub rows_created: u32,
    pub rows_failed: u32,
    pub emails_queued: u32,
    /// The row errors, as the API shows them (`{row, column, code, message}`).
    pub errors: Vec<Value>,
    /// Why a failed job failed as a whole.
    pub error: Option<String>,
    pub created_by: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
}

/// A job to queue: the file sealed (it may hold passwords), and who asked
/// with what permissions then (the job runs with those).
#[derive(Debug, Clone)]
pub struct NewImportJob {
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub home_tenant_id: Uuid,
    pub created_by: Option<Uuid>,
    pub client_id: Option<Uuid>,
    pub permissions: PermissionSet,
    pub content_type: String,
    pub sealed_file: String,
    pub mode: ImportMode,
    pub dry_run: bool,
    pub rows_total: u32,
}

/// How many times in a row a job is taken up without moving on before it
/// is given up on: a run that fails (storage refusing a row, a worker
/// dying in it) leaves the job to be taken up again when its lease runs
/// out, but not forever. A chunk that commits starts the count again.
pub const JOB_MAX_ATTEMPTS: i32 = 3;

/// What a job given up on says.
#[must_use]
pub fn gave_up_error() -> String {
    format!("the job was taken up {JOB_MAX_ATTEMPTS} times without moving on, so it was given up")
}

/// A job leased by a worker, with what running it needs.
#[derive(Debug, Clone)]
pub struct ClaimedImportJob {
    pub job: NewImportJob,
    /// The first row (0-based, of the file's rows) not yet dealt with.
    pub rows_next: u32,
}

/// Where a chunk's transaction moves its job to, when it commits.
#[derive(Debug, Clone, Copy)]
pub struct JobCheckpoint {
    pub job: Uuid,
    pub lease: Uuid,
    /// The first row after the chunk.
    pub rows_next: u32,
    pub lease_until: DateTime<Utc>,
}

/// The context the file of job `id` is sealed under.
#[must_use]
pub fn file_context(id: Uuid) -> String {
    format!("import-job:{id}")
}
