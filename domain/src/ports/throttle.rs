//! Brute-force counters and the addresses users are known at (see
//! `crate::throttle`).

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::{
    audit::AuditEvent,
    throttle::{Counter, SignInKeys, Success, Taken, ThrottleKey, ThrottlePolicy, ThrottleState},
};

pub trait ThrottleStore {
    /// What a sign-in of a login from an address finds when its hash
    /// starts: the counters of `keys`, and when `user` (the login's owner,
    /// `None` for a login nobody has) last signed in from the address, if
    /// not before `known_since`. The same work whether the login exists or
    /// not.
    ///
    /// # Errors
    /// When storage fails.
    fn throttle_state(
        &self,
        keys: &SignInKeys,
        user: Option<Uuid>,
        known_since: DateTime<Utc>,
    ) -> impl Future<Output = anyhow::Result<ThrottleState>> + Send;

    /// Counts one failure under each of `keys` by `policy`'s rule, all in
    /// one transaction and atomically across replicas (of concurrent
    /// failures none is lost); answers the counters after, in order.
    ///
    /// # Errors
    /// When storage fails.
    fn record_failures(
        &self,
        keys: &[&ThrottleKey],
        policy: &ThrottlePolicy,
        now: DateTime<Utc>,
    ) -> impl Future<Output = anyhow::Result<Vec<Counter>>> + Send;

    /// Writes what a successful sign-in of `user` from the address of
    /// `keys` changes (the domain decided it: [`ThrottlePolicy::success`]).
    ///
    /// # Errors
    /// When storage fails.
    fn record_success(
        &self,
        keys: &SignInKeys,
        user: Uuid,
        success: Success,
        now: DateTime<Utc>,
    ) -> impl Future<Output = anyhow::Result<()>> + Send;

    /// Takes one attempt of a counted action (a password-reset email)
    /// under `key` ([`ThrottlePolicy::take`]), atomically across replicas.
    ///
    /// # Errors
    /// When storage fails.
    fn take_attempt(
        &self,
        key: &ThrottleKey,
        policy: &ThrottlePolicy,
        now: DateTime<Utc>,
    ) -> impl Future<Output = anyhow::Result<Taken>> + Send;

    /// Lifts every lock of the login `login` (its hard stop and its locks
    /// at every address), recording `audit` in the same transaction.
    ///
    /// # Errors
    /// When storage fails.
    fn unlock_login(&self, login: &str, audit: &AuditEvent) -> impl Future<Output = anyhow::Result<()>> + Send;
}
