//! Import jobs count their runs (issue 13): a job whose run keeps failing
//! (storage refusing one of its rows, a worker dying in it) is taken up
//! again when its lease runs out, but not forever.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ImportJobs {
    Table,
    Attempts,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter().table(ImportJobs::Table).add_column(integer(ImportJobs::Attempts).default(0)).to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.alter_table(Table::alter().table(ImportJobs::Table).drop_column(ImportJobs::Attempts).to_owned()).await
    }
}
