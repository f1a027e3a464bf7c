//! Import jobs (issue 13): a large import runs in the background, its
//! state in the database so that it survives a restart, is run by one
//! replica at a time (a lease), and resumes after the last committed chunk.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Tenants {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum ImportJobs {
    Table,
    Id,
    TenantId,
    HomeTenantId,
    CreatedBy,
    ClientId,
    Permissions,
    ContentType,
    SealedFile,
    Mode,
    DryRun,
    State,
    RowsTotal,
    RowsNext,
    RowsCreated,
    RowsFailed,
    EmailsQueued,
    Errors,
    Error,
    LeaseToken,
    LeaseUntil,
    CreatedAt,
    UpdatedAt,
    FinishedAt,
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
                    .table(ImportJobs::Table)
                    .col(uuid(ImportJobs::Id).primary_key())
                    .col(uuid(ImportJobs::TenantId))
                    .col(uuid(ImportJobs::HomeTenantId))
                    .col(uuid_null(ImportJobs::CreatedBy))
                    .col(uuid_null(ImportJobs::ClientId))
                    .col(text(ImportJobs::Permissions))
                    .col(string_len(ImportJobs::ContentType, 32))
                    .col(text(ImportJobs::SealedFile))
                    .col(string_len(ImportJobs::Mode, 16))
                    .col(boolean(ImportJobs::DryRun))
                    .col(string_len(ImportJobs::State, 16))
                    .col(integer(ImportJobs::RowsTotal))
                    .col(integer(ImportJobs::RowsNext).default(0))
                    .col(integer(ImportJobs::RowsCreated).default(0))
                    .col(integer(ImportJobs::RowsFailed).default(0))
                    .col(integer(ImportJobs::EmailsQueued).default(0))
                    .col(text(ImportJobs::Errors))
                    .col(text_null(ImportJobs::Error))
                    .col(uuid_null(ImportJobs::LeaseToken))
                    .col(timestamp_with_time_zone_null(ImportJobs::LeaseUntil))
                    .col(timestamp_with_time_zone(ImportJobs::CreatedAt))
                    .col(timestamp_with_time_zone(ImportJobs::UpdatedAt))
                    .col(timestamp_with_time_zone_null(ImportJobs::FinishedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(ImportJobs::Table, ImportJobs::TenantId)
                            .to(Tenants::Table, Tenants::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_import_jobs_state")
                    .table(ImportJobs::Table)
                    .col(ImportJobs::State)
                    .col(ImportJobs::CreatedAt)
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(ImportJobs::Table).to_owned()).await
    }
}
