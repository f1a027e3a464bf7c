//! The `Idempotency-Key` protocol (see `crate::idempotency` for the
//! design): claim the key for the caller, let the request's writes mark it
//! committed, remember the request's answer, and answer it again to a
//! retry.

use chrono::{DateTime, Duration, Utc};
use uuid::Uuid;

use super::Voxport;
use crate::{
    actor::Actor,
    idempotency::{Claim, IdempotencyRefusal, IdempotentRequest, KeyState, sealing_context},
    ports::Store,
};

/// How long a claim keeps a retry out while its request runs: longer than
/// any request runs. A request still running past it loses its key to a
/// retry and commits nothing.
const LEASE_SECONDS: i64 = 60;

/// Whose keys a key is among: the caller's, in the tenant they act in (a
/// support agent's keys in one customer are not their keys in another).
fn scope(actor: &Actor) -> Uuid {
    if actor.tenant_id == actor.home_tenant_id {
        actor.caller_id()
    } else {
        Uuid::new_v5(&actor.tenant_id, actor.caller_id().as_bytes())
    }
}

/// What claiming a key found.
pub enum KeyClaim {
    /// The key is this request's: it runs, and its answer is remembered.
    Ours(Claim),
    /// An earlier request with this key and body is done; this is the
    /// answer it gave, as [`Voxport::settle_idempotency_key`] was handed it.
    Answered(Vec<u8>),
}

impl std::fmt::Debug for KeyClaim {
    // The answer may hold a secret shown once.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Ours(claim) => f.debug_tuple("Ours").field(claim).finish(),
            Self::Answered(answer) => write!(f, "Answered(<{} bytes>)", answer.len()),
        }
    }
}

/// Why claiming a key failed.
#[derive(Debug, thiserror::Error)]
pub enum ClaimError {
    #[error(transparent)]
    Refused(#[from] IdempotencyRefusal),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl<S: Store> Voxport<S> {
    /// Claims the request's key for `actor`: a key whose request is done
    /// answers what it answered; a key used for another request, or whose
    /// request still runs, refuses.
    ///
    /// # Errors
    /// [`ClaimError::Refused`] as above; `Internal` when storage fails.
    pub async fn claim_idempotency_key(
        &self,
        actor: &Actor,
        request: &IdempotentRequest,
        now: DateTime<Utc>,
    ) -> Result<KeyClaim, ClaimError> {
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
        match state {
            KeyState::Claimed(claim) => Ok(KeyClaim::Ours(claim)),
            KeyState::Taken { fingerprint, .. } if fingerprint != request.fingerprint => {
                Err(IdempotencyRefusal::KeyReused.into())
            }
            KeyState::Taken { response: Some(sealed), .. } => {
                match self.secrets.open(&sealed, &sealing_context(scope, &request.key)) {
                    Ok(answer) => Ok(KeyClaim::Answered(answer)),
                    // Sealed with a key this installation no longer has.
                    Err(e) => {
                        tracing::warn!(error = ?e, "a remembered answer could not be opened");
                        Err(IdempotencyRefusal::Forgotten.into())
                    }
                }
            }
            KeyState::Taken { committed: true, lease_over: true, .. } => Err(IdempotencyRefusal::Forgotten.into()),
            KeyState::Taken { .. } => Err(IdempotencyRefusal::InProgress.into()),
        }
    }

    /// Settles a claimed key once its request is done: the answer is
    /// remembered (sealed) when the request succeeded or committed any
    /// work; otherwise the key is let go, so that a retry runs again. A
    /// claim another request took over is left alone.
    ///
    /// # Errors
    /// When storage fails; a key that could not be settled runs out with
    /// its lease.
    pub async fn settle_idempotency_key(&self, claim: &Claim, answer: &[u8], succeeded: bool) -> anyhow::Result<()> {
        let sealed = self.secrets.seal(answer, &sealing_context(claim.scope, &claim.key))?;
        self.store.settle_idempotency_key(claim, &sealed, succeeded).await
    }
}
