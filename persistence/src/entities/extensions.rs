use sea_orm::entity::prelude::*;

#[derive(Clone, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "extensions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub number: String,
    pub name: Option<String>,
    pub kind: String,
    pub force_login: bool,
    pub voicemail_enabled: bool,
    pub user_id: Option<Uuid>,
    pub sip_username: String,
    /// Sealed with the at-rest key; still never printed.
    pub sip_secret: String,
    /// The SIP domain the digest hashes are for.
    pub sip_domain: Option<String>,
    /// `md5(username:domain:secret)`: as good as the secret to a registrar.
    pub ha1: Option<String>,
    /// `md5(username@domain:domain:secret)`.
    pub ha1b: Option<String>,
    pub created_at: ChronoDateTimeUtc,
    pub updated_at: ChronoDateTimeUtc,
}

/// Hand-written so the sealed secret never reaches a log line.
impl std::fmt::Debug for Model {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("extensions::Model")
            .field("id", &self.id)
            .field("tenant_id", &self.tenant_id)
            .field("number", &self.number)
            .finish_non_exhaustive()
    }
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(belongs_to = "super::tenants::Entity", from = "Column::TenantId", to = "super::tenants::Column::Id")]
    Tenant,
}

impl Related<super::tenants::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Tenant.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
