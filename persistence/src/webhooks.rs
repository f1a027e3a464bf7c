//! Webhooks, the outbox of their deliveries and the attempts made. A
//! webhook's deliveries, and theirs attempts, cascade with it.
//!
//! [`enqueue`] writes the deliveries of an event inside the transaction of
//! the change it announces (the audit write calls it), so a change and the
//! news of it commit together or not at all.

use std::collections::HashMap;

use anyhow::{Context as _, anyhow};
use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait as _,
    ActiveValue::Set,
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, IntoActiveModel as _, Order, PaginatorTrait as _,
    QueryFilter, QueryOrder, QuerySelect,
    sea_query::{Expr, ExprTrait as _, LockBehavior, LockType, Query},
};
use serde_json::Value;
use uuid::Uuid;
use voxport_domain::{
    audit::AuditEvent,
    paging::{Page, PageRequest},
    ports::{QueuedEmail, WebhookStore},
    values::Label,
    webhook::{
        ClaimedDelivery, DISABLED_FOR_FAILING, DeliveryAttempt, DeliveryBusy, DeliveryOutcome, DeliveryState,
        NewWebhook, Recorded, Webhook, WebhookChanges, WebhookDelivery, WebhookEvent, WebhookEventType,
    },
};

use crate::{
    SeaStore,
    audit::record,
    db_err,
    entities::{webhook_attempts, webhook_deliveries, webhooks},
    outbox,
};

fn webhook(m: webhooks::Model) -> anyhow::Result<Webhook> {
    Ok(Webhook {
        id: m.id,
        tenant_id: m.tenant_id,
        url: m.url,
        description: (!m.description.is_empty())
            .then(|| Label::parse(&m.description).with_context(|| format!("webhook {} description", m.id)))
            .transpose()?,
        event_types: event_types(&m.event_types),
        enabled: m.enabled,
        failing_since: m.failing_since,
        disabled_reason: m.disabled_reason,
        created_by: m.created_by,
        created_at: m.created_at,
        updated_at: m.updated_at,
    })
}

/// The stored list; a type a later release dropped is skipped.
fn event_types(stored: &str) -> Vec<WebhookEventType> {
    stored.split_whitespace().filter_map(WebhookEventType::parse).collect()
}

fn event_types_to_text(types: &[WebhookEventType]) -> String {
    types.iter().map(|t| t.code()).collect::<Vec<_>>().join(" ")
}

/// The switched-on webhooks of one tenant, read once for a transaction
/// that records many events (an import): what [`enqueue`] would read for
/// each. Read when first needed, so its locks are the transaction's.
#[derive(Debug, Default)]
pub(crate) struct Subscribers {
    read: Option<(Uuid, Vec<webhooks::Model>)>,
}

impl Subscribers {
    async fn of(&mut self, db: &impl ConnectionTrait, tenant: Uuid) -> anyhow::Result<&[webhooks::Model]> {
        if self.read.as_ref().is_none_or(|(t, _)| *t != tenant) {
            self.read = Some((tenant, subscribed(db, tenant).await?));
        }
        Ok(self.read.as_ref().map(|(_, hooks)| hooks.as_slice()).unwrap_or_default())
    }

    /// Whether they have been read: the caller forgets them when the
    /// savepoint they were read (and locked) in is rolled back.
    pub(crate) fn is_read(&self) -> bool {
        self.read.is_some()
    }

    pub(crate) fn forget(&mut self) {
        self.read = None;
    }
}

/// The switched-on webhooks of `tenant`, share-locked: a webhook deleted
/// meanwhile waits for this transaction instead of breaking its
/// deliveries' foreign key.
async fn subscribed(db: &impl ConnectionTrait, tenant: Uuid) -> anyhow::Result<Vec<webhooks::Model>> {
    webhooks::Entity::find()
        .filter(webhooks::Column::TenantId.eq(tenant))
        .filter(webhooks::Column::Enabled.eq(true))
        .lock(LockType::Share)
        .all(db)
        .await
        .map_err(|e| db_err(e, "finding the webhooks to tell"))
}

