use sea_orm::entity::prelude::*;

#[derive(Clone, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "user_totp")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub user_id: Uuid,
    /// Sealed with the at-rest key; still never printed.
    pub secret: String,
    pub confirmed_at: Option<ChronoDateTimeUtc>,
    pub last_step: Option<i64>,
    pub failed_step: Option<i64>,
    pub failures: i32,
    pub created_at: ChronoDateTimeUtc,
}

/// Hand-written so the sealed secret never reaches a log line.
impl std::fmt::Debug for Model {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("user_totp::Model").field("user_id", &self.user_id).finish_non_exhaustive()
    }
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
