//! Tenants, roles, users, sessions with their refresh tokens, and the
//! token-signing key.
//!
//! - `tenants.path` is the materialised chain of ancestors
//!   (`/<root>/<reseller>/<id>/`) so "everything below me" is one prefix match.
//! - `users.login_key` is the case-folded login; its UNIQUE index makes
//!   logins unique platform-wide without regard to case (PRODUCT.md rule 1).
//! - `roles.name_key` does the same for role names inside a tenant.
//! - Refresh tokens are stored as SHA-256 hashes only.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Tenants {
    Table,
    Id,
    ParentId,
    Kind,
    Name,
    Slug,
    Path,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Roles {
    Table,
    Id,
    TenantId,
    Name,
    NameKey,
    Description,
    Permissions,
    Builtin,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
    TenantId,
    RoleId,
    Login,
    LoginKey,
    Email,
    FirstName,
    LastName,
    PasswordHash,
    Disabled,
    ActivationAt,
    ExpiresAt,
    Timezone,
    Language,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Sessions {
    Table,
    Id,
    UserId,
    TenantId,
    Client,
    CreatedAt,
    ExpiresAt,
    RevokedAt,
}

#[derive(DeriveIden)]
enum RefreshTokens {
    Table,
    Id,
    SessionId,
    TokenHash,
    CreatedAt,
    ExpiresAt,
    UsedAt,
}

#[derive(DeriveIden)]
enum SigningKeys {
    Table,
    Id,
    Kid,
    Seed,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    /// All or nothing on SQLite too (sea-orm wraps only PostgreSQL by default).
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Tenants::Table)
                    .col(pk_uuid(Tenants::Id))
                    .col(uuid_null(Tenants::ParentId))
                    .col(
                        string_len(Tenants::Kind, 16)
                            .check(Expr::col(Tenants::Kind).is_in(["platform", "reseller", "customer"])),
                    )
                    .col(string_len(Tenants::Name, 128))
                    .col(string_len_uniq(Tenants::Slug, 63))
                    .col(string_len(Tenants::Path, 1024))
                    .col(timestamp_with_time_zone(Tenants::CreatedAt))
                    .col(timestamp_with_time_zone(Tenants::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Tenants::Table, Tenants::ParentId)
                            .to(Tenants::Table, Tenants::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create().name("idx_tenants_parent").table(Tenants::Table).col(Tenants::ParentId).to_owned(),
            )
            .await?;
        manager
            .create_index(Index::create().name("idx_tenants_path").table(Tenants::Table).col(Tenants::Path).to_owned())
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Roles::Table)
                    .col(pk_uuid(Roles::Id))
                    .col(uuid(Roles::TenantId))
                    .col(string_len(Roles::Name, 64))
                    .col(string_len(Roles::NameKey, 64))
                    .col(string_len_null(Roles::Description, 500))
                    .col(text(Roles::Permissions))
                    .col(string_len_null(Roles::Builtin, 32))
                    .col(timestamp_with_time_zone(Roles::CreatedAt))
                    .col(timestamp_with_time_zone(Roles::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Roles::Table, Roles::TenantId)
                            .to(Tenants::Table, Tenants::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_roles_tenant_name")
                    .table(Roles::Table)
                    .col(Roles::TenantId)
                    .col(Roles::NameKey)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_roles_tenant_builtin")
                    .table(Roles::Table)
                    .col(Roles::TenantId)
                    .col(Roles::Builtin)
                    .unique()
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Users::Table)
                    .col(pk_uuid(Users::Id))
                    .col(uuid(Users::TenantId))
                    .col(uuid(Users::RoleId))
                    .col(string_len(Users::Login, 64))
                    .col(string_len_uniq(Users::LoginKey, 64))
                    .col(string_len_null(Users::Email, 254))
                    .col(string_len(Users::FirstName, 100))
                    .col(string_len(Users::LastName, 100))
                    .col(string_len_null(Users::PasswordHash, 255))
                    .col(boolean(Users::Disabled))
                    .col(timestamp_with_time_zone_null(Users::ActivationAt))
                    .col(timestamp_with_time_zone_null(Users::ExpiresAt))
                    .col(string_len(Users::Timezone, 64))
                    .col(string_len(Users::Language, 16))
                    .col(timestamp_with_time_zone(Users::CreatedAt))
                    .col(timestamp_with_time_zone(Users::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Users::Table, Users::TenantId)
                            .to(Tenants::Table, Tenants::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Users::Table, Users::RoleId)
                            .to(Roles::Table, Roles::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(Index::create().name("idx_users_tenant").table(Users::Table).col(Users::TenantId).to_owned())
            .await?;
        manager
            .create_index(Index::create().name("idx_users_role").table(Users::Table).col(Users::RoleId).to_owned())
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Sessions::Table)
                    .col(pk_uuid(Sessions::Id))
                    .col(uuid(Sessions::UserId))
                    .col(uuid(Sessions::TenantId))
                    .col(string_len(Sessions::Client, 16))
                    .col(timestamp_with_time_zone(Sessions::CreatedAt))
                    .col(timestamp_with_time_zone(Sessions::ExpiresAt))
                    .col(timestamp_with_time_zone_null(Sessions::RevokedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Sessions::Table, Sessions::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create().name("idx_sessions_user").table(Sessions::Table).col(Sessions::UserId).to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(RefreshTokens::Table)
                    .col(pk_uuid(RefreshTokens::Id))
                    .col(uuid(RefreshTokens::SessionId))
                    .col(string_len_uniq(RefreshTokens::TokenHash, 64))
                    .col(timestamp_with_time_zone(RefreshTokens::CreatedAt))
                    .col(timestamp_with_time_zone(RefreshTokens::ExpiresAt))
                    .col(timestamp_with_time_zone_null(RefreshTokens::UsedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(RefreshTokens::Table, RefreshTokens::SessionId)
                            .to(Sessions::Table, Sessions::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_refresh_tokens_session")
                    .table(RefreshTokens::Table)
                    .col(RefreshTokens::SessionId)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(SigningKeys::Table)
                    // One row per purpose; "primary" is the access-token key.
                    .col(string_len(SigningKeys::Id, 32).primary_key())
                    .col(string_len(SigningKeys::Kid, 64))
                    .col(string_len(SigningKeys::Seed, 128))
                    .col(timestamp_with_time_zone(SigningKeys::CreatedAt))
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            SigningKeys::Table.into_iden(),
            RefreshTokens::Table.into_iden(),
            Sessions::Table.into_iden(),
            Users::Table.into_iden(),
            Roles::Table.into_iden(),
            Tenants::Table.into_iden(),
        ] {
            manager.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}
