//! Claims on what another tenant holds (`crate::claim`).

use uuid::Uuid;

use crate::{
    audit::AuditEvent,
    claim::{Claim, NewClaim},
    paging::{Page, PageRequest},
};

pub trait ClaimStore {
    /// Keeps `claim` when another tenant than the claimant holds its key,
    /// with `audit`; answers whether it did. A key the claimant holds
    /// itself, or nobody holds, is no claim. A repeated claim stays one.
    ///
    /// # Errors
    /// When storage fails.
    fn record_claim(&self, claim: &NewClaim, audit: &AuditEvent) -> impl Future<Output = anyhow::Result<bool>> + Send;

    /// Every open claim, oldest first.
    ///
    /// # Errors
    /// When storage fails.
    fn list_claims(&self, page: PageRequest) -> impl Future<Output = anyhow::Result<Page<Claim>>> + Send;

    /// # Errors
    /// When storage fails.
    fn claim(&self, id: Uuid) -> impl Future<Output = anyhow::Result<Option<Claim>>> + Send;

    /// Moves the claimed object to the claimant's tenant, freed from the
    /// user it served, drops every claim on its key and writes `audit`, in
    /// one transaction. False when the object is no longer where the claim
    /// found it (the claim is dropped then too).
    ///
    /// # Errors
    /// When storage fails.
    fn grant_claim(&self, claim: &Claim, audit: &[AuditEvent]) -> impl Future<Output = anyhow::Result<bool>> + Send;
}
