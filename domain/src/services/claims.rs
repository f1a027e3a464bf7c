//! Claims on desk phones and phone numbers another tenant holds
//! (`crate::claim`): recorded when a registration is refused, seen and
//! granted by the platform operator.

use chrono::{DateTime, Utc};
use serde_json::json;
use uuid::Uuid;

use super::Voxport;
use crate::{
    actor::Actor,
    audit::{AuditAction, AuditEvent, TargetType},
    claim::{Claim, ClaimKind, NewClaim},
    errors::ClaimError,
    paging::{Page, PageRequest},
    ports::Store,
    tenant::TenantKind,
};

fn target(kind: ClaimKind) -> TargetType {
    match kind {
        ClaimKind::Device => TargetType::Device,
        ClaimKind::PhoneNumber => TargetType::PhoneNumber,
    }
}

impl<S: Store> Voxport<S> {
    /// Keeps a refused registration of `key` in `tenant` as a claim when
    /// another tenant holds it. The claimant's log records the attempt; no
    /// answer names the holder. A claim that cannot be kept is logged: the
    /// refusal stands either way.
    pub(super) async fn keep_claim(&self, actor: &Actor, tenant: Uuid, kind: ClaimKind, key: &str, now: DateTime<Utc>) {
        if let Err(e) = self.record_claim(actor, tenant, kind, key, now).await {
            tracing::warn!(error = ?e, kind = kind.as_str(), "a claim could not be kept");
        }
    }

    async fn record_claim(
        &self,
        actor: &Actor,
        tenant: Uuid,
        kind: ClaimKind,
        key: &str,
        now: DateTime<Utc>,
    ) -> anyhow::Result<()> {
        let action = match kind {
            ClaimKind::Device => AuditAction::DeviceClaimed,
            ClaimKind::PhoneNumber => AuditAction::PhoneNumberClaimed,
        };
        let audit = AuditEvent { tenant_id: Some(tenant), ..AuditEvent::by(actor, action, target(kind), None, now) }
            .with(json!({"key": key}));
        let claim = NewClaim { kind, key: key.to_owned(), claimant_tenant_id: tenant, claimed_by: actor.person() };
        if self.store.record_claim(&claim, &audit).await? {
            tracing::info!(actor = %actor.caller_id(), tenant = %tenant, kind = kind.as_str(), "claim recorded");
        }
        Ok(())
    }

    async fn operator(&self, actor: &Actor) -> Result<(), ClaimError> {
        if self.own_tenant(actor).await?.kind == TenantKind::Platform && actor.tenant_id == actor.home_tenant_id {
            Ok(())
        } else {
            Err(ClaimError::NotOperator)
        }
    }

    /// Every open claim, for the platform operator.
    ///
    /// # Errors
    /// `NotOperator`.
    pub async fn list_claims(&self, actor: &Actor, page: PageRequest) -> Result<Page<Claim>, ClaimError> {
        self.operator(actor).await?;
        Ok(self.store.list_claims(page).await?)
    }

    /// Moves the claimed object to the claimant, freed from whoever it
    /// served. Both tenants' logs record the move, naming neither tenant
    /// to the other.
    ///
    /// # Errors
    /// `NotOperator`, `NotFound`, `Stale`.
    pub async fn grant_claim(&self, actor: &Actor, id: Uuid, now: DateTime<Utc>) -> Result<Claim, ClaimError> {
        self.operator(actor).await?;
        let claim = self.store.claim(id).await?.ok_or(ClaimError::NotFound)?;
        let action = match claim.kind {
            ClaimKind::Device => AuditAction::DeviceMoved,
            ClaimKind::PhoneNumber => AuditAction::PhoneNumberMoved,
        };
        let moved = |tenant: Uuid, direction: &str| {
            AuditEvent {
                tenant_id: Some(tenant),
                on_behalf_of: Some(tenant),
                ..AuditEvent::by(actor, action, target(claim.kind), Some(claim.object_id), now)
            }
            .with(json!({"key": claim.key, "direction": direction, "claim_id": claim.id}))
        };
        let audit = [moved(claim.holder_tenant_id, "out"), moved(claim.claimant_tenant_id, "in")];
        if !self.store.grant_claim(&claim, &audit).await? {
            return Err(ClaimError::Stale);
        }
        tracing::info!(actor = %actor.caller_id(), claim = %claim.id, kind = claim.kind.as_str(), "claim granted");
        Ok(claim)
    }
}