/// Writes a delivery of each of `events` to every switched-on webhook of
/// `tenant` subscribed to its type. Part of the caller's transaction.
pub(crate) async fn enqueue(db: &impl ConnectionTrait, tenant: Uuid, events: &[WebhookEvent]) -> anyhow::Result<()> {
    enqueue_to(db, tenant, events, &mut Subscribers::default()).await
}

/// [`enqueue`], with the webhooks read once for the transaction.
pub(crate) async fn enqueue_to(
    db: &impl ConnectionTrait,
    tenant: Uuid,
    events: &[WebhookEvent],
    subscribers: &mut Subscribers,
) -> anyhow::Result<()> {
    if events.is_empty() {
        return Ok(());
    }
    let subscribed = subscribers.of(db, tenant).await?;
    let mut rows = Vec::new();
    for hook in subscribed {
        let wanted = event_types(&hook.event_types);
        for event in events.iter().filter(|e| wanted.contains(&e.event_type)) {
            let mut event = event.clone();
            if let Value::Object(data) = &mut event.data {
                data.insert("tenant_id".to_owned(), Value::String(tenant.to_string()));
            }
            let at = crate::stamp(event.occurred_at);
            rows.push(webhook_deliveries::ActiveModel {
                id: Set(Uuid::now_v7()),
                webhook_id: Set(hook.id),
                tenant_id: Set(tenant),
                event_type: Set(event.event_type.code().to_owned()),
                payload: Set(event.body()),
                state: Set(DeliveryState::Pending.as_str().to_owned()),
                attempts: Set(0),
                next_attempt_at: Set(at),
                lease_token: Set(None),
                lease_until: Set(None),
                created_at: Set(at),
                last_attempt_at: Set(None),
                delivered_at: Set(None),
            });
        }
    }
    if rows.is_empty() {
        return Ok(());
    }
    webhook_deliveries::Entity::insert_many(rows)
        .exec(db)
        .await
        .map_err(|e| db_err(e, "writing webhook deliveries"))?;
    Ok(())
}

/// The attempts of `deliveries`, oldest first.
async fn attempts_of(
    db: &impl ConnectionTrait,
    deliveries: &[Uuid],
) -> anyhow::Result<HashMap<Uuid, Vec<DeliveryAttempt>>> {
    let mut by_delivery: HashMap<Uuid, Vec<DeliveryAttempt>> = HashMap::new();
    if deliveries.is_empty() {
        return Ok(by_delivery);
    }
    let rows = webhook_attempts::Entity::find()
        .filter(webhook_attempts::Column::DeliveryId.is_in(deliveries.iter().copied()))
        .order_by(webhook_attempts::Column::AttemptedAt, Order::Asc)
        .order_by(webhook_attempts::Column::Id, Order::Asc)
        .all(db)
        .await
        .map_err(|e| db_err(e, "loading webhook attempts"))?;
    for row in rows {
        by_delivery.entry(row.delivery_id).or_default().push(DeliveryAttempt {
            attempted_at: row.attempted_at,
            status_code: row.status_code.and_then(|c| u16::try_from(c).ok()),
            duration_ms: u64::try_from(row.duration_ms).unwrap_or(0),
            error: row.error,
            succeeded: row.succeeded,
        });
    }
    Ok(by_delivery)
}

fn delivery(m: webhook_deliveries::Model, attempts: Vec<DeliveryAttempt>) -> anyhow::Result<WebhookDelivery> {
    let state = DeliveryState::parse(&m.state).ok_or_else(|| anyhow!("delivery {} state {:?}", m.id, m.state))?;
    Ok(WebhookDelivery {
        id: m.id,
        webhook_id: m.webhook_id,
        event_type: WebhookEventType::parse(&m.event_type)
            .ok_or_else(|| anyhow!("delivery {} event type {:?}", m.id, m.event_type))?,
        state,
        attempts,
        next_attempt_at: (state == DeliveryState::Pending).then_some(m.next_attempt_at),
        created_at: m.created_at,
        delivered_at: m.delivered_at,
    })
}

