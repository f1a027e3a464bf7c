//! Object versions, the numbers `ETag`s carry (see migration
//! `m20261202_000015_resource_versions`). [`bump`] runs inside the
//! transaction of every recorded change; when the request names a version
//! for the object (`If-Match`), it moves the version only from that one,
//! so the row lock decides between two writes made from the same tag.

use sea_orm::{ConnectionTrait, DbBackend, Statement, Value};
use uuid::Uuid;
use voxport_domain::{audit::TargetType, ports::VersionStore, request};

use crate::{SeaStore, db_err};

/// `sql` with `?` placeholders, numbered for PostgreSQL.
fn statement(backend: DbBackend, sql: &str, values: Vec<Value>) -> Statement {
    let sql = match backend {
        DbBackend::Postgres => {
            let mut out = String::with_capacity(sql.len() + 8);
            let mut n = 0;
            for c in sql.chars() {
                if c == '?' {
                    n += 1;
                    out.push_str(&format!("${n}"));
                } else {
                    out.push(c);
                }
            }
            out
        }
        _ => sql.to_owned(),
    };
    Statement::from_sql_and_values(backend, sql, values)
}

/// Moves the version of `target_type` `id` by one, conditional on the
/// version the request expects of it, if any, and notes the new version
/// in the request.
///
/// # Errors
/// [`request::PreconditionFailed`] when the object is at another version
/// than the request expects; storage errors.
pub(crate) async fn bump(db: &impl ConnectionTrait, target_type: TargetType, id: Uuid) -> anyhow::Result<()> {
    let backend = db.get_database_backend();
    let kind = Value::from(target_type.as_str());
    let target = Value::from(id);
    let stmt = match request::expected_version(target_type, id) {
        None => statement(
            backend,
            "INSERT INTO resource_versions (target_type, target_id, version) VALUES (?, ?, 1) \
             ON CONFLICT (target_type, target_id) DO UPDATE SET version = resource_versions.version + 1 \
             RETURNING version",
            vec![kind, target],
        ),
        // Never versioned: only the first writer makes the row.
        Some(0) => statement(
            backend,
            "INSERT INTO resource_versions (target_type, target_id, version) VALUES (?, ?, 1) \
             ON CONFLICT (target_type, target_id) DO NOTHING RETURNING version",
            vec![kind, target],
        ),
        Some(expected) => statement(
            backend,
            "UPDATE resource_versions SET version = version + 1 \
             WHERE target_type = ? AND target_id = ? AND version = ? RETURNING version",
            vec![kind, target, Value::from(expected)],
        ),
    };
    let row = db.query_one_raw(stmt).await.map_err(|e| db_err(e, "moving an object's version"))?;
    let Some(row) = row else { return Err(request::precondition_failed().into()) };
    let version: i64 = row.try_get("", "version").map_err(|e| db_err(e, "reading an object's version"))?;
    request::wrote(target_type, id, version);
    Ok(())
}

/// The version of `target_type` `id`: 0 when it never changed since
/// versions were kept.
pub(crate) async fn version(db: &impl ConnectionTrait, target_type: TargetType, id: Uuid) -> anyhow::Result<i64> {
    let stmt = statement(
        db.get_database_backend(),
        "SELECT version FROM resource_versions WHERE target_type = ? AND target_id = ?",
        vec![Value::from(target_type.as_str()), Value::from(id)],
    );
    let row = db.query_one_raw(stmt).await.map_err(|e| db_err(e, "reading an object's version"))?;
    match row {
        Some(row) => row.try_get("", "version").map_err(|e| db_err(e, "reading an object's version")),
        None => Ok(0),
    }
}

impl VersionStore for SeaStore {
    async fn version(&self, target_type: TargetType, id: Uuid) -> anyhow::Result<i64> {
        version(&self.db, target_type, id).await
    }
}
