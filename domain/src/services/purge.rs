//! Housekeeping: what each kind of row is kept for, and forgetting it
//! after. Runs in the background on every replica (see `ports::purge`).

use chrono::{DateTime, Duration, Utc};

use super::Voxport;
use crate::ports::{Purge, Store};

/// Rows a purge deletes per statement.
const PURGE_BATCH: u64 = 500;

/// How long an ended session is kept, for the administrators who look
/// into what happened just now.
const ENDED_SESSIONS_KEPT: Duration = Duration::days(1);

/// How long a settled webhook delivery (delivered or given up) shows in
/// `GET /v1/webhooks/{id}/deliveries`.
pub const DELIVERIES_KEPT: Duration = Duration::days(30);

impl<S: Store> Voxport<S> {
    /// What a purge at `now` forgets: idempotency keys past their
    /// lifetime; throttle counters idle for longer than any of their
    /// windows and locks (a day at least); addresses not signed in from
    /// for as long as they stay known; sessions ended a day ago.
    #[must_use]
    pub fn purge_at(&self, now: DateTime<Utc>) -> Purge {
        let t = &self.settings.throttle;
        let longest =
            [t.address_window, t.reset_emails_window, t.reset_requests_window, t.pair_max_lock, Duration::days(1)]
                .into_iter()
                .max()
                .unwrap_or(Duration::days(1));
        Purge {
            now,
            keys_before: now - self.settings.idempotency_lifetime,
            counters_before: now - longest,
            known_before: now - t.known_for,
            sessions_before: now - ENDED_SESSIONS_KEPT,
            deliveries_before: now - DELIVERIES_KEPT,
            batch: PURGE_BATCH,
        }
    }

    /// Forgets what outlived its use at `now`; answers how many rows went.
    ///
    /// # Errors
    /// When storage fails.
    pub async fn purge(&self, now: DateTime<Utc>) -> anyhow::Result<u64> {
        let forgotten = self.store.purge(&self.purge_at(now)).await?;
        // Deactivated users whose hold is over give up what they held
        // (`crate::deprovisioning`).
        let ended = self.store.end_holds(now).await?;
        if ended > 0 {
            self.tokens_may_have_changed();
        }
        Ok(forgotten + ended)
    }
}
