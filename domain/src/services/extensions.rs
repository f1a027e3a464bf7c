//! Extensions and their SIP credentials. The customer's administrators
//! create them (numbers within the tenant's dial plan) and make them ring
//! users; the secret is generated here, sealed before it reaches storage,
//! and opened only for the holder or a holder of `extensions:secrets`.

use anyhow::Context as _;
use chrono::{DateTime, Utc};
use serde_json::json;
use uuid::Uuid;

use super::{Voxport, touched_fields};
use crate::{
    actor::Actor,
    audit::{AuditAction, AuditEvent, TargetType},
    errors::{CreateExtensionError, DeleteExtensionError, TelephonyError, UpdateExtensionError},
    extension::{
        Extension, ExtensionChanges, ExtensionFilter, ExtensionNumber, ExtensionType, NewExtension, SipCredentials,
        SipSecret, StoredSipSecret, generate_sip_username,
    },
    paging::{Page, PageRequest},
    ports::{SecretsOf, Store},
    tenant::Tenant,
    values::Label,
};

/// An extension an administrator asks for.
#[derive(Debug, Clone)]
pub struct NewExtensionRequest {
    pub number: ExtensionNumber,
    pub kind: ExtensionType,
    pub name: Option<Label>,
    pub force_login: bool,
    pub voicemail_enabled: bool,
}

impl From<CreateExtensionError> for TelephonyError {
    fn from(e: CreateExtensionError) -> Self {
        match e {
            CreateExtensionError::NumberTaken => Self::ExtensionNumberTaken,
            CreateExtensionError::NumberOutOfRange { min, max } => Self::ExtensionNumberOutOfRange { min, max },
            CreateExtensionError::Unknown(e) => Self::Unknown(e),
        }
    }
}

impl<S: Store> Voxport<S> {
    /// The actor's own tenant.
    pub(super) async fn own_tenant(&self, actor: &Actor) -> anyhow::Result<Tenant> {
        self.store.tenant_visible_to(actor.tenant_id, actor.tenant_id).await?.context("the actor's tenant vanished")
    }

    /// A new extension of `tenant` with fresh SIP credentials, the secret
    /// sealed.
    pub(super) fn new_extension(
        &self,
        tenant: &Tenant,
        req: NewExtensionRequest,
    ) -> Result<NewExtension, CreateExtensionError> {
        let digits = tenant.extension_digits;
        if !digits.admits(&req.number) {
            return Err(CreateExtensionError::NumberOutOfRange { min: digits.min(), max: digits.max() });
        }
        let id = Uuid::now_v7();
        let sip_username = generate_sip_username();
        let secret = self.fresh_sip_secret(id, &sip_username, &self.sip_domain(tenant))?;
        Ok(NewExtension {
            id,
            number: req.number,
            name: req.name,
            kind: req.kind,
            force_login: req.force_login,
            voicemail_enabled: req.voicemail_enabled,
            sip_username,
            secret,
        })
    }

    /// The SIP domain of `tenant`: `<slug>.<VOXPORT_SIP_DOMAIN>`, lower case.
    #[must_use]
    pub fn sip_domain(&self, tenant: &Tenant) -> String {
        self.sip_domain_of(tenant.slug.as_str())
    }

    fn sip_domain_of(&self, slug: &str) -> String {
        format!("{slug}.{}", self.settings.sip_domain).to_lowercase()
    }

    /// A new SIP secret for `extension`, sealed, with its digest hashes for
    /// `username` at `domain`.
    pub(super) fn fresh_sip_secret(
        &self,
        extension: Uuid,
        username: &str,
        domain: &str,
    ) -> anyhow::Result<StoredSipSecret> {
        let secret = SipSecret::generate();
        let sealed = self.secrets.seal(secret.expose().as_bytes(), &SipSecret::context(extension))?;
        Ok(StoredSipSecret::new(sealed, username, domain, secret.expose()))
    }

    /// A fresh secret for the stored extension `id` of the actor's tenant;
    /// `None` when there is no such extension.
    pub(super) async fn fresh_secret_for(&self, actor: &Actor, id: Uuid) -> anyhow::Result<Option<StoredSipSecret>> {
        let Some(extension) = self.store.extension(actor.tenant_id, id).await? else { return Ok(None) };
        let domain = self.sip_domain(&self.own_tenant(actor).await?);
        Ok(Some(self.fresh_sip_secret(id, &extension.sip_username, &domain)?))
    }

    /// Brings every stored secret's domain and digest hashes in line with
    /// its tenant's SIP domain (of `tenant`, or of all tenants): at start,
    /// for secrets stored before the hashes were, and after a tenant's slug
    /// changes. Answers how many it rewrote.
    ///
    /// # Errors
    /// When storage fails or a secret does not open.
    pub async fn refresh_digest_hashes(&self, tenant: Option<Uuid>) -> anyhow::Result<usize> {
        let suffix = self.settings.sip_domain.to_lowercase();
        let stale = self.store.stale_digest_sources(tenant, &suffix).await?;
        let mut fresh = Vec::with_capacity(stale.len());
        for source in stale {
            let domain = self.sip_domain_of(&source.tenant_slug);
            let secret = self.secrets.open_string(&source.sealed, &SipSecret::context(source.extension_id))?;
            fresh.push((source.extension_id, StoredSipSecret::new(source.sealed, &source.username, &domain, &secret)));
        }
        self.store.set_digest_hashes(&fresh).await?;
        Ok(fresh.len())
    }

