//! Idempotency keys (see `crate::idempotency`).

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::idempotency::{Claim, IdempotencyKey, KeyState};

pub trait IdempotencyStore {
    /// Claims `key` of `scope` for a request with `fingerprint` until
    /// `lease_until`. A key older than `forget_before` is forgotten first;
    /// a claimed key without an answer whose lease ran out is taken over
    /// when the fingerprint matches.
    ///
    /// # Errors
    /// When storage fails.
    fn claim_idempotency_key(
        &self,
        scope: Uuid,
        key: &IdempotencyKey,
        fingerprint: &str,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        forget_before: DateTime<Utc>,
    ) -> impl Future<Output = anyhow::Result<KeyState>> + Send;

    /// Lets the key go after the request failed, so a retry runs again.
    ///
    /// # Errors
    /// When storage fails.
    fn release_idempotency_key(&self, claim: &Claim) -> impl Future<Output = anyhow::Result<()>> + Send;
}
