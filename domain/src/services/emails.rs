//! Welcome emails, set-password links and the outbox worker (PRODUCT.md
//! rule 5; SECURITY.md "Reliability").
//!
//! Emails are written to the outbox in the transaction of the change that
//! causes them. [`Postman`] delivers them: it leases due rows (so replicas
//! never send one twice), opens each body, hands it to the [`Mailer`] with
//! a timeout, and records the outcome: sent, retry later with exponential
//! backoff, or given up after the last attempt.

use std::{future::Future, time::Duration as StdDuration};

use chrono::{DateTime, Duration, Utc};
use serde_json::json;
use uuid::Uuid;

use super::Voxport;
use crate::{
    actor::Actor,
    audit::{AuditAction, AuditEvent, TargetType},
    auth::{LinkPurpose, LinkToken, NewLinkToken},
    crypto::SecretBox,
    email::{
        ClaimedEmail, Delivery, EmailKind, EmailMessage, NewOutboxEmail, OutboxEmail, Recipient, Welcome,
        password_reset_email, welcome_email,
    },
    errors::{SendEmailError, SetPasswordError},
    paging::{Page, PageRequest},
    ports::{QueuedEmail, Store},
};

impl<S: Store> Voxport<S> {
    /// The welcome email of `user`, sealed for the outbox, with a fresh
    /// set-password link when `with_link`; `None` without an address.
    pub(super) fn welcome(
        &self,
        user: Recipient<'_>,
        tenant_name: &str,
        with_link: bool,
        now: DateTime<Utc>,
    ) -> anyhow::Result<Option<QueuedEmail>> {
        let token = with_link.then(LinkToken::generate);
        let link = token.as_ref().map(|t| self.link_url("set-password", t));
        let user_id = user.user_id;
        let message = welcome_email(&Welcome {
            to: user,
            tenant_name,
            portal_url: self.portal_url(),
            set_password_link: link.as_deref().zip(token.as_ref().map(LinkToken::expose)),
            link_hours: self.settings.link_lifetime.num_hours(),
        });
        let Some(message) = message else { return Ok(None) };
        let link = token.as_ref().map(|t| (t, LinkPurpose::SetPassword));
        self.sealed_email(message, EmailKind::Welcome, user_id, link, now).map(Some)
    }

    /// The reset email of `user` with a fresh single-use link, sealed for
    /// the outbox; `None` without an address.
    pub(super) fn password_reset(
        &self,
        user: Recipient<'_>,
        now: DateTime<Utc>,
    ) -> anyhow::Result<Option<QueuedEmail>> {
        let token = LinkToken::generate();
        let link = self.link_url("reset-password", &token);
        let hours = self.settings.link_lifetime.num_hours();
        let Some(message) = password_reset_email(&user, self.portal_url(), (&link, token.expose()), hours) else {
            return Ok(None);
        };
        let link = Some((&token, LinkPurpose::ResetPassword));
        self.sealed_email(message, EmailKind::PasswordReset, user.user_id, link, now).map(Some)
    }

    /// `message` sealed for the outbox, with the single-use link it carries.
    fn sealed_email(
        &self,
        message: EmailMessage,
        kind: EmailKind,
        user_id: Uuid,
        link: Option<(&LinkToken, LinkPurpose)>,
        now: DateTime<Utc>,
    ) -> anyhow::Result<QueuedEmail> {
        Ok(QueuedEmail {
            email: seal_for_outbox(&self.secrets, message, kind, user_id, now)?,
            link: link.map(|(token, purpose)| NewLinkToken {
                user_id,
                purpose,
                hash: LinkToken::hash_of(token.expose()),
                created_at: now,
                expires_at: now + self.settings.link_lifetime,
            }),
        })
    }

    fn portal_url(&self) -> &str {
        self.settings.portal_url.trim_end_matches('/')
    }

    /// The portal page that takes a link's token.
    fn link_url(&self, page: &str, token: &LinkToken) -> String {
        format!("{}/{page}#token={}", self.portal_url(), token.expose())
    }

    /// Writes the welcome email of a user again, with a new set-password
    /// link (replacing any unused one) while they have no password.
    ///
    /// # Errors
    /// See [`SendEmailError`].
    pub async fn resend_welcome_email(
        &self,
        actor: &Actor,
        user: Uuid,
        now: DateTime<Utc>,
    ) -> Result<OutboxEmail, SendEmailError> {
        let target = self.target::<SendEmailError>(actor, user).await?;
        let tenant = self.own_tenant(actor).await?;
        let has_password = self.store.password_hash(user).await?.is_some();
        let queued =
            self.welcome((&target).into(), tenant.name.as_str(), !has_password, now)?.ok_or(SendEmailError::NoEmail)?;
        let queued_view = OutboxEmail::queued(&queued.email);
        let audit = AuditEvent::by(actor, AuditAction::WelcomeEmailQueued, TargetType::User, Some(user), now)
            .with(json!({"email_id": queued_view.id, "with_link": !has_password}));
        self.store.queue_email(queued, &audit).await?;
        self.outbox.notify_one();
        tracing::info!(actor = %actor.caller_id(), user = %user, email = %queued_view.id, "queued a welcome email again");
        Ok(queued_view)
    }

