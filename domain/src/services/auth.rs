//! Sign-in, refresh, sign-out, and turning a bearer token into an actor.
//!
//! A sign-in passes, in order: the source address's failure limit (429),
//! the password (one answer for every refusal, locked accounts included,
//! in about the same time), the account's status, the user's IP allowlist
//! (403, only after the password matched, so it tells a stranger nothing),
//! the second factor, the administrator's demand for one, and the
//! client's application. Failures count against the account and the
//! source address in the database (SECURITY.md "Brute force"); a storage
//! failure is a 503 and counts nothing. Every outcome is audited.

use std::net::IpAddr;

use anyhow::Context as _;
use chrono::{DateTime, Utc};
use serde_json::json;
use uuid::Uuid;

use super::Voxport;
use crate::{
    actor::Actor,
    audit::{AuditAction, AuditEvent, TargetType},
    auth::{
        Client, RefreshToken, Session,
        totp::{RecoveryCode, TotpSecret, current_step, matching_step},
    },
    errors::{AuthenticateError, ChangePasswordError, LoginError, RefreshError, UpdateUserError},
    ports::{RefreshUse, Store, UserUpdate},
    role::BuiltinRole,
    station::Application,
    throttle::{ThrottleKey, ThrottlePolicy, Verdict},
    user::{User, UserChanges, UserStatus},
    values::{Login, MAX_PASSWORD_CHARS, allowed},
};

/// Wrong codes accepted in one time step before further codes in that
/// step are refused.
pub const MAX_WRONG_CODES_PER_STEP: u32 = 3;

/// What a successful sign-in or refresh hands to the client.
#[derive(Debug)]
pub struct SignedIn {
    pub access_token: String,
    pub refresh_token: RefreshToken,
    pub expires_in: i64,
    pub user: User,
}

/// A sign-in attempt.
#[derive(Clone, Copy)]
pub struct LoginAttempt<'a> {
    pub login: &'a str,
    pub password: &'a str,
    /// A TOTP code or a recovery code.
    pub otp: Option<&'a str>,
    pub client: Client,
    pub ip: Option<IpAddr>,
}

impl std::fmt::Debug for LoginAttempt<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoginAttempt").field("login", &self.login).field("client", &self.client).finish_non_exhaustive()
    }
}

/// How the second factor was given.
enum SecondFactor {
    None,
    Totp,
    RecoveryCode,
}

impl<S: Store> Voxport<S> {
    /// Signs a user in (PRODUCT.md rules 1, 6, 8 and 9).
    ///
    /// # Errors
    /// See [`LoginError`]; every refusal of the password is `InvalidCredentials`.
    pub async fn login(&self, attempt: LoginAttempt<'_>, now: DateTime<Utc>) -> Result<SignedIn, LoginError> {
        let ip = attempt.ip;
        if let Some(ip) = ip
            && let Verdict::Closed(until) =
                ThrottlePolicy::verdict(self.store.counter(&ThrottleKey::Address(ip)).await?.as_ref(), now)
        {
            let wait = until.map_or(self.settings.throttle.address_window, |u| u - now);
            return Err(LoginError::TooManyAttempts {
                retry_after: u64::try_from(wait.num_seconds()).unwrap_or(1).max(1),
            });
        }
        // Refused before hashing: an oversized password costs nothing.
        let oversized = attempt.password.chars().count() > MAX_PASSWORD_CHARS;
        let found = self.store.user_by_login(&Login::key_of(attempt.login)).await?;
        let (user, hash) = match found {
            Some((user, hash)) => (Some(user), hash),
            None => (None, None),
        };
        let account = user.as_ref().map(|u| ThrottleKey::Account(u.id));
        let locked = match &account {
            Some(key) => {
                matches!(ThrottlePolicy::verdict(self.store.counter(key).await?.as_ref(), now), Verdict::Closed(_))
            }
            None => false,
        };
        // A locked account is checked against the dummy hash: the same
        // answer, in the same time, as a wrong password.
        let matches = !oversized && self.hasher.verify(attempt.password, hash.as_ref().filter(|_| !locked)).await?;
        let user = match user {
            Some(user) if matches && user.status(now) == UserStatus::Active => user,
            Some(user) if matches => {
                self.refuse(&user, "status", ip).await?;
                return Err(LoginError::InvalidCredentials);
            }
            other => {
                let reason = match &other {
                    None => "unknown_login",
                    Some(_) if locked => "locked",
                    Some(_) => "wrong_password",
                };
                self.count_failure(other.as_ref(), !locked, ip, reason, now).await?;
                return Err(LoginError::InvalidCredentials);
            }
        };
        if !allowed(&user.allowed_networks, ip) {
            self.refuse(&user, "ip_not_allowed", ip).await?;
            return Err(LoginError::IpNotAllowed);
        }
        let factor = self.second_factor(&user, attempt.otp, ip, now).await?;
        if user.two_factor.required && !user.two_factor.enabled {
            self.refuse(&user, "two_factor_enrolment_required", ip).await?;
            let token = self.tokens.issue_enrolment(user.id, user.tenant_id, now)?;
            return Err(LoginError::TwoFactorEnrolmentRequired { token });
        }
        if !attempt.client.allowed_for(&user) {
            self.refuse(&user, "application_not_enabled", ip).await?;
            return Err(LoginError::ApplicationNotEnabled(Application::DesktopApp));
        }
        self.store.clear(&ThrottleKey::Account(user.id), None).await?;
        let session = Session {
            id: Uuid::now_v7(),
            user_id: user.id,
            tenant_id: user.tenant_id,
            client: attempt.client,
            created_at: now,
            expires_at: now + self.lifetimes.session_absolute,
            revoked_at: None,
            acting_tenant_id: None,
        };
        let audit = AuditEvent::own(AuditAction::SignInSucceeded, user.tenant_id, user.id, ip).with(json!({
            "client": attempt.client.as_str(),
            "session_id": session.id,
            "second_factor": match factor {
                SecondFactor::None => "none",
                SecondFactor::Totp => "totp",
                SecondFactor::RecoveryCode => "recovery_code",
            },
        }));
        let refresh = RefreshToken::generate();
        self.store.create_session(&session, &refresh.hash(), self.refresh_expiry(&session, now), &audit).await?;
        Ok(self.signed_in(user, &session, refresh, now)?)
    }

