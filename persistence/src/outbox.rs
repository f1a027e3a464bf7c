//! The email outbox.
//!
//! A worker claims due rows in a short transaction: `SELECT … FOR UPDATE
//! SKIP LOCKED` on PostgreSQL (SQLite ignores the clause; its write lock,
//! taken at `BEGIN IMMEDIATE`, serialises claimers instead), then sets a
//! lease (`locked_until`) and commits. It sends outside any transaction
//! and records the outcome, which ends the lease. A worker that dies
//! mid-send leaves a lease that runs out, and the row is tried again:
//! delivery is at least once, and never by two replicas at the same time.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait as _,
    ActiveValue::Set,
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, Order, PaginatorTrait as _, QueryFilter, QueryOrder,
    QuerySelect,
    sea_query::{Expr, ExprTrait as _, LockBehavior, LockType, Query},
};
use uuid::Uuid;
use voxport_domain::{
    audit::AuditEvent,
    email::{ClaimedEmail, Delivery, EmailKind, EmailStatus, OutboxEmail},
    paging::{Page, PageRequest},
    ports::{OutboxStore, QueuedEmail},
};

use crate::{
    SeaStore,
    audit::record,
    db_err,
    entities::{outbox, users},
    links::{insert_link, store_link},
};

/// The longest error text kept per row.
const MAX_ERROR_CHARS: usize = 500;

/// Writes an email and its link; a new link replaces the user's unused
/// ones of the same purpose. Part of the caller's transaction.
pub(crate) async fn queue(db: &impl ConnectionTrait, queued: QueuedEmail) -> anyhow::Result<()> {
    queue_to(db, queued, false).await
}

/// [`queue`]; `new_user`: the user was created in this transaction, so
/// they have no earlier link to retire.
pub(crate) async fn queue_to(db: &impl ConnectionTrait, queued: QueuedEmail, new_user: bool) -> anyhow::Result<()> {
    let QueuedEmail { email, link } = queued;
    match link {
        Some(link) if new_user => store_link(db, link).await?,
        Some(link) => insert_link(db, link).await?,
        None => {}
    }
    outbox::ActiveModel {
        id: Set(email.id),
        user_id: Set(email.user_id),
        kind: Set(email.kind.as_str().to_owned()),
        recipient: Set(email.recipient),
        subject: Set(email.subject),
        body: Set(email.sealed_body),
        status: Set(EmailStatus::Pending.as_str().to_owned()),
        attempts: Set(0),
        next_attempt_at: Set(crate::stamp(email.created_at)),
        locked_until: Set(None),
        lease: Set(None),
        last_error: Set(None),
        created_at: Set(crate::stamp(email.created_at)),
        sent_at: Set(None),
    }
    .insert(db)
    .await
    .map_err(|e| db_err(e, "writing an email to the outbox"))?;
    Ok(())
}

fn email(m: outbox::Model) -> anyhow::Result<OutboxEmail> {
    let status =
        EmailStatus::parse(&m.status).ok_or_else(|| anyhow::anyhow!("email {} has status {:?}", m.id, m.status))?;
    Ok(OutboxEmail {
        id: m.id,
        user_id: m.user_id,
        kind: EmailKind::parse(&m.kind).ok_or_else(|| anyhow::anyhow!("email {} has kind {:?}", m.id, m.kind))?,
        recipient: m.recipient,
        subject: m.subject,
        status,
        attempts: u32::try_from(m.attempts).unwrap_or(0),
        last_error: m.last_error,
        next_attempt_at: (status == EmailStatus::Pending).then_some(m.next_attempt_at),
        created_at: m.created_at,
        sent_at: m.sent_at,
    })
}

impl OutboxStore for SeaStore {
    async fn emails_of(&self, tenant: Uuid, user: Uuid, page: PageRequest) -> anyhow::Result<Page<OutboxEmail>> {
        let of_tenant = Query::select()
            .column(users::Column::Id)
            .from(users::Entity)
            .and_where(users::Column::TenantId.eq(tenant))
            .to_owned();
        let select = outbox::Entity::find()
            .filter(outbox::Column::UserId.eq(user))
            .filter(outbox::Column::UserId.in_subquery(of_tenant));
        let total = select.clone().count(&self.db).await.map_err(|e| db_err(e, "counting emails"))?;
        let rows = select
            .order_by(outbox::Column::CreatedAt, Order::Desc)
            .order_by(outbox::Column::Id, Order::Desc)
            .offset(page.offset())
            .limit(page.per_page())
            .all(&self.db)
            .await
            .map_err(|e| db_err(e, "listing emails"))?;
        let items = rows.into_iter().map(email).collect::<anyhow::Result<_>>()?;
        Ok(Page { items, total, page: page.page(), per_page: page.per_page() })
    }

