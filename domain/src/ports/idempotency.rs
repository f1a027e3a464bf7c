//! Idempotency keys (see `crate::idempotency`).

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::idempotency::{Claim, IdempotencyKey, KeyState};

pub trait IdempotencyStore {
    /// Claims `key` of `scope` for a request with `fingerprint` until
    /// `lease_until`. A key older than `forget_before` is forgotten first;
    /// a key whose request committed nothing and whose lease ran out is
    /// taken over when the fingerprint matches.
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

    /// Stores `sealed_answer` on the claimed key when `succeeded` or when
    /// its request committed work, else deletes the key. Does nothing when
    /// the claim is no longer this request's.
    ///
    /// # Errors
    /// When storage fails.
    fn settle_idempotency_key(
        &self,
        claim: &Claim,
        sealed_answer: &str,
        succeeded: bool,
    ) -> impl Future<Output = anyhow::Result<()>> + Send;
}
