//! Roles: named sets of permissions inside a tenant.
//!
//! Every tenant gets the four built-in roles of the product when it is
//! created; they cannot be edited or deleted. What the built-in
//! Administrator may do depends on the kind of tenant: only the platform's
//! and resellers' administrators manage other tenants and their licence
//! pools (PRODUCT.md rule 11).

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::{
    permission::{Permission, PermissionSet},
    tenant::TenantKind,
    values::Label,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BuiltinRole {
    Administrator,
    User,
    CallCenterAdmin,
    TransactionsOnly,
}

impl BuiltinRole {
    pub const ALL: [BuiltinRole; 4] = [Self::Administrator, Self::User, Self::CallCenterAdmin, Self::TransactionsOnly];

    #[must_use]
    pub fn key(self) -> &'static str {
        match self {
            Self::Administrator => "administrator",
            Self::User => "user",
            Self::CallCenterAdmin => "call_center_admin",
            Self::TransactionsOnly => "transactions_only",
        }
    }

    #[must_use]
    pub fn parse_key(key: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.key() == key)
    }

    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::Administrator => "Administrator",
            Self::User => "User",
            Self::CallCenterAdmin => "Call Center Admin",
            Self::TransactionsOnly => "Transactions only",
        }
    }

    #[must_use]
    pub fn description(self) -> &'static str {
        match self {
            Self::Administrator => "Full control of the tenant: users, roles and telephony.",
            Self::User => "Signs in to the portal and the desktop app and sees their own calls.",
            Self::CallCenterAdmin => "Watches the call center: users, extensions and all call records.",
            Self::TransactionsOnly => "Sees billing transactions and nothing else.",
        }
    }

    /// The permissions this role has in a tenant of `kind`.
    #[must_use]
    pub fn permissions(self, kind: TenantKind) -> PermissionSet {
        use Permission as P;
        match self {
            Self::Administrator if kind.can_have_children() => PermissionSet::all(),
            Self::Administrator => PermissionSet::all()
                .iter()
                .filter(|p| !matches!(p, P::TenantsRead | P::TenantsWrite | P::StationsWrite))
                .collect(),
            Self::User => [P::CallRecordsReadOwn].into_iter().collect(),
            Self::CallCenterAdmin => {
                [P::UsersRead, P::ExtensionsRead, P::StationsRead, P::CallRecordsRead, P::CallRecordsReadOwn]
                    .into_iter()
                    .collect()
            }
            Self::TransactionsOnly => [P::TransactionsRead].into_iter().collect(),
        }
    }
}

/// A built-in role as a new tenant gets it. Its id is chosen before
/// anything is stored, so the tenant's first administrator can be given it.
#[derive(Debug, Clone)]
pub struct SeededRole {
    pub id: Uuid,
    pub builtin: BuiltinRole,
    pub permissions: PermissionSet,
}

impl BuiltinRole {
    /// The built-in roles of a new tenant of `kind`, with fresh ids.
    #[must_use]
    pub fn seed(kind: TenantKind) -> Vec<SeededRole> {
        Self::ALL
            .into_iter()
            .map(|builtin| SeededRole { id: Uuid::now_v7(), builtin, permissions: builtin.permissions(kind) })
            .collect()
    }

    /// The id of this role among `seeded`.
    #[must_use]
    pub fn seeded_id(self, seeded: &[SeededRole]) -> Option<Uuid> {
        seeded.iter().find(|r| r.builtin == self).map(|r| r.id)
    }
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Role {
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub name: Label,
    pub description: Option<String>,
    pub permissions: PermissionSet,
    pub builtin: Option<BuiltinRole>,
    /// Every holder must use a second factor.
    pub two_factor_required: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Role {
    #[must_use]
    pub fn is_administrator(&self) -> bool {
        self.builtin == Some(BuiltinRole::Administrator)
    }
}

#[derive(Debug, Clone)]
pub struct NewRole {
    pub name: Label,
    pub description: Option<String>,
    pub permissions: PermissionSet,
    pub two_factor_required: bool,
}

#[derive(Debug, Clone, Default)]
pub struct RoleChanges {
    pub name: Option<Label>,
    pub description: Option<Option<String>>,
    pub permissions: Option<PermissionSet>,
    pub two_factor_required: Option<bool>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_parents_administrators_manage_tenants_and_pools() {
        let customer = BuiltinRole::Administrator.permissions(TenantKind::Customer);
        assert!(customer.contains(Permission::UsersWrite));
        assert!(!customer.contains(Permission::TenantsWrite));
        assert!(!customer.contains(Permission::StationsWrite));
        for kind in [TenantKind::Platform, TenantKind::Reseller] {
            let parent = BuiltinRole::Administrator.permissions(kind);
            assert_eq!(parent, PermissionSet::all());
        }
    }

    #[test]
    fn every_builtin_role_is_within_the_administrators_permissions() {
        for kind in [TenantKind::Platform, TenantKind::Reseller, TenantKind::Customer] {
            let admin = BuiltinRole::Administrator.permissions(kind);
            for role in BuiltinRole::ALL {
                assert!(role.permissions(kind).missing_from(&admin).is_empty(), "{role:?} in {kind:?}");
            }
        }
    }

    #[test]
    fn a_new_tenant_gets_each_builtin_role_once_with_its_kinds_permissions() {
        let seeded = BuiltinRole::seed(TenantKind::Customer);
        assert_eq!(seeded.iter().map(|r| r.builtin).collect::<Vec<_>>(), BuiltinRole::ALL);
        let admin = seeded.iter().find(|r| r.builtin == BuiltinRole::Administrator).unwrap();
        assert_eq!(admin.permissions, BuiltinRole::Administrator.permissions(TenantKind::Customer));
        assert_eq!(BuiltinRole::Administrator.seeded_id(&seeded), Some(admin.id));
        let ids: std::collections::HashSet<_> = seeded.iter().map(|r| r.id).collect();
        assert_eq!(ids.len(), 4);
    }

    #[test]
    fn keys_round_trip() {
        for role in BuiltinRole::ALL {
            assert_eq!(BuiltinRole::parse_key(role.key()), Some(role));
        }
    }
}