    async fn queue_email(&self, queued: QueuedEmail, audit: &AuditEvent) -> anyhow::Result<()> {
        let (txn, _writing) = self.begin_write().await?;
        queue(&txn, queued).await?;
        record(&txn, audit, None).await?;
        txn.commit().await.map_err(|e| db_err(e, "committing an email"))
    }

    async fn claim_due_emails(
        &self,
        now: DateTime<Utc>,
        limit: u64,
        lease_until: DateTime<Utc>,
        lease: Uuid,
    ) -> anyhow::Result<Vec<ClaimedEmail>> {
        let (txn, _writing) = self.begin_write().await?;
        let due = outbox::Entity::find()
            .filter(outbox::Column::Status.eq(EmailStatus::Pending.as_str()))
            .filter(outbox::Column::NextAttemptAt.lte(now))
            .filter(
                Condition::any().add(outbox::Column::LockedUntil.is_null()).add(outbox::Column::LockedUntil.lte(now)),
            )
            .order_by(outbox::Column::NextAttemptAt, Order::Asc)
            .limit(limit)
            .lock_with_behavior(LockType::Update, LockBehavior::SkipLocked)
            .all(&txn)
            .await
            .map_err(|e| db_err(e, "finding due emails"))?;
        if due.is_empty() {
            return Ok(Vec::new());
        }
        outbox::Entity::update_many()
            .col_expr(outbox::Column::LockedUntil, Expr::value(crate::stamp(lease_until)))
            .col_expr(outbox::Column::Lease, Expr::value(lease))
            .filter(outbox::Column::Id.is_in(due.iter().map(|m| m.id)))
            .exec(&txn)
            .await
            .map_err(|e| db_err(e, "leasing due emails"))?;
        txn.commit().await.map_err(|e| db_err(e, "committing an email lease"))?;
        Ok(due
            .into_iter()
            .map(|m| ClaimedEmail { id: m.id, attempts: u32::try_from(m.attempts).unwrap_or(0), sealed_body: m.body })
            .collect())
    }

    async fn record_delivery(&self, id: Uuid, lease: Uuid, delivery: Delivery) -> anyhow::Result<bool> {
        let clip = |error: String| error.chars().take(MAX_ERROR_CHARS).collect::<String>();
        let mut update = outbox::Entity::update_many()
            .col_expr(outbox::Column::Attempts, Expr::col(outbox::Column::Attempts).add(1))
            .col_expr(outbox::Column::LockedUntil, Expr::value(Option::<DateTime<Utc>>::None))
            .col_expr(outbox::Column::Lease, Expr::value(Option::<Uuid>::None));
        update = match delivery {
            Delivery::Sent { at } => update
                .col_expr(outbox::Column::Status, Expr::value(EmailStatus::Sent.as_str()))
                .col_expr(outbox::Column::SentAt, Expr::value(crate::stamp(at)))
                .col_expr(outbox::Column::LastError, Expr::value(Option::<String>::None)),
            Delivery::Retry { error, next_at } => update
                .col_expr(outbox::Column::LastError, Expr::value(clip(error)))
                .col_expr(outbox::Column::NextAttemptAt, Expr::value(crate::stamp(next_at))),
            Delivery::GaveUp { error } => update
                .col_expr(outbox::Column::Status, Expr::value(EmailStatus::Failed.as_str()))
                .col_expr(outbox::Column::LastError, Expr::value(clip(error))),
        };
        let res = update
            .filter(outbox::Column::Id.eq(id))
            .filter(outbox::Column::Lease.eq(lease))
            .exec(&self.db)
            .await
            .map_err(|e| db_err(e, "recording a delivery"))?;
        Ok(res.rows_affected == 1)
    }

    async fn outbox_backlog(&self) -> anyhow::Result<(u64, Option<DateTime<Utc>>)> {
        let pending = outbox::Entity::find().filter(outbox::Column::Status.eq(EmailStatus::Pending.as_str()));
        let count = pending.clone().count(&self.db).await.map_err(|e| db_err(e, "counting waiting emails"))?;
        let oldest: Option<DateTime<Utc>> = pending
            .select_only()
            .column(outbox::Column::CreatedAt)
            .order_by(outbox::Column::CreatedAt, Order::Asc)
            .into_tuple()
            .one(&self.db)
            .await
            .map_err(|e| db_err(e, "finding the oldest waiting email"))?;
        Ok((count, oldest))
    }
}
