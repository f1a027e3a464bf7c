//! Claims on desk phones and phone numbers another tenant holds.

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;
use voxport_domain::{claim::Claim, paging::Page};

/// A tenant tried to register a desk phone or number another tenant holds.
#[derive(Debug, Serialize, ToSchema)]
pub struct ClaimView {
    pub id: Uuid,
    /// `device` or `phone_number`.
    #[schema(example = "device")]
    pub kind: &'static str,
    /// The MAC address or the E.164 number.
    #[schema(example = "80:5e:c0:ab:cd:ef")]
    pub key: String,
    /// The device or phone number, as its holder has it.
    pub object_id: Uuid,
    pub holder_tenant_id: Uuid,
    pub claimant_tenant_id: Uuid,
    /// Who tried; null for the command line.
    pub claimed_by: Option<Uuid>,
    pub claimed_at: DateTime<Utc>,
}

impl From<&Claim> for ClaimView {
    fn from(c: &Claim) -> Self {
        Self {
            id: c.id,
            kind: c.kind.as_str(),
            key: c.key.clone(),
            object_id: c.object_id,
            holder_tenant_id: c.holder_tenant_id,
            claimant_tenant_id: c.claimant_tenant_id,
            claimed_by: c.claimed_by,
            claimed_at: c.claimed_at,
        }
    }
}

page_of!(ClaimPage, ClaimView);
