//! Storage for voxport through sea-orm: SQLite (the default, embedded) and
//! PostgreSQL (production, several replicas).
//!
//! Writes that must see a consistent tenant (the last administrator, role
//! use) begin by touching the tenant's row: on PostgreSQL that locks the
//! row until commit, on SQLite it takes the database's write lock at once,
//! which is what `BEGIN IMMEDIATE` would do (SQLite ignores `FOR UPDATE`,
//! and a deferred transaction that reads first can fail to upgrade).

#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

mod api_clients;
mod audit;
mod claims;
mod convert;
mod devices;
mod entities;
mod extensions;
mod idempotency;
mod jobs;
mod keys;
mod links;
mod networks;
mod outage;
mod outbox;
mod phone_numbers;
mod provision;
mod purge;
mod roles;
mod scim_tokens;
mod sessions;
mod stations;
mod tenants;
mod throttle;
mod two_factor;
mod user_counts;
mod users;
mod versions;
mod webhooks;

use std::{sync::Arc, time::Duration};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use anyhow::Context as _;
use sea_orm::{
    ColumnTrait, ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DatabaseTransaction, DbErr,
    EntityTrait, QueryFilter, SqlErr, SqliteTransactionMode, TransactionOptions, TransactionTrait as _,
    sea_query::Expr,
    sqlx::{
        postgres::PgConnectOptions,
        sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous},
    },
};
use uuid::Uuid;
use voxport_domain::{
    audit::AuditEvent,
    errors::{TelephonyError, Unavailable},
    ports::Store,
};
use voxport_migration::Migrator;
use voxport_migration::MigratorTrait as _;

/// The store behind every port: one connection pool.
#[derive(Clone, Debug)]
pub struct SeaStore {
    db: DatabaseConnection,
    /// SQLite's one write lock, taken in this process first: a writer that
    /// finds the file locked polls it with growing sleeps (SQLite's busy
    /// handler), which can leave the lock idle between writers. Waiting
    /// here, the next writer starts the moment the last one ends, in the
    /// order they came. `None` on PostgreSQL, whose writers lock rows.
    writer: Option<Arc<Semaphore>>,
    /// How long a writer waits for its turn, as for SQLite's lock.
    busy_timeout: Duration,
}