async fn find_webhook(db: &impl ConnectionTrait, tenant: Uuid, id: Uuid) -> anyhow::Result<Option<Webhook>> {
    webhooks::Entity::find_by_id(id)
        .filter(webhooks::Column::TenantId.eq(tenant))
        .one(db)
        .await
        .map_err(|e| db_err(e, "loading a webhook"))?
        .map(webhook)
        .transpose()
}

async fn find_delivery(db: &impl ConnectionTrait, webhook: Uuid, id: Uuid) -> anyhow::Result<Option<WebhookDelivery>> {
    let Some(row) = webhook_deliveries::Entity::find_by_id(id)
        .filter(webhook_deliveries::Column::WebhookId.eq(webhook))
        .one(db)
        .await
        .map_err(|e| db_err(e, "loading a webhook delivery"))?
    else {
        return Ok(None);
    };
    let mut attempts = attempts_of(db, &[id]).await?;
    delivery(row, attempts.remove(&id).unwrap_or_default()).map(Some)
}

impl WebhookStore for SeaStore {
    async fn list_webhooks(&self, tenant: Uuid, page: PageRequest) -> anyhow::Result<Page<Webhook>> {
        let select = webhooks::Entity::find().filter(webhooks::Column::TenantId.eq(tenant));
        let total = select.clone().count(&self.db).await.map_err(|e| db_err(e, "counting webhooks"))?;
        let items = select
            .order_by(webhooks::Column::Id, Order::Asc)
            .offset(page.offset())
            .limit(page.per_page())
            .all(&self.db)
            .await
            .map_err(|e| db_err(e, "listing webhooks"))?
            .into_iter()
            .map(webhook)
            .collect::<anyhow::Result<_>>()?;
        Ok(Page { items, total, page: page.page(), per_page: page.per_page() })
    }

    async fn webhook(&self, tenant: Uuid, id: Uuid) -> anyhow::Result<Option<Webhook>> {
        find_webhook(&self.db, tenant, id).await
    }

    async fn create_webhook(
        &self,
        tenant: Uuid,
        id: Uuid,
        new: NewWebhook,
        sealed_secret: String,
        audit: &AuditEvent,
    ) -> anyhow::Result<Webhook> {
        let at = crate::at(audit);
        let (txn, _writing) = self.begin_write().await?;
        let row = webhooks::ActiveModel {
            id: Set(id),
            tenant_id: Set(tenant),
            url: Set(new.url.as_str().to_owned()),
            description: Set(new.description.as_ref().map(|d| d.as_str().to_owned()).unwrap_or_default()),
            event_types: Set(event_types_to_text(&new.event_types)),
            enabled: Set(new.enabled),
            sealed_secret: Set(sealed_secret),
            failing_since: Set(None),
            disabled_reason: Set(None),
            created_by: Set(audit.actor_user_id),
            created_at: Set(at),
            updated_at: Set(at),
        }
        .insert(&txn)
        .await
        .map_err(|e| db_err(e, "creating a webhook"))?;
        record(&txn, audit, Some(id)).await?;
        txn.commit().await.map_err(|e| db_err(e, "committing a webhook"))?;
        webhook(row)
    }

