//! Webhooks (see [`crate::webhook`]): the administrators' and
//! integrators' side (subscribe, change, delete, read deliveries, send one
//! again), and the [`Courier`] that delivers the outbox.

use std::{future::Future, time::Duration as StdDuration};

use chrono::{DateTime, Duration, SecondsFormat, Utc};
use serde_json::json;
use uuid::Uuid;

use super::{Voxport, emails::seal_for_outbox};
use crate::{
    actor::Actor,
    audit::{AuditAction, AuditEvent, TargetType},
    crypto::SecretBox,
    email::{EmailKind, Recipient, webhook_disabled_email},
    errors::WebhookError,
    paging::{Direction, Page, PageRequest, Sort},
    permission::Permission,
    ports::{QueuedEmail, Store},
    user::{UserFilter, UserSortKey, UserStatus},
    webhook::{
        ClaimedDelivery, DeliveryAttempt, DeliveryBusy, DeliveryOutcome, NewWebhook, Recorded, Webhook, WebhookChanges,
        WebhookDelivery, WebhookSecret, WebhookWithSecret,
    },
};

impl<S: Store> Voxport<S> {
    /// # Errors
    /// When storage fails.
    pub async fn list_webhooks(&self, actor: &Actor, page: PageRequest) -> anyhow::Result<Page<Webhook>> {
        self.store.list_webhooks(actor.tenant_id, page).await
    }

    /// # Errors
    /// When storage fails.
    pub async fn webhook(&self, actor: &Actor, id: Uuid) -> anyhow::Result<Option<Webhook>> {
        self.store.webhook(actor.tenant_id, id).await
    }

    /// The networks webhooks may be sent to though not public.
    #[must_use]
    pub fn webhook_allowed_networks(&self) -> &[ipnet::IpNet] {
        &self.settings.webhook_allowed_networks
    }

    /// Subscribes a webhook; answers it with its signing secret, shown this
    /// once (it is kept sealed, to sign with).
    ///
    /// # Errors
    /// When storage fails.
    pub async fn create_webhook(
        &self,
        actor: &Actor,
        new: NewWebhook,
        now: DateTime<Utc>,
    ) -> Result<WebhookWithSecret, WebhookError> {
        let id = Uuid::now_v7();
        let secret = WebhookSecret::generate();
        let sealed = self.secrets.seal(secret.expose().as_bytes(), &WebhookSecret::context(id))?;
        let audit =
            AuditEvent::by(actor, AuditAction::WebhookCreated, TargetType::Webhook, Some(id), now).with(json!({
                "url": new.url.as_str(),
                "event_types": new.event_types.iter().map(|t| t.code()).collect::<Vec<_>>(),
                "enabled": new.enabled,
            }));
        let webhook = self.store.create_webhook(actor.tenant_id, id, new, sealed, &audit).await?;
        tracing::info!(actor = %actor.caller_id(), webhook = %id, "subscribed a webhook");
        Ok(WebhookWithSecret { webhook, secret })
    }

    /// # Errors
    /// `NotFound`.
    pub async fn update_webhook(
        &self,
        actor: &Actor,
        id: Uuid,
        changes: WebhookChanges,
        now: DateTime<Utc>,
    ) -> Result<Webhook, WebhookError> {
        let audit = AuditEvent::by(actor, AuditAction::WebhookUpdated, TargetType::Webhook, Some(id), now)
            .with(json!({"fields": changes.touched()}));
        let webhook =
            self.store.update_webhook(actor.tenant_id, id, changes, &audit).await?.ok_or(WebhookError::NotFound)?;
        tracing::info!(actor = %actor.caller_id(), webhook = %id, "changed a webhook");
        Ok(webhook)
    }

    /// # Errors
    /// `NotFound`.
    pub async fn delete_webhook(&self, actor: &Actor, id: Uuid, now: DateTime<Utc>) -> Result<(), WebhookError> {
        let audit = AuditEvent::by(actor, AuditAction::WebhookDeleted, TargetType::Webhook, Some(id), now);
        if !self.store.delete_webhook(actor.tenant_id, id, &audit).await? {
            return Err(WebhookError::NotFound);
        }
        tracing::info!(actor = %actor.caller_id(), webhook = %id, "deleted a webhook");
        Ok(())
    }

