//! API clients (issue 9): how integrators (CRMs, call recorders, billing,
//! helpdesks) call voxport without borrowing a person's password. A tenant
//! administrator creates a named client holding a subset of their own
//! permissions (PRODUCT.md rule 7), optionally expiring and limited to
//! networks; it gets short-lived access tokens with OAuth2's client
//! credentials grant (RFC 6749 §4.4).
//!
//! A client has one secret, or two while a rotation overlaps: the new one,
//! and the old one until the time the administrator chose. Secrets are
//! [`MachineSecret`]s, stored as digests. Every token issued is a row, so
//! one can be revoked (RFC 7009); a request with a client's token checks
//! the client itself too, so disabling or deleting it ends its tokens at
//! once.

use std::{fmt, net::IpAddr};

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::{
    auth::MachineSecret,
    permission::{Permission, PermissionSet, UnknownPermission},
    values::{Cidr, Label, allowed},
};

/// What a client secret starts with.
pub const CLIENT_SECRET_PREFIX: &str = "vxcs_";

#[derive(Debug, Clone)]
pub struct ApiClient {
    /// Also its OAuth2 `client_id`.
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub name: Label,
    pub permissions: PermissionSet,
    /// Where it may get and use tokens from; empty means anywhere.
    pub allowed_networks: Vec<Cidr>,
    pub expires_at: Option<DateTime<Utc>>,
    pub disabled: bool,
    /// Its secrets, newest first (never their digests).
    pub secrets: Vec<ClientSecretInfo>,
    pub created_by: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub last_used_ip: Option<String>,
}

impl ApiClient {
    /// Whether it may get and use tokens at `now`.
    #[must_use]
    pub fn active(&self, now: DateTime<Utc>) -> bool {
        !self.disabled && self.expires_at.is_none_or(|end| now < end)
    }

    /// Whether it may call from `ip`.
    #[must_use]
    pub fn allows(&self, ip: Option<IpAddr>) -> bool {
        allowed(&self.allowed_networks, ip)
    }
}

/// One of a client's secrets, as its administrators see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientSecretInfo {
    pub id: Uuid,
    pub created_at: DateTime<Utc>,
    /// When an old secret stops working after a rotation.
    pub expires_at: Option<DateTime<Utc>>,
}

impl ClientSecretInfo {
    #[must_use]
    pub fn valid(&self, now: DateTime<Utc>) -> bool {
        self.expires_at.is_none_or(|end| now < end)
    }
}

#[derive(Debug, Clone)]
pub struct NewApiClient {
    pub name: Label,
    pub permissions: PermissionSet,
    pub allowed_networks: Vec<Cidr>,
    pub expires_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Default)]
pub struct ApiClientChanges {
    pub name: Option<Label>,
    pub permissions: Option<PermissionSet>,
    pub allowed_networks: Option<Vec<Cidr>>,
    pub expires_at: Option<Option<DateTime<Utc>>>,
    pub disabled: Option<bool>,
}

impl ApiClientChanges {
    /// The names of the fields it changes, for the audit log.
    #[must_use]
    pub fn touched(&self) -> Vec<&'static str> {
        crate::services::touched_fields(&[
            ("name", self.name.is_some()),
            ("permissions", self.permissions.is_some()),
            ("allowed_networks", self.allowed_networks.is_some()),
            ("expires_at", self.expires_at.is_some()),
            ("disabled", self.disabled.is_some()),
        ])
    }
}

/// A client with a secret just issued, shown this once.
#[derive(Debug, Clone)]
pub struct ClientWithSecret {
    pub client: ApiClient,
    pub secret: MachineSecret,
}

/// A client as its token request finds it: with the digests of the
/// secrets that work now.
#[derive(Clone)]
pub struct ClientLogin {
    pub client: ApiClient,
    pub digests: Vec<String>,
}

impl fmt::Debug for ClientLogin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientLogin").field("client", &self.client.id).finish_non_exhaustive()
    }
}

/// An access token issued to a client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientToken {
    /// Also the token's `sid` claim.
    pub id: Uuid,
    pub client_id: Uuid,
    /// The permissions it was issued for: the scope asked for, or all of
    /// the client's.
    pub scope: PermissionSet,
    pub issued_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// An OAuth2 `scope` (RFC 6749 §3.3): permission names separated by spaces.
///
/// # Errors
/// `UnknownPermission` naming the first word that is none.
pub fn parse_scope(scope: &str) -> Result<PermissionSet, UnknownPermission> {
    scope.split(' ').filter(|w| !w.is_empty()).map(Permission::parse).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_scope_is_permission_names_separated_by_spaces() {
        let set = parse_scope("users:read  devices:read").unwrap();
        assert!(set.contains(Permission::UsersRead) && set.contains(Permission::DevicesRead));
        assert_eq!(parse_scope(&set.to_codes()).unwrap(), set);
        assert!(parse_scope("users:read nonsense").is_err());
        assert!(parse_scope("").unwrap().iter().next().is_none());
    }
}
