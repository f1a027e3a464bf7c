//! Claims (issue 11, finding 6): a desk phone's MAC address and a phone
//! number are unique on the whole platform, so a tenant that registers
//! another's first keeps it from them. When a tenant tries to register one
//! that another tenant holds, the attempt is kept here, naming both, for
//! the platform operator, who can move the object to the claimant.
//!
//! One row per kind, key and claimant; granting a claim removes every
//! claim on its key. Foreign keys cascade with the tenants.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Tenants {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Claims {
    Table,
    Id,
    Kind,
    Key,
    ObjectId,
    HolderTenantId,
    ClaimantTenantId,
    ClaimedBy,
    ClaimedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Claims::Table)
                    .col(uuid(Claims::Id).primary_key())
                    .col(string_len(Claims::Kind, 16))
                    .col(string_len(Claims::Key, 32))
                    .col(uuid(Claims::ObjectId))
                    .col(uuid(Claims::HolderTenantId))
                    .col(uuid(Claims::ClaimantTenantId))
                    .col(uuid_null(Claims::ClaimedBy))
                    .col(timestamp_with_time_zone(Claims::ClaimedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Claims::Table, Claims::HolderTenantId)
                            .to(Tenants::Table, Tenants::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Claims::Table, Claims::ClaimantTenantId)
                            .to(Tenants::Table, Tenants::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_claims_kind_key_claimant")
                    .table(Claims::Table)
                    .col(Claims::Kind)
                    .col(Claims::Key)
                    .col(Claims::ClaimantTenantId)
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(Claims::Table).to_owned()).await
    }
}
