//! On SQLite, a trigram index for `q` on users (issue 12: a list with `q`
//! over 100,000 users read every one of them, twice, 30 to 50 ms a
//! query). PostgreSQL has had one since `m20261201_000007_list_indexes`.
//!
//! An FTS5 table with the trigram tokenizer (SQLite 3.34; the bundled
//! SQLite has FTS5) over `users.search`, whose content it reads from
//! `users` by rowid; triggers keep it in step with every insert, change
//! and deletion. voxport asks it only for candidates and checks each one
//! against `users.search` again, so the index can only narrow a search,
//! never widen it.

use sea_orm_migration::{prelude::*, sea_orm::DbBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

const UP: [&str; 5] = [
    "CREATE VIRTUAL TABLE users_search USING fts5(search, content='users', content_rowid='rowid', tokenize='trigram')",
    "CREATE TRIGGER users_search_insert AFTER INSERT ON users BEGIN \
     INSERT INTO users_search (rowid, search) VALUES (new.rowid, new.search); END",
    "CREATE TRIGGER users_search_delete AFTER DELETE ON users BEGIN \
     INSERT INTO users_search (users_search, rowid, search) VALUES ('delete', old.rowid, old.search); END",
    "CREATE TRIGGER users_search_update AFTER UPDATE OF search ON users BEGIN \
     INSERT INTO users_search (users_search, rowid, search) VALUES ('delete', old.rowid, old.search); \
     INSERT INTO users_search (rowid, search) VALUES (new.rowid, new.search); END",
    "INSERT INTO users_search (users_search) VALUES ('rebuild')",
];

const DOWN: [&str; 4] = [
    "DROP TRIGGER IF EXISTS users_search_update",
    "DROP TRIGGER IF EXISTS users_search_delete",
    "DROP TRIGGER IF EXISTS users_search_insert",
    "DROP TABLE IF EXISTS users_search",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run(manager, &UP).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run(manager, &DOWN).await
    }
}

async fn run(manager: &SchemaManager<'_>, statements: &[&str]) -> Result<(), DbErr> {
    if manager.get_database_backend() != DbBackend::Sqlite {
        return Ok(());
    }
    for sql in statements {
        manager.get_connection().execute_unprepared(sql).await?;
    }
    Ok(())
}
