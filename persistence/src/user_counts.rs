//! Each tenant's number of users, so that a list of a whole tenant does
//! not count them on every page (migration
//! `m20261204_000021_user_counts`).
//!
//! A transaction that creates or deletes users notes how many in
//! [`Added`] and writes it as its last statement before the commit: on
//! PostgreSQL the row's lock is then held only while the transaction
//! commits, and no transaction waits for anything else while holding it,
//! so concurrent creations in one tenant queue for a moment and never
//! deadlock. Writing it per user instead would update one row once per
//! user of a 100,000-row import, in one transaction: PostgreSQL keeps
//! every version of it until the commit, and the updates took 72 s.

use std::collections::BTreeMap;

use sea_orm::{
    ActiveModelTrait as _, ColumnTrait as _, ConnectionTrait, DbErr, EntityTrait as _, QueryFilter as _, Set,
    sea_query::{Expr, ExprTrait as _},
};
use uuid::Uuid;

use crate::entities::tenant_user_counts;

/// The users a transaction added to (or, negative, removed from) each
/// tenant, in the order of the tenants' ids.
#[derive(Debug, Clone, Default)]
pub(crate) struct Added(BTreeMap<Uuid, i64>);

impl Added {
    pub(crate) fn note(&mut self, tenant: Uuid, users: i64) {
        *self.0.entry(tenant).or_default() += users;
    }

    /// Adds what was noted to each tenant's count, in the order of their
    /// ids (two transactions never take the rows in opposite orders).
    /// Part of the caller's transaction, as its last write.
    pub(crate) async fn write(&self, db: &impl ConnectionTrait) -> Result<(), DbErr> {
        for (tenant, users) in self.0.iter().filter(|(_, users)| **users != 0) {
            add(db, *tenant, *users).await?;
        }
        Ok(())
    }
}

/// Adds `users` (negative: removes them) to a tenant's count, as the
/// last write of the caller's transaction (see the module comment).
pub(crate) async fn add(db: &impl ConnectionTrait, tenant: Uuid, users: i64) -> Result<(), DbErr> {
    tenant_user_counts::Entity::update_many()
        .col_expr(tenant_user_counts::Column::Users, Expr::col(tenant_user_counts::Column::Users).add(users))
        .filter(tenant_user_counts::Column::TenantId.eq(tenant))
        .exec(db)
        .await
        .map(drop)
}

/// Starts the count of a new tenant at `users`.
pub(crate) async fn start(db: &impl ConnectionTrait, tenant: Uuid, users: i64) -> Result<(), DbErr> {
    tenant_user_counts::ActiveModel { tenant_id: Set(tenant), users: Set(users) }.insert(db).await.map(drop)
}

/// A tenant's number of users, when it has a count.
pub(crate) async fn of(db: &impl ConnectionTrait, tenant: Uuid) -> Result<Option<u64>, DbErr> {
    Ok(tenant_user_counts::Entity::find_by_id(tenant).one(db).await?.map(|row| u64::try_from(row.users).unwrap_or(0)))
}