    /// The emails written for a user of the actor's tenant; `None` when
    /// there is no such user.
    ///
    /// # Errors
    /// When storage fails.
    pub async fn emails_of(
        &self,
        actor: &Actor,
        user: Uuid,
        page: PageRequest,
    ) -> anyhow::Result<Option<Page<OutboxEmail>>> {
        if self.store.user(actor.tenant_id, user).await?.is_none() {
            return Ok(None);
        }
        Ok(Some(self.store.emails_of(actor.tenant_id, user, page).await?))
    }

    /// How many emails wait in the outbox, and since when the oldest waits.
    ///
    /// # Errors
    /// When storage fails.
    pub async fn outbox_backlog(&self) -> anyhow::Result<(u64, Option<DateTime<Utc>>)> {
        self.store.outbox_backlog().await
    }

    /// Sets a password through a single-use link and ends every session of
    /// its user.
    ///
    /// # Errors
    /// See [`SetPasswordError`].
    pub async fn set_password_with_link(
        &self,
        token: &str,
        purpose: LinkPurpose,
        password: &str,
        ip: Option<std::net::IpAddr>,
        now: DateTime<Utc>,
    ) -> Result<(), SetPasswordError> {
        let hash = LinkToken::hash_of(token);
        let owner = self.store.link_owner(&hash, purpose, now).await?.ok_or(SetPasswordError::InvalidToken)?;
        let user = self.store.user(owner.tenant_id, owner.user_id).await?.ok_or(SetPasswordError::InvalidToken)?;
        let password = self.policy.check(password, &user.personal_words()).map_err(SetPasswordError::WeakPassword)?;
        let password = self.hasher.hash(&password).await?;
        let audit = AuditEvent::own(AuditAction::PasswordSetWithLink, user.tenant_id, user.id, ip, now)
            .with(json!({"purpose": purpose.as_str()}));
        if !self.store.redeem_link(&hash, purpose, password, now, &audit).await? {
            return Err(SetPasswordError::InvalidToken);
        }
        self.tokens_may_have_changed();
        tracing::info!(user = %user.id, purpose = purpose.as_str(), "password set through a link");
        Ok(())
    }
}

/// `message` to `user_id`, its body sealed, as the outbox stores it.
pub(super) fn seal_for_outbox(
    secrets: &SecretBox,
    message: EmailMessage,
    kind: EmailKind,
    user_id: Uuid,
    now: DateTime<Utc>,
) -> anyhow::Result<NewOutboxEmail> {
    let id = Uuid::now_v7();
    let sealed_body = secrets.seal(&serde_json::to_vec(&message)?, &EmailMessage::context(id))?;
    Ok(NewOutboxEmail {
        id,
        user_id,
        kind,
        recipient: message.to,
        subject: message.subject,
        sealed_body,
        created_at: now,
    })
}

/// Sends one email. Adapters: SMTP, or `.eml` files for a machine with no
/// mail server.
pub trait Mailer: Send + Sync + 'static {
    /// # Errors
    /// When the message could not be handed over; the outbox tries again.
    fn send(&self, message: &EmailMessage) -> impl Future<Output = anyhow::Result<()>> + Send;
}

#[derive(Debug, Clone, Copy)]
pub struct PostmanSettings {
    /// The most one send may take.
    pub send_timeout: StdDuration,
    /// Attempts before an email is given up.
    pub max_attempts: u32,
    /// The wait after the first failure; it doubles after each.
    pub retry_base: Duration,
    /// The longest wait between attempts.
    pub retry_cap: Duration,
    /// Emails leased per round.
    pub batch: u64,
    /// The most emails handed to the mail server per second (so a
    /// 10,000-row import does not flood it); `None` for no limit.
    pub per_second: Option<u32>,
}

impl Default for PostmanSettings {
    fn default() -> Self {
        Self {
            send_timeout: StdDuration::from_secs(10),
            max_attempts: 8,
            retry_base: Duration::seconds(30),
            retry_cap: Duration::hours(1),
            batch: 20,
            per_second: None,
        }
    }
}

/// What one round of delivery did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DeliveryReport {
    pub sent: u32,
    pub retrying: u32,
    pub given_up: u32,
}

/// The outbox worker.
pub struct Postman<S, M> {
    store: S,
    secrets: SecretBox,
    mailer: M,
    settings: PostmanSettings,
}

impl<S: Store, M: Mailer> Postman<S, M> {
    #[must_use]
    pub fn new(store: S, secrets: SecretBox, mailer: M, settings: PostmanSettings) -> Self {
        Self { store, secrets, mailer, settings }
    }