    /// The deliveries of a webhook of the actor's tenant, newest first.
    ///
    /// # Errors
    /// `NotFound`.
    pub async fn webhook_deliveries(
        &self,
        actor: &Actor,
        id: Uuid,
        page: PageRequest,
    ) -> Result<Page<WebhookDelivery>, WebhookError> {
        self.store.webhook(actor.tenant_id, id).await?.ok_or(WebhookError::NotFound)?;
        Ok(self.store.webhook_deliveries(id, page).await?)
    }

    /// Sends a delivery again (as soon as a courier is free), whatever
    /// became of it; the receiver sees the same `webhook-id`.
    ///
    /// # Errors
    /// `NotFound`, `DeliveryNotFound`, `Disabled`.
    pub async fn retry_webhook_delivery(
        &self,
        actor: &Actor,
        id: Uuid,
        delivery: Uuid,
        now: DateTime<Utc>,
    ) -> Result<WebhookDelivery, WebhookError> {
        let webhook = self.store.webhook(actor.tenant_id, id).await?.ok_or(WebhookError::NotFound)?;
        if !webhook.enabled {
            return Err(WebhookError::Disabled);
        }
        let audit = AuditEvent::by(actor, AuditAction::WebhookDeliveryRetried, TargetType::Webhook, Some(id), now)
            .with(json!({"delivery_id": delivery}));
        match self.store.retry_delivery(id, delivery, now, &audit).await? {
            None => Err(WebhookError::DeliveryNotFound),
            Some(Err(DeliveryBusy)) => Err(WebhookError::DeliveryBusy),
            Some(Ok(due)) => Ok(due),
        }
    }

    /// A courier over the same store and key.
    #[must_use]
    pub fn courier<H: WebhookSender>(&self, sender: H, settings: CourierSettings) -> Courier<S, H> {
        Courier { store: self.store.clone(), secrets: self.secrets.clone(), sender, settings }
    }
}

/// One signed POST to a webhook's URL.
#[derive(Debug, Clone)]
pub struct WebhookRequest<'a> {
    pub url: &'a str,
    /// `webhook-id`, `webhook-timestamp`, `webhook-signature`.
    pub headers: [(&'static str, String); 3],
    pub body: &'a str,
}

/// What the receiver did with a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentWebhook {
    pub status: u16,
}

/// Sends webhooks. The adapter resolves the URL's host and connects only
/// to an address [`crate::webhook::may_deliver_to`] allows, follows no
/// redirect and gives up after its timeout.
pub trait WebhookSender: Send + Sync + 'static {
    /// # Errors
    /// When there was no answer: refused address, connection, timeout.
    fn send(&self, request: WebhookRequest<'_>) -> impl Future<Output = anyhow::Result<SentWebhook>> + Send;
}

#[derive(Debug, Clone, Copy)]
pub struct CourierSettings {
    /// The longest one attempt may take (the sender's own timeout is shorter).
    pub send_timeout: StdDuration,
    /// The wait after the first failure (`VOXPORT_WEBHOOK_RETRY_SECONDS`);
    /// it doubles after each.
    pub retry_base: Duration,
    /// The longest wait between attempts.
    pub retry_cap: Duration,
    /// How long a webhook may fail without a success before it is switched
    /// off (`VOXPORT_WEBHOOK_DISABLE_AFTER_SECONDS`).
    pub disable_after: Duration,
    /// Deliveries leased per round.
    pub batch: u64,
}

impl Default for CourierSettings {
    fn default() -> Self {
        Self {
            send_timeout: StdDuration::from_secs(10),
            retry_base: Duration::seconds(30),
            retry_cap: Duration::hours(1),
            disable_after: Duration::days(3),
            batch: 20,
        }
    }
}

/// What one round of delivery did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CourierReport {
    pub delivered: u32,
    pub retrying: u32,
    pub disabled: u32,
}

/// The webhook outbox worker: leases due deliveries (so replicas never
/// send one at once), signs each, sends it and records the attempt.
pub struct Courier<S, H> {
    store: S,
    secrets: SecretBox,
    sender: H,
    settings: CourierSettings,
}