    /// Checks the second factor of a user who has one; passes users who
    /// have none.
    async fn second_factor(
        &self,
        user: &User,
        otp: Option<&str>,
        ip: Option<IpAddr>,
        now: DateTime<Utc>,
    ) -> Result<SecondFactor, LoginError> {
        if !user.two_factor.enabled {
            return Ok(SecondFactor::None);
        }
        let Some(code) = otp.map(str::trim).filter(|c| !c.is_empty()) else {
            return Err(LoginError::OtpRequired);
        };
        if RecoveryCode::looks_like(code) {
            if self.store.use_recovery_code(user.id, &RecoveryCode::hash_of(code), now).await? {
                let audit = AuditEvent::own(AuditAction::RecoveryCodeUsed, user.tenant_id, user.id, ip);
                self.store.record(&audit).await?;
                return Ok(SecondFactor::RecoveryCode);
            }
            self.count_failure(Some(user), true, ip, "wrong_recovery_code", now).await?;
            return Err(LoginError::OtpInvalid);
        }
        let record =
            self.store.totp(user.id).await?.filter(|r| r.confirmed).context("an enabled second factor vanished")?;
        let step_now = current_step(now);
        let too_many = record.failed_step == Some(step_now) && record.failures >= MAX_WRONG_CODES_PER_STEP;
        let secret = TotpSecret::from_bytes(self.secrets.open(&record.sealed_secret, &TotpSecret::context(user.id))?);
        match matching_step(&secret, code, now) {
            // Accepted once: only a step later than the last accepted one.
            Some(step) if !too_many && self.store.accept_step(user.id, step).await? => Ok(SecondFactor::Totp),
            _ => {
                self.store.count_wrong_code(user.id, step_now).await?;
                self.count_failure(Some(user), true, ip, "wrong_code", now).await?;
                Err(LoginError::OtpInvalid)
            }
        }
    }

    /// Counts a failed sign-in against the source address and, when
    /// `against_account`, the account (locking it when the rule says so),
    /// and audits it.
    async fn count_failure(
        &self,
        user: Option<&User>,
        against_account: bool,
        ip: Option<IpAddr>,
        reason: &str,
        now: DateTime<Utc>,
    ) -> anyhow::Result<()> {
        if let Some(ip) = ip {
            self.store.count_failure(&ThrottleKey::Address(ip), &self.settings.throttle, now).await?;
        }
        let mut failures = None;
        if let Some(user) = user.filter(|_| against_account) {
            let counter =
                self.store.count_failure(&ThrottleKey::Account(user.id), &self.settings.throttle, now).await?;
            // Attempts while locked are not counted, so each counted failure
            // that locks starts a new lock.
            if matches!(ThrottlePolicy::verdict(Some(&counter), now), Verdict::Closed(_)) {
                let audit = AuditEvent::own(AuditAction::AccountLocked, user.tenant_id, user.id, ip).with(json!({
                    "failures": counter.failures,
                    "locked_until": counter.locked_until,
                    "until_unlocked": counter.hard_locked,
                }));
                self.store.record(&audit).await?;
            }
            failures = Some(counter.failures);
        }
        let audit = AuditEvent::anonymous(AuditAction::SignInFailed, user.map(|u| u.tenant_id), user.map(|u| u.id), ip)
            .with(json!({"reason": reason, "failures": failures}));
        self.store.record(&audit).await?;
        tracing::info!(user = ?user.map(|u| u.id), ?ip, reason, "sign-in failed");
        Ok(())
    }