    async fn update_webhook(
        &self,
        tenant: Uuid,
        id: Uuid,
        changes: WebhookChanges,
        audit: &AuditEvent,
    ) -> anyhow::Result<Option<Webhook>> {
        let (txn, _writing) = self.begin_write().await?;
        let Some(row) = webhooks::Entity::find_by_id(id)
            .filter(webhooks::Column::TenantId.eq(tenant))
            .one(&txn)
            .await
            .map_err(|e| db_err(e, "loading a webhook"))?
        else {
            return Ok(None);
        };
        let mut row = row.into_active_model();
        if let Some(url) = changes.url {
            // A new receiver starts with a clean record.
            row.url = Set(url.as_str().to_owned());
            row.failing_since = Set(None);
        }
        if let Some(description) = changes.description {
            row.description = Set(description.map(|d| d.as_str().to_owned()).unwrap_or_default());
        }
        if let Some(types) = changes.event_types {
            row.event_types = Set(event_types_to_text(&types));
        }
        if let Some(enabled) = changes.enabled {
            row.enabled = Set(enabled);
            // Switched on or off by a person: the failing streak starts over.
            row.failing_since = Set(None);
            row.disabled_reason = Set(None);
        }
        row.updated_at = Set(crate::at(audit));
        let row = row.update(&txn).await.map_err(|e| db_err(e, "updating a webhook"))?;
        record(&txn, audit, None).await?;
        txn.commit().await.map_err(|e| db_err(e, "committing a webhook change"))?;
        webhook(row).map(Some)
    }

    async fn delete_webhook(&self, tenant: Uuid, id: Uuid, audit: &AuditEvent) -> anyhow::Result<bool> {
        let (txn, _writing) = self.begin_write().await?;
        // Attempts and deliveries go first: SQLite enforces no cascade
        // unless its foreign keys are on.
        let deliveries = Query::select()
            .column(webhook_deliveries::Column::Id)
            .from(webhook_deliveries::Entity)
            .and_where(Expr::col(webhook_deliveries::Column::WebhookId).eq(id))
            .and_where(Expr::col(webhook_deliveries::Column::TenantId).eq(tenant))
            .to_owned();
        webhook_attempts::Entity::delete_many()
            .filter(Expr::col(webhook_attempts::Column::DeliveryId).in_subquery(deliveries))
            .exec(&txn)
            .await
            .map_err(|e| db_err(e, "deleting webhook attempts"))?;
        webhook_deliveries::Entity::delete_many()
            .filter(webhook_deliveries::Column::WebhookId.eq(id))
            .filter(webhook_deliveries::Column::TenantId.eq(tenant))
            .exec(&txn)
            .await
            .map_err(|e| db_err(e, "deleting webhook deliveries"))?;
        let deleted = webhooks::Entity::delete_many()
            .filter(webhooks::Column::Id.eq(id))
            .filter(webhooks::Column::TenantId.eq(tenant))
            .exec(&txn)
            .await
            .map_err(|e| db_err(e, "deleting a webhook"))?;
        if deleted.rows_affected == 0 {
            return Ok(false);
        }
        record(&txn, audit, None).await?;
        txn.commit().await.map_err(|e| db_err(e, "committing a webhook deletion"))?;
        Ok(true)
    }

    async fn webhook_deliveries(&self, webhook: Uuid, page: PageRequest) -> anyhow::Result<Page<WebhookDelivery>> {
        let select = webhook_deliveries::Entity::find().filter(webhook_deliveries::Column::WebhookId.eq(webhook));
        let total = select.clone().count(&self.db).await.map_err(|e| db_err(e, "counting webhook deliveries"))?;
        let rows = select
            .order_by(webhook_deliveries::Column::Id, Order::Desc)
            .offset(page.offset())
            .limit(page.per_page())
            .all(&self.db)
            .await
            .map_err(|e| db_err(e, "listing webhook deliveries"))?;
        let ids: Vec<Uuid> = rows.iter().map(|d| d.id).collect();
        let mut attempts = attempts_of(&self.db, &ids).await?;
        let items = rows
            .into_iter()
            .map(|d| {
                let theirs = attempts.remove(&d.id).unwrap_or_default();
                delivery(d, theirs)
            })
            .collect::<anyhow::Result<_>>()?;
        Ok(Page { items, total, page: page.page(), per_page: page.per_page() })
    }

