//! Signing keys can be rotated (issue 11, finding 10): each key signs from
//! its `not_before` until the next key's, and verifies until the tokens it
//! signed have expired. A key stored before this has none and signs from
//! its creation.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum SigningKeys {
    Table,
    NotBefore,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(SigningKeys::Table)
                    .add_column(timestamp_with_time_zone_null(SigningKeys::NotBefore))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(Table::alter().table(SigningKeys::Table).drop_column(SigningKeys::NotBefore).to_owned())
            .await
    }
}