    /// Sends every email due, batch by batch, until none is left. `clock`
    /// tells the time (tests move it forward): each batch is leased from
    /// the time it is claimed, and each outcome recorded at the time of
    /// its attempt.
    ///
    /// # Errors
    /// When storage fails; a failed send is recorded, not returned.
    pub async fn deliver_due(&self, clock: impl Fn() -> DateTime<Utc>) -> anyhow::Result<DeliveryReport> {
        let mut report = DeliveryReport::default();
        // The lease outlasts the slowest send of a whole batch.
        let per_send = Duration::from_std(self.settings.send_timeout).unwrap_or(Duration::seconds(10));
        let lease_for = per_send * i32::try_from(self.settings.batch).unwrap_or(i32::MAX) + Duration::seconds(30);
        loop {
            let now = clock();
            let lease = Uuid::new_v4();
            let claimed = self.store.claim_due_emails(now, self.settings.batch, now + lease_for, lease).await?;
            if claimed.is_empty() {
                return Ok(report);
            }
            for email in claimed {
                let started = std::time::Instant::now();
                let delivery = self.attempt(&email, &clock).await;
                match &delivery {
                    Delivery::Sent { .. } => report.sent += 1,
                    Delivery::Retry { error, next_at } => {
                        report.retrying += 1;
                        tracing::warn!(email = %email.id, %error, %next_at, "sending an email failed; will retry");
                    }
                    Delivery::GaveUp { error } => {
                        report.given_up += 1;
                        tracing::error!(email = %email.id, %error, "sending an email failed for the last time");
                    }
                }
                if !self.store.record_delivery(email.id, lease, delivery).await? {
                    tracing::warn!(email = %email.id, "an email's lease ran out while it was sent; another worker has it");
                }
                if let Some(wait) = pause(self.settings.per_second, started.elapsed()) {
                    tokio::time::sleep(wait).await;
                }
            }
        }
    }

    async fn attempt(&self, email: &ClaimedEmail, clock: &impl Fn() -> DateTime<Utc>) -> Delivery {
        let result = match self.open(email) {
            Ok(message) => match tokio::time::timeout(self.settings.send_timeout, self.mailer.send(&message)).await {
                Ok(sent) => sent,
                Err(_) => Err(anyhow::anyhow!("timed out after {:?}", self.settings.send_timeout)),
            },
            Err(e) => Err(e),
        };
        let now = clock();
        match result {
            Ok(()) => Delivery::Sent { at: now },
            Err(e) => {
                let error = format!("{e:#}");
                let attempts = email.attempts + 1;
                if attempts >= self.settings.max_attempts {
                    Delivery::GaveUp { error }
                } else {
                    Delivery::Retry { error, next_at: now + backoff(&self.settings, attempts) }
                }
            }
        }
    }

    fn open(&self, email: &ClaimedEmail) -> anyhow::Result<EmailMessage> {
        let body = self.secrets.open(&email.sealed_body, &EmailMessage::context(email.id))?;
        Ok(serde_json::from_slice(&body)?)
    }
}

/// How long to wait after a send that took `took`, to keep to
/// `per_second` sends a second.
fn pause(per_second: Option<u32>, took: StdDuration) -> Option<StdDuration> {
    let interval = StdDuration::from_secs(1) / per_second.filter(|n| *n > 0)?;
    interval.checked_sub(took).filter(|w| !w.is_zero())
}

/// The wait after the `attempts`-th failure: base, 2 × base, 4 × base…
/// up to the cap.
fn backoff(settings: &PostmanSettings, attempts: u32) -> Duration {
    let factor = 2i32.saturating_pow(attempts.saturating_sub(1));
    settings.retry_base.checked_mul(factor).unwrap_or(settings.retry_cap).min(settings.retry_cap)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sends_keep_to_the_rate() {
        assert_eq!(pause(None, StdDuration::ZERO), None);
        assert_eq!(pause(Some(0), StdDuration::ZERO), None);
        assert_eq!(pause(Some(10), StdDuration::from_millis(30)), Some(StdDuration::from_millis(70)));
        assert_eq!(pause(Some(10), StdDuration::from_millis(150)), None, "a slow send waits no longer");
        assert_eq!(pause(Some(1), StdDuration::ZERO), Some(StdDuration::from_secs(1)));
    }

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let settings = PostmanSettings {
            retry_base: Duration::seconds(30),
            retry_cap: Duration::minutes(10),
            ..PostmanSettings::default()
        };
        let waits: Vec<i64> = (1..=7).map(|n| backoff(&settings, n).num_seconds()).collect();
        assert_eq!(waits, [30, 60, 120, 240, 480, 600, 600]);
        assert_eq!(backoff(&settings, 40).num_seconds(), 600);
        assert_eq!(backoff(&settings, u32::MAX).num_seconds(), 600);
    }
}
