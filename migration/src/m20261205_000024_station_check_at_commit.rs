//! On PostgreSQL, a station licence's row (`station_assignments`) checks
//! its station at the commit (`DEFERRABLE INITIALLY DEFERRED`), not when it
//! is inserted (issue 12).
//!
//! The check locks the station's row `FOR KEY SHARE`. Inserted first, the
//! licences of concurrent set-ups each locked the row while a set-up
//! committing took a licence from it (`UPDATE stations SET in_use = …`,
//! the last write of the transaction), so every version of the row
//! carried a MultiXact of lockers and updater, and every read of the row
//! looked its members up (`GetMultiXactIdMembers`, 12 % of PostgreSQL's
//! time). One-call set-ups (16 connections) slowed from 470 to about 380
//! a second over their first 20,000 users, and went on slowing. Checked
//! at the commit, after the transaction's own update of the row, the lock
//! is already held; the same run stayed between 535 and 577 a second.
//!
//! A station cannot go away under a licence either way: a station is
//! deleted only with no licence in use, and a set-up's conditional update
//! of `in_use` fails cleanly first if it went.
//! SQLite locks no rows; its constraint stays as it is.

use sea_orm_migration::{prelude::*, sea_orm::DbBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

const CONSTRAINT: &str = "station_assignments_station_id_fkey";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() == DbBackend::Postgres {
            manager
                .get_connection()
                .execute_unprepared(&format!(
                    "ALTER TABLE station_assignments ALTER CONSTRAINT {CONSTRAINT} DEFERRABLE INITIALLY DEFERRED"
                ))
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() == DbBackend::Postgres {
            manager
                .get_connection()
                .execute_unprepared(&format!(
                    "ALTER TABLE station_assignments ALTER CONSTRAINT {CONSTRAINT} NOT DEFERRABLE"
                ))
                .await?;
        }
        Ok(())
    }
}