    /// Audits a sign-in refused after the password matched.
    async fn refuse(&self, user: &User, reason: &str, ip: Option<IpAddr>) -> anyhow::Result<()> {
        let audit = AuditEvent::anonymous(AuditAction::SignInRefused, Some(user.tenant_id), Some(user.id), ip)
            .with(json!({"reason": reason}));
        self.store.record(&audit).await?;
        tracing::info!(user = %user.id, ?ip, reason, "sign-in refused");
        Ok(())
    }

    /// Rotates a refresh token. A token presented a second time ends its
    /// whole session (RFC 9700 4.14.2).
    ///
    /// # Errors
    /// `InvalidToken` when the token is unknown, spent, expired or its
    /// session has ended, or its user may no longer sign in;
    /// `IpNotAllowed` from outside the user's allowlist.
    pub async fn refresh(
        &self,
        presented: &str,
        ip: Option<IpAddr>,
        now: DateTime<Utc>,
    ) -> Result<SignedIn, RefreshError> {
        let (session, expires_at) = match self.store.use_refresh_token(&RefreshToken::hash_of(presented), now).await? {
            RefreshUse::Fresh { session, expires_at } => (session, expires_at),
            RefreshUse::Replayed { session_id } => {
                tracing::warn!(session = %session_id, "refresh token reused; ending the session");
                let owner = self.store.session(session_id).await?;
                let audit = AuditEvent::anonymous(
                    AuditAction::RefreshTokenReused,
                    owner.as_ref().map(|s| s.tenant_id),
                    owner.as_ref().map(|s| s.user_id),
                    ip,
                )
                .with(json!({"session_id": session_id}));
                self.store.revoke_session(session_id, now, &audit).await?;
                return Err(RefreshError::InvalidToken);
            }
            RefreshUse::NotFound => return Err(RefreshError::InvalidToken),
        };
        if !session.is_live(now) || expires_at <= now {
            return Err(RefreshError::InvalidToken);
        }
        let user = match self.store.user(session.tenant_id, session.user_id).await? {
            Some(user) if user.status(now) == UserStatus::Active && session.client.allowed_for(&user) => user,
            _ => return Err(RefreshError::InvalidToken),
        };
        if !allowed(&user.allowed_networks, ip) {
            return Err(RefreshError::IpNotAllowed);
        }
        let refresh = RefreshToken::generate();
        self.store.add_refresh_token(session.id, &refresh.hash(), self.refresh_expiry(&session, now), now).await?;
        Ok(self.signed_in(user, &session, refresh, now)?)
    }

    /// Ends the session a refresh token belongs to. Unknown tokens are
    /// ignored: signing out twice is not an error.
    ///
    /// # Errors
    /// When storage fails.
    pub async fn logout(&self, presented: &str, ip: Option<IpAddr>, now: DateTime<Utc>) -> anyhow::Result<()> {
        if let Some(session) = self.store.session_of_refresh_token(&RefreshToken::hash_of(presented)).await?
            && let Some(found) = self.store.session(session).await?
            && found.revoked_at.is_none()
        {
            let audit = AuditEvent::own(AuditAction::SignedOut, found.tenant_id, found.user_id, ip)
                .with(json!({"session_id": session}));
            self.store.revoke_session(session, now, &audit).await?;
        }
        Ok(())
    }

    /// The actor behind an access token: the token must verify, its
    /// session must be live, its user active now (so disabling or expiring
    /// an account takes effect on the next request) and calling from an
    /// allowed network.
    ///
    /// # Errors
    /// `InvalidToken` for every refusal of the token; `IpNotAllowed`.
    pub async fn authenticate(
        &self,
        bearer: &str,
        ip: Option<IpAddr>,
        now: DateTime<Utc>,
    ) -> Result<(Actor, User), AuthenticateError> {
        let claims = self.tokens.verify(bearer).map_err(|e| {
            tracing::debug!(error = %e, "refused an access token");
            AuthenticateError::InvalidToken
        })?;
        let session = match self.store.session(claims.sid).await? {
            Some(s) if s.is_live(now) && s.user_id == claims.sub => s,
            _ => return Err(AuthenticateError::InvalidToken),
        };
        let user = match self.store.user(claims.tid, claims.sub).await? {
            Some(user) if user.status(now) == UserStatus::Active => user,
            _ => return Err(AuthenticateError::InvalidToken),
        };
        if !allowed(&user.allowed_networks, ip) {
            return Err(AuthenticateError::IpNotAllowed);
        }
        let mut actor = Actor {
            user_id: user.id,
            tenant_id: user.tenant_id,
            home_tenant_id: user.tenant_id,
            session_id: claims.sid,
            permissions: user.role.permissions.clone(),
            ip,
        };
        if let Some(customer) = session.acting_tenant_id {
            // A support agent acts in the customer tenant with at most what
            // its own administrators may do there.
            let tenant =
                self.store.tenant_visible_to(user.tenant_id, customer).await?.ok_or(AuthenticateError::InvalidToken)?;
            let theirs = BuiltinRole::Administrator.permissions(tenant.kind);
            actor.tenant_id = customer;
            actor.permissions = actor.permissions.iter().filter(|p| theirs.contains(*p)).collect();
        }
        Ok((actor, user))
    }

