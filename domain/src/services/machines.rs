//! Machines proving a secret: a desk phone fetching its configuration, an
//! API client asking for a token. Each is counted like a sign-in
//! (SECURITY.md "Brute force"): failures count against the machine's name
//! at the address and against the address, a locked name is refused like
//! a wrong secret, and an address failing too often gets 429. There is no
//! hard stop: issuing new credentials is how an administrator lets a
//! machine in again.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::Voxport;
use crate::{
    ports::Store,
    throttle::{Judgement, SignInKeys, Success, ThrottleState},
};

/// A machine refused before its secret was checked.
#[derive(Debug)]
pub(crate) enum Throttled {
    /// The address fails too often: 429 for this long.
    TooMany { retry_after: u64 },
    /// Locked out of this name at the address: refused like a wrong secret.
    Locked,
}

impl<S: Store> Voxport<S> {
    /// Judges a machine's attempt when it starts: what its counters say.
    ///
    /// # Errors
    /// `Ok(Err(..))` when the attempt is refused; a locked one is counted
    /// against the address.
    pub(super) async fn judge_machine(
        &self,
        keys: &SignInKeys,
        now: DateTime<Utc>,
    ) -> anyhow::Result<Result<ThrottleState, Throttled>> {
        let policy = &self.settings.throttle;
        let mut state = self.store.throttle_state(keys, None, now - policy.known_for).await?;
        state.account = None;
        Ok(match policy.judge(&state, now) {
            Judgement::TooMany { until } => {
                metrics::counter!("voxport_throttle_refusals_total", "kind" => "machine").increment(1);
                Err(Throttled::TooMany { retry_after: u64::try_from((until - now).num_seconds()).unwrap_or(1).max(1) })
            }
            Judgement::Locked => {
                self.store.record_failures(&[&keys.address], policy, now).await?;
                Err(Throttled::Locked)
            }
            Judgement::Open => Ok(state),
        })
    }

    /// Counts a machine's wrong secret (or unknown name).
    pub(super) async fn machine_failed(&self, keys: &SignInKeys, now: DateTime<Utc>) -> anyhow::Result<()> {
        self.store.record_failures(&[&keys.pair, &keys.address], &self.settings.throttle, now).await?;
        Ok(())
    }

    /// A machine proved its secret: its failures at the address are
    /// forgiven.
    pub(super) async fn machine_succeeded(
        &self,
        keys: &SignInKeys,
        state: &ThrottleState,
        machine: Uuid,
        now: DateTime<Utc>,
    ) -> anyhow::Result<()> {
        if state.pair.is_some() {
            let success = Success { clear_pair: true, ..Success::default() };
            self.store.record_success(keys, machine, success, now).await?;
        }
        Ok(())
    }
}
