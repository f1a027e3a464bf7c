//! API clients and OAuth2 (issue 9; see [`crate::api_client`]): the
//! administrators' side (create, change, rotate, delete) and the
//! integrators' (RFC 6749 client credentials, RFC 7009 revocation, RFC 7662
//! introspection).

use std::net::IpAddr;

use chrono::{DateTime, Duration, Utc};
use serde_json::json;
use uuid::Uuid;

use super::{Voxport, machines::Throttled};
use crate::{
    actor::Actor,
    api_client::{
        ApiClient, ApiClientChanges, CLIENT_SECRET_PREFIX, ClientToken, ClientWithSecret, NewApiClient, parse_scope,
    },
    audit::{AuditAction, AuditEvent, TargetType},
    auth::{Authenticated, MachineSecret, TokenSigner},
    errors::{ApiClientError, OAuthError},
    paging::{Page, PageRequest},
    permission::{Permission, PermissionSet},
    ports::Store,
    throttle::SignInKeys,
    user::UserStatus,
};

/// A client's credentials as a token, revocation or introspection request
/// presents them.
#[derive(Clone, Copy)]
pub struct ClientCredentials<'a> {
    pub client_id: &'a str,
    pub client_secret: &'a str,
    pub ip: Option<IpAddr>,
}

impl std::fmt::Debug for ClientCredentials<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientCredentials").field("client_id", &self.client_id).field("ip", &self.ip).finish()
    }
}

/// An access token issued with the client credentials grant.
#[derive(Debug, Clone)]
pub struct IssuedToken {
    pub access_token: String,
    pub expires_in: i64,
    pub scope: PermissionSet,
}

/// What introspection (RFC 7662) tells of an active token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Introspection {
    /// The permissions the token carries now.
    pub scope: PermissionSet,
    /// The API client, for a client's token.
    pub client_id: Option<Uuid>,
    /// The person or the client.
    pub sub: Uuid,
    pub tenant_id: Uuid,
    pub exp: i64,
    pub iat: i64,
}

impl<S: Store> Voxport<S> {
    /// # Errors
    /// When storage fails.
    pub async fn list_api_clients(&self, actor: &Actor, page: PageRequest) -> anyhow::Result<Page<ApiClient>> {
        self.store.list_api_clients(actor.tenant_id, page).await
    }

    /// # Errors
    /// When storage fails.
    pub async fn api_client(&self, actor: &Actor, id: Uuid) -> anyhow::Result<Option<ApiClient>> {
        self.store.api_client(actor.tenant_id, id).await
    }

    /// Creates a client holding `new.permissions`, which the actor must
    /// hold all of (PRODUCT.md rule 7); answers it with its secret, shown
    /// this once.
    ///
    /// # Errors
    /// `PermissionNotHeld` naming what the actor lacks.
    pub async fn create_api_client(
        &self,
        actor: &Actor,
        new: NewApiClient,
        now: DateTime<Utc>,
    ) -> Result<ClientWithSecret, ApiClientError> {
        let missing = actor.cannot_grant(&new.permissions);
        if !missing.is_empty() {
            return Err(ApiClientError::PermissionNotHeld(missing));
        }
        let secret = MachineSecret::generate(CLIENT_SECRET_PREFIX);
        let audit = AuditEvent::by(actor, AuditAction::ApiClientCreated, TargetType::ApiClient, None, now)
            .with(json!({"name": new.name.as_str(), "permissions": new.permissions}));
        let client = self.store.create_api_client(actor.tenant_id, new, &secret.digest(), &audit).await?;
        tracing::info!(actor = %actor.caller_id(), client = %client.id, "created an API client");
        Ok(ClientWithSecret { client, secret })
    }

    /// The client `id` of the actor's tenant, which the actor may manage:
    /// they hold every permission it holds (PRODUCT.md rule 7), or they
    /// could take over a stronger client by rotating its secret.
    async fn manageable(&self, actor: &Actor, id: Uuid) -> Result<ApiClient, ApiClientError> {
        let client = self.store.api_client(actor.tenant_id, id).await?.ok_or(ApiClientError::NotFound)?;
        let missing = actor.cannot_grant(&client.permissions);
        if missing.is_empty() { Ok(client) } else { Err(ApiClientError::PermissionNotHeld(missing)) }
    }

