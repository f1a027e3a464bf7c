//! Sign-in, refresh, sign-out, and turning a bearer token into an actor.
//!
//! A sign-in passes, in order: the source address's failure limit (429),
//! the password (one answer for every refusal, locked accounts and unknown
//! logins included, after the same work), the account's status, the
//! user's IP allowlist (403, only after the password matched, so it tells
//! a stranger nothing), the client's application, the second factor, and
//! the administrator's demand for one. The attempt is taken against the
//! source address and the login in the database before the password is
//! checked, and given back when it matched (SECURITY.md "Brute force",
//! [`crate::throttle`]); a storage failure is a 503, and one before the
//! attempt was taken counts nothing. Every outcome is audited.

use std::net::IpAddr;

use anyhow::Context as _;
use chrono::{DateTime, Utc};
use serde_json::json;
use uuid::Uuid;

use super::Voxport;
use crate::{
    audit::{AuditAction, AuditEvent},
    auth::{
        Client, RefreshToken, Session,
        totp::{RecoveryCode, TotpSecret, current_step, matching_step},
    },
    errors::{EnrolmentToken, LoginError},
    ports::Store,
    station::Application,
    throttle::{Counter, Taken, ThrottleKey, ThrottlePolicy, Verdict},
    user::{AccountId, User, UserStatus},
    values::{Login, MAX_PASSWORD_CHARS, allowed},
};

/// Wrong codes accepted in one time step before further codes in that
/// step are refused.
pub const MAX_WRONG_CODES_PER_STEP: u32 = 3;

/// What a successful sign-in or refresh hands to the client.
pub struct SignedIn {
    pub access_token: String,
    pub refresh_token: RefreshToken,
    pub expires_in: i64,
    pub user: User,
}

impl std::fmt::Debug for SignedIn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignedIn")
            .field("expires_in", &self.expires_in)
            .field("user", &self.user.id)
            .finish_non_exhaustive()
    }
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

/// Why an attempt on an account failed (a sign-in, or a re-check of a
/// password or code): the `reason` of its audit event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Failure {
    UnknownLogin,
    /// Refused uncounted while the account is locked.
    Locked,
    WrongPassword,
    WrongCode,
    WrongRecoveryCode,
    WrongCurrentPassword,
}

impl Failure {
    fn as_str(self) -> &'static str {
        match self {
            Self::UnknownLogin => "unknown_login",
            Self::Locked => "locked",
            Self::WrongPassword => "wrong_password",
            Self::WrongCode => "wrong_code",
            Self::WrongRecoveryCode => "wrong_recovery_code",
            Self::WrongCurrentPassword => "wrong_current_password",
        }
    }
}

/// Why a sign-in with the right password was refused: the `reason` of its
/// audit event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Refusal {
    /// Disabled, expired or not yet active.
    NotActive,
    IpNotAllowed,
    ApplicationNotEnabled,
    TwoFactorEnrolmentRequired,
}

impl Refusal {
    fn as_str(self) -> &'static str {
        match self {
            Self::NotActive => "status",
            Self::IpNotAllowed => "ip_not_allowed",
            Self::ApplicationNotEnabled => "application_not_enabled",
            Self::TwoFactorEnrolmentRequired => "two_factor_enrolment_required",
        }
    }
}

/// How the second factor was given.
enum SecondFactor {
    None,
    Totp,
    RecoveryCode,
}

/// Why the second factor did not pass.
enum SecondFactorRefusal {
    /// No code given: the next step of a sign-in, not a failure.
    Missing,
    /// A wrong, spent or throttled code: a failure, for this reason.
    Wrong(Failure),
}

/// The throttle attempts a sign-in took.
struct Attempts {
    /// The login's; none when refused uncounted while locked.
    account: Option<ThrottleKey>,
    /// The source address's, when it is known.
    address: Option<ThrottleKey>,
}

