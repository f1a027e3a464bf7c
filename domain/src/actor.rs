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
    /// The API client acting, for a client's token (then `user_id` is nil
    /// and `session_id` is the token's id).
    pub client_id: Option<Uuid>,
}

impl Actor {
    /// The installation itself acting in `tenant` with `permissions` (the
    /// `voxport` command line): no user, no session, no address. The audit
    /// log shows it as an event without an actor.
    #[must_use]
    pub fn system(tenant: Uuid, permissions: PermissionSet) -> Self {
        Self {
            user_id: Uuid::nil(),
            tenant_id: tenant,
            home_tenant_id: tenant,
            session_id: Uuid::nil(),
            permissions,
            ip: None,
            client_id: None,
        }
    }

    /// Whether this is [`Actor::system`].
    #[must_use]
    pub fn is_system(&self) -> bool {
        self.user_id.is_nil() && self.client_id.is_none()
    }

    /// The signed-in person, if a person acts (not the system, not an API
    /// client).
    #[must_use]
    pub fn person(&self) -> Option<Uuid> {
        (!self.user_id.is_nil()).then_some(self.user_id)
    }

    /// Whoever acts, person or API client: what scopes an idempotency key.
    #[must_use]
    pub fn caller_id(&self) -> Uuid {
        self.client_id.unwrap_or(self.user_id)
    }

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
