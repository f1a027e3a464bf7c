//! Import jobs.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;
use uuid::Uuid;
use voxport_domain::{job::ImportJob, paging::PageRequest};

use crate::problem::RowError;

/// A background import (`POST /v1/users/import` of more than 1,000 rows).
#[derive(Debug, Serialize, ToSchema)]
pub struct ImportJobView {
    pub id: Uuid,
    #[schema(example = "users.import")]
    pub kind: &'static str,
    /// `queued`, `running`, `succeeded`, `failed` (the file could not be
    /// read, or an all-or-nothing import was refused: nothing was written)
    /// or `cancelled`.
    #[schema(example = "running")]
    pub state: &'static str,
    #[schema(example = "per_row")]
    pub mode: &'static str,
    pub dry_run: bool,
    pub rows_total: u32,
    /// Rows dealt with so far, created or refused. An `all_or_nothing`
    /// job writes every row in one transaction: its `rows_done` stays 0
    /// until that commits.
    pub rows_done: u32,
    /// Rows checked so far against the rules (their passwords hashed),
    /// ahead of being written; at least `rows_done`. It moves while an
    /// `all_or_nothing` job checks its rows; on SQLite it stands still
    /// while another transaction writes.
    pub rows_checked: u32,
    pub rows_created: u32,
    pub rows_failed: u32,
    pub emails_queued: u32,
    /// One page of the row errors (`errors_page`, `errors_per_page`).
    #[schema(value_type = Vec<RowError>)]
    pub errors: Vec<Value>,
    pub errors_total: usize,
    /// Why a failed job failed as a whole.
    pub error: Option<String>,
    pub created_by: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
}

impl ImportJobView {
    #[must_use]
    pub fn new(job: &ImportJob, errors: PageRequest) -> Self {
        let from = usize::try_from(errors.offset()).unwrap_or(usize::MAX);
        let count = usize::try_from(errors.per_page()).unwrap_or(usize::MAX);
        Self {
            id: job.id,
            kind: "users.import",
            state: job.state.as_str(),
            mode: job.mode.as_str(),
            dry_run: job.dry_run,
            rows_total: job.rows_total,
            rows_done: job.rows_done,
            rows_checked: job.rows_checked,
            rows_created: job.rows_created,
            rows_failed: job.rows_failed,
            emails_queued: job.emails_queued,
            errors: job.errors.iter().skip(from).take(count).cloned().collect(),
            errors_total: job.errors.len(),
            error: job.error.clone(),
            created_by: job.created_by,
            created_at: job.created_at,
            updated_at: job.updated_at,
            finished_at: job.finished_at,
        }
    }
}
