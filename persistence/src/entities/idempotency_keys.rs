use sea_orm::entity::prelude::*;

#[derive(Clone, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "idempotency_keys")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub scope: Uuid,
    pub key: String,
    pub fingerprint: String,
    pub claim: Uuid,
    pub locked_until: ChronoDateTimeUtc,
    /// The sealed answer, once the request is done.
    pub response: Option<String>,
    pub created_at: ChronoDateTimeUtc,
    /// Whether the request's work committed.
    pub committed: bool,
}

/// Hand-written so the sealed answer never reaches a log line.
impl std::fmt::Debug for Model {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("idempotency_keys::Model").field("id", &self.id).field("key", &self.key).finish_non_exhaustive()
    }
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
