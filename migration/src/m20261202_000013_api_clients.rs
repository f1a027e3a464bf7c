//! API clients (issue 9): integrators' OAuth2 clients of a tenant, with up
//! to two secret digests at once (a rotation's overlap), and the access
//! tokens issued to them (one row each, so one can be revoked). The audit
//! log names a client that acted (`actor_client_id`).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Tenants {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum ApiClients {
    Table,
    Id,
    TenantId,
    Name,
    Permissions,
    AllowedNetworks,
    ExpiresAt,
    Disabled,
    CreatedBy,
    CreatedAt,
    UpdatedAt,
    LastUsedAt,
    LastUsedIp,
}

#[derive(DeriveIden)]
enum ApiClientSecrets {
    Table,
    Id,
    ClientId,
    SecretHash,
    CreatedAt,
    ExpiresAt,
}

#[derive(DeriveIden)]
enum ApiClientTokens {
    Table,
    Id,
    ClientId,
    Scope,
    IssuedAt,
    ExpiresAt,
    RevokedAt,
}

#[derive(DeriveIden)]
enum AuditEvents {
    Table,
    ActorClientId,
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
                    .table(ApiClients::Table)
                    .col(uuid(ApiClients::Id).primary_key())
                    .col(uuid(ApiClients::TenantId))
                    .col(string_len(ApiClients::Name, 64))
                    .col(text(ApiClients::Permissions))
                    .col(text(ApiClients::AllowedNetworks))
                    .col(timestamp_with_time_zone_null(ApiClients::ExpiresAt))
                    .col(boolean(ApiClients::Disabled).default(false))
                    .col(uuid_null(ApiClients::CreatedBy))
                    .col(timestamp_with_time_zone(ApiClients::CreatedAt))
                    .col(timestamp_with_time_zone(ApiClients::UpdatedAt))
                    .col(timestamp_with_time_zone_null(ApiClients::LastUsedAt))
                    .col(string_len_null(ApiClients::LastUsedIp, 64))
                    .foreign_key(
                        ForeignKey::create()
                            .from(ApiClients::Table, ApiClients::TenantId)
                            .to(Tenants::Table, Tenants::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_api_clients_tenant_name")
                    .table(ApiClients::Table)
                    .col(ApiClients::TenantId)
                    .col(ApiClients::Name)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ApiClientSecrets::Table)
                    .col(uuid(ApiClientSecrets::Id).primary_key())
                    .col(uuid(ApiClientSecrets::ClientId))
                    .col(string_len(ApiClientSecrets::SecretHash, 64))
                    .col(timestamp_with_time_zone(ApiClientSecrets::CreatedAt))
                    .col(timestamp_with_time_zone_null(ApiClientSecrets::ExpiresAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(ApiClientSecrets::Table, ApiClientSecrets::ClientId)
                            .to(ApiClients::Table, ApiClients::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_api_client_secrets_client")
                    .table(ApiClientSecrets::Table)
                    .col(ApiClientSecrets::ClientId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ApiClientTokens::Table)
                    .col(uuid(ApiClientTokens::Id).primary_key())
                    .col(uuid(ApiClientTokens::ClientId))
                    .col(text(ApiClientTokens::Scope))
                    .col(timestamp_with_time_zone(ApiClientTokens::IssuedAt))
                    .col(timestamp_with_time_zone(ApiClientTokens::ExpiresAt))
                    .col(timestamp_with_time_zone_null(ApiClientTokens::RevokedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(ApiClientTokens::Table, ApiClientTokens::ClientId)
                            .to(ApiClients::Table, ApiClients::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_api_client_tokens_expires")
                    .table(ApiClientTokens::Table)
                    .col(ApiClientTokens::ExpiresAt)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter().table(AuditEvents::Table).add_column(uuid_null(AuditEvents::ActorClientId)).to_owned(),
            )
            .await?;
        // Every built-in Administrator role holds every permission its
        // tenant may have, the new ones too.
        manager
            .get_connection()
            .execute_unprepared(
                "UPDATE roles SET permissions = permissions || ' api_clients:read api_clients:write tokens:introspect' \
                 WHERE builtin = 'administrator'",
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(Table::alter().table(AuditEvents::Table).drop_column(AuditEvents::ActorClientId).to_owned())
            .await?;
        for table in
            [ApiClientTokens::Table.into_iden(), ApiClientSecrets::Table.into_iden(), ApiClients::Table.into_iden()]
        {
            manager.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}
