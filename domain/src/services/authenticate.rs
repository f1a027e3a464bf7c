//! Turning a bearer token into an actor: on every request the token must
//! verify, its session be live, its user active and calling from an
//! allowed network, so revocation, disabling and allowlist changes apply
//! at the next request.

use std::net::IpAddr;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::Voxport;
use crate::{
    actor::Actor,
    errors::AuthenticateError,
    ports::Store,
    role::BuiltinRole,
    user::{Principal, UserStatus},
    values::allowed,
};

impl<S: Store> Voxport<S> {
    /// The actor behind an access token: the token must verify, its
    /// session must be live, its user active now (so disabling or expiring
    /// an account takes effect on the next request) and calling from an
    /// allowed network.
    ///
    /// # Errors
    /// `InvalidToken` for every refusal of the token; `IpNotAllowed`.
    pub async fn authenticate(
        &self,
        bearer: &str,
        ip: Option<IpAddr>,
        now: DateTime<Utc>,
    ) -> Result<Actor, AuthenticateError> {
        let claims = self.tokens.verify(bearer).map_err(|e| {
            tracing::debug!(error = %e, "refused an access token");
            AuthenticateError::InvalidToken
        })?;
        let session = match self.store.session(claims.sid).await? {
            Some(s) if s.is_live(now) && s.user_id == claims.sub => s,
            _ => return Err(AuthenticateError::InvalidToken),
        };
        let user = self.principal(claims.tid, claims.sub, ip, now).await?;
        let mut actor = Actor {
            user_id: user.id,
            tenant_id: user.tenant_id,
            home_tenant_id: user.tenant_id,
            session_id: claims.sid,
            permissions: user.role.permissions,
            ip,
        };
        if let Some(customer) = session.acting_tenant_id {
            // A support agent acts in the customer tenant with at most what
            // its own administrators may do there.
            let tenant =
                self.store.tenant_visible_to(user.tenant_id, customer).await?.ok_or(AuthenticateError::InvalidToken)?;
            let theirs = BuiltinRole::Administrator.permissions(tenant.kind);
            actor.tenant_id = customer;
            actor.permissions = actor.permissions.iter().filter(|p| theirs.contains(*p)).collect();
        }
        Ok(actor)
    }

    /// The user behind a two-factor enrolment token, who may do nothing but
    /// enrol: the token must verify as one, the user be active and call
    /// from an allowed network.
    ///
    /// # Errors
    /// `InvalidToken`, `IpNotAllowed`.
    pub async fn authenticate_enrolment(
        &self,
        bearer: &str,
        ip: Option<IpAddr>,
        now: DateTime<Utc>,
    ) -> Result<super::Enrollee, AuthenticateError> {
        let claims = self.tokens.verify_enrolment(bearer).map_err(|_| AuthenticateError::InvalidToken)?;
        let user = self.principal(claims.tid, claims.sub, ip, now).await?;
        Ok(super::Enrollee { user_id: user.id, tenant_id: user.tenant_id, ip })
    }

    /// The user a token names, who must be active now and call from an
    /// allowed network.
    async fn principal(
        &self,
        tenant: Uuid,
        id: Uuid,
        ip: Option<IpAddr>,
        now: DateTime<Utc>,
    ) -> Result<Principal, AuthenticateError> {
        let user = match self.store.principal(tenant, id).await? {
            Some(user) if user.status(now) == UserStatus::Active => user,
            _ => return Err(AuthenticateError::InvalidToken),
        };
        if !allowed(&user.allowed_networks, ip) {
            return Err(AuthenticateError::IpNotAllowed);
        }
        Ok(user)
    }
}
