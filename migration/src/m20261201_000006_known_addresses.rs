//! Throttles that stop guessing, not offices (issue 12):
//!
//! - `known_addresses`: where each user signed in successfully, and when
//!   last. Failures from an address a user is known at never lock them out
//!   of it; the hard stop counts failures from other addresses only.
//! - `login_throttle` keys change meaning: `login:<digest>` is now the
//!   hard stop of failures from unknown addresses, and `pair:<digest>:<addr>`
//!   the lock of one login at one address. Running counters are dropped;
//!   hard locks stay until an administrator lifts them.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum KnownAddresses {
    Table,
    UserId,
    Address,
    LastSuccessAt,
}

#[derive(DeriveIden)]
enum LoginThrottle {
    Table,
    HardLocked,
    LockedUntil,
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
                    .table(KnownAddresses::Table)
                    .col(uuid(KnownAddresses::UserId))
                    .col(string_len(KnownAddresses::Address, 64))
                    .col(timestamp_with_time_zone(KnownAddresses::LastSuccessAt))
                    .primary_key(Index::create().col(KnownAddresses::UserId).col(KnownAddresses::Address))
                    .foreign_key(
                        ForeignKey::create()
                            .from(KnownAddresses::Table, KnownAddresses::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("known_addresses_last_success_at")
                    .table(KnownAddresses::Table)
                    .col(KnownAddresses::LastSuccessAt)
                    .to_owned(),
            )
            .await?;
        manager
            .exec_stmt(
                Query::delete()
                    .from_table(LoginThrottle::Table)
                    .and_where(Expr::col(LoginThrottle::HardLocked).eq(false))
                    .to_owned(),
            )
            .await?;
        manager
            .exec_stmt(
                Query::update()
                    .table(LoginThrottle::Table)
                    .value(LoginThrottle::LockedUntil, Expr::cust("NULL"))
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(KnownAddresses::Table).to_owned()).await
    }
}