impl<S: Store, H: WebhookSender> Courier<S, H> {
    /// Sends every delivery due, batch by batch, until none is left.
    /// `clock` tells the time (tests move it forward).
    ///
    /// # Errors
    /// When storage fails; a failed send is recorded, not returned.
    pub async fn deliver_due(&self, clock: impl Fn() -> DateTime<Utc>) -> anyhow::Result<CourierReport> {
        let mut report = CourierReport::default();
        let per_send = Duration::from_std(self.settings.send_timeout).unwrap_or(Duration::seconds(10));
        let lease_for = per_send * i32::try_from(self.settings.batch).unwrap_or(i32::MAX) + Duration::seconds(30);
        loop {
            let now = clock();
            let lease = Uuid::new_v4();
            let claimed = self.store.claim_due_deliveries(now, self.settings.batch, now + lease_for, lease).await?;
            if claimed.is_empty() {
                return Ok(report);
            }
            for mut delivery in claimed {
                // The webhook as it is now, not as it was when the batch was
                // leased: deleted, switched off or moved meanwhile.
                let current = self.store.webhook(delivery.tenant_id, delivery.webhook_id).await?;
                let Some(current) = current.filter(|w| w.enabled) else {
                    self.store.release_delivery(delivery.id, lease).await?;
                    continue;
                };
                delivery.url = current.url;
                delivery.failing_since = current.failing_since;
                let attempt = self.attempt(&delivery, &clock).await;
                let outcome = self.outcome(&delivery, &attempt);
                let (emails, audit) = match &outcome {
                    DeliveryOutcome::Failed { disable_if_failing_since: Some(_), .. } => {
                        self.disabling(&delivery, attempt.attempted_at).await?
                    }
                    _ => (Vec::new(), None),
                };
                let (error, status) = (attempt.error.clone(), attempt.status_code);
                match self
                    .store
                    .record_webhook_attempt(&delivery, lease, attempt, outcome, emails, audit.as_ref())
                    .await?
                {
                    Recorded::Delivered => report.delivered += 1,
                    Recorded::Retrying => {
                        report.retrying += 1;
                        tracing::warn!(
                            delivery = %delivery.id, webhook = %delivery.webhook_id, ?error, ?status,
                            "a webhook delivery failed; will retry"
                        );
                    }
                    Recorded::Disabled => {
                        report.disabled += 1;
                        tracing::error!(
                            webhook = %delivery.webhook_id, since = ?delivery.failing_since,
                            "a webhook kept failing; switched it off"
                        );
                    }
                    Recorded::LeaseLost => {
                        tracing::warn!(delivery = %delivery.id, "a webhook delivery's lease ran out while it was sent");
                    }
                }
            }
        }
    }

    async fn attempt(&self, delivery: &ClaimedDelivery, clock: &impl Fn() -> DateTime<Utc>) -> DeliveryAttempt {
        let started = std::time::Instant::now();
        let attempted_at = clock();
        let result = match self.signed(delivery, attempted_at) {
            Ok(headers) => {
                let request = WebhookRequest { url: &delivery.url, headers, body: &delivery.payload };
                match tokio::time::timeout(self.settings.send_timeout, self.sender.send(request)).await {
                    Ok(sent) => sent,
                    Err(_) => Err(anyhow::anyhow!("timed out after {:?}", self.settings.send_timeout)),
                }
            }
            Err(e) => Err(e),
        };
        let duration_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        match result {
            Ok(SentWebhook { status }) if (200..300).contains(&status) => {
                DeliveryAttempt { attempted_at, status_code: Some(status), duration_ms, error: None, succeeded: true }
            }
            Ok(SentWebhook { status }) => DeliveryAttempt {
                attempted_at,
                status_code: Some(status),
                duration_ms,
                error: Some(format!("the receiver answered {status}")),
                succeeded: false,
            },
            Err(e) => DeliveryAttempt {
                attempted_at,
                status_code: None,
                duration_ms,
                error: Some(truncate(&format!("{e:#}"), 300)),
                succeeded: false,
            },
        }
    }