    /// Changes a client; new permissions must all be the actor's. Disabling
    /// it (or a permission it loses) applies to its tokens at once.
    ///
    /// # Errors
    /// `NotFound`, `PermissionNotHeld`.
    pub async fn update_api_client(
        &self,
        actor: &Actor,
        id: Uuid,
        changes: ApiClientChanges,
        now: DateTime<Utc>,
    ) -> Result<ApiClient, ApiClientError> {
        self.manageable(actor, id).await?;
        if let Some(wanted) = &changes.permissions {
            let missing = actor.cannot_grant(wanted);
            if !missing.is_empty() {
                return Err(ApiClientError::PermissionNotHeld(missing));
            }
        }
        let audit = AuditEvent::by(actor, AuditAction::ApiClientUpdated, TargetType::ApiClient, Some(id), now)
            .with(json!({"fields": changes.touched()}));
        let changed = self
            .store
            .update_api_client(actor.tenant_id, id, changes, &audit)
            .await?
            .ok_or(ApiClientError::NotFound)?;
        self.tokens_may_have_changed();
        Ok(changed)
    }

    /// Deletes a client; its tokens stop working at once.
    ///
    /// # Errors
    /// `NotFound`, `PermissionNotHeld` (the client holds more than the actor).
    pub async fn delete_api_client(&self, actor: &Actor, id: Uuid, now: DateTime<Utc>) -> Result<(), ApiClientError> {
        self.manageable(actor, id).await?;
        let audit = AuditEvent::by(actor, AuditAction::ApiClientDeleted, TargetType::ApiClient, Some(id), now);
        if !self.store.delete_api_client(actor.tenant_id, id, &audit).await? {
            return Err(ApiClientError::NotFound);
        }
        self.tokens_may_have_changed();
        tracing::info!(actor = %actor.caller_id(), client = %id, "deleted an API client");
        Ok(())
    }

