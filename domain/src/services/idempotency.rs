//! The `Idempotency-Key` protocol (see `crate::idempotency` for the
//! design): claim the key, run the work once, remember its result with it,
//! and answer that result again to a retry.

use anyhow::Context as _;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize, de::DeserializeOwned};
use uuid::Uuid;

use super::Voxport;
use crate::{
    actor::Actor,
    idempotency::{Claim, IdempotencyRefusal, IdempotentRequest, KeyState, Outcome, sealing_context},
    ports::Store,
};

/// How long a claim without an answer keeps a retry out: longer than any
/// request runs.
const LEASE_SECONDS: i64 = 60;

/// The form remembered results are written in. A release that changes
/// the shape of a result bumps it: a retry across such a release is told
/// its answer is gone instead of answered wrongly.
const RESULT_VERSION: u32 = 1;

#[derive(Serialize, Deserialize)]
struct Remembered<T> {
    version: u32,
    result: T,
}

/// Whose keys a key is among: the caller's, in the tenant they act in (a
/// support agent's keys in one customer are not their keys in another).
fn scope(actor: &Actor) -> Uuid {
    if actor.tenant_id == actor.home_tenant_id {
        actor.caller_id()
    } else {
        Uuid::new_v5(&actor.tenant_id, actor.caller_id().as_bytes())
    }
}

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
        let scope = scope(actor);
        let state = self
            .store
            .claim_idempotency_key(
                scope,
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
                let opened = self.secrets.open(&sealed, &sealing_context(scope, &request.key))?;
                return match serde_json::from_slice::<Remembered<T>>(&opened) {
                    Ok(Remembered { version: RESULT_VERSION, result }) => Ok(Outcome::Replayed(result)),
                    Ok(_) | Err(_) => Err(IdempotencyRefusal::Forgotten.into()),
                };
            }
        };
        match work(Some(&claim)).await {
            Ok(result) => Ok(Outcome::Done(result)),
            Err(e) => {
                // The work's own error is the answer; a key that could not
                // be let go runs out with its lease.
                if let Err(release) = self.store.release_idempotency_key(&claim).await {
                    tracing::warn!(error = ?release, "an idempotency key could not be let go");
                }
                Err(e)
            }
        }
    }

    /// The sealed form of the result remembered for `claim`: it may hold a
    /// generated password.
    pub(super) fn seal_result<T: Serialize>(&self, claim: &Claim, result: &T) -> anyhow::Result<String> {
        let json = serde_json::to_vec(&Remembered { version: RESULT_VERSION, result })
            .context("writing a remembered result")?;
        self.secrets.seal(&json, &sealing_context(claim.scope, &claim.key))
    }
}
