//! Claiming idempotency keys (see `crate::idempotency` for the design).

use anyhow::Context as _;
use chrono::{DateTime, Duration, Utc};

use super::{CreatedUser, Voxport};
use crate::{
    actor::Actor,
    idempotency::{Claim, ClaimOutcome, IdempotencyKey, KeyState, StoredResponse},
    ports::Store,
};

/// How long a claim without an answer keeps a retry out: longer than any
/// request runs.
const LEASE_SECONDS: i64 = 60;

/// Turns the outcome of a creation into the answer the client gets, so it
/// can be stored with the work and replayed.
pub type Render<'a> = &'a (dyn Fn(&CreatedUser) -> anyhow::Result<StoredResponse> + Sync);

impl<S: Store> Voxport<S> {
    /// Claims `key` for the actor's request with `fingerprint`.
    ///
    /// # Errors
    /// When storage fails or a remembered answer does not open.
    pub async fn claim_idempotency_key(
        &self,
        actor: &Actor,
        key: IdempotencyKey,
        fingerprint: &str,
        now: DateTime<Utc>,
    ) -> anyhow::Result<ClaimOutcome> {
        let state = self
            .store
            .claim_idempotency_key(
                actor.user_id,
                &key,
                fingerprint,
                now,
                now + Duration::seconds(LEASE_SECONDS),
                now - self.settings.idempotency_lifetime,
            )
            .await?;
        Ok(match state {
            KeyState::Claimed(claim) => ClaimOutcome::Proceed(claim),
            KeyState::Taken { fingerprint: theirs, .. } if theirs != fingerprint => ClaimOutcome::KeyReused,
            KeyState::Taken { response: None, .. } => ClaimOutcome::InProgress,
            KeyState::Taken { response: Some(sealed), .. } => {
                let opened = self.secrets.open(&sealed, &StoredResponse::context(actor.user_id, &key))?;
                ClaimOutcome::Replay(serde_json::from_slice(&opened).context("reading a remembered answer")?)
            }
        })
    }

    /// Lets a claimed key go after its request failed.
    ///
    /// # Errors
    /// When storage fails.
    pub async fn release_idempotency_key(&self, claim: &Claim) -> anyhow::Result<()> {
        self.store.release_idempotency_key(claim).await
    }

    /// Forgets idempotency keys older than their lifetime, and links and
    /// throttle counters past their use; answers how many rows went.
    ///
    /// # Errors
    /// When storage fails.
    pub async fn purge(&self, now: DateTime<Utc>) -> anyhow::Result<u64> {
        self.store.purge(now, now - self.settings.idempotency_lifetime).await
    }

    /// The sealed form of an answer remembered for `claim`.
    pub(super) fn seal_response(&self, claim: &Claim, response: &StoredResponse) -> anyhow::Result<String> {
        let json = serde_json::to_vec(response).context("writing a remembered answer")?;
        self.secrets.seal(&json, &StoredResponse::context(claim.scope, &claim.key))
    }
}
