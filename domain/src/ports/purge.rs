//! Forgetting what outlived its use.

use chrono::{DateTime, Utc};

pub trait PurgeStore {
    /// Forgets what outlived its use: idempotency keys created before
    /// `keys_before`, and links and throttle counters past their time.
    ///
    /// # Errors
    /// When storage fails.
    fn purge(&self, now: DateTime<Utc>, keys_before: DateTime<Utc>)
    -> impl Future<Output = anyhow::Result<u64>> + Send;
}
