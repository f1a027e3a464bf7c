use sea_orm::entity::prelude::*;

#[derive(Clone, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "users")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub role_id: Uuid,
    pub login: String,
    pub login_key: String,
    pub email: Option<String>,
    pub first_name: String,
    pub last_name: String,
    pub password_hash: Option<String>,
    pub disabled: bool,
    pub activation_at: Option<ChronoDateTimeUtc>,
    pub expires_at: Option<ChronoDateTimeUtc>,
    pub timezone: String,
    pub language: String,
    /// Application codes separated by spaces.
    pub applications: String,
    pub two_factor_required: bool,
    /// What `q` matches: login, email and names, lower case.
    pub search: String,
    /// The directory's id for the user (SCIM `externalId`).
    pub external_id: Option<String>,
    /// The rest of `voxport_domain::user::Directory`, as JSON.
    pub directory: Option<String>,
    pub deprovisioned_at: Option<ChronoDateTimeUtc>,
    pub held_station_id: Option<Uuid>,
    pub created_at: ChronoDateTimeUtc,
    pub updated_at: ChronoDateTimeUtc,
}

/// Hand-written so the password hash never reaches a log line.
impl std::fmt::Debug for Model {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("users::Model")
            .field("id", &self.id)
            .field("tenant_id", &self.tenant_id)
            .field("login", &self.login)
            .finish_non_exhaustive()
    }
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(belongs_to = "super::roles::Entity", from = "Column::RoleId", to = "super::roles::Column::Id")]
    Role,
}

impl Related<super::roles::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Role.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
