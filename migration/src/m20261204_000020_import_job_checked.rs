//! Import jobs show how many rows they have checked (issue 13): an
//! `all_or_nothing` job writes in one transaction, so until it commits its
//! rows done stay 0, while its check of every row (and the hashing of
//! their passwords) is visible as it goes.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ImportJobs {
    Table,
    RowsChecked,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(ImportJobs::Table)
                    .add_column(integer(ImportJobs::RowsChecked).default(0))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(Table::alter().table(ImportJobs::Table).drop_column(ImportJobs::RowsChecked).to_owned())
            .await
    }
}
