//! The oldest email waiting in the outbox, for the backlog's age on
//! `/metrics` (issue 12), by an index on `(status, created_at)` instead of
//! reading and sorting every waiting email.
//!
//! The metrics sampler asks every 5 s. With 100,000 emails waiting (the
//! benchmark's set-ups, its email worker off; an import while the mail
//! server is down), `pg_stat_statements` measured that query at 31 ms on
//! average and 203 ms at worst, a sequential scan and a sort each time:
//! the most expensive statement after the user read during a sign-in
//! flood. The outbox's other index (`idx_outbox_due`) orders by the next
//! attempt, not by age.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const INDEX: &str = "idx_outbox_waiting";

#[derive(DeriveIden)]
enum Outbox {
    Table,
    Status,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(
                Index::create().name(INDEX).table(Outbox::Table).col(Outbox::Status).col(Outbox::CreatedAt).to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_index(Index::drop().name(INDEX).table(Outbox::Table).to_owned()).await
    }
}
