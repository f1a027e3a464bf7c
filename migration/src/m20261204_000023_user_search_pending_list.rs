//! On PostgreSQL, the trigram index of `q` (`idx_users_search`) keeps a
//! short pending list (issue 12). GIN collects new entries in a pending
//! list, up to 4 MB by default, that every search reads in full until
//! (auto)vacuum merges it: after 100,000 users were set up one by one, a
//! search for `q` took 6.5 ms, and 2.0 ms once the list was merged. At
//! 256 kB the inserting session merges it sixteen times as often, and a
//! search reads at most a sixteenth of it.

use sea_orm_migration::{prelude::*, sea_orm::DbBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() == DbBackend::Postgres {
            let db = manager.get_connection();
            db.execute_unprepared("ALTER INDEX idx_users_search SET (gin_pending_list_limit = 256)").await?;
            db.execute_unprepared("SELECT gin_clean_pending_list('idx_users_search')").await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() == DbBackend::Postgres {
            manager
                .get_connection()
                .execute_unprepared("ALTER INDEX idx_users_search RESET (gin_pending_list_limit)")
                .await?;
        }
        Ok(())
    }
}
