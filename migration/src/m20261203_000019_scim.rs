//! SCIM 2.0 (issue 14): the tokens identity providers authenticate with,
//! what a directory knows of a user beyond the portal's fields (its own
//! id for them, indexed; the rest as JSON: a display name, the addresses
//! and contact numbers as sent), and the `scim` permission for every
//! built-in Administrator role; deprovisioning: each tenant's settings
//! (how long a deactivated user's extension, number and desk phone stay
//! theirs, whether their licence goes at once, how long a deleted user's
//! number rests before it is given out again), when a user was
//! deactivated and the licence they gave back, and when a resting number
//! is free again.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Tenants {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum ScimTokens {
    Table,
    Id,
    TenantId,
    Name,
    Permissions,
    Hint,
    Digest,
    CreatedBy,
    CreatedAt,
    LastUsedAt,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    TenantId,
    ExternalId,
    Directory,
    DeprovisionedAt,
    HeldStationId,
}

#[derive(DeriveIden)]
enum ScimSettings {
    Table,
    TenantId,
    HoldDays,
    ReleaseStation,
    NumberCooldownDays,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum PhoneNumbers {
    Table,
    AvailableAt,
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
                    .table(ScimTokens::Table)
                    .col(uuid(ScimTokens::Id).primary_key())
                    .col(uuid(ScimTokens::TenantId))
                    .col(string_len(ScimTokens::Name, 64))
                    .col(text(ScimTokens::Permissions))
                    .col(string_len(ScimTokens::Hint, 32))
                    .col(string_len(ScimTokens::Digest, 64).unique_key())
                    .col(uuid_null(ScimTokens::CreatedBy))
                    .col(timestamp_with_time_zone(ScimTokens::CreatedAt))
                    .col(timestamp_with_time_zone_null(ScimTokens::LastUsedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(ScimTokens::Table, ScimTokens::TenantId)
                            .to(Tenants::Table, Tenants::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_scim_tokens_tenant")
                    .table(ScimTokens::Table)
                    .col(ScimTokens::TenantId)
                    .col(ScimTokens::CreatedAt)
                    .to_owned(),
            )
            .await?;
        // SQLite alters one column per statement.
        for column in [
            text_null(Users::ExternalId).to_owned(),
            text_null(Users::Directory).to_owned(),
            timestamp_with_time_zone_null(Users::DeprovisionedAt).to_owned(),
            uuid_null(Users::HeldStationId).to_owned(),
        ] {
            manager.alter_table(Table::alter().table(Users::Table).add_column(column).to_owned()).await?;
        }
        manager
            .create_index(
                Index::create()
                    .name("idx_users_tenant_external_id")
                    .table(Users::Table)
                    .col(Users::TenantId)
                    .col(Users::ExternalId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_users_deprovisioned")
                    .table(Users::Table)
                    .col(Users::DeprovisionedAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ScimSettings::Table)
                    .col(uuid(ScimSettings::TenantId).primary_key())
                    .col(integer(ScimSettings::HoldDays))
                    .col(boolean(ScimSettings::ReleaseStation))
                    .col(integer(ScimSettings::NumberCooldownDays))
                    .col(timestamp_with_time_zone(ScimSettings::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(ScimSettings::Table, ScimSettings::TenantId)
                            .to(Tenants::Table, Tenants::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(PhoneNumbers::Table)
                    .add_column(timestamp_with_time_zone_null(PhoneNumbers::AvailableAt))
                    .to_owned(),
            )
            .await?;
        manager
            .get_connection()
            .execute_unprepared("UPDATE roles SET permissions = permissions || ' scim' WHERE builtin = 'administrator'")
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(Table::alter().table(PhoneNumbers::Table).drop_column(PhoneNumbers::AvailableAt).to_owned())
            .await?;
        manager.drop_table(Table::drop().table(ScimSettings::Table).to_owned()).await?;
        manager.drop_index(Index::drop().name("idx_users_deprovisioned").table(Users::Table).to_owned()).await?;
        manager.drop_index(Index::drop().name("idx_users_tenant_external_id").table(Users::Table).to_owned()).await?;
        for column in [Users::HeldStationId, Users::DeprovisionedAt, Users::Directory, Users::ExternalId] {
            manager.alter_table(Table::alter().table(Users::Table).drop_column(column).to_owned()).await?;
        }
        manager.drop_table(Table::drop().table(ScimTokens::Table).to_owned()).await
    }
}
