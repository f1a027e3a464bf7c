//! Brute-force counters (see `crate::throttle`).

use chrono::{DateTime, Utc};

use crate::{
    audit::AuditEvent,
    throttle::{Taken, ThrottleKey, ThrottlePolicy},
};

pub trait ThrottleStore {
    /// Takes one attempt under `key` by `policy`'s rule
    /// ([`ThrottlePolicy::take`]), atomically across replicas: of parallel
    /// attempts, no more are counted than one after another would be.
    ///
    /// # Errors
    /// When storage fails.
    fn take_attempt(
        &self,
        key: &ThrottleKey,
        policy: &ThrottlePolicy,
        now: DateTime<Utc>,
    ) -> impl Future<Output = anyhow::Result<Taken>> + Send;

    /// Gives back an attempt taken under `key` that was no failure
    /// ([`ThrottlePolicy::refunded`]).
    ///
    /// # Errors
    /// When storage fails.
    fn refund(&self, key: &ThrottleKey, policy: &ThrottlePolicy) -> impl Future<Output = anyhow::Result<()>> + Send;

    /// Forgets the counter (a success, or an administrator's unlock, which
    /// is audited in the same transaction).
    ///
    /// # Errors
    /// When storage fails.
    fn clear(&self, key: &ThrottleKey, audit: Option<&AuditEvent>) -> impl Future<Output = anyhow::Result<()>> + Send;
}
