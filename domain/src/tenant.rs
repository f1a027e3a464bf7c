//! Tenants: the platform itself, resellers and customer companies. Every
//! object belongs to exactly one tenant; a tenant other than the platform
//! has a parent (the platform or a reseller) that created it and manages it.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::{
    extension::ExtensionDigits,
    role::SeededRole,
    user::NewUser,
    values::{Slug, TenantName},
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TenantKind {
    /// The installation's own tenant: its administrators are the operators.
    Platform,
    /// A tenant that runs customer tenants of its own.
    Reseller,
    /// A customer company.
    Customer,
}

impl TenantKind {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Platform => "platform",
            Self::Reseller => "reseller",
            Self::Customer => "customer",
        }
    }

    #[must_use]
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "platform" => Some(Self::Platform),
            "reseller" => Some(Self::Reseller),
            "customer" => Some(Self::Customer),
            _ => None,
        }
    }

    /// Whether a tenant of this kind may own other tenants.
    #[must_use]
    pub fn can_have_children(self) -> bool {
        matches!(self, Self::Platform | Self::Reseller)
    }
}

#[derive(Debug, Clone)]
pub struct Tenant {
    pub id: Uuid,
    pub parent_id: Option<Uuid>,
    pub kind: TenantKind,
    pub name: TenantName,
    pub slug: Slug,
    /// How many digits its new extension numbers have.
    pub extension_digits: ExtensionDigits,
    /// Whether its own administrators may add phone numbers (otherwise
    /// only its parent does).
    pub own_phone_numbers: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A tenant about to be created: a customer or reseller under
/// `parent_id`, or the platform itself (no parent).
#[derive(Debug, Clone)]
pub struct NewTenant {
    pub id: Uuid,
    pub parent_id: Option<Uuid>,
    pub kind: TenantKind,
    pub name: TenantName,
    pub slug: Slug,
    pub extension_digits: ExtensionDigits,
    pub own_phone_numbers: bool,
}

impl NewTenant {
    /// A tenant as it starts: the default dial plan, and phone numbers that
    /// only its parent adds.
    #[must_use]
    pub fn new(parent_id: Option<Uuid>, kind: TenantKind, name: TenantName, slug: Slug) -> Self {
        Self {
            id: Uuid::now_v7(),
            parent_id,
            kind,
            name,
            slug,
            extension_digits: ExtensionDigits::default(),
            own_phone_numbers: false,
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct TenantChanges {
    pub name: Option<TenantName>,
    pub slug: Option<Slug>,
    pub extension_digits: Option<ExtensionDigits>,
    pub own_phone_numbers: Option<bool>,
}

/// Everything a new tenant starts with, written in one transaction: the
/// tenant, its built-in roles and its first administrator, who holds the
/// Administrator role among them.
#[derive(Debug, Clone)]
pub struct TenantSeed {
    pub tenant: NewTenant,
    pub roles: Vec<SeededRole>,
    pub admin: NewUser,
}
