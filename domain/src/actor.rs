//! Who is asking: the authenticated user behind a request, with the
//! permissions their role grants right now (read on every request, so a
//! role change applies at once), and where the request came from.

use std::net::IpAddr;

use uuid::Uuid;

use crate::permission::{Permission, PermissionSet};

#[derive(Debug, Clone)]
pub struct Actor {
    pub user_id: Uuid,
    /// The tenant the actor acts in: their own, or a customer's when a
    /// parent's support agent acts on its behalf (PRODUCT.md rule 11).
    pub tenant_id: Uuid,
    /// The tenant the actor belongs to.
    pub home_tenant_id: Uuid,
    pub session_id: Uuid,
    pub permissions: PermissionSet,
    /// The client address (see `voxport_api::client_ip`), for the audit log.
    pub ip: Option<IpAddr>,
}

impl Actor {
    #[must_use]
    pub fn can(&self, permission: Permission) -> bool {
        self.permissions.contains(permission)
    }

    /// The permissions of `wanted` this actor lacks; empty when the actor
    /// may grant all of them (PRODUCT.md rule 7).
    #[must_use]
    pub fn cannot_grant(&self, wanted: &PermissionSet) -> Vec<Permission> {
        wanted.missing_from(&self.permissions)
    }
}
