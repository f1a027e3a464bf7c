//! Forgetting what outlived its use.

use chrono::{DateTime, Utc};

/// What a purge forgets: rows past these instants, as the domain's rules
/// say they stop mattering ([`crate::services`]'s `purge`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Purge {
    pub now: DateTime<Utc>,
    /// Idempotency keys created before.
    pub keys_before: DateTime<Utc>,
    /// Throttle counters without a failure since, and without a lock still
    /// running or one only an administrator lifts.
    pub counters_before: DateTime<Utc>,
    /// Known addresses not signed in from since.
    pub known_before: DateTime<Utc>,
    /// Sessions (with their refresh tokens) that ended before.
    pub sessions_before: DateTime<Utc>,
    /// Webhook deliveries, delivered or given up, written before.
    pub deliveries_before: DateTime<Utc>,
    /// Rows deleted per statement, so a purge never holds locks for long.
    pub batch: u64,
}

pub trait PurgeStore {
    /// Forgets, in batches, what `purge` says outlived its use, and links
    /// spent or expired at `purge.now`; answers how many rows went. Safe
    /// beside the same purge on other replicas: each row goes once.
    ///
    /// # Errors
    /// When storage fails.
    fn purge(&self, purge: &Purge) -> impl Future<Output = anyhow::Result<u64>> + Send;
}
