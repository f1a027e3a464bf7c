//! Desk-phone provisioning credentials (issue 10): one HTTP Basic username
//! and password digest per device, unique on the platform, with the last
//! fetch. They go with the device (cascade) and are dropped when a claim
//! moves the device to another tenant.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Devices {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum DeviceProvisioning {
    Table,
    DeviceId,
    Username,
    SecretHash,
    IssuedAt,
    LastFetchAt,
    LastFetchIp,
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
                    .table(DeviceProvisioning::Table)
                    .col(uuid(DeviceProvisioning::DeviceId).primary_key())
                    .col(string_len(DeviceProvisioning::Username, 32))
                    .col(string_len(DeviceProvisioning::SecretHash, 64))
                    .col(timestamp_with_time_zone(DeviceProvisioning::IssuedAt))
                    .col(timestamp_with_time_zone_null(DeviceProvisioning::LastFetchAt))
                    .col(string_len_null(DeviceProvisioning::LastFetchIp, 64))
                    .foreign_key(
                        ForeignKey::create()
                            .from(DeviceProvisioning::Table, DeviceProvisioning::DeviceId)
                            .to(Devices::Table, Devices::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_device_provisioning_username")
                    .table(DeviceProvisioning::Table)
                    .col(DeviceProvisioning::Username)
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(DeviceProvisioning::Table).to_owned()).await
    }
}
