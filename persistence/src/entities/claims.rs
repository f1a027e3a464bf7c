use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "claims")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// `device` or `phone_number`.
    pub kind: String,
    /// The MAC address or the E.164 number, as stored on the object.
    pub key: String,
    pub object_id: Uuid,
    pub holder_tenant_id: Uuid,
    pub claimant_tenant_id: Uuid,
    pub claimed_by: Option<Uuid>,
    pub claimed_at: ChronoDateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