    /// # Errors
    /// When storage fails.
    pub async fn list_extensions(
        &self,
        actor: &Actor,
        filter: &ExtensionFilter,
        page: PageRequest,
    ) -> anyhow::Result<Page<Extension>> {
        self.store.list_extensions(actor.tenant_id, filter, page).await
    }

    /// The `wanted` lowest numbers of the actor's tenant's range that no
    /// extension has: what a new user's extension may be, and what SCIM
    /// publishes as its canonical values.
    ///
    /// # Errors
    /// When storage fails.
    pub async fn free_extension_numbers(&self, actor: &Actor, wanted: usize) -> anyhow::Result<Vec<String>> {
        let tenant = self.own_tenant(actor).await?;
        let taken: std::collections::HashSet<String> =
            self.store.extension_numbers(actor.tenant_id).await?.into_iter().collect();
        let digits = tenant.extension_digits;
        let first = 10u64.pow(u32::from(digits.min()).saturating_sub(1));
        let end = 10u64.saturating_pow(u32::from(digits.max()));
        Ok((first..end).map(|n| n.to_string()).filter(|n| !taken.contains(n)).take(wanted).collect())
    }

    /// The extension of the actor's tenant with this number.
    ///
    /// # Errors
    /// When storage fails.
    pub async fn extension_numbered(&self, actor: &Actor, number: &str) -> anyhow::Result<Option<Extension>> {
        let filter = ExtensionFilter { q: Some(number.to_owned()), ..ExtensionFilter::default() };
        let mut page = Some(PageRequest::walk());
        while let Some(this) = page {
            let found = self.store.list_extensions(actor.tenant_id, &filter, this).await?;
            if let Some(hit) = found.items.iter().find(|e| e.number.as_str() == number) {
                return Ok(Some(hit.clone()));
            }
            page = this.following(found.total);
        }
        Ok(None)
    }

    /// # Errors
    /// When storage fails.
    pub async fn extension(&self, actor: &Actor, id: Uuid) -> anyhow::Result<Option<Extension>> {
        self.store.extension(actor.tenant_id, id).await
    }

    /// # Errors
    /// See [`CreateExtensionError`].
    pub async fn create_extension(
        &self,
        actor: &Actor,
        req: NewExtensionRequest,
        now: DateTime<Utc>,
    ) -> Result<Extension, CreateExtensionError> {
        let tenant = self.own_tenant(actor).await?;
        let new = self.new_extension(&tenant, req)?;
        let audit = AuditEvent::by(actor, AuditAction::ExtensionCreated, TargetType::Extension, Some(new.id), now)
            .with(json!({"number": new.number.as_str()}));
        let extension = self.store.create_extension(actor.tenant_id, &new, &audit).await?;
        tracing::info!(actor = %actor.caller_id(), extension = %extension.id, "created extension");
        Ok(extension)
    }

    /// # Errors
    /// See [`UpdateExtensionError`].
    pub async fn update_extension(
        &self,
        actor: &Actor,
        id: Uuid,
        changes: ExtensionChanges,
        now: DateTime<Utc>,
    ) -> Result<Extension, UpdateExtensionError> {
        if let Some(number) = &changes.number {
            let digits = self.own_tenant(actor).await?.extension_digits;
            if !digits.admits(number) {
                return Err(UpdateExtensionError::NumberOutOfRange { min: digits.min(), max: digits.max() });
            }
        }
        let audit =
            AuditEvent::by(actor, AuditAction::ExtensionUpdated, TargetType::Extension, Some(id), now).with(json!({
                "fields": touched_fields(&[
                    ("number", changes.number.is_some()),
                    ("name", changes.name.is_some()),
                    ("type", changes.kind.is_some()),
                    ("force_login", changes.force_login.is_some()),
                    ("voicemail_enabled", changes.voicemail_enabled.is_some()),
                ]),
            }));
        let extension = self.store.update_extension(actor.tenant_id, id, changes, &audit).await?;
        tracing::info!(actor = %actor.caller_id(), extension = %id, "changed extension");
        Ok(extension)
    }

    /// # Errors
    /// See [`DeleteExtensionError`].
    pub async fn delete_extension(
        &self,
        actor: &Actor,
        id: Uuid,
        now: DateTime<Utc>,
    ) -> Result<(), DeleteExtensionError> {
        let audit = AuditEvent::by(actor, AuditAction::ExtensionDeleted, TargetType::Extension, Some(id), now);
        self.store.delete_extension(actor.tenant_id, id, &audit).await?;
        tracing::info!(actor = %actor.caller_id(), extension = %id, "deleted extension");
        Ok(())
    }

