//! Indexes for every order and filter of `GET /v1/users` (issue 12 "A
//! fast read path"): a page of a tenant's users in any order reads only
//! that page of an index, with the id as tie-breaker, however many users
//! the tenant has.
//!
//! `users.search` holds what `q` matches (login, email and names, lower
//! case) in one column. On PostgreSQL a trigram index (`pg_trgm`, part of
//! every PostgreSQL distribution) finds a substring without reading every
//! user; SQLite reads the one column.

use sea_orm_migration::{prelude::*, schema::*, sea_orm::DbBackend};

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
    Search,
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
        manager
            .alter_table(Table::alter().table(Users::Table).add_column(text(Users::Search).default("")).to_owned())
            .await?;
        let db = manager.get_connection();
        // New rows get it from voxport, which folds all of Unicode; SQLite's
        // lower() folds ASCII only, for the rows already there.
        db.execute_unprepared(
            "UPDATE users SET search = lower(login || ' ' || coalesce(email, '') || ' ' || first_name || ' ' || last_name)",
        )
        .await?;
        if manager.get_database_backend() == DbBackend::Postgres {
            db.execute_unprepared("CREATE EXTENSION IF NOT EXISTS pg_trgm").await?;
            db.execute_unprepared("CREATE INDEX idx_users_search ON users USING gin (search gin_trgm_ops)").await?;
        }
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
        if manager.get_database_backend() == DbBackend::Postgres {
            manager.get_connection().execute_unprepared("DROP INDEX IF EXISTS idx_users_search").await?;
        }
        manager.alter_table(Table::alter().table(Users::Table).drop_column(Users::Search).to_owned()).await
    }
}
