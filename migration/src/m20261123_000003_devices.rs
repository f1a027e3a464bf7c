//! Desk phones and who holds one (PRODUCT.md rule 3). The MAC address is
//! unique on the platform; `device_assignments` has the user as primary
//! key (a user holds at most one device) and a UNIQUE device (a device
//! serves at most one user), so no interleaving of writers can break the
//! rule.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Devices {
    Table,
    Id,
    TenantId,
    Mac,
    Vendor,
    Model,
    Ports,
    Label,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum DeviceAssignments {
    Table,
    UserId,
    DeviceId,
    TenantId,
    Ports,
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
                    .table(Devices::Table)
                    .col(pk_uuid(Devices::Id))
                    .col(uuid(Devices::TenantId))
                    .col(string_len_uniq(Devices::Mac, 17))
                    .col(string_len(Devices::Vendor, 64))
                    .col(string_len(Devices::Model, 64))
                    .col(integer(Devices::Ports).check(Expr::col(Devices::Ports).between(1, 16)))
                    .col(string_len_null(Devices::Label, 64))
                    .col(timestamp_with_time_zone(Devices::CreatedAt))
                    .col(timestamp_with_time_zone(Devices::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Devices::Table, Devices::TenantId)
                            .to(Tenants::Table, Tenants::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create().name("idx_devices_tenant").table(Devices::Table).col(Devices::TenantId).to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(DeviceAssignments::Table)
                    .col(pk_uuid(DeviceAssignments::UserId))
                    .col(uuid_uniq(DeviceAssignments::DeviceId))
                    .col(uuid(DeviceAssignments::TenantId))
                    .col(integer(DeviceAssignments::Ports))
                    .col(timestamp_with_time_zone(DeviceAssignments::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(DeviceAssignments::Table, DeviceAssignments::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(DeviceAssignments::Table, DeviceAssignments::DeviceId)
                            .to(Devices::Table, Devices::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(DeviceAssignments::Table).to_owned()).await?;
        manager.drop_table(Table::drop().table(Devices::Table).to_owned()).await
    }
}