    /// The user behind a two-factor enrolment token, who may do nothing but
    /// enrol: the token must verify as one, the user be active and call
    /// from an allowed network.
    ///
    /// # Errors
    /// `InvalidToken`, `IpNotAllowed`.
    pub async fn authenticate_enrolment(
        &self,
        bearer: &str,
        ip: Option<IpAddr>,
        now: DateTime<Utc>,
    ) -> Result<super::Enrollee, AuthenticateError> {
        let claims = self.tokens.verify_enrolment(bearer).map_err(|_| AuthenticateError::InvalidToken)?;
        let user = match self.store.user(claims.tid, claims.sub).await? {
            Some(user) if user.status(now) == UserStatus::Active => user,
            _ => return Err(AuthenticateError::InvalidToken),
        };
        if !allowed(&user.allowed_networks, ip) {
            return Err(AuthenticateError::IpNotAllowed);
        }
        Ok(super::Enrollee { user_id: user.id, tenant_id: user.tenant_id, ip })
    }

    /// Changes the actor's own password; needs the current one (ASVS 5.0
    /// 6.2.3) and ends every other session of theirs.
    ///
    /// # Errors
    /// `WrongPassword`, `WeakPassword`.
    pub async fn change_password(
        &self,
        actor: &Actor,
        me: &User,
        current: &str,
        new: &str,
        now: DateTime<Utc>,
    ) -> Result<(), ChangePasswordError> {
        let hash = self.store.password_hash(actor.user_id).await?;
        if current.chars().count() > MAX_PASSWORD_CHARS || !self.hasher.verify(current, hash.as_ref()).await? {
            return Err(ChangePasswordError::WrongPassword);
        }
        let new = self.policy.check(new, &me.personal_words()).map_err(ChangePasswordError::WeakPassword)?;
        let hash = self.hasher.hash(&new).await?;
        let audit = AuditEvent::by(actor, AuditAction::PasswordChanged, TargetType::User, Some(actor.user_id));
        self.store.set_password(actor.user_id, hash, Some(actor.session_id), now, &audit).await?;
        Ok(())
    }

    /// Changes the actor's own names, time zone or language; nothing that
    /// needs an administrator.
    ///
    /// # Errors
    /// When storage fails.
    pub async fn update_me(&self, actor: &Actor, changes: UserChanges, now: DateTime<Utc>) -> anyhow::Result<User> {
        let changes = UserChanges {
            first_name: changes.first_name,
            last_name: changes.last_name,
            timezone: changes.timezone,
            language: changes.language,
            ..UserChanges::default()
        };
        let audit =
            AuditEvent::by(actor, AuditAction::UserUpdated, TargetType::User, Some(actor.user_id)).with(json!({
                "fields": super::changed(&[
                    ("first_name", changes.first_name.is_some()),
                    ("last_name", changes.last_name.is_some()),
                    ("timezone", changes.timezone.is_some()),
                    ("language", changes.language.is_some()),
                ]),
            }));
        let update = UserUpdate { changes, ..UserUpdate::default() };
        match self.store.update_user(actor.tenant_id, actor.user_id, update, now, &audit).await {
            Ok(user) => Ok(user),
            Err(UpdateUserError::Unknown(e)) => Err(e),
            Err(other) => Err(anyhow::anyhow!("updating one's own profile: {other}")),
        }
    }

    fn refresh_expiry(&self, session: &Session, now: DateTime<Utc>) -> DateTime<Utc> {
        (now + self.lifetimes.refresh_idle).min(session.expires_at)
    }

    pub(super) fn signed_in(
        &self,
        user: User,
        session: &Session,
        refresh: RefreshToken,
        now: DateTime<Utc>,
    ) -> anyhow::Result<SignedIn> {
        let access_token = self.tokens.issue(user.id, user.tenant_id, session.id, now)?;
        Ok(SignedIn {
            access_token,
            refresh_token: refresh,
            expires_in: self.tokens.access_lifetime().num_seconds(),
            user,
        })
    }
}
