//! Sessions and their refresh tokens. Spending a token is one conditional
//! UPDATE (`... WHERE used_at IS NULL`), so of two concurrent refreshes
//! with the same token exactly one wins, on either database; on
//! PostgreSQL the next token is written in the same transaction.

use anyhow::Context as _;
use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait as _, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, sea_query::Expr,
};
use uuid::Uuid;
use voxport_domain::{
    audit::AuditEvent,
    auth::Session,
    ports::{RefreshUse, SessionStore},
};

use crate::{
    SeaStore,
    audit::record,
    convert, db_err,
    entities::{refresh_tokens, sessions},
};

fn token_row(session: Uuid, hash: &str, expires_at: DateTime<Utc>, now: DateTime<Utc>) -> refresh_tokens::ActiveModel {
    refresh_tokens::ActiveModel {
        id: Set(Uuid::now_v7()),
        session_id: Set(session),
        token_hash: Set(hash.to_owned()),
        created_at: Set(now),
        expires_at: Set(expires_at),
        used_at: Set(None),
    }
}

/// Ends every live session of `user` but `keep`. Part of the caller's
/// transaction.
pub(crate) async fn revoke_sessions(
    db: &impl ConnectionTrait,
    user: Uuid,
    keep: Option<Uuid>,
    now: DateTime<Utc>,
) -> Result<(), sea_orm::DbErr> {
    let mut update = sessions::Entity::update_many()
        .col_expr(sessions::Column::RevokedAt, Expr::value(now))
        .filter(sessions::Column::UserId.eq(user))
        .filter(sessions::Column::RevokedAt.is_null());
    if let Some(keep) = keep {
        update = update.filter(sessions::Column::Id.ne(keep));
    }
    update.exec(db).await?;
    Ok(())
}

/// Spends the refresh token `hash` and stores the session's next one if
/// `next` answers its expiry; in the caller's transaction, or statement by
/// statement, each write then in its turn of `store` (a writer's turn is
/// SQLite's alone).
async fn rotate(
    db: &impl ConnectionTrait,
    store: &SeaStore,
    hash: &str,
    next_hash: &str,
    next: impl FnOnce(&Session, DateTime<Utc>) -> Option<DateTime<Utc>> + Send,
    now: DateTime<Utc>,
) -> anyhow::Result<RefreshUse> {
    let turn = store.write_turn().await?;
    let spent = refresh_tokens::Entity::update_many()
        .col_expr(refresh_tokens::Column::UsedAt, Expr::value(now))
        .filter(refresh_tokens::Column::TokenHash.eq(hash))
        .filter(refresh_tokens::Column::UsedAt.is_null())
        .exec_with_returning(db)
        .await
        .map_err(|e| db_err(e, "spending a refresh token"))?;
    drop(turn);
    let Some(token) = spent.into_iter().next() else {
        let known = refresh_tokens::Entity::find()
            .filter(refresh_tokens::Column::TokenHash.eq(hash))
            .one(db)
            .await
            .map_err(|e| db_err(e, "loading a refresh token"))?;
        return Ok(match known {
            Some(token) => RefreshUse::Replayed { session_id: token.session_id },
            None => RefreshUse::NotFound,
        });
    };
    let session = sessions::Entity::find_by_id(token.session_id)
        .one(db)
        .await
        .map_err(|e| db_err(e, "loading a session"))?
        .map(convert::session)
        .transpose()?
        .context("a refresh token without its session")?;
    if let Some(expires_at) = next(&session, token.expires_at) {
        let _turn = store.write_turn().await?;
        token_row(session.id, next_hash, expires_at, now)
            .insert(db)
            .await
            .map_err(|e| db_err(e, "inserting a refresh token"))?;
    }
    Ok(RefreshUse::Fresh { session, expires_at: token.expires_at })
}

impl SessionStore for SeaStore {
    async fn create_session(
        &self,
        session: &Session,
        refresh_hash: &str,
        refresh_expires_at: DateTime<Utc>,
        audit: &AuditEvent,
    ) -> anyhow::Result<()> {
        let (txn, _writing) = self.begin_write().await?;
        sessions::ActiveModel {
            id: Set(session.id),
            user_id: Set(session.user_id),
            tenant_id: Set(session.tenant_id),
            client: Set(session.client.as_str().to_owned()),
            created_at: Set(session.created_at),
            expires_at: Set(session.expires_at),
            revoked_at: Set(session.revoked_at),
            acting_tenant_id: Set(session.acting_tenant_id),
        }
        .insert(&txn)
        .await
        .map_err(|e| db_err(e, "inserting a session"))?;
        token_row(session.id, refresh_hash, refresh_expires_at, session.created_at)
            .insert(&txn)
            .await
            .map_err(|e| db_err(e, "inserting a refresh token"))?;
        record(&txn, audit, None).await?;
        txn.commit().await.map_err(|e| db_err(e, "committing a new session"))
    }

    async fn session(&self, id: Uuid) -> anyhow::Result<Option<Session>> {
        sessions::Entity::find_by_id(id)
            .one(&self.db)
            .await
            .map_err(|e| db_err(e, "loading a session"))?
            .map(convert::session)
            .transpose()
    }

    async fn rotate_refresh_token(
        &self,
        hash: &str,
        next_hash: &str,
        next: impl FnOnce(&Session, DateTime<Utc>) -> Option<DateTime<Utc>> + Send,
        now: DateTime<Utc>,
    ) -> anyhow::Result<RefreshUse> {
        if self.writer.is_some() {
            // SQLite: each statement commits on its own. A transaction
            // would hold the one write lock across five hops to the
            // connection's thread instead of two single-statement writes,
            // and refreshes queue on that lock (measured: ~1,300 against
            // ~1,700 a second, 16 connections, release build). Each write
            // waits for its turn here rather than in SQLite's busy
            // handler, whose sleeps left the lock idle (p99 50-110 ms).
            return rotate(&self.db, self, hash, next_hash, next, now).await;
        }
        // PostgreSQL: one transaction, so one commit (one WAL flush) a
        // refresh instead of two (~1,000 against ~850 a second).
        let (txn, _writing) = self.begin_write().await?;
        let used = rotate(&txn, self, hash, next_hash, next, now).await?;
        txn.commit().await.map_err(|e| db_err(e, "committing a refresh token's rotation"))?;
        Ok(used)
    }

    async fn revoke_session(&self, id: Uuid, now: DateTime<Utc>, audit: &AuditEvent) -> anyhow::Result<()> {
        let (txn, _writing) = self.begin_write().await?;
        sessions::Entity::update_many()
            .col_expr(sessions::Column::RevokedAt, Expr::value(now))
            .filter(sessions::Column::Id.eq(id))
            .filter(sessions::Column::RevokedAt.is_null())
            .exec(&txn)
            .await
            .map_err(|e| db_err(e, "revoking a session"))?;
        record(&txn, audit, None).await?;
        txn.commit().await.map_err(|e| db_err(e, "committing a session's end"))
    }

    async fn session_of_refresh_token(&self, hash: &str) -> anyhow::Result<Option<Uuid>> {
        Ok(refresh_tokens::Entity::find()
            .filter(refresh_tokens::Column::TokenHash.eq(hash))
            .one(&self.db)
            .await
            .map_err(|e| db_err(e, "loading a refresh token"))?
            .map(|t| t.session_id))
    }
}
