//! The Security tab (seed article "Portal Users"; SECURITY.md "Second
//! factor", "Network", "Brute force"): two-factor enrolment and reset, IP
//! allowlists, unlocking, password resets, support access and the audit
//! log.

use std::net::IpAddr;

use anyhow::Context as _;
use chrono::{DateTime, Utc};
use serde_json::json;
use uuid::Uuid;

use super::{SignedIn, Voxport, sign_in::Failure};
use crate::{
    actor::Actor,
    allowlist::NetworkChange,
    audit::{AuditAction, AuditEvent, AuditFilter, TargetType},
    auth::{
        Client, RefreshToken, Session,
        totp::{Enrolment, RECOVERY_CODES, RecoveryCode, TotpSecret, enrolment, matching_step},
    },
    errors::{ResetRequestRefused, SecurityAdminError, SupportAccessError, TwoFactorError},
    paging::{Page, PageRequest},
    ports::Store,
    throttle::{Taken, ThrottleKey},
    user::{User, UserStatus},
    values::{Cidr, Login, allowed},
};

/// How many password-reset requests may wait for their work at once; past
/// it a request answers 503 at once instead of queueing.
pub const RESET_REQUESTS_WAITING: usize = 64;

/// A password-reset request that was let in
/// ([`Voxport::admit_password_reset`]): its place in the queue, given back
/// when its work ends.
#[derive(Debug)]
pub struct ResetTicket(#[allow(dead_code, reason = "held until the work ends")] tokio::sync::OwnedSemaphorePermit);

/// Who enrols a second factor: a signed-in user, or one holding an
/// enrolment token.
#[derive(Debug, Clone, Copy)]
pub struct Enrollee {
    pub user_id: Uuid,
    pub tenant_id: Uuid,
    /// The session of a signed-in user; `None` with an enrolment token,
    /// which a sign-in with the password gave moments ago.
    pub session: Option<Uuid>,
    pub ip: Option<IpAddr>,
}

impl From<&Actor> for Enrollee {
    fn from(actor: &Actor) -> Self {
        Self { user_id: actor.user_id, tenant_id: actor.home_tenant_id, session: Some(actor.session_id), ip: actor.ip }
    }
}

impl<S: Store> Voxport<S> {
    async fn enrollee(&self, who: Enrollee) -> Result<User, TwoFactorError> {
        Ok(self.store.user(who.tenant_id, who.user_id).await?.context("an enrolling user vanished")?)
    }

    /// Starts (or restarts) enrolment: a fresh secret, unconfirmed until a
    /// code from it is confirmed. A signed-in user proves it is them with
    /// their password (ASVS 5.0 re-authentication); it counts like a
    /// sign-in. An enrolment token is that proof already.
    ///
    /// # Errors
    /// `AlreadyEnabled` while a confirmed second factor exists;
    /// `PasswordRequired`, `WrongCode` (the password).
    pub async fn start_two_factor(
        &self,
        who: Enrollee,
        password: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<Enrolment, TwoFactorError> {
        let user = self.enrollee(who).await?;
        if who.session.is_some() {
            let password = password.ok_or(TwoFactorError::PasswordRequired)?;
            let Some(check) = self.recheck_password(&user, password, who.ip, now).await? else {
                return Err(TwoFactorError::WrongCode);
            };
            self.record_success(&check, user.id, now).await?;
        }
        let secret = TotpSecret::generate();
        let sealed = self.secrets.seal(secret.as_bytes(), &TotpSecret::context(user.id))?;
        let audit = AuditEvent::own(AuditAction::TwoFactorEnrolmentStarted, user.tenant_id, user.id, who.ip, now);
        if !self.store.begin_enrolment(user.id, &sealed, now, &audit).await? {
            return Err(TwoFactorError::AlreadyEnabled);
        }
        Ok(enrolment(&secret, user.login.as_str(), &self.settings.totp_issuer)?)
    }

    /// Confirms enrolment with a code from the new secret; answers the ten
    /// recovery codes, shown this once. Every other session of the user
    /// ends: they were signed in without the second factor.
    ///
    /// # Errors
    /// `NotEnrolling`, `AlreadyEnabled`, `WrongCode`.
    pub async fn confirm_two_factor(
        &self,
        who: Enrollee,
        code: &str,
        now: DateTime<Utc>,
    ) -> Result<Vec<RecoveryCode>, TwoFactorError> {
        let user = self.enrollee(who).await?;
        let record = self.store.totp(user.id).await?.ok_or(TwoFactorError::NotEnrolling)?;
        if record.confirmed {
            return Err(TwoFactorError::AlreadyEnabled);
        }
        let secret = TotpSecret::from_bytes(self.secrets.open(&record.sealed_secret, &TotpSecret::context(user.id))?);
        let step = matching_step(&secret, code, now).ok_or(TwoFactorError::WrongCode)?;
        let codes: Vec<RecoveryCode> = (0..RECOVERY_CODES).map(|_| RecoveryCode::generate()).collect();
        let hashes: Vec<String> = codes.iter().map(|c| RecoveryCode::hash_of(c.expose())).collect();
        let audit = AuditEvent::own(AuditAction::TwoFactorEnabled, user.tenant_id, user.id, who.ip, now);
        if !self.store.confirm_enrolment(user.id, step, &hashes, who.session, now, &audit).await? {
            return Err(TwoFactorError::WrongCode);
        }
        self.tokens_may_have_changed();
        tracing::info!(user = %user.id, "second factor enabled");
        Ok(codes)
    }

    /// Turns the actor's own second factor off; needs the password and a
    /// current code, and is refused while it is required. Every other
    /// session of theirs ends.
    ///
    /// # Errors
    /// `NotEnabled`, `Required`, `WrongCode`.
    pub async fn disable_two_factor(
        &self,
        actor: &Actor,
        password: &str,
        code: &str,
        now: DateTime<Utc>,
    ) -> Result<(), TwoFactorError> {
        let me = &self.me(actor).await?;
        if !me.two_factor.enabled {
            return Err(TwoFactorError::NotEnabled);
        }
        if me.two_factor.required {
            return Err(TwoFactorError::Required);
        }
        // Both count against the account like a sign-in: a stolen session
        // guesses neither the password nor codes.
        let Some(check) = self.recheck_password(me, password, actor.ip, now).await? else {
            return Err(TwoFactorError::WrongCode);
        };
        if !self.check_code(me, code, now).await? {
            self.record_failure(&check, Failure::WrongCode, actor.ip, now).await?;
            return Err(TwoFactorError::WrongCode);
        }
        self.record_success(&check, me.id, now).await?;
        let audit = AuditEvent::of_own_account(actor, AuditAction::TwoFactorDisabled, now);
        self.store.remove_two_factor(me.id, Some(actor.session_id), now, &audit).await?;
        self.tokens_may_have_changed();
        Ok(())
    }

    /// The "Reset 2FA key" button: the user's secret and recovery codes go,
    /// their sessions end, and they enrol anew (at their next sign-in when
    /// it is required).
    ///
    /// # Errors
    /// `UserNotFound`, `PermissionNotHeld`; `OwnSecondFactor` for the
    /// actor's own, which they turn off with their password and a code.
    pub async fn reset_two_factor(
        &self,
        actor: &Actor,
        user: Uuid,
        now: DateTime<Utc>,
    ) -> Result<(), SecurityAdminError> {
        if user == actor.user_id {
            return Err(SecurityAdminError::OwnSecondFactor);
        }
        self.target::<SecurityAdminError>(actor, user).await?;
        let audit = AuditEvent::by(actor, AuditAction::TwoFactorReset, TargetType::User, Some(user), now);
        self.store.remove_two_factor(user, None, now, &audit).await?;
        self.tokens_may_have_changed();
        tracing::info!(actor = %actor.caller_id(), user = %user, "second factor reset");
        Ok(())
    }

    /// Lifts an account's lock, the hard one too.
    ///
    /// # Errors
    /// `UserNotFound`, `PermissionNotHeld`.
    pub async fn unlock(&self, actor: &Actor, user: Uuid, now: DateTime<Utc>) -> Result<(), SecurityAdminError> {
        let target = self.target::<SecurityAdminError>(actor, user).await?;
        let audit = AuditEvent::by(actor, AuditAction::AccountUnlocked, TargetType::User, Some(user), now);
        self.store.unlock_login(target.login.as_str(), &audit).await?;
        Ok(())
    }

    /// Changes a user's IP allowlist; their sessions end (all but the
    /// actor's own when they change their own list).
    ///
    /// # Errors
    /// `UserNotFound`, `PermissionNotHeld`, `LocksOutSelf`.
    pub async fn change_networks(
        &self,
        actor: &Actor,
        user: Uuid,
        change: NetworkChange,
        now: DateTime<Utc>,
    ) -> Result<Vec<Cidr>, SecurityAdminError> {
        let target = self.target::<SecurityAdminError>(actor, user).await?;
        if user == actor.user_id {
            if change.loosens(&target.allowed_networks) {
                return Err(SecurityAdminError::OwnRestriction);
            }
            if !allowed(&change.apply(&target.allowed_networks), actor.ip) {
                return Err(SecurityAdminError::LocksOutSelf);
            }
        }
        let audit = AuditEvent::by(actor, AuditAction::AllowlistChanged, TargetType::User, Some(user), now)
            .with(json!({"change": change.audit_details()}));
        let keep = (user == actor.user_id).then_some(actor.session_id);
        let list = self
            .store
            .change_networks(actor.tenant_id, user, &change, keep, now, &audit)
            .await?
            .ok_or(SecurityAdminError::UserNotFound)?;
        self.tokens_may_have_changed();
        tracing::info!(actor = %actor.caller_id(), user = %user, entries = list.len(), "changed IP allowlist");
        Ok(list)
    }

    /// Lets a password-reset request in, before anything about its login
    /// is looked at: at most `reset_requests_max` per address and window,
    /// and at most [`RESET_REQUESTS_WAITING`] waiting for their work at
    /// once. The ticket goes to [`Self::request_password_reset`].
    ///
    /// # Errors
    /// `TooMany` past the address's share, `Busy` when the queue is full.
    pub async fn admit_password_reset(
        &self,
        ip: Option<IpAddr>,
        now: DateTime<Utc>,
    ) -> Result<ResetTicket, ResetRequestRefused> {
        let Ok(turn) = self.reset_work.clone().try_acquire_owned() else {
            metrics::counter!("voxport_throttle_refusals_total", "kind" => "reset_queue").increment(1);
            return Err(ResetRequestRefused::Busy);
        };
        match self.store.take_attempt(&ThrottleKey::reset_requests(ip), &self.settings.throttle, now).await? {
            Taken::Counted(_) => Ok(ResetTicket(turn)),
            Taken::Closed(until) => {
                metrics::counter!("voxport_throttle_refusals_total", "kind" => "reset_address").increment(1);
                let seconds = until.map_or(1, |until| (until - now).num_seconds());
                Err(ResetRequestRefused::TooMany { retry_after: u64::try_from(seconds).unwrap_or(1).max(1) })
            }
        }
    }

    /// A forgotten password: writes a single-use reset link to the user's
    /// email when the login exists, the account is active and has an
    /// address, and the login has not had its share of reset emails for
    /// the window. A request for a login of a tenant is audited there,
    /// sent or not; one for a login nobody has writes nothing of its own
    /// (the address's counter and `voxport_password_reset_requests_total`
    /// count it), so a flood of made-up logins cannot fill the platform's
    /// log. The caller answers before this finishes, alike in every case,
    /// so neither the answer nor its time tells whether a login exists.
    ///
    /// # Errors
    /// Only when storage fails.
    pub async fn request_password_reset(
        &self,
        _admitted: ResetTicket,
        login: &str,
        ip: Option<IpAddr>,
        now: DateTime<Utc>,
    ) -> anyhow::Result<()> {
        let found = match self.store.login_credentials(&Login::key_of(login)).await? {
            Some(c) => self.store.user(c.tenant_id, c.user_id).await?,
            None => None,
        };
        let refusal = match &found {
            None => Some("unknown_login"),
            Some(user) if user.status(now) != UserStatus::Active => Some("not_active"),
            Some(User { email: None, .. }) => Some("no_email"),
            Some(_) => {
                let key = ThrottleKey::reset_emails(login);
                match self.store.take_attempt(&key, &self.settings.throttle, now).await? {
                    Taken::Closed(_) => Some("too_many_requests"),
                    Taken::Counted(_) => None,
                }
            }
        };
        let queued = match (&found, refusal) {
            (Some(user), None) => self.password_reset(user.into(), now)?,
            _ => None,
        };
        let (tenant, user) = (found.as_ref().map(|u| u.tenant_id), found.as_ref().map(|u| u.id));
        let audit =
            |details| AuditEvent::anonymous(AuditAction::PasswordResetRequested, tenant, user, ip, now).with(details);
        let outcome = refusal.unwrap_or("sent");
        metrics::counter!("voxport_password_reset_requests_total", "outcome" => outcome).increment(1);
        let Some(queued) = queued else {
            if found.is_some() {
                self.store.record(&audit(json!({"sent": false, "reason": refusal}))).await?;
            }
            tracing::info!(?user, ?ip, reason = refusal, "no password reset email sent");
            return Ok(());
        };
        let audit = audit(json!({"sent": true}));
        self.store.queue_email(queued, &audit).await?;
        self.outbox.notify_one();
        Ok(())
    }

    /// Starts a support session of a parent's agent inside a customer
    /// tenant below theirs (PRODUCT.md rule 11; the "Access CAP" button of
    /// the seed article). The agent acts with at most the customer
    /// administrators' permissions; the audit log names both.
    ///
    /// # Errors
    /// `TenantNotFound` unless the tenant is strictly below the agent's.
    pub async fn start_support_access(
        &self,
        actor: &Actor,
        customer: Uuid,
        now: DateTime<Utc>,
    ) -> Result<SignedIn, SupportAccessError> {
        if customer == actor.home_tenant_id || actor.tenant_id != actor.home_tenant_id {
            return Err(SupportAccessError::TenantNotFound);
        }
        self.store
            .tenant_visible_to(actor.home_tenant_id, customer)
            .await?
            .ok_or(SupportAccessError::TenantNotFound)?;
        let agent =
            self.store.user(actor.home_tenant_id, actor.user_id).await?.context("a signed-in agent vanished")?;
        let session = Session {
            id: Uuid::now_v7(),
            user_id: agent.id,
            tenant_id: agent.tenant_id,
            client: Client::Portal,
            created_at: now,
            expires_at: now + self.lifetimes.session_absolute,
            revoked_at: None,
            acting_tenant_id: Some(customer),
        };
        let audit = AuditEvent {
            tenant_id: Some(customer),
            on_behalf_of: Some(customer),
            ..AuditEvent::by(actor, AuditAction::SupportAccessStarted, TargetType::Tenant, Some(customer), now)
        }
        .with(json!({"session_id": session.id}));
        let refresh = RefreshToken::generate();
        self.store.create_session(&session, &refresh.hash(), self.refresh_expiry(&session, now), &audit).await?;
        tracing::info!(agent = %agent.id, tenant = %customer, "support access started");
        Ok(self.signed_in(agent, &session, refresh, now)?)
    }

    /// The audit events of `tenant` (default the actor's), which must be
    /// the actor's or below it; `None` when it is not visible. The
    /// platform's list also holds sign-ins with unknown logins.
    ///
    /// # Errors
    /// When storage fails.
    pub async fn audit_events(
        &self,
        actor: &Actor,
        tenant: Option<Uuid>,
        filter: &AuditFilter,
        page: PageRequest,
    ) -> anyhow::Result<Option<Page<AuditEvent>>> {
        let tenant = tenant.unwrap_or(actor.tenant_id);
        let Some(found) = self.store.tenant_visible_to(actor.tenant_id, tenant).await? else {
            return Ok(None);
        };
        let anonymous = found.kind == crate::tenant::TenantKind::Platform;
        Ok(Some(self.store.list_events(tenant, anonymous, filter, page).await?))
    }
}
