//! Every versioned object's version (issue 9 "Safe concurrent edits"):
//! the number its `ETag` carries, moved by one by each change that writes
//! an audit event about it, in that change's transaction. A write sent
//! with `If-Match` moves it only from the version the tag names, so of two
//! writes made from the same tag exactly one commits. An object with no row
//! (created before this table) is at version 0.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ResourceVersions {
    Table,
    TargetType,
    TargetId,
    Version,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ResourceVersions::Table)
                    .col(string(ResourceVersions::TargetType))
                    .col(uuid(ResourceVersions::TargetId))
                    .col(big_integer(ResourceVersions::Version))
                    .primary_key(Index::create().col(ResourceVersions::TargetType).col(ResourceVersions::TargetId))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(ResourceVersions::Table).to_owned()).await
    }
}
