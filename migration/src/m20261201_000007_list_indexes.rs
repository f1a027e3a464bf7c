//! Indexes for every order and filter of `GET /v1/users` (issue 12 "A
//! fast read path"): a page of a tenant's users in any order reads only
//! that page of an index, with the id as tie-breaker, however many users
//! the tenant has.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
    TenantId,
    LoginKey,
    Email,
    FirstName,
    LastName,
    CreatedAt,
    RoleId,
}

const INDEXES: [(&str, Users); 5] = [
    ("idx_users_tenant_login", Users::LoginKey),
    ("idx_users_tenant_email", Users::Email),
    ("idx_users_tenant_first_name", Users::FirstName),
    ("idx_users_tenant_last_name", Users::LastName),
    ("idx_users_tenant_created_at", Users::CreatedAt),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (name, column) in INDEXES {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(Users::Table)
                        .col(Users::TenantId)
                        .col(column)
                        .col(Users::Id)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .create_index(
                Index::create()
                    .name("idx_users_tenant_role")
                    .table(Users::Table)
                    .col(Users::TenantId)
                    .col(Users::RoleId)
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for name in INDEXES.map(|(name, _)| name).into_iter().chain(["idx_users_tenant_role"]) {
            manager.drop_index(Index::drop().name(name).table(Users::Table).to_owned()).await?;
        }
        Ok(())
    }
}
