use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "import_jobs")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub home_tenant_id: Uuid,
    pub created_by: Option<Uuid>,
    pub client_id: Option<Uuid>,
    /// Permission codes separated by spaces: the submitter's, then.
    pub permissions: String,
    pub content_type: String,
    /// The file, sealed under `job::file_context(id)`.
    pub sealed_file: String,
    pub mode: String,
    pub dry_run: bool,
    pub state: String,
    pub rows_total: i32,
    pub rows_next: i32,
    /// Rows checked so far (see `JobStore::note_import_job`).
    pub rows_checked: i32,
    pub rows_created: i32,
    pub rows_failed: i32,
    pub emails_queued: i32,
    /// A JSON array of row errors.
    pub errors: String,
    pub error: Option<String>,
    pub lease_token: Option<Uuid>,
    pub lease_until: Option<ChronoDateTimeUtc>,
    /// How many times a worker has taken the job up.
    pub attempts: i32,
    pub created_at: ChronoDateTimeUtc,
    pub updated_at: ChronoDateTimeUtc,
    pub finished_at: Option<ChronoDateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