    /// The SIP credentials of one extension, for a holder of
    /// `extensions:secrets` (the caller checks the permission).
    ///
    /// # Errors
    /// When storage fails or the secret does not open.
    pub async fn sip_credentials(
        &self,
        actor: &Actor,
        id: Uuid,
        now: DateTime<Utc>,
    ) -> anyhow::Result<Option<SipCredentials>> {
        let found = self.credentials(actor, SecretsOf::Extension(id)).await?.pop();
        if found.is_some() {
            self.store
                .record(&AuditEvent::by(actor, AuditAction::SipSecretRead, TargetType::Extension, Some(id), now))
                .await?;
            tracing::info!(actor = %actor.caller_id(), extension = %id, "read SIP credentials");
        }
        Ok(found)
    }

    /// The SIP credentials of every extension the actor holds. Each read
    /// is audited, as an administrator's is.
    ///
    /// # Errors
    /// When storage fails or a secret does not open.
    pub async fn my_sip_credentials(&self, actor: &Actor, now: DateTime<Utc>) -> anyhow::Result<Vec<SipCredentials>> {
        let found = self.credentials(actor, SecretsOf::User(actor.user_id)).await?;
        let reads: Vec<AuditEvent> = found
            .iter()
            .map(|c| {
                AuditEvent::by(actor, AuditAction::SipSecretRead, TargetType::Extension, Some(c.extension_id), now)
                    .with(json!({"holder": true}))
            })
            .collect();
        if !reads.is_empty() {
            self.store.record_all(&reads).await?;
        }
        Ok(found)
    }

    /// Replaces the SIP secret of an extension; the phones registered with
    /// the old one must be given the new one. Answers the new credentials.
    ///
    /// # Errors
    /// When storage fails.
    pub async fn rotate_sip_secret(
        &self,
        actor: &Actor,
        id: Uuid,
        now: DateTime<Utc>,
    ) -> anyhow::Result<Option<SipCredentials>> {
        let Some(sealed) = self.fresh_secret_for(actor, id).await? else { return Ok(None) };
        let audit = AuditEvent::by(actor, AuditAction::SipSecretRotated, TargetType::Extension, Some(id), now);
        if !self.store.set_sip_secret(actor.tenant_id, id, &sealed, &audit).await? {
            return Ok(None);
        }
        tracing::info!(actor = %actor.caller_id(), extension = %id, "rotated SIP secret");
        Ok(self.credentials(actor, SecretsOf::Extension(id)).await?.pop())
    }

    async fn credentials(&self, actor: &Actor, of: SecretsOf) -> anyhow::Result<Vec<SipCredentials>> {
        let sealed = self.store.sealed_sip_secrets(actor.tenant_id, of).await?;
        if sealed.is_empty() {
            return Ok(Vec::new());
        }
        let domain = self.sip_domain(&self.own_tenant(actor).await?);
        sealed
            .into_iter()
            .map(|(extension, sealed)| {
                let secret = self.secrets.open_string(&sealed, &SipSecret::context(extension.id))?;
                Ok(SipCredentials {
                    extension_id: extension.id,
                    number: extension.number.as_str().to_owned(),
                    username: extension.sip_username,
                    secret: SipSecret::from_opened(secret),
                    domain: domain.clone(),
                })
            })
            .collect()
    }

    /// Makes an extension ring a user of the actor's tenant. A free one
    /// gets a fresh SIP secret, as a real PBX gives a reassigned line: the
    /// phones of whoever held it before stop registering, and a secret read
    /// while someone else held it is worthless (issue 11, finding 3).
    ///
    /// # Errors
    /// See [`TelephonyError`].
    pub async fn assign_extension(
        &self,
        actor: &Actor,
        user: Uuid,
        extension: Uuid,
        now: DateTime<Utc>,
    ) -> Result<Extension, TelephonyError> {
        let audit = AuditEvent::by(actor, AuditAction::ExtensionAssigned, TargetType::User, Some(user), now)
            .with(json!({"extension_id": extension}));
        let fresh = self.fresh_secret_for(actor, extension).await?.ok_or(TelephonyError::ExtensionNotFound)?;
        self.change_holdings(actor, user, audit, async |audit| {
            self.store.assign_extension(actor.tenant_id, user, extension, &fresh, audit).await
        })
        .await
    }

    /// # Errors
    /// See [`TelephonyError`].
    pub async fn release_extension(
        &self,
        actor: &Actor,
        user: Uuid,
        extension: Uuid,
        now: DateTime<Utc>,
    ) -> Result<(), TelephonyError> {
        let audit = AuditEvent::by(actor, AuditAction::ExtensionReleased, TargetType::User, Some(user), now)
            .with(json!({"extension_id": extension}));
        self.change_holdings(actor, user, audit, async |audit| {
            self.store.release_extension(actor.tenant_id, user, extension, audit).await
        })
        .await
    }
}