impl<S: Store> Voxport<S> {
    /// Signs a user in (PRODUCT.md rules 1, 6, 8 and 9).
    ///
    /// # Errors
    /// See [`LoginError`]; every refusal of the password is `InvalidCredentials`.
    pub async fn login(&self, attempt: LoginAttempt<'_>, now: DateTime<Utc>) -> Result<SignedIn, LoginError> {
        let ip = attempt.ip;
        let policy = &self.settings.throttle;
        let address = ip.map(ThrottleKey::Address);
        if let Some(key) = &address
            && let Taken::Closed(until) = self.store.take_attempt(key, policy, now).await?
        {
            let wait = until.map_or(policy.address_window, |u| u - now);
            return Err(LoginError::TooManyAttempts {
                retry_after: u64::try_from(wait.num_seconds()).unwrap_or(1).max(1),
            });
        }
        // Refused before hashing: an oversized password costs nothing.
        let oversized = attempt.password.chars().count() > MAX_PASSWORD_CHARS;
        let found = self.store.login_credentials(&Login::key_of(attempt.login)).await?;
        // Known or not, the login's attempt is taken (the same work either
        // way); a locked account is checked against the dummy hash: the
        // same answer, in the same time, as a wrong password.
        let account = ThrottleKey::account(attempt.login);
        let counted = match self.store.take_attempt(&account, policy, now).await? {
            Taken::Counted(counter) => Some(counter),
            Taken::Closed(_) => None,
        };
        let hash = found.as_ref().and_then(|f| f.hash.as_ref()).filter(|_| counted.is_some());
        let matches = !oversized && self.hasher.verify(attempt.password, hash).await?;
        let taken = Attempts { account: counted.is_some().then_some(account), address };
        let whose = found.as_ref().map(|f| AccountId { tenant_id: f.tenant_id, user_id: f.user_id });
        // Only now the whole user: loading it for a known login alone would
        // take time an unknown one does not.
        let user = match &whose {
            Some(w) if matches => self.store.user(w.tenant_id, w.user_id).await?,
            _ => None,
        };
        let user = match user {
            Some(user) if user.status(now) == UserStatus::Active => user,
            Some(user) => {
                self.record_refusal(&user, Refusal::NotActive, ip, &taken, now).await?;
                return Err(LoginError::InvalidCredentials);
            }
            None => {
                let reason = match &whose {
                    None => Failure::UnknownLogin,
                    Some(_) if counted.is_none() => Failure::Locked,
                    Some(_) => Failure::WrongPassword,
                };
                self.record_failure(whose, counted.as_ref(), ip, reason, now).await?;
                return Err(LoginError::InvalidCredentials);
            }
        };
        if !allowed(&user.allowed_networks, ip) {
            self.record_refusal(&user, Refusal::IpNotAllowed, ip, &taken, now).await?;
            return Err(LoginError::IpNotAllowed);
        }
        // Before the second factor, so no code is spent on a sign-in that
        // cannot succeed.
        if !attempt.client.allowed_for(&user) {
            self.record_refusal(&user, Refusal::ApplicationNotEnabled, ip, &taken, now).await?;
            return Err(LoginError::ApplicationNotEnabled(Application::DesktopApp));
        }
        let factor = match self.second_factor(&user, attempt.otp, ip, now).await? {
            Ok(factor) => factor,
            Err(SecondFactorRefusal::Missing) => {
                self.refund_attempts(&taken).await?;
                return Err(LoginError::OtpRequired);
            }
            Err(SecondFactorRefusal::Wrong(reason)) => {
                self.record_failure(Some(AccountId::from(&user)), counted.as_ref(), ip, reason, now).await?;
                return Err(LoginError::OtpInvalid);
            }
        };
        if user.two_factor.required && !user.two_factor.enabled {
            self.record_refusal(&user, Refusal::TwoFactorEnrolmentRequired, ip, &taken, now).await?;
            let token = self.tokens.issue_enrolment(user.id, user.tenant_id, now)?;
            return Err(LoginError::TwoFactorEnrolmentRequired { token: EnrolmentToken(token) });
        }
        if let Some(account) = &taken.account {
            self.store.clear(account, None).await?;
        }
        if let Some(address) = &taken.address {
            self.store.refund(address, policy).await?;
        }
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
        let audit = AuditEvent::own(AuditAction::SignInSucceeded, user.tenant_id, user.id, ip, now).with(json!({
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
    ) -> anyhow::Result<Result<SecondFactor, SecondFactorRefusal>> {
        if !user.two_factor.enabled {
            return Ok(Ok(SecondFactor::None));
        }
        let Some(code) = otp.map(str::trim).filter(|c| !c.is_empty()) else {
            return Ok(Err(SecondFactorRefusal::Missing));
        };
        if RecoveryCode::looks_like(code) {
            let audit = AuditEvent::own(AuditAction::RecoveryCodeUsed, user.tenant_id, user.id, ip, now);
            return Ok(if self.store.use_recovery_code(user.id, &RecoveryCode::hash_of(code), now, &audit).await? {
                Ok(SecondFactor::RecoveryCode)
            } else {
                Err(SecondFactorRefusal::Wrong(Failure::WrongRecoveryCode))
            });
        }
        Ok(if self.check_code(user, code, now).await? {
            Ok(SecondFactor::Totp)
        } else {
            Err(SecondFactorRefusal::Wrong(Failure::WrongCode))
        })
    }

    /// Whether `code` is a current TOTP code of the user's enabled second
    /// factor, accepted now: each step once, and no more than
    /// [`MAX_WRONG_CODES_PER_STEP`] wrong codes in one step.
    pub(super) async fn check_code(&self, user: &User, code: &str, now: DateTime<Utc>) -> anyhow::Result<bool> {
        let record =
            self.store.totp(user.id).await?.filter(|r| r.confirmed).context("an enabled second factor vanished")?;
        let step_now = current_step(now);
        let too_many = record.failed_step == Some(step_now) && record.failures >= MAX_WRONG_CODES_PER_STEP;
        let secret = TotpSecret::from_bytes(self.secrets.open(&record.sealed_secret, &TotpSecret::context(user.id))?);
        match matching_step(&secret, code, now) {
            // Accepted once: only a step later than the last accepted one.
            Some(step) if !too_many && self.store.accept_step(user.id, step).await? => Ok(true),
            _ => {
                self.store.count_wrong_code(user.id, step_now).await?;
                Ok(false)
            }
        }
    }

    /// Checks a signed-in user's password again (to change it, or to turn
    /// their second factor off). The attempt counts against their account
    /// as a sign-in's would, so a stolen session is no way around the
    /// lockout. Answers the attempt's counter when the password is right
    /// (the attempt still counted until [`Self::clear_failures`] clears it); a
    /// wrong password or a locked account is audited and answers `None`.
    pub(super) async fn recheck_password(
        &self,
        user: &User,
        password: &str,
        ip: Option<IpAddr>,
        now: DateTime<Utc>,
    ) -> anyhow::Result<Option<Counter>> {
        let key = ThrottleKey::account(user.login.as_str());
        let counted = match self.store.take_attempt(&key, &self.settings.throttle, now).await? {
            Taken::Counted(counter) => Some(counter),
            Taken::Closed(_) => None,
        };
        let hash = self.store.password_hash(user.id).await?.filter(|_| counted.is_some());
        if password.chars().count() <= MAX_PASSWORD_CHARS && self.hasher.verify(password, hash.as_ref()).await? {
            return Ok(counted);
        }
        let reason = if counted.is_some() { Failure::WrongCurrentPassword } else { Failure::Locked };
        self.record_failure(Some(AccountId::from(user)), counted.as_ref(), ip, reason, now).await?;
        Ok(None)
    }

    /// Clears the user's failures after a successful [`Self::recheck_password`].
    pub(super) async fn clear_failures(&self, user: &User) -> anyhow::Result<()> {
        self.store.clear(&ThrottleKey::account(user.login.as_str()), None).await
    }

    /// Audits a failed attempt, whose count was taken in advance: with the
    /// lock it caused, if it did, in one transaction.
    pub(super) async fn record_failure(
        &self,
        whose: Option<AccountId>,
        counted: Option<&Counter>,
        ip: Option<IpAddr>,
        reason: Failure,
        now: DateTime<Utc>,
    ) -> anyhow::Result<()> {
        let reason = reason.as_str();
        let mut events = Vec::with_capacity(2);
        if let (Some(w), Some(counter)) = (&whose, counted)
            && matches!(ThrottlePolicy::verdict(Some(counter), now), Verdict::Closed(_))
        {
            events.push(AuditEvent::own(AuditAction::AccountLocked, w.tenant_id, w.user_id, ip, now).with(json!({
                "failures": counter.failures,
                "locked_until": counter.locked_until,
                "until_unlocked": counter.hard_locked,
            })));
        }
        let failures = whose.and(counted).map(|c| c.failures);
        let (tenant, user) = (whose.map(|w| w.tenant_id), whose.map(|w| w.user_id));
        events.push(
            AuditEvent::anonymous(AuditAction::SignInFailed, tenant, user, ip, now)
                .with(json!({"reason": reason, "failures": failures})),
        );
        self.store.record_all(&events).await?;
        tracing::info!(?user, ?ip, reason, "sign-in failed");
        Ok(())
    }

    /// Gives back the attempts a sign-in took: it was no failure.
    async fn refund_attempts(&self, taken: &Attempts) -> anyhow::Result<()> {
        for key in [&taken.account, &taken.address].into_iter().flatten() {
            self.store.refund(key, &self.settings.throttle).await?;
        }
        Ok(())
    }

    /// Audits a sign-in refused after the password matched, giving back
    /// the attempts it took.
    async fn record_refusal(
        &self,
        user: &User,
        reason: Refusal,
        ip: Option<IpAddr>,
        taken: &Attempts,
        now: DateTime<Utc>,
    ) -> anyhow::Result<()> {
        let reason = reason.as_str();
        self.refund_attempts(taken).await?;
        let audit = AuditEvent::anonymous(AuditAction::SignInRefused, Some(user.tenant_id), Some(user.id), ip, now)
            .with(json!({"reason": reason}));
        self.store.record(&audit).await?;
        tracing::info!(user = %user.id, ?ip, reason, "sign-in refused");
        Ok(())
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