/// The turn of a writer on SQLite, held until its transaction ends.
pub(crate) struct Writing(#[allow(dead_code, reason = "held for its drop")] Option<OwnedSemaphorePermit>);

/// How to reach the database.
#[derive(Debug, Clone)]
pub struct DatabaseSettings {
    pub url: String,
    pub max_connections: u32,
    pub connect_timeout: Duration,
    /// How long a SQLite writer waits for the write lock before giving up
    /// (the request then answers 503).
    pub busy_timeout: Duration,
}

impl SeaStore {
    /// Connects (creating the SQLite file when the URL says `mode=rwc`).
    ///
    /// # Errors
    /// When the database cannot be reached.
    pub async fn connect(settings: &DatabaseSettings) -> anyhow::Result<Self> {
        let busy_timeout = settings.busy_timeout;
        let mut options = ConnectOptions::new(settings.url.clone());
        options
            .max_connections(settings.max_connections)
            .min_connections(0)
            .connect_timeout(settings.connect_timeout)
            .acquire_timeout(settings.connect_timeout)
            .sqlx_logging(false)
            // A ping on every checkout is a round trip (on SQLite a hop to
            // the connection's thread and back) before each query: only a
            // connection idle long enough for a server, proxy or firewall
            // to have dropped it is pinged.
            .test_before_acquire_if_idle_for(Duration::from_secs(30))
            // ... and one idle since before the database was last seen
            // failing (see `outage`): PostgreSQL's connections die with it.
            .map_sqlx_postgres_before_acquire(|conn, meta| {
                Box::pin(async move {
                    if outage::since_idle(meta.idle_for) {
                        sea_orm::sqlx::Connection::ping(conn).await?;
                    }
                    Ok(true)
                })
            })
            // Every checkout reports how long it waited for a connection
            // (a TRACE event, target `sqlx::pool::acquire`), which the
            // metrics count (`voxport_db_pool_wait_seconds`).
            .map_sqlx_postgres_pool_opts(|o| o.acquire_time_level(log::LevelFilter::Trace))
            .map_sqlx_postgres_opts(without_jit)
            .map_sqlx_sqlite_pool_opts(|o| o.acquire_time_level(log::LevelFilter::Trace))
            // WAL lets readers run beside the one writer; writers queue on
            // the busy timeout instead of failing.
            .map_sqlx_sqlite_opts(move |o: SqliteConnectOptions| {
                o.journal_mode(SqliteJournalMode::Wal)
                    .synchronous(SqliteSynchronous::Normal)
                    .busy_timeout(busy_timeout)
                    .foreign_keys(true)
            });
        let db = Database::connect(options)
            .await
            .with_context(|| format!("connecting to the database at {}", redact_url(&settings.url)))?;
        let writer = (db.get_database_backend() == sea_orm::DbBackend::Sqlite).then(|| Arc::new(Semaphore::new(1)));
        Ok(Self { db, writer, busy_timeout })
    }

    /// Begins a transaction that will write: on SQLite after this
    /// process's earlier writers, and then with `BEGIN IMMEDIATE`, taking
    /// the write lock up front (a deferred transaction that reads first
    /// fails with "database is locked" when another writer got in
    /// between). On PostgreSQL it is a plain `BEGIN`. Keep the second value
    /// until the transaction ends.
    pub(crate) async fn begin_write(&self) -> anyhow::Result<(DatabaseTransaction, Writing)> {
        let turn = self.write_turn().await?;
        let txn = self
            .db
            .begin_with_options(TransactionOptions {
                sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
                ..TransactionOptions::default()
            })
            .await
            .map_err(|e| db_err(e, "starting a transaction"))?;
        Ok((txn, turn))
    }

    /// A writer's turn on SQLite, after this process's earlier writers, for
    /// a write outside [`SeaStore::begin_write`]'s transactions: a
    /// statement that commits on its own. Always on PostgreSQL.
    pub(crate) async fn write_turn(&self) -> anyhow::Result<Writing> {
        match &self.writer {
            Some(gate) => match tokio::time::timeout(self.busy_timeout, gate.clone().acquire_owned()).await {
                Ok(turn) => Ok(Writing(Some(turn.context("the write gate closed")?))),
                Err(_) => Err(anyhow::anyhow!("no turn to write within the busy timeout").context(Unavailable)),
            },
            None => Ok(Writing(None)),
        }
    }

    /// A writer's turn on SQLite when no one in this process holds it, to
    /// write what may be skipped rather than wait; always on PostgreSQL.
    pub(crate) fn try_write_turn(&self) -> Option<Writing> {
        match &self.writer {
            Some(gate) => gate.clone().try_acquire_owned().ok().map(|turn| Writing(Some(turn))),
            None => Some(Writing(None)),
        }
    }

    /// Applies every pending migration.
    ///
    /// # Errors
    /// When a migration fails.
    pub async fn migrate(&self) -> anyhow::Result<()> {
        Migrator::up(&self.db, None).await.context("applying migrations")
    }

    /// The connection pool: connections open, and of those idle.
    #[must_use]
    pub fn pool(&self) -> (u32, usize) {
        match self.db.get_database_backend() {
            sea_orm::DbBackend::Postgres => {
                let pool = self.db.get_postgres_connection_pool();
                (pool.size(), pool.num_idle())
            }
            _ => {
                let pool = self.db.get_sqlite_connection_pool();
                (pool.size(), pool.num_idle())
            }
        }
    }

    /// How many migrations are applied and pending, for `voxport migrate`.
    ///
    /// # Errors
    /// When the migration table cannot be read.
    pub async fn pending_migrations(&self) -> anyhow::Result<usize> {
        Ok(Migrator::get_pending_migrations(&self.db).await.context("reading migrations")?.len())
    }
}

pub use provision::SeaTx;

impl Store for SeaStore {
    type Tx = SeaTx;

    async fn begin_provisioning(&self, now: chrono::DateTime<chrono::Utc>) -> anyhow::Result<SeaTx> {
        SeaTx::begin(self, now).await
    }

    async fn ping(&self) -> anyhow::Result<()> {
        self.db.ping().await.map_err(|e| db_err(e, "pinging the database"))
    }
}

/// An instant as both databases store it: PostgreSQL keeps microseconds,
/// so SQLite gets no more, and reads match writes everywhere.
pub(crate) fn stamp(t: chrono::DateTime<chrono::Utc>) -> chrono::DateTime<chrono::Utc> {
    use chrono::SubsecRound as _;
    t.trunc_subsecs(6)
}

/// The instant of a change: the one its audit event records, so a row's
/// timestamps and the event that explains them agree.
pub(crate) fn at(audit: &AuditEvent) -> chrono::DateTime<chrono::Utc> {
    stamp(audit.occurred_at)
}

/// Changes what a user holds (a licence, a desk phone, a number, an
/// extension) in one write transaction that first locks the user's row, so
/// one user's changes apply one after the other. `change` answers its
/// result and whether anything changed; only then is `audit` recorded.
///
/// # Errors
/// `UserNotFound` when the user is not in `tenant`; whatever `change` answers.
pub(crate) async fn change_holdings<T>(
    store: &SeaStore,
    tenant: Uuid,
    user: Uuid,
    audit: &AuditEvent,
    change: impl AsyncFnOnce(&DatabaseTransaction) -> Result<(T, bool), TelephonyError>,
) -> Result<T, TelephonyError> {
    let (txn, _writing) = store.begin_write().await?;
    if !lock_user(&txn, tenant, user).await.map_err(|e| db_err(e, "locking a user"))? {
        return Err(TelephonyError::UserNotFound);
    }
    let (value, changed) = change(&txn).await?;
    if changed {
        audit::record(&txn, audit, None).await?;
    }
    txn.commit().await.map_err(|e| db_err(e, "committing a change to what a user holds"))?;
    Ok(value)
}

/// Every PostgreSQL session of the pool runs without JIT compilation. The
/// planner compiles a query whose estimated cost passes `jit_above_cost`,
/// at every execution, and it estimates a table never analyzed from its
/// size on disk. On a new database (autovacuum analyzes a table only
/// after 50 changed rows, so a tenant's few roles and stations may never
/// be), a page of 50 users joined to what they hold was estimated at 127
/// million and compiled for 600 ms on every request (`auto_explain`): 1.8
/// pages a second, against 596 without JIT. This API's statements are
/// short; none gains from compiling.
fn without_jit(options: PgConnectOptions) -> PgConnectOptions {
    options.options([("jit", "off")])
}

/// Turns a database error into the domain's unknown error, marking
/// connection failures as `Unavailable` so the edge answers 503.
pub(crate) fn db_err(err: DbErr, what: &'static str) -> anyhow::Error {
    let err_unavailable = is_outage(&err);
    if connection_lost(&err) {
        outage::seen();
    }
    let err = anyhow::Error::new(err).context(what);
    if err_unavailable { err.context(Unavailable) } else { err }
}

/// Whether the database could not be reached (rather than refusing the
/// statement): no connection, a connection lost mid-statement, a pool that
/// timed out or closed, or SQLite's write lock held past the busy timeout.
fn is_outage(err: &DbErr) -> bool {
    use sea_orm::{RuntimeErr, sqlx::Error as Sqlx};
    match err {
        DbErr::Conn(_) | DbErr::ConnectionAcquire(_) => true,
        DbErr::Query(RuntimeErr::SqlxError(e)) | DbErr::Exec(RuntimeErr::SqlxError(e)) => {
            matches!(**e, Sqlx::Io(_) | Sqlx::PoolTimedOut | Sqlx::PoolClosed | Sqlx::WorkerCrashed)
                || session_ended(e)
                || e.to_string().contains("database is locked")
        }
        _ => err.to_string().contains("database is locked"),
    }
}

/// Whether a connection failed (rather than the pool being busy or
/// SQLite's lock held): others opened before may be dead too.
fn connection_lost(err: &DbErr) -> bool {
    use sea_orm::{RuntimeErr, sqlx::Error as Sqlx};
    match err {
        DbErr::Conn(_) => true,
        DbErr::Query(RuntimeErr::SqlxError(e)) | DbErr::Exec(RuntimeErr::SqlxError(e)) => {
            matches!(**e, Sqlx::Io(_) | Sqlx::WorkerCrashed) || session_ended(e)
        }
        _ => false,
    }
}

/// Whether PostgreSQL ended the session (a statement it was running rolls
/// back with it): it was shut down or restarted (`57P01`, `57P02`), is
/// starting up (`57P03`), the database was dropped (`57P04`), the session
/// idled out (`57P05`), an operator ended it (`pg_terminate_backend`,
/// `57P01` too), or the connection broke (class `08`). The server says so
/// on the socket before closing it, so the next statement reads a
/// database error, not an I/O one; the other pooled connections may have
/// gone the same way.
fn session_ended(err: &sea_orm::sqlx::Error) -> bool {
    let code = match err {
        sea_orm::sqlx::Error::Database(db) => db.code(),
        _ => None,
    };
    code.is_some_and(|code| code.starts_with("57P") || code.starts_with("08"))
}

/// Whether `err` is a UNIQUE violation whose message names `column`
/// (PostgreSQL names the constraint, `tenants_slug_key`; SQLite the column,
/// `tenants.slug`).
pub(crate) fn unique_violation(err: &DbErr, column: &str) -> bool {
    matches!(err.sql_err(), Some(SqlErr::UniqueConstraintViolation(msg)) if msg.contains(column))
}

pub(crate) fn is_unique_violation(err: &DbErr) -> bool {
    matches!(err.sql_err(), Some(SqlErr::UniqueConstraintViolation(_)))
}

/// Locks the user's row for the rest of the transaction, so one user's
/// concurrent changes apply one after the other; false when the user is
/// not in `tenant`.
pub(crate) async fn lock_user(txn: &impl ConnectionTrait, tenant: Uuid, user: Uuid) -> Result<bool, DbErr> {
    use entities::users;
    let res = users::Entity::update_many()
        .col_expr(users::Column::UpdatedAt, Expr::col(users::Column::UpdatedAt))
        .filter(users::Column::Id.eq(user))
        .filter(users::Column::TenantId.eq(tenant))
        .exec(txn)
        .await?;
    Ok(res.rows_affected == 1)
}

/// Serialises writes to one tenant for the rest of the transaction (see
/// the module comment). Answers false when the tenant does not exist.
pub(crate) async fn lock_tenant(txn: &impl ConnectionTrait, tenant: Uuid) -> Result<bool, DbErr> {
    use entities::tenants;
    let res = tenants::Entity::update_many()
        .col_expr(tenants::Column::UpdatedAt, Expr::col(tenants::Column::UpdatedAt))
        .filter(tenants::Column::Id.eq(tenant))
        .exec(txn)
        .await?;
    Ok(res.rows_affected == 1)
}

/// The holders among `users`, named by login, in one query.
pub(crate) async fn holders(
    db: &impl ConnectionTrait,
    users: impl IntoIterator<Item = Uuid>,
) -> anyhow::Result<std::collections::HashMap<Uuid, voxport_domain::device::Holder>> {
    use entities::users;
    let ids: Vec<Uuid> = users.into_iter().collect();
    if ids.is_empty() {
        return Ok(std::collections::HashMap::new());
    }
    let rows = users::Entity::find()
        .filter(users::Column::Id.is_in(ids))
        .all(db)
        .await
        .map_err(|e| db_err(e, "loading holders"))?;
    Ok(rows.into_iter().map(|u| (u.id, voxport_domain::device::Holder { user_id: u.id, login: u.login })).collect())
}

/// Escapes `%`, `_` and `\` so user input matches literally inside LIKE.
pub(crate) fn like_pattern(q: &str) -> sea_orm::sea_query::LikeExpr {
    let escaped: String = q
        .to_lowercase()
        .chars()
        .flat_map(|c| match c {
            '%' | '_' | '\\' => vec!['\\', c],
            c => vec![c],
        })
        .collect();
    sea_orm::sea_query::LikeExpr::new(format!("%{escaped}%")).escape('\\')
}

/// The URL without its password, for messages.
#[must_use]
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let userinfo = &url[scheme + 3..at];
            let user = userinfo.split(':').next().unwrap_or("");
            format!("{}://{}:***@{}", &url[..scheme], user, &url[at + 1..])
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_lose_their_password_in_messages() {
        assert_eq!(redact_url("postgres://vox:s3cret@db:5432/vox"), "postgres://vox:***@db:5432/vox");
        assert_eq!(redact_url("sqlite://voxport.db?mode=rwc"), "sqlite://voxport.db?mode=rwc");
    }

    #[test]
    fn postgres_sessions_start_without_jit_and_keep_the_options_of_the_url() {
        let url = "postgres://vox@db/vox?options=-c%20search_path%3Dvox";
        let options: PgConnectOptions = url.parse().unwrap();
        assert_eq!(without_jit(options).get_options(), Some("-c search_path=vox -c jit=off"));
    }
}
