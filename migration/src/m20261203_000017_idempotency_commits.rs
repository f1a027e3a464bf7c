//! `Idempotency-Key` on every POST (issue 9). A key's answer is now the
//! HTTP answer itself, stored just after the request; `committed` is set in
//! the business transaction of the request's change, so a key whose work
//! committed is never run again, even when its answer could not be stored.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum IdempotencyKeys {
    Table,
    Committed,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(IdempotencyKeys::Table)
                    .add_column(boolean(IdempotencyKeys::Committed).default(false))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter().table(IdempotencyKeys::Table).drop_column(IdempotencyKeys::Committed).to_owned(),
            )
            .await
    }
}
