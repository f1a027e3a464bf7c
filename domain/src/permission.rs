//! The permission catalog (`GET /v1/permissions`) and sets of permissions.
//!
//! A role is a named set of permissions inside a tenant; every endpoint
//! needs one permission, and PRODUCT.md rule 7 says nobody grants a
//! permission they lack: [`PermissionSet::missing_from`] answers which.

use std::{collections::BTreeSet, fmt};

macro_rules! permissions {
    ($($variant:ident => $code:literal, $what:literal;)*) => {
        /// One thing a role may allow. The wire form is `resource:action`.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum Permission {
            $($variant,)*
        }

        impl Permission {
            /// Every permission, in catalog order.
            pub const ALL: &'static [Permission] = &[$(Permission::$variant,)*];

            #[must_use]
            pub fn code(self) -> &'static str {
                match self {
                    $(Permission::$variant => $code,)*
                }
            }

            /// What the permission allows, for the catalog.
            #[must_use]
            pub fn description(self) -> &'static str {
                match self {
                    $(Permission::$variant => $what,)*
                }
            }
        }
    };
}

permissions! {
    UsersRead => "users:read", "List and view portal users of the tenant.";
    UsersWrite => "users:write", "Create, change and delete portal users of the tenant.";
    RolesRead => "roles:read", "List and view roles.";
    RolesWrite => "roles:write", "Create, change and delete custom roles.";
    ExtensionsRead => "extensions:read", "List and view extensions.";
    ExtensionsWrite => "extensions:write", "Create, change, assign and delete extensions.";
    ExtensionsSecrets => "extensions:secrets", "Read and rotate the SIP secrets of extensions.";
    StationsRead => "stations:read", "View station licence pools.";
    StationsWrite => "stations:write", "Create station pools and change their quantities for customer tenants.";
    PhoneNumbersRead => "phone_numbers:read", "List and view phone numbers.";
    PhoneNumbersWrite => "phone_numbers:write", "Add, assign and remove phone numbers.";
    DevicesRead => "devices:read", "List and view desk phones.";
    DevicesWrite => "devices:write", "Add, assign and remove desk phones.";
    TenantsRead => "tenants:read", "List and view customer tenants.";
    TenantsWrite => "tenants:write", "Create, change and delete customer tenants.";
    AuditRead => "audit:read", "Read the audit log.";
    ApiClientsRead => "api_clients:read", "List and view the tenant's API clients (integrators' OAuth2 clients).";
    ApiClientsWrite => "api_clients:write", "Create, change, rotate and delete API clients.";
    TokensIntrospect => "tokens:introspect", "Let an API client ask whether a token of the tenant is live (RFC 7662).";
    WebhooksRead => "webhooks:read", "List and view the tenant's webhooks and their deliveries.";
    WebhooksWrite => "webhooks:write", "Subscribe, change, delete webhooks and retry their deliveries.";
    Scim => "scim", "Provision users through SCIM 2.0 (`/scim/v2`), and make the tenant's SCIM tokens.";
    CallRecordsRead => "call_records:read", "Read the call records of everyone in the tenant.";
    CallRecordsReadOwn => "call_records:read_own", "Read one's own call records.";
    TransactionsRead => "transactions:read", "Read billing transactions.";
}

impl serde::Serialize for Permission {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.code())
    }
}

impl<'de> serde::Deserialize<'de> for Permission {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let code = std::borrow::Cow::<str>::deserialize(d)?;
        Self::parse(&code).map_err(serde::de::Error::custom)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a known permission")]
pub struct UnknownPermission(pub String);

impl Permission {
    /// # Errors
    /// `UnknownPermission` when `code` is not in the catalog.
    pub fn parse(code: &str) -> Result<Self, UnknownPermission> {
        Self::ALL.iter().copied().find(|p| p.code() == code).ok_or_else(|| UnknownPermission(code.to_owned()))
    }
}

impl fmt::Display for Permission {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// A set of permissions, kept sorted so it prints and stores stably.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PermissionSet(BTreeSet<Permission>);

impl PermissionSet {
    #[must_use]
    pub fn all() -> Self {
        Self(Permission::ALL.iter().copied().collect())
    }

    #[must_use]
    pub fn contains(&self, permission: Permission) -> bool {
        self.0.contains(&permission)
    }

    /// The permissions of `self` that `holder` lacks: what a caller holding
    /// `holder` may not grant.
    #[must_use]
    pub fn missing_from(&self, holder: &PermissionSet) -> Vec<Permission> {
        self.0.difference(&holder.0).copied().collect()
    }

    /// The permissions in both.
    #[must_use]
    pub fn intersection(&self, other: &PermissionSet) -> PermissionSet {
        Self(self.0.intersection(&other.0).copied().collect())
    }

    pub fn iter(&self) -> impl Iterator<Item = Permission> + '_ {
        self.0.iter().copied()
    }

    /// The storage form: codes separated by single spaces.
    #[must_use]
    pub fn to_codes(&self) -> String {
        self.iter().map(Permission::code).collect::<Vec<_>>().join(" ")
    }

    /// Reads the storage form; unknown codes (from a newer version, or a
    /// permission since retired) are dropped rather than failing the read.
    #[must_use]
    pub fn from_codes(codes: &str) -> Self {
        codes.split_whitespace().filter_map(|c| Permission::parse(c).ok()).collect()
    }
}

impl FromIterator<Permission> for PermissionSet {
    fn from_iter<I: IntoIterator<Item = Permission>>(iter: I) -> Self {
        Self(iter.into_iter().collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_are_unique() {
        let codes: BTreeSet<_> = Permission::ALL.iter().map(|p| p.code()).collect();
        assert_eq!(codes.len(), Permission::ALL.len());
        for p in Permission::ALL {
            assert_eq!(Permission::parse(p.code()), Ok(*p));
        }
        assert_eq!(PermissionSet::from_codes(&PermissionSet::all().to_codes()), PermissionSet::all());
    }

    #[test]
    fn unknown_codes_are_refused_when_parsed() {
        assert!(Permission::parse("users:*").is_err());
        assert!(Permission::parse("USERS:READ").is_err());
    }

    #[test]
    fn missing_from_names_what_the_holder_lacks() {
        let holder: PermissionSet = [Permission::UsersRead, Permission::UsersWrite].into_iter().collect();
        let wanted: PermissionSet = [Permission::UsersRead, Permission::TenantsWrite].into_iter().collect();
        assert_eq!(wanted.missing_from(&holder), vec![Permission::TenantsWrite]);
        assert!(holder.missing_from(&holder).is_empty());
    }
}
