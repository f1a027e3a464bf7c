//! SCIM tokens (see `crate::scim_token`): made and revoked by a tenant's
//! administrators, and turned into an actor on every SCIM request; and
//! the tenant's deprovisioning settings (see `crate::deprovisioning`).

use chrono::{DateTime, Duration, Utc};
use serde_json::json;
use uuid::Uuid;

use super::Voxport;
use crate::{
    actor::Actor,
    audit::{AuditAction, AuditEvent, TargetType},
    auth::MachineSecret,
    deprovisioning::DeprovisionSettings,
    errors::AuthenticateError,
    paging::{Page, PageRequest},
    ports::Store,
    scim_token::{HINT_CHARS, NewScimToken, SCIM_TOKEN_PREFIX, ScimToken, ScimTokenWithSecret},
    values::Label,
};

/// How stale a token's recorded last use may get: one write per token per
/// minute at most, however busy the identity provider is.
const LAST_USE_PRECISION: Duration = Duration::minutes(1);

impl<S: Store> Voxport<S> {
    /// # Errors
    /// When storage fails.
    pub async fn list_scim_tokens(&self, actor: &Actor, page: PageRequest) -> anyhow::Result<Page<ScimToken>> {
        self.store.list_scim_tokens(actor.tenant_id, page).await
    }

    /// # Errors
    /// When storage fails.
    pub async fn scim_token(&self, actor: &Actor, id: Uuid) -> anyhow::Result<Option<ScimToken>> {
        self.store.scim_token(actor.tenant_id, id).await
    }

    /// Makes a token holding what the actor holds now, so that it
    /// provisions every role they could grant and none they could not
    /// (it works at `/scim/v2` only); the token is in the answer this once.
    ///
    /// # Errors
    /// When storage fails.
    pub async fn create_scim_token(
        &self,
        actor: &Actor,
        name: Label,
        now: DateTime<Utc>,
    ) -> anyhow::Result<ScimTokenWithSecret> {
        let secret = MachineSecret::generate(SCIM_TOKEN_PREFIX);
        let permissions = actor.permissions.clone();
        let audit = AuditEvent::by(actor, AuditAction::ScimTokenCreated, TargetType::ScimToken, None, now)
            .with(json!({"name": name.as_str(), "permissions": permissions}));
        let new = NewScimToken {
            name,
            permissions,
            hint: secret.expose().chars().take(HINT_CHARS).collect(),
            digest: secret.digest(),
        };
        let token = self.store.create_scim_token(actor.tenant_id, new, &audit).await?;
        tracing::info!(actor = %actor.caller_id(), token = %token.id, "created a SCIM token");
        Ok(ScimTokenWithSecret { token, secret })
    }

    /// Revokes a token: requests with it fail from now on. Answers whether
    /// there was one.
    ///
    /// # Errors
    /// When storage fails.
    pub async fn delete_scim_token(&self, actor: &Actor, id: Uuid, now: DateTime<Utc>) -> anyhow::Result<bool> {
        let audit = AuditEvent::by(actor, AuditAction::ScimTokenDeleted, TargetType::ScimToken, Some(id), now);
        let deleted = self.store.delete_scim_token(actor.tenant_id, id, &audit).await?;
        if deleted {
            tracing::info!(actor = %actor.caller_id(), token = %id, "revoked a SCIM token");
        }
        Ok(deleted)
    }

    /// The actor behind a SCIM request's bearer token: a SCIM token acts in
    /// its tenant with its permissions and is recorded as used; any other
    /// token is authenticated as everywhere else (an API client's, say).
    ///
    /// # Errors
    /// `InvalidToken` for an unknown or revoked token.
    pub async fn authenticate_scim(
        &self,
        bearer: &str,
        ip: Option<std::net::IpAddr>,
        now: DateTime<Utc>,
    ) -> Result<Actor, AuthenticateError> {
        if !bearer.starts_with(SCIM_TOKEN_PREFIX) {
            return self.authenticate(bearer, ip, now).await;
        }
        let found = self.store.scim_token_by_digest(&MachineSecret::digest_of(bearer)).await?;
        // Found by its digest's index; compared again in constant time.
        let Some((token, _)) = found.filter(|(_, digest)| MachineSecret::matches(bearer, digest)) else {
            return Err(AuthenticateError::InvalidToken);
        };
        if token.last_used_at.is_none_or(|last| now - last >= LAST_USE_PRECISION) {
            // Best effort: a busy database must not refuse the request.
            if let Err(e) = self.store.touch_scim_token(token.id, now).await {
                tracing::warn!(error = ?e, token = %token.id, "could not record a SCIM token's use");
            }
        }
        Ok(Actor {
            user_id: Uuid::nil(),
            tenant_id: token.tenant_id,
            home_tenant_id: token.tenant_id,
            session_id: token.id,
            permissions: token.permissions,
            ip,
            client_id: Some(token.id),
        })
    }

    /// # Errors
    /// When storage fails.
    pub async fn deprovision_settings(&self, actor: &Actor) -> anyhow::Result<DeprovisionSettings> {
        self.store.deprovision_settings(actor.tenant_id).await
    }

    /// # Errors
    /// When storage fails.
    pub async fn set_deprovision_settings(
        &self,
        actor: &Actor,
        settings: DeprovisionSettings,
        now: DateTime<Utc>,
    ) -> anyhow::Result<DeprovisionSettings> {
        let audit = AuditEvent::by(
            actor,
            AuditAction::DeprovisionSettingsChanged,
            TargetType::Tenant,
            Some(actor.tenant_id),
            now,
        )
        .with(json!({
            "hold_days": settings.hold_days,
            "release_station": settings.release_station,
            "number_rest_days": settings.number_rest_days,
        }));
        self.store.set_deprovision_settings(actor.tenant_id, settings, &audit).await?;
        Ok(settings)
    }
}
