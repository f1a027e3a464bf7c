//! Who is asking: the authenticated user behind a request, with the
//! permissions their role grants right now (read on every request, so a
//! role change applies at once).

use uuid::Uuid;

use crate::permission::{Permission, PermissionSet};

#[derive(Debug, Clone)]
pub struct Actor {
    pub user_id: Uuid,
    pub tenant_id: Uuid,
    pub session_id: Uuid,
    pub permissions: PermissionSet,
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
