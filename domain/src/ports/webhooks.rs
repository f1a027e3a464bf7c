//! Webhooks, their outbox of deliveries and the attempts made (see
//! `crate::webhook`). Deliveries are written by storage itself, in the
//! transaction of each change an audit event records.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::{
    audit::AuditEvent,
    paging::{Page, PageRequest},
    ports::QueuedEmail,
    webhook::{
        ClaimedDelivery, DeliveryAttempt, DeliveryBusy, DeliveryOutcome, NewWebhook, Recorded, Webhook, WebhookChanges,
        WebhookDelivery,
    },
};

pub trait WebhookStore {
    /// The webhooks of `tenant`, oldest first.
    ///
    /// # Errors
    /// When storage fails.
    fn list_webhooks(
        &self,
        tenant: Uuid,
        page: PageRequest,
    ) -> impl Future<Output = anyhow::Result<Page<Webhook>>> + Send;

    /// # Errors
    /// When storage fails.
    fn webhook(&self, tenant: Uuid, id: Uuid) -> impl Future<Output = anyhow::Result<Option<Webhook>>> + Send;

    /// Creates webhook `id` with its secret sealed under
    /// `WebhookSecret::context(id)`.
    ///
    /// # Errors
    /// When storage fails.
    fn create_webhook(
        &self,
        tenant: Uuid,
        id: Uuid,
        new: NewWebhook,
        sealed_secret: String,
        audit: &AuditEvent,
    ) -> impl Future<Output = anyhow::Result<Webhook>> + Send;

    /// Changes a webhook; switching it on forgets that it was failing.
    ///
    /// # Errors
    /// When storage fails; `None` when there is no such webhook.
    fn update_webhook(
        &self,
        tenant: Uuid,
        id: Uuid,
        changes: WebhookChanges,
        audit: &AuditEvent,
    ) -> impl Future<Output = anyhow::Result<Option<Webhook>>> + Send;

    /// Deletes a webhook with its deliveries; answers whether it existed.
    ///
    /// # Errors
    /// When storage fails.
    fn delete_webhook(
        &self,
        tenant: Uuid,
        id: Uuid,
        audit: &AuditEvent,
    ) -> impl Future<Output = anyhow::Result<bool>> + Send;

    /// The deliveries of a webhook, newest first, with their attempts.
    ///
    /// # Errors
    /// When storage fails.
    fn webhook_deliveries(
        &self,
        webhook: Uuid,
        page: PageRequest,
    ) -> impl Future<Output = anyhow::Result<Page<WebhookDelivery>>> + Send;

    /// Makes a delivery of `webhook` due at `now` again, whatever it
    /// reached, unless a courier is sending it right now; `None` when the
    /// webhook has no such delivery.
    ///
    /// # Errors
    /// When storage fails.
    fn retry_delivery(
        &self,
        webhook: Uuid,
        delivery: Uuid,
        now: DateTime<Utc>,
        audit: &AuditEvent,
    ) -> impl Future<Output = anyhow::Result<Option<Result<WebhookDelivery, DeliveryBusy>>>> + Send;

    /// Leases up to `limit` deliveries of switched-on webhooks due at
    /// `now` until `lease_until` under `lease`. Concurrent couriers (other
    /// replicas) never lease the same row: `FOR UPDATE SKIP LOCKED` on
    /// PostgreSQL, the write lock on SQLite.
    ///
    /// # Errors
    /// When storage fails.
    fn claim_due_deliveries(
        &self,
        now: DateTime<Utc>,
        limit: u64,
        lease_until: DateTime<Utc>,
        lease: Uuid,
    ) -> impl Future<Output = anyhow::Result<Vec<ClaimedDelivery>>> + Send;

    /// Gives back the lease of a delivery not sent after all (its webhook
    /// was switched off or deleted meanwhile).
    ///
    /// # Errors
    /// When storage fails.
    fn release_delivery(&self, id: Uuid, lease: Uuid) -> impl Future<Output = anyhow::Result<()>> + Send;

    /// Records an attempt and its outcome and ends the lease, in one
    /// transaction: a success ends the webhook's failing streak, a failure
    /// starts it; a failure that switches the webhook off (see
    /// [`DeliveryOutcome::Failed`]) gives up its waiting deliveries and
    /// writes `emails` and `audit`, once however many couriers try.
    ///
    /// # Errors
    /// When storage fails.
    fn record_webhook_attempt(
        &self,
        claimed: &ClaimedDelivery,
        lease: Uuid,
        attempt: DeliveryAttempt,
        outcome: DeliveryOutcome,
        emails: Vec<QueuedEmail>,
        audit: Option<&AuditEvent>,
    ) -> impl Future<Output = anyhow::Result<Recorded>> + Send;
}
