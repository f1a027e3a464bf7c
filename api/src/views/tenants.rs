//! Tenants.

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use uuid::Uuid;

use super::CreatedUserView;
use voxport_domain::{paging::Page, tenant::Tenant};

#[derive(Debug, Clone, Copy, Serialize, serde::Deserialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum TenantKindView {
    Platform,
    Reseller,
    Customer,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TenantView {
    pub id: Uuid,
    pub parent_id: Option<Uuid>,
    pub kind: TenantKindView,
    #[schema(example = "Acme Corporation")]
    pub name: String,
    #[schema(example = "acme")]
    pub slug: String,
    /// How many digits new extension numbers have.
    pub extension_digits: ExtensionDigitsView,
    /// Whether the tenant's own administrators may add phone numbers.
    pub own_phone_numbers: bool,
    /// Where its extensions register: `<slug>.<VOXPORT_SIP_DOMAIN>`.
    #[schema(example = "acme.sip.voxport.localhost")]
    pub sip_domain: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A tenant's dial plan.
#[derive(Debug, Serialize, ToSchema)]
pub struct ExtensionDigitsView {
    #[schema(minimum = 1, maximum = 15, example = 2)]
    pub min: u8,
    #[schema(minimum = 1, maximum = 15, example = 6)]
    pub max: u8,
}

impl TenantView {
    /// `t` as answered, with its SIP domain.
    #[must_use]
    pub fn new(t: &Tenant, sip_domain: String) -> Self {
        use voxport_domain::tenant::TenantKind;
        Self {
            id: t.id,
            parent_id: t.parent_id,
            kind: match t.kind {
                TenantKind::Platform => TenantKindView::Platform,
                TenantKind::Reseller => TenantKindView::Reseller,
                TenantKind::Customer => TenantKindView::Customer,
            },
            name: t.name.as_str().to_owned(),
            slug: t.slug.as_str().to_owned(),
            extension_digits: ExtensionDigitsView { min: t.extension_digits.min(), max: t.extension_digits.max() },
            own_phone_numbers: t.own_phone_numbers,
            sip_domain,
            created_at: t.created_at,
            updated_at: t.updated_at,
        }
    }
}

/// A tenant just created, with its first administrator.
#[derive(Serialize, ToSchema)]
pub struct CreatedTenantView {
    #[serde(flatten)]
    pub tenant: TenantView,
    pub admin: CreatedUserView,
}

page_of!(TenantPage, TenantView);
