//! Phone numbers (DIDs).

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use uuid::Uuid;

use super::HolderView;
use voxport_domain::{paging::Page, phone_number::PhoneNumber};

/// A phone number (DID).
#[derive(Debug, Serialize, ToSchema)]
pub struct PhoneNumberView {
    pub id: Uuid,
    /// The tenant that owns the number.
    pub tenant_id: Uuid,
    /// E.164.
    #[schema(example = "+14155550100")]
    pub number: String,
    #[schema(example = "Main line")]
    pub label: Option<String>,
    /// The user the number rings, or null when it is available.
    pub user: Option<HolderView>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<&PhoneNumber> for PhoneNumberView {
    fn from(n: &PhoneNumber) -> Self {
        Self {
            id: n.id,
            tenant_id: n.tenant_id,
            number: n.number.as_str().to_owned(),
            label: n.label.as_ref().map(|l| l.as_str().to_owned()),
            user: n.holder.as_ref().map(HolderView::from),
            created_at: n.created_at,
            updated_at: n.updated_at,
        }
    }
}

page_of!(PhoneNumberPage, PhoneNumberView);
