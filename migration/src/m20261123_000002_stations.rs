//! Station licence pools and who holds a licence.
//!
//! - `stations.in_use` counts the licences given out; the CHECK keeps it
//!   within `0..=quantity` whatever a buggy writer does, and writers take a
//!   licence with `UPDATE … SET in_use = in_use + 1 WHERE in_use < quantity`
//!   (PRODUCT.md rule 2).
//! - `station_assignments` has the user as primary key: one licence per
//!   user. Deleting a user releases the licence in the same transaction
//!   (the store decrements `in_use` before the row cascades away).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Stations {
    Table,
    Id,
    TenantId,
    Name,
    Code,
    Applications,
    Quantity,
    InUse,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum StationAssignments {
    Table,
    UserId,
    StationId,
    TenantId,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Tenants {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
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
                    .table(Stations::Table)
                    .col(pk_uuid(Stations::Id))
                    .col(uuid(Stations::TenantId))
                    .col(string_len(Stations::Name, 64))
                    .col(string_len(Stations::Code, 32))
                    .col(string_len(Stations::Applications, 255))
                    .col(integer(Stations::Quantity))
                    .col(integer(Stations::InUse).default(0))
                    .col(timestamp_with_time_zone(Stations::CreatedAt))
                    .col(timestamp_with_time_zone(Stations::UpdatedAt))
                    .check((
                        "ck_stations_in_use",
                        Expr::col(Stations::InUse)
                            .gte(0)
                            .and(Expr::col(Stations::InUse).lte(Expr::col(Stations::Quantity))),
                    ))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Stations::Table, Stations::TenantId)
                            .to(Tenants::Table, Tenants::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_stations_tenant_code")
                    .table(Stations::Table)
                    .col(Stations::TenantId)
                    .col(Stations::Code)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(StationAssignments::Table)
                    .col(pk_uuid(StationAssignments::UserId))
                    .col(uuid(StationAssignments::StationId))
                    .col(uuid(StationAssignments::TenantId))
                    .col(timestamp_with_time_zone(StationAssignments::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(StationAssignments::Table, StationAssignments::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(StationAssignments::Table, StationAssignments::StationId)
                            .to(Stations::Table, Stations::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_station_assignments_station")
                    .table(StationAssignments::Table)
                    .col(StationAssignments::StationId)
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(StationAssignments::Table).to_owned()).await?;
        manager.drop_table(Table::drop().table(Stations::Table).to_owned()).await
    }
}
