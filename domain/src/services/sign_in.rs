//! Signing in, and checking a signed-in user's password again.
//!
//! A sign-in waits for a free hashing thread, then passes, in order: the
//! throttle counters (429 for a spraying address; a locked login answers
//! like a wrong password, after the same work), the password (one answer
//! for every refusal, unknown logins included), the account's status, the
//! user's IP allowlist (403, only after the password matched, so it tells
//! a stranger nothing), the client's application, the second factor, and
//! the administrator's demand for one. Whatever does not end in a session
//! is counted as a failure (SECURITY.md "Brute force", [`crate::throttle`]);
//! a storage failure is a 503 and counts nothing. Every outcome is
//! audited.

use std::net::IpAddr;

use anyhow::Context as _;
use chrono::{DateTime, Utc};
use serde_json::json;
use uuid::Uuid;

use super::Voxport;
use crate::{
    audit::{AuditAction, AuditEvent},
    auth::{
        Client, HashSlot, PasswordHash, RefreshToken, Session,
        totp::{RecoveryCode, TotpSecret, current_step, matching_step},
    },
    errors::{EnrolmentToken, LoginError},
    ports::{LoginCredentials, Store},
    station::Application,
    throttle::{Counter, Judgement, SignInKeys, ThrottlePolicy, ThrottleState, Verdict},
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
    /// The right password of a disabled, pending or expired account.
    NotActive,
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
            Self::NotActive => "not_active",
        }
    }
}

/// Why a sign-in with the right password was refused: the `reason` of its
/// audit event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Refusal {
    /// Disabled, expired or not yet active.
    NotActive,
    /// The user has a second factor and gave no code.
    OtpRequired,
    IpNotAllowed,
    ApplicationNotEnabled,
    TwoFactorEnrolmentRequired,
}