    async fn retry_delivery(
        &self,
        webhook: Uuid,
        id: Uuid,
        now: DateTime<Utc>,
        audit: &AuditEvent,
    ) -> anyhow::Result<Option<Result<WebhookDelivery, DeliveryBusy>>> {
        let (txn, _writing) = self.begin_write().await?;
        let stamp = crate::stamp(now);
        let changed = webhook_deliveries::Entity::update_many()
            .col_expr(webhook_deliveries::Column::State, Expr::value(DeliveryState::Pending.as_str()))
            .col_expr(webhook_deliveries::Column::NextAttemptAt, Expr::value(crate::stamp(now)))
            .col_expr(webhook_deliveries::Column::LeaseToken, Expr::value(Option::<Uuid>::None))
            .col_expr(webhook_deliveries::Column::LeaseUntil, Expr::value(Option::<DateTime<Utc>>::None))
            .filter(webhook_deliveries::Column::Id.eq(id))
            .filter(webhook_deliveries::Column::WebhookId.eq(webhook))
            // Not while a courier holds it: its attempt would be lost.
            .filter(
                Condition::any()
                    .add(webhook_deliveries::Column::LeaseUntil.is_null())
                    .add(webhook_deliveries::Column::LeaseUntil.lte(stamp)),
            )
            .exec(&txn)
            .await
            .map_err(|e| db_err(e, "making a webhook delivery due again"))?;
        if changed.rows_affected == 0 {
            return Ok(find_delivery(&txn, webhook, id).await?.map(|_| Err(DeliveryBusy)));
        }
        record(&txn, audit, None).await?;
        let found = find_delivery(&txn, webhook, id).await?;
        txn.commit().await.map_err(|e| db_err(e, "committing a webhook retry"))?;
        Ok(found.map(Ok))
    }

    async fn claim_due_deliveries(
        &self,
        now: DateTime<Utc>,
        limit: u64,
        lease_until: DateTime<Utc>,
        lease: Uuid,
    ) -> anyhow::Result<Vec<ClaimedDelivery>> {
        // A courier polls: an idle one reads, and takes the write lock only
        // when something is due.
        let switched_on = || {
            Query::select()
                .column(webhooks::Column::Id)
                .from(webhooks::Entity)
                .and_where(Expr::col(webhooks::Column::Enabled).eq(true))
                .to_owned()
        };
        let due = || {
            Condition::all()
                .add(webhook_deliveries::Column::State.eq(DeliveryState::Pending.as_str()))
                .add(webhook_deliveries::Column::NextAttemptAt.lte(crate::stamp(now)))
                .add(
                    Condition::any()
                        .add(webhook_deliveries::Column::LeaseUntil.is_null())
                        .add(webhook_deliveries::Column::LeaseUntil.lte(crate::stamp(now))),
                )
                .add(Expr::col(webhook_deliveries::Column::WebhookId).in_subquery(switched_on()))
        };
        let any_due = webhook_deliveries::Entity::find()
            .select_only()
            .column(webhook_deliveries::Column::Id)
            .filter(due())
            .into_tuple::<Uuid>()
            .one(&self.db)
            .await
            .map_err(|e| db_err(e, "looking for due webhook deliveries"))?;
        if any_due.is_none() {
            return Ok(Vec::new());
        }
        let (txn, _writing) = self.begin_write().await?;
        let due = webhook_deliveries::Entity::find()
            .filter(due())
            .order_by(webhook_deliveries::Column::NextAttemptAt, Order::Asc)
            .order_by(webhook_deliveries::Column::Id, Order::Asc)
            .limit(limit)
            .lock_with_behavior(LockType::Update, LockBehavior::SkipLocked)
            .all(&txn)
            .await
            .map_err(|e| db_err(e, "finding due webhook deliveries"))?;
        if due.is_empty() {
            return Ok(Vec::new());
        }
        webhook_deliveries::Entity::update_many()
            .col_expr(webhook_deliveries::Column::LeaseUntil, Expr::value(crate::stamp(lease_until)))
            .col_expr(webhook_deliveries::Column::LeaseToken, Expr::value(lease))
            .filter(webhook_deliveries::Column::Id.is_in(due.iter().map(|d| d.id)))
            .exec(&txn)
            .await
            .map_err(|e| db_err(e, "leasing due webhook deliveries"))?;
        let hooks: HashMap<Uuid, webhooks::Model> = webhooks::Entity::find()
            .filter(webhooks::Column::Id.is_in(due.iter().map(|d| d.webhook_id)))
            .all(&txn)
            .await
            .map_err(|e| db_err(e, "loading the webhooks of due deliveries"))?
            .into_iter()
            .map(|w| (w.id, w))
            .collect();
        txn.commit().await.map_err(|e| db_err(e, "committing a webhook lease"))?;
        Ok(due
            .into_iter()
            .filter_map(|d| {
                let hook = hooks.get(&d.webhook_id)?;
                Some(ClaimedDelivery {
                    id: d.id,
                    webhook_id: d.webhook_id,
                    tenant_id: d.tenant_id,
                    url: hook.url.clone(),
                    sealed_secret: hook.sealed_secret.clone(),
                    payload: d.payload,
                    attempts: u32::try_from(d.attempts).unwrap_or(0),
                    failing_since: hook.failing_since,
                })
            })
            .collect())
    }

