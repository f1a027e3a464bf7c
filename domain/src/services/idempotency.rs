//! The `Idempotency-Key` protocol (see `crate::idempotency` for the
//! design): claim the key, run the work once, remember its result with it,
//! and answer that result again to a retry.

use anyhow::Context as _;
use chrono::{DateTime, Duration, Utc};
use serde::{Serialize, de::DeserializeOwned};

use super::Voxport;
use crate::{
    actor::Actor,
    idempotency::{Claim, IdempotencyRefusal, IdempotentRequest, KeyState, Outcome, sealing_context},
    ports::Store,
};

/// How long a claim without an answer keeps a retry out: longer than any
/// request runs.
const LEASE_SECONDS: i64 = 60;

impl<S: Store> Voxport<S> {
    /// Runs `work` once per idempotency key of the actor. Without a key it
    /// just runs. With one it claims the key first: a key whose work
    /// committed answers the remembered result (`Replayed`); a key in use
    /// for another request, or by a request still running, refuses. `work`
    /// gets the claim and must store its result on it, with
    /// [`Self::seal_result`], in the transaction of the work; when it
    /// fails, the claim is let go so that a retry runs again.
    pub(super) async fn once<T, E>(
        &self,
        actor: &Actor,
        request: Option<&IdempotentRequest>,
        now: DateTime<Utc>,
        work: impl AsyncFnOnce(Option<&Claim>) -> Result<T, E>,
    ) -> Result<Outcome<T>, E>
    where
        T: DeserializeOwned,
        E: From<anyhow::Error> + From<IdempotencyRefusal>,
    {
        let Some(request) = request else { return work(None).await.map(Outcome::Done) };
        let state = self
            .store
            .claim_idempotency_key(
                actor.user_id,
                &request.key,
                &request.fingerprint,
                now,
                now + Duration::seconds(LEASE_SECONDS),
                now - self.settings.idempotency_lifetime,
            )
            .await?;
        let claim = match state {
            KeyState::Claimed(claim) => claim,
            KeyState::Taken { fingerprint, .. } if fingerprint != request.fingerprint => {
                return Err(IdempotencyRefusal::KeyReused.into());
            }
            KeyState::Taken { response: None, .. } => return Err(IdempotencyRefusal::InProgress.into()),
            KeyState::Taken { response: Some(sealed), .. } => {
                let opened = self.secrets.open(&sealed, &sealing_context(actor.user_id, &request.key))?;
                let result = serde_json::from_slice(&opened).context("reading a remembered result")?;
                return Ok(Outcome::Replayed(result));
            }
        };
        match work(Some(&claim)).await {
            Ok(result) => Ok(Outcome::Done(result)),
            Err(e) => {
                self.store.release_idempotency_key(&claim).await?;
                Err(e)
            }
        }
    }

    /// The sealed form of the result remembered for `claim`: it may hold a
    /// generated password.
    pub(super) fn seal_result(&self, claim: &Claim, result: &impl Serialize) -> anyhow::Result<String> {
        let json = serde_json::to_vec(result).context("writing a remembered result")?;
        self.secrets.seal(&json, &sealing_context(claim.scope, &claim.key))
    }

    /// Forgets idempotency keys older than their lifetime, and links and
    /// throttle counters past their use; answers how many rows went.
    ///
    /// # Errors
    /// When storage fails.
    pub async fn purge(&self, now: DateTime<Utc>) -> anyhow::Result<u64> {
        self.store.purge(now, now - self.settings.idempotency_lifetime).await
    }
}
