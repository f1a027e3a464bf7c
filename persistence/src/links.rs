//! Single-use links (welcome and reset emails). Redeeming spends a link
//! with one conditional update, so of two concurrent uses exactly one
//! succeeds.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait as _,
    ActiveValue::Set,
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect,
    sea_query::{Expr, Query},
};
use uuid::Uuid;
use voxport_domain::{
    audit::AuditEvent,
    auth::NewLinkToken,
    auth::{LinkPurpose, PasswordHash},
    ports::LinkStore,
    user::AccountId,
};

use crate::{
    SeaStore,
    audit::record,
    db_err,
    entities::{password_tokens, users},
    sessions::revoke_sessions,
};

/// An unused, unexpired link; a set-password link only while its user has
/// no password (once one is set by any means, the link is moot).
fn valid_link(hash: &str, purpose: LinkPurpose, now: DateTime<Utc>) -> Condition {
    let mut valid = Condition::all()
        .add(password_tokens::Column::TokenHash.eq(hash))
        .add(password_tokens::Column::Purpose.eq(purpose.as_str()))
        .add(password_tokens::Column::UsedAt.is_null())
        .add(password_tokens::Column::ExpiresAt.gt(now));
    if purpose == LinkPurpose::SetPassword {
        let without_password = Query::select()
            .column(users::Column::Id)
            .from(users::Entity)
            .and_where(users::Column::PasswordHash.is_null())
            .to_owned();
        valid = valid.add(password_tokens::Column::UserId.in_subquery(without_password));
    }
    valid
}

/// Retires the unused links of `user` (of `purpose`, or all): after their
/// email or password changed, or a new link was sent, a link sent earlier
/// must not set a password any more. Part of the caller's transaction.
pub(crate) async fn retire_links(
    db: &impl ConnectionTrait,
    user: Uuid,
    purpose: Option<LinkPurpose>,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    let mut retire = password_tokens::Entity::update_many()
        .col_expr(password_tokens::Column::UsedAt, Expr::value(crate::stamp(now)))
        .filter(password_tokens::Column::UserId.eq(user))
        .filter(password_tokens::Column::UsedAt.is_null());
    if let Some(purpose) = purpose {
        retire = retire.filter(password_tokens::Column::Purpose.eq(purpose.as_str()));
    }
    retire.exec(db).await.map_err(|e| db_err(e, "retiring links"))?;
    Ok(())
}

/// Stores a new link, retiring the user's unused ones of the same
/// purpose. Part of the caller's transaction.
pub(crate) async fn insert_link(db: &impl ConnectionTrait, link: NewLinkToken) -> anyhow::Result<()> {
    retire_links(db, link.user_id, Some(link.purpose), link.created_at).await?;
    store_link(db, link).await
}

/// Stores a new link of a user who has no other yet. Part of the
/// caller's transaction.
pub(crate) async fn store_link(db: &impl ConnectionTrait, link: NewLinkToken) -> anyhow::Result<()> {
    password_tokens::ActiveModel {
        id: Set(Uuid::now_v7()),
        user_id: Set(link.user_id),
        purpose: Set(link.purpose.as_str().to_owned()),
        token_hash: Set(link.hash),
        created_at: Set(crate::stamp(link.created_at)),
        expires_at: Set(crate::stamp(link.expires_at)),
        used_at: Set(None),
    }
    .insert(db)
    .await
    .map_err(|e| db_err(e, "storing a link"))?;
    Ok(())
}

impl LinkStore for SeaStore {
    async fn link_owner(
        &self,
        hash: &str,
        purpose: LinkPurpose,
        now: DateTime<Utc>,
    ) -> anyhow::Result<Option<AccountId>> {
        let Some(link) = password_tokens::Entity::find()
            .filter(valid_link(hash, purpose, now))
            .one(&self.db)
            .await
            .map_err(|e| db_err(e, "looking up a link"))?
        else {
            return Ok(None);
        };
        let tenant: Option<Uuid> = users::Entity::find_by_id(link.user_id)
            .select_only()
            .column(users::Column::TenantId)
            .into_tuple()
            .one(&self.db)
            .await
            .map_err(|e| db_err(e, "loading a link's user"))?;
        Ok(tenant.map(|tenant_id| AccountId { tenant_id, user_id: link.user_id }))
    }

    async fn redeem_link(
        &self,
        hash: &str,
        purpose: LinkPurpose,
        password: PasswordHash,
        now: DateTime<Utc>,
        audit: &AuditEvent,
    ) -> anyhow::Result<bool> {
        let (txn, _writing) = self.begin_write().await?;
        let Some(link) = password_tokens::Entity::find()
            .filter(valid_link(hash, purpose, now))
            .one(&txn)
            .await
            .map_err(|e| db_err(e, "looking up a link"))?
        else {
            return Ok(false);
        };
        // Conditional, so of two concurrent uses exactly one spends it.
        let spent = password_tokens::Entity::update_many()
            .col_expr(password_tokens::Column::UsedAt, Expr::value(crate::stamp(now)))
            .filter(password_tokens::Column::Id.eq(link.id))
            .filter(password_tokens::Column::UsedAt.is_null())
            .exec(&txn)
            .await
            .map_err(|e| db_err(e, "spending a link"))?;
        if spent.rows_affected != 1 {
            return Ok(false);
        }
        users::Entity::update_many()
            .col_expr(users::Column::PasswordHash, Expr::value(password.as_phc().to_owned()))
            .col_expr(users::Column::UpdatedAt, Expr::value(crate::stamp(now)))
            .filter(users::Column::Id.eq(link.user_id))
            .exec(&txn)
            .await
            .map_err(|e| db_err(e, "storing a password hash"))?;
        revoke_sessions(&txn, link.user_id, None, now).await.map_err(|e| db_err(e, "ending sessions"))?;
        retire_links(&txn, link.user_id, None, now).await?;
        record(&txn, audit, None).await?;
        txn.commit().await.map_err(|e| db_err(e, "committing a password set through a link"))?;
        Ok(true)
    }
}