impl Refusal {
    fn as_str(self) -> &'static str {
        match self {
            Self::NotActive => "status",
            Self::OtpRequired => "otp_required",
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

/// A password checked against an account, as its throttle counters judged
/// it when its hash started: what its outcome is recorded against.
pub(super) struct PasswordCheck {
    keys: SignInKeys,
    state: ThrottleState,
    judged: Judgement,
    /// The account the login names, if any.
    whose: Option<AccountId>,
    /// Whether the password matched.
    matched: bool,
    /// The stamp of the hash it matched (`PasswordHash::stamp`), for an
    /// enrolment token that must die with that password.
    stamp: Option<String>,
    /// The hashing slot of a password that did not match, held until its
    /// failure is recorded: the next attempt waiting for it is judged by
    /// counters that include this one.
    _held: Option<HashSlot>,
}

impl<S: Store> Voxport<S> {
    /// Signs a user in (PRODUCT.md rules 1, 6, 8, 9 and 15).
    ///
    /// # Errors
    /// See [`LoginError`]; every refusal of the password is `InvalidCredentials`.
    pub async fn login(&self, attempt: LoginAttempt<'_>, now: DateTime<Utc>) -> Result<SignedIn, LoginError> {
        let ip = attempt.ip;
        let found = self.store.login_credentials(&Login::key_of(attempt.login)).await?;
        let check = self.check_password(attempt.login, found.as_ref(), attempt.password, ip, now).await?;
        if let Judgement::TooMany { until } = check.judged {
            metrics::counter!("voxport_throttle_refusals_total", "kind" => "address").increment(1);
            return Err(LoginError::TooManyAttempts {
                retry_after: u64::try_from((until - now).num_seconds()).unwrap_or(1).max(1),
            });
        }
        // A right password on an account that may not sign in now is
        // refused with the same work as a wrong one: one count, one event,
        // no user loaded, so timing tells the two apart no better than the
        // answer does.
        if check.matched
            && let Some(found) = &found
            && found.status(now) != UserStatus::Active
        {
            self.record_failure(&check, Failure::NotActive, ip, now).await?;
            return Err(LoginError::InvalidCredentials);
        }
        // Only now the whole user: loading it for a known login alone would
        // take time an unknown one does not.
        let user = match &check.whose {
            Some(w) if check.matched => self.store.user(w.tenant_id, w.user_id).await?,
            _ => None,
        };
        let user = match user {
            Some(user) if user.status(now) == UserStatus::Active => user,
            Some(user) => return Err(self.refuse(&check, &user, Refusal::NotActive, ip, now).await?),
            None => {
                let reason = match (&check.whose, check.judged) {
                    (_, Judgement::Locked) => Failure::Locked,
                    (None, _) => Failure::UnknownLogin,
                    (Some(_), _) => Failure::WrongPassword,
                };
                self.record_failure(&check, reason, ip, now).await?;
                return Err(LoginError::InvalidCredentials);
            }
        };
        if !allowed(&user.allowed_networks, ip) {
            return Err(self.refuse(&check, &user, Refusal::IpNotAllowed, ip, now).await?);
        }
        // Before the second factor, so no code is spent on a sign-in that
        // cannot succeed.
        if !attempt.client.allowed_for(&user) {
            return Err(self.refuse(&check, &user, Refusal::ApplicationNotEnabled, ip, now).await?);
        }
        let factor = match self.second_factor(&user, attempt.otp, ip, now).await? {
            Ok(factor) => factor,
            Err(SecondFactorRefusal::Missing) => {
                return Err(self.refuse(&check, &user, Refusal::OtpRequired, ip, now).await?);
            }
            Err(SecondFactorRefusal::Wrong(reason)) => {
                self.record_failure(&check, reason, ip, now).await?;
                return Err(LoginError::OtpInvalid);
            }
        };
        if user.two_factor.required && !user.two_factor.enabled {
            return Err(self.refuse(&check, &user, Refusal::TwoFactorEnrolmentRequired, ip, now).await?);
        }
        self.record_success(&check, user.id, now).await?;
        if let Some(stored) = found.as_ref().and_then(|f| f.hash.as_ref())
            && self.hasher.is_outdated(stored)
        {
            self.rehash(user.id, stored, attempt.password).await;
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
        metrics::counter!("voxport_sign_ins_total", "outcome" => "succeeded").increment(1);
        Ok(self.signed_in(user, &session, refresh, now)?)
    }

    /// Checks `password` against the account `found` of `login`, as a
    /// sign-in from `ip` does: once a hashing thread is free, the
    /// throttle counters judge the attempt; then the password is hashed
    /// (against the dummy when the login names nobody or is locked). A
    /// spraying address gets no hash. Answers the check, whose outcome the
    /// caller records.
    async fn check_password(
        &self,
        login: &str,
        found: Option<&LoginCredentials>,
        password: &str,
        ip: Option<IpAddr>,
        now: DateTime<Utc>,
    ) -> anyhow::Result<PasswordCheck> {
        let policy = &self.settings.throttle;
        let keys = SignInKeys::new(login, ip);
        let whose = found.map(|f| AccountId { tenant_id: f.tenant_id, user_id: f.user_id });
        let slot = self.hasher.slot().await?;
        let state = self.store.throttle_state(&keys, whose.map(|w| w.user_id), now - policy.known_for).await?;
        let judged = policy.judge(&state, now);
        // Refused before hashing: an oversized password costs nothing, and
        // tells nothing either.
        let oversized = password.chars().count() > MAX_PASSWORD_CHARS;
        let matched = match judged {
            Judgement::TooMany { .. } => false,
            _ if oversized => false,
            Judgement::Locked => slot.verify(password, None).await?,
            Judgement::Open => slot.verify(password, found.and_then(|f| f.hash.as_ref())).await?,
        };
        let held = (!matched).then_some(slot);
        let stamp = found.and_then(|f| f.hash.as_ref()).filter(|_| matched).map(PasswordHash::stamp);
        Ok(PasswordCheck { keys, state, judged, whose, matched, stamp, _held: held })
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
    /// their second factor off), as a sign-in from `ip` would: the same
    /// counters judge it and count its failure, so a stolen session is no
    /// way around the lockout. Answers the check when the password is right
    /// (record its success once the whole change passed); a wrong password
    /// or a locked login is recorded and answers `None`.
    pub(super) async fn recheck_password(
        &self,
        user: &User,
        password: &str,
        ip: Option<IpAddr>,
        now: DateTime<Utc>,
    ) -> anyhow::Result<Option<PasswordCheck>> {
        let found = LoginCredentials {
            user_id: user.id,
            tenant_id: user.tenant_id,
            hash: self.store.password_hash(user.id).await?,
            disabled: user.disabled,
            activation_at: user.activation_at,
            expires_at: user.expires_at,
        };
        let check = self.check_password(user.login.as_str(), Some(&found), password, ip, now).await?;
        if check.matched {
            return Ok(Some(check));
        }
        let reason = if check.judged == Judgement::Open { Failure::WrongCurrentPassword } else { Failure::Locked };
        self.record_failure(&check, reason, ip, now).await?;
        Ok(None)
    }

    /// Records that a check ended in success: the login's counters at the
    /// address clear, and the address is remembered as known.
    pub(super) async fn record_success(
        &self,
        check: &PasswordCheck,
        user: Uuid,
        now: DateTime<Utc>,
    ) -> anyhow::Result<()> {
        let success = self.settings.throttle.success(&check.state, now);
        self.store.record_success(&check.keys, user, success, now).await
    }

    /// Stores the password of a sign-in again, hashed with the current
    /// settings. A failure is logged and the sign-in goes on: the old hash
    /// still works.
    async fn rehash(&self, user: Uuid, stored: &PasswordHash, password: &str) {
        let done = match self.hasher.rehash(password).await {
            Ok(new) => self.store.rehash_password(user, stored, &new).await,
            Err(e) => Err(e),
        };
        match done {
            Ok(true) => tracing::info!(%user, "rehashed a password with the current settings"),
            Ok(false) => {}
            Err(e) => tracing::warn!(%user, error = ?e, "rehashing a password failed; the old hash stays"),
        }
    }

    /// Counts a failed check against the counters it moves and audits it,
    /// with the lock it caused, if it did.
    pub(super) async fn record_failure(
        &self,
        check: &PasswordCheck,
        reason: Failure,
        ip: Option<IpAddr>,
        now: DateTime<Utc>,
    ) -> anyhow::Result<()> {
        let reason = reason.as_str();
        let counters = self.count_failure(check, now).await?;
        let mut events = Vec::with_capacity(2);
        if let Some(w) = &check.whose
            && let Some(lock) = lock_details(check, &counters, now)
        {
            events.push(AuditEvent::own(AuditAction::AccountLocked, w.tenant_id, w.user_id, ip, now).with(lock));
        }
        let failures = counters.first().map(|c| c.failures).filter(|_| check.judged == Judgement::Open);
        let (tenant, user) = (check.whose.map(|w| w.tenant_id), check.whose.map(|w| w.user_id));
        events.push(
            AuditEvent::anonymous(AuditAction::SignInFailed, tenant, user, ip, now)
                .with(json!({"reason": reason, "failures": failures})),
        );
        self.store.record_all(&events).await?;
        metrics::counter!("voxport_sign_ins_total", "outcome" => "failed", "reason" => reason).increment(1);
        tracing::info!(?user, ?ip, reason, "sign-in failed");
        Ok(())
    }

    /// Refuses a sign-in whose password matched: it counts like a failure
    /// (it cost a hash), and is audited with its reason. Answers the error
    /// to return.
    async fn refuse(
        &self,
        check: &PasswordCheck,
        user: &User,
        reason: Refusal,
        ip: Option<IpAddr>,
        now: DateTime<Utc>,
    ) -> anyhow::Result<LoginError> {
        self.count_failure(check, now).await?;
        let audit = AuditEvent::anonymous(AuditAction::SignInRefused, Some(user.tenant_id), Some(user.id), ip, now)
            .with(json!({"reason": reason.as_str()}));
        self.store.record(&audit).await?;
        metrics::counter!("voxport_sign_ins_total", "outcome" => "refused", "reason" => reason.as_str()).increment(1);
        tracing::info!(user = %user.id, ?ip, reason = reason.as_str(), "sign-in refused");
        Ok(match reason {
            Refusal::NotActive => LoginError::InvalidCredentials,
            Refusal::IpNotAllowed => LoginError::IpNotAllowed,
            Refusal::ApplicationNotEnabled => LoginError::ApplicationNotEnabled(Application::DesktopApp),
            Refusal::OtpRequired => LoginError::OtpRequired,
            Refusal::TwoFactorEnrolmentRequired => {
                let stamp = check.stamp.clone().context("a matched password has no hash")?;
                let token = self.tokens.issue_enrolment(user.id, user.tenant_id, stamp, now)?;
                LoginError::TwoFactorEnrolmentRequired { token: EnrolmentToken(token) }
            }
        })
    }

    /// Counts one failure against the counters `check` moves; answers them
    /// after, in [`ThrottlePolicy::failing`]'s order.
    async fn count_failure(&self, check: &PasswordCheck, now: DateTime<Utc>) -> anyhow::Result<Vec<Counter>> {
        let keys = ThrottlePolicy::failing(&check.keys, &check.state, check.judged);
        self.store.record_failures(&keys, &self.settings.throttle, now).await
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

/// What the audit log says of a lock that a failure of `check` just
/// caused: the login stopped at unknown addresses for good, or locked at
/// this address for a while; `None` when it caused none.
fn lock_details(check: &PasswordCheck, after: &[Counter], now: DateTime<Utc>) -> Option<serde_json::Value> {
    if check.judged != Judgement::Open {
        return None;
    }
    let hard_stop = (!check.state.known()).then(|| after.get(1)).flatten().filter(|c| c.hard_locked);
    if let Some(account) = hard_stop {
        return Some(json!({"failures": account.failures, "locked_until": null, "until_unlocked": true}));
    }
    after
        .first()
        .filter(|pair| matches!(ThrottlePolicy::verdict(Some(pair), now), Verdict::Closed(_)))
        .map(|pair| json!({"failures": pair.failures, "locked_until": pair.locked_until, "until_unlocked": false}))
}
