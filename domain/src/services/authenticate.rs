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
    auth::{Authenticated, TokenSigner},
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
    /// allowed network. What the token names is read once per cache
    /// lifetime (`crate::auth::AuthCache`); the rules apply every time.
    ///
    /// # Errors
    /// `InvalidToken` for every refusal of the token; `IpNotAllowed`.
    pub async fn authenticate(
        &self,
        bearer: &str,
        ip: Option<IpAddr>,
        now: DateTime<Utc>,
    ) -> Result<Actor, AuthenticateError> {
        let read = match self.auth_cache.get(bearer, now) {
            Some(read) if TokenSigner::in_time(read.claims(), now) => read,
            Some(_) => return Err(AuthenticateError::InvalidToken),
            None => {
                let generation = self.auth_cache.generation();
                let read = self.read_token(bearer).await?;
                self.auth_cache.keep(bearer, read.clone(), generation, now);
                read
            }
        };
        match read {
            Authenticated::Person { session, principal, acting_in, .. } => {
                if !session.is_live(now) || principal.status(now) != UserStatus::Active {
                    return Err(AuthenticateError::InvalidToken);
                }
                if !allowed(&principal.allowed_networks, ip) {
                    return Err(AuthenticateError::IpNotAllowed);
                }
                let mut actor = Actor {
                    user_id: principal.id,
                    tenant_id: principal.tenant_id,
                    home_tenant_id: principal.tenant_id,
                    session_id: session.id,
                    permissions: principal.role.permissions,
                    ip,
                    client_id: None,
                };
                if let (Some(customer), Some(kind)) = (session.acting_tenant_id, acting_in) {
                    // A support agent acts in the customer tenant with at most
                    // what its own administrators may do there.
                    let theirs = BuiltinRole::Administrator.permissions(kind);
                    actor.tenant_id = customer;
                    actor.permissions = actor.permissions.iter().filter(|p| theirs.contains(*p)).collect();
                }
                Ok(actor)
            }
            Authenticated::Client { token, client, .. } => {
                if token.revoked_at.is_some() || now >= token.expires_at || !client.active(now) {
                    return Err(AuthenticateError::InvalidToken);
                }
                if !client.allows(ip) {
                    return Err(AuthenticateError::IpNotAllowed);
                }
                Ok(Actor {
                    user_id: Uuid::nil(),
                    tenant_id: client.tenant_id,
                    home_tenant_id: client.tenant_id,
                    session_id: token.id,
                    // What the client holds now, of what the token was for.
                    permissions: token.scope.intersection(&client.permissions),
                    ip,
                    client_id: Some(client.id),
                })
            }
        }
    }

    /// Verifies a token and reads what it names: a person's session, their
    /// account and, for a support session, the customer tenant's kind; or
    /// an API client's token row and the client.
    pub(super) async fn read_token(&self, bearer: &str) -> Result<Authenticated, AuthenticateError> {
        let claims = self.tokens.verify_bearer(bearer).map_err(|e| {
            tracing::debug!(error = %e, "refused an access token");
            AuthenticateError::InvalidToken
        })?;
        if claims.is_client() {
            return match self.store.client_token(claims.sid).await? {
                Some((token, client)) if client.id == claims.sub && client.tenant_id == claims.tid => {
                    Ok(Authenticated::Client { claims, token, client })
                }
                _ => Err(AuthenticateError::InvalidToken),
            };
        }
        let session = match self.store.session(claims.sid).await? {
            Some(s) if s.user_id == claims.sub => s,
            _ => return Err(AuthenticateError::InvalidToken),
        };
        let principal = self.store.principal(claims.tid, claims.sub).await?.ok_or(AuthenticateError::InvalidToken)?;
        let acting_in = match session.acting_tenant_id {
            Some(customer) => Some(
                self.store
                    .tenant_visible_to(principal.tenant_id, customer)
                    .await?
                    .ok_or(AuthenticateError::InvalidToken)?
                    .kind,
            ),
            None => None,
        };
        Ok(Authenticated::Person { claims, session, principal, acting_in })
    }

    /// Something changed that can refuse a token (a session ended, an
    /// account, role or allowlist changed): this replica forgets what it
    /// read, the others within the cache's lifetime.
    pub(super) fn tokens_may_have_changed(&self) {
        self.auth_cache.forget_all();
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
        // The token dies with the password that earned it.
        let current = self.store.password_hash(user.id).await?.map(|h| h.stamp());
        if current.is_none() || current != claims.pwd {
            return Err(AuthenticateError::InvalidToken);
        }
        Ok(super::Enrollee { user_id: user.id, tenant_id: user.tenant_id, session: None, ip })
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