    fn signed(&self, delivery: &ClaimedDelivery, at: DateTime<Utc>) -> anyhow::Result<[(&'static str, String); 3]> {
        let secret = self.secrets.open_string(&delivery.sealed_secret, &WebhookSecret::context(delivery.webhook_id))?;
        let secret = WebhookSecret::from_stored(secret);
        let msg_id = format!("msg_{}", delivery.id.simple());
        let timestamp = at.timestamp();
        let signature = secret.sign(&msg_id, timestamp, delivery.payload.as_bytes())?;
        Ok([
            (standardwebhooks::HEADER_WEBHOOK_ID, msg_id),
            (standardwebhooks::HEADER_WEBHOOK_TIMESTAMP, timestamp.to_string()),
            (standardwebhooks::HEADER_WEBHOOK_SIGNATURE, signature),
        ])
    }

    fn outcome(&self, delivery: &ClaimedDelivery, attempt: &DeliveryAttempt) -> DeliveryOutcome {
        if attempt.succeeded {
            return DeliveryOutcome::Delivered;
        }
        let threshold = attempt.attempted_at - self.settings.disable_after;
        DeliveryOutcome::Failed {
            next_at: attempt.attempted_at + backoff(&self.settings, delivery.attempts + 1),
            // Storage decides again in the recording transaction, on what
            // it holds then.
            disable_if_failing_since: delivery.failing_since.filter(|since| *since <= threshold).map(|_| threshold),
        }
    }

    /// The emails to the tenant's webhook administrators (active people
    /// holding `webhooks:write`) and the audit event of switching a
    /// webhook off.
    async fn disabling(
        &self,
        delivery: &ClaimedDelivery,
        now: DateTime<Utc>,
    ) -> anyhow::Result<(Vec<QueuedEmail>, Option<AuditEvent>)> {
        let since = delivery.failing_since.unwrap_or(now).to_rfc3339_opts(SecondsFormat::Secs, true);
        let mut emails = Vec::new();
        let by_login = Sort { key: UserSortKey::Login, direction: Direction::Asc };
        let mut roles_page = Some(PageRequest::walk());
        while let Some(this) = roles_page {
            let roles = self.store.list_roles(delivery.tenant_id, this).await?;
            for role in roles.items.iter().filter(|r| r.permissions.contains(Permission::WebhooksWrite)) {
                let filter =
                    UserFilter { role_id: Some(role.id), status: Some(UserStatus::Active), ..UserFilter::default() };
                let mut page = Some(PageRequest::walk());
                while let Some(this) = page {
                    let users = self.store.list_users(delivery.tenant_id, &filter, by_login, this, now).await?;
                    for user in &users.items {
                        let to = Recipient::from(user);
                        if let Some(message) = webhook_disabled_email(&to, (delivery.webhook_id, &delivery.url), &since)
                        {
                            let email =
                                seal_for_outbox(&self.secrets, message, EmailKind::WebhookDisabled, user.id, now)?;
                            emails.push(QueuedEmail { email, link: None });
                        }
                    }
                    page = this.following(users.total);
                }
            }
            roles_page = this.following(roles.total);
        }
        let audit = AuditEvent {
            target_type: Some(TargetType::Webhook),
            target_id: Some(delivery.webhook_id),
            ..AuditEvent::anonymous(AuditAction::WebhookDisabledForFailing, Some(delivery.tenant_id), None, None, now)
        }
        .with(json!({"failing_since": since, "admins_told": emails.len()}));
        Ok((emails, Some(audit)))
    }
}

fn truncate(s: &str, max: usize) -> String {
    s.chars().take(max).collect()
}

/// The wait after the `attempts`-th failure: base, 2 × base, 4 × base…
/// up to the cap.
fn backoff(settings: &CourierSettings, attempts: u32) -> Duration {
    let factor = 2i32.saturating_pow(attempts.saturating_sub(1));
    settings.retry_base.checked_mul(factor).unwrap_or(settings.retry_cap).min(settings.retry_cap)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let settings = CourierSettings { retry_base: Duration::seconds(1), ..CourierSettings::default() };
        let waits: Vec<i64> =
            [1, 2, 3, 4, 12, 13, 40].into_iter().map(|n| backoff(&settings, n).num_seconds()).collect();
        assert_eq!(waits, [1, 2, 4, 8, 2048, 3600, 3600]);
    }
}