    async fn release_delivery(&self, id: Uuid, lease: Uuid) -> anyhow::Result<()> {
        webhook_deliveries::Entity::update_many()
            .col_expr(webhook_deliveries::Column::LeaseToken, Expr::value(Option::<Uuid>::None))
            .col_expr(webhook_deliveries::Column::LeaseUntil, Expr::value(Option::<DateTime<Utc>>::None))
            .filter(webhook_deliveries::Column::Id.eq(id))
            .filter(webhook_deliveries::Column::LeaseToken.eq(lease))
            .exec(&self.db)
            .await
            .map_err(|e| db_err(e, "giving back a webhook delivery's lease"))?;
        Ok(())
    }

    async fn record_webhook_attempt(
        &self,
        claimed: &ClaimedDelivery,
        lease: Uuid,
        attempt: DeliveryAttempt,
        outcome: DeliveryOutcome,
        emails: Vec<QueuedEmail>,
        audit: Option<&AuditEvent>,
    ) -> anyhow::Result<Recorded> {
        let at = crate::stamp(attempt.attempted_at);
        let (txn, _writing) = self.begin_write().await?;
        // Whether this failure switches the webhook off is decided here, on
        // what storage holds now: once, however many couriers fail at once,
        // and never for a webhook delivered to or switched on meanwhile.
        let disabled = match &outcome {
            DeliveryOutcome::Failed { disable_if_failing_since: Some(threshold), .. } => {
                webhooks::Entity::update_many()
                    .col_expr(webhooks::Column::Enabled, Expr::value(false))
                    .col_expr(webhooks::Column::DisabledReason, Expr::value(DISABLED_FOR_FAILING))
                    .col_expr(webhooks::Column::UpdatedAt, Expr::value(at))
                    .filter(webhooks::Column::Id.eq(claimed.webhook_id))
                    .filter(webhooks::Column::Enabled.eq(true))
                    .filter(webhooks::Column::FailingSince.lte(crate::stamp(*threshold)))
                    .exec(&txn)
                    .await
                    .map_err(|e| db_err(e, "switching off a failing webhook"))?
                    .rows_affected
                    > 0
            }
            _ => false,
        };
        let mut update = webhook_deliveries::Entity::update_many()
            .col_expr(webhook_deliveries::Column::Attempts, Expr::col(webhook_deliveries::Column::Attempts).add(1))
            .col_expr(webhook_deliveries::Column::LastAttemptAt, Expr::value(at))
            .col_expr(webhook_deliveries::Column::LeaseToken, Expr::value(Option::<Uuid>::None))
            .col_expr(webhook_deliveries::Column::LeaseUntil, Expr::value(Option::<DateTime<Utc>>::None));
        update = match (&outcome, disabled) {
            (DeliveryOutcome::Delivered, _) => update
                .col_expr(webhook_deliveries::Column::State, Expr::value(DeliveryState::Delivered.as_str()))
                .col_expr(webhook_deliveries::Column::DeliveredAt, Expr::value(at)),
            (DeliveryOutcome::Failed { .. }, true) => {
                update.col_expr(webhook_deliveries::Column::State, Expr::value(DeliveryState::Failed.as_str()))
            }
            (DeliveryOutcome::Failed { next_at, .. }, false) => {
                update.col_expr(webhook_deliveries::Column::NextAttemptAt, Expr::value(crate::stamp(*next_at)))
            }
        };
        let recorded = update
            .filter(webhook_deliveries::Column::Id.eq(claimed.id))
            .filter(webhook_deliveries::Column::LeaseToken.eq(lease))
            .filter(webhook_deliveries::Column::State.eq(DeliveryState::Pending.as_str()))
            .exec(&txn)
            .await
            .map_err(|e| db_err(e, "recording a webhook attempt"))?;
        if recorded.rows_affected == 0 {
            return Ok(Recorded::LeaseLost);
        }
        webhook_attempts::ActiveModel {
            id: Set(Uuid::now_v7()),
            delivery_id: Set(claimed.id),
            attempted_at: Set(at),
            status_code: Set(attempt.status_code.map(i32::from)),
            duration_ms: Set(i64::try_from(attempt.duration_ms).unwrap_or(i64::MAX)),
            error: Set(attempt.error.map(|e| e.chars().take(300).collect())),
            succeeded: Set(attempt.succeeded),
        }
        .insert(&txn)
        .await
        .map_err(|e| db_err(e, "writing a webhook attempt"))?;
        let hook = webhooks::Entity::update_many().filter(webhooks::Column::Id.eq(claimed.webhook_id));
        let result = match (&outcome, disabled) {
            (DeliveryOutcome::Delivered, _) => {
                hook.col_expr(webhooks::Column::FailingSince, Expr::value(Option::<DateTime<Utc>>::None))
                    .exec(&txn)
                    .await
                    .map_err(|e| db_err(e, "ending a webhook's failing streak"))?;
                Recorded::Delivered
            }
            (DeliveryOutcome::Failed { .. }, false) => {
                hook.col_expr(webhooks::Column::FailingSince, Expr::value(at))
                    .filter(webhooks::Column::FailingSince.is_null())
                    .exec(&txn)
                    .await
                    .map_err(|e| db_err(e, "starting a webhook's failing streak"))?;
                Recorded::Retrying
            }
            (DeliveryOutcome::Failed { .. }, true) => {
                webhook_deliveries::Entity::update_many()
                    .col_expr(webhook_deliveries::Column::State, Expr::value(DeliveryState::Failed.as_str()))
                    .col_expr(webhook_deliveries::Column::LeaseToken, Expr::value(Option::<Uuid>::None))
                    .col_expr(webhook_deliveries::Column::LeaseUntil, Expr::value(Option::<DateTime<Utc>>::None))
                    .filter(webhook_deliveries::Column::WebhookId.eq(claimed.webhook_id))
                    .filter(webhook_deliveries::Column::State.eq(DeliveryState::Pending.as_str()))
                    .exec(&txn)
                    .await
                    .map_err(|e| db_err(e, "giving up a switched-off webhook's deliveries"))?;
                for email in emails {
                    outbox::queue(&txn, email).await?;
                }
                if let Some(audit) = audit {
                    record(&txn, audit, None).await?;
                }
                Recorded::Disabled
            }
        };
        txn.commit().await.map_err(|e| db_err(e, "committing a webhook attempt"))?;
        Ok(result)
    }
}