    /// Gives a client a new secret, shown this once; the previous one works
    /// until `old_until` (at once when that is now or past), so the
    /// integrator can switch without an outage.
    ///
    /// # Errors
    /// `NotFound`, `PermissionNotHeld` (the client holds more than the actor).
    pub async fn rotate_client_secret(
        &self,
        actor: &Actor,
        id: Uuid,
        old_until: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<ClientWithSecret, ApiClientError> {
        self.manageable(actor, id).await?;
        let secret = MachineSecret::generate(CLIENT_SECRET_PREFIX);
        let old_until = old_until.max(now);
        let audit = AuditEvent::by(actor, AuditAction::ApiClientSecretRotated, TargetType::ApiClient, Some(id), now)
            .with(json!({"old_secret_expires_at": old_until}));
        let client = self
            .store
            .rotate_client_secret(actor.tenant_id, id, &secret.digest(), old_until, &audit)
            .await?
            .ok_or(ApiClientError::NotFound)?;
        Ok(ClientWithSecret { client, secret })
    }

    /// The client whose credentials these are, checked like a sign-in
    /// (`super::machines`): it must exist, be active and call from an
    /// allowed network.
    ///
    /// # Errors
    /// `InvalidClient`, `UnauthorizedClient` (the address), `TooMany`.
    pub async fn authenticate_client(
        &self,
        credentials: ClientCredentials<'_>,
        now: DateTime<Utc>,
    ) -> Result<ApiClient, OAuthError> {
        let keys = SignInKeys::client(credentials.client_id, credentials.ip);
        let state = match self.judge_machine(&keys, now).await? {
            Ok(state) => state,
            Err(Throttled::TooMany { retry_after }) => return Err(OAuthError::TooMany { retry_after }),
            Err(Throttled::Locked) => return Err(OAuthError::InvalidClient),
        };
        let found = match Uuid::try_parse(credentials.client_id) {
            Ok(id) => self.store.client_login(id, now).await?,
            Err(_) => None,
        };
        let Some(found) =
            found.filter(|f| f.digests.iter().any(|d| MachineSecret::matches(credentials.client_secret, d)))
        else {
            self.machine_failed(&keys, now).await?;
            return Err(OAuthError::InvalidClient);
        };
        let client = found.client;
        if !client.active(now) {
            self.machine_failed(&keys, now).await?;
            return Err(OAuthError::InvalidClient);
        }
        self.machine_succeeded(&keys, &state, client.id, now).await?;
        if !client.allows(credentials.ip) {
            return Err(OAuthError::UnauthorizedClient);
        }
        Ok(client)
    }

    /// The client credentials grant (RFC 6749 §4.4): a short-lived access
    /// token carrying `scope` (permission names; all the client's when
    /// absent), never outliving the client.
    ///
    /// # Errors
    /// See [`Self::authenticate_client`]; `InvalidScope` naming a
    /// permission that is unknown or not the client's.
    pub async fn client_credentials_token(
        &self,
        credentials: ClientCredentials<'_>,
        scope: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<IssuedToken, OAuthError> {
        let client = self.authenticate_client(credentials, now).await?;
        let scope = match scope {
            None => client.permissions.clone(),
            Some(asked) => {
                let asked = parse_scope(asked).map_err(|e| OAuthError::InvalidScope(e.0))?;
                if let Some(missing) = asked.missing_from(&client.permissions).first() {
                    return Err(OAuthError::InvalidScope(missing.code().to_owned()));
                }
                asked
            }
        };
        let mut end = now + self.tokens.access_lifetime();
        if let Some(client_end) = client.expires_at {
            end = end.min(client_end);
        }
        let token = ClientToken {
            id: Uuid::now_v7(),
            client_id: client.id,
            scope: scope.clone(),
            issued_at: now,
            expires_at: end,
            revoked_at: None,
        };
        let ip = credentials.ip.map(|ip| ip.to_canonical().to_string());
        self.store.record_client_token(&token, ip).await?;
        let access_token =
            self.tokens.issue_client(client.id, client.tenant_id, token.id, scope.to_codes(), end, now)?;
        tracing::info!(client = %client.id, token = %token.id, "issued a client access token");
        Ok(IssuedToken { access_token, expires_in: (end - now).num_seconds().max(0), scope })
    }

    /// Revokes (RFC 7009) one of the calling client's own access tokens.
    /// Anything else (another client's token, a person's, garbage) is
    /// ignored: the answer is the same.
    ///
    /// # Errors
    /// See [`Self::authenticate_client`].
    pub async fn revoke_client_token(
        &self,
        credentials: ClientCredentials<'_>,
        token: &str,
        now: DateTime<Utc>,
    ) -> Result<(), OAuthError> {
        let client = self.authenticate_client(credentials, now).await?;
        if let Ok(claims) = self.tokens.verify_bearer(token)
            && claims.is_client()
            && claims.sub == client.id
            && self.store.revoke_client_token(client.id, claims.sid, now).await?
        {
            self.tokens_may_have_changed();
            tracing::info!(client = %client.id, token = %claims.sid, "revoked a client access token");
        }
        Ok(())
    }

    /// Introspection (RFC 7662) for the tenant's other services: whether a
    /// token (a person's or an API client's) of the calling client's tenant
    /// would be accepted now, and what it carries. Tokens of other tenants
    /// are reported inactive. The calling client needs `tokens:introspect`
    /// (RFC 7662 §4: not every client may learn what others' tokens carry).
    ///
    /// # Errors
    /// See [`Self::authenticate_client`]; `UnauthorizedClient` without
    /// `tokens:introspect`.
    pub async fn introspect(
        &self,
        credentials: ClientCredentials<'_>,
        token: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<Introspection>, OAuthError> {
        let caller = self.authenticate_client(credentials, now).await?;
        if !caller.permissions.contains(Permission::TokensIntrospect) {
            return Err(OAuthError::UnauthorizedClient);
        }
        let Ok(read) = self.read_token(token).await else { return Ok(None) };
        let claims = read.claims().clone();
        // The rule every request's token is held to, leeway included.
        let in_time = TokenSigner::in_time(&claims, now);
        let facts = match read {
            Authenticated::Person { session, principal, .. } => (session.is_live(now)
                && principal.status(now) == UserStatus::Active
                && session.acting_tenant_id.is_none())
            .then(|| Introspection {
                scope: principal.role.permissions.clone(),
                client_id: None,
                sub: principal.id,
                tenant_id: principal.tenant_id,
                exp: claims.exp,
                iat: claims.iat,
            }),
            Authenticated::Client { token, client, .. } => {
                (token.revoked_at.is_none() && client.active(now)).then(|| Introspection {
                    scope: token.scope.intersection(&client.permissions),
                    client_id: Some(client.id),
                    sub: client.id,
                    tenant_id: client.tenant_id,
                    exp: claims.exp,
                    iat: claims.iat,
                })
            }
        };
        Ok(facts.filter(|f| in_time && f.tenant_id == caller.tenant_id))
    }
}

/// How long the old secret keeps working after a rotation by default.
pub const DEFAULT_SECRET_OVERLAP: Duration = Duration::hours(24);
