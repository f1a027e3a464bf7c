//! Tenants and the bootstrap of a fresh installation.
//!
//! The platform operator (and, for their own customers, a reseller)
//! creates customer tenants, each with the four built-in roles and a first
//! administrator. A tenant is visible only to itself and to the tenants
//! above it; anything else is reported as missing.

use anyhow::Context as _;
use chrono::{DateTime, Utc};
use serde_json::json;
use uuid::Uuid;

use super::{CreateOptions, CreateUser, CreatedUser, NewPassword, Telephony, Voxport, touched_fields};
use crate::{
    actor::Actor,
    audit::{AuditAction, AuditEvent, TargetType},
    auth::PasswordHash,
    errors::{CreateTenantError, CreateUserError, DeleteTenantError, UpdateTenantError},
    paging::{Page, PageRequest},
    ports::Store,
    role::BuiltinRole,
    tenant::{NewTenant, Tenant, TenantChanges, TenantKind, TenantSeed},
    user::{NewUser, User},
    values::{Email, Language, Login, Password, PersonName, Secret, Slug, TenantName, Timezone},
};

const PLATFORM_SLUG: &str = "platform";
const PLATFORM_NAME: &str = "Platform";

/// Who a new tenant's first administrator is.
struct FirstAdmin {
    login: Login,
    email: Option<Email>,
    first_name: PersonName,
    last_name: PersonName,
    password_hash: Option<PasswordHash>,
}

impl FirstAdmin {
    /// A platform operator: a login and a password, no address.
    fn operator(login: Login, password_hash: Option<PasswordHash>) -> anyhow::Result<Self> {
        Ok(Self {
            login,
            email: None,
            first_name: PersonName::parse("Platform").map_err(anyhow::Error::msg)?,
            last_name: PersonName::parse("Operator").map_err(anyhow::Error::msg)?,
            password_hash,
        })
    }
}

impl TenantSeed {
    /// `tenant` with its built-in roles and `admin` holding its
    /// Administrator role: active at once, in UTC and English until they
    /// change it.
    fn new(tenant: NewTenant, admin: FirstAdmin) -> anyhow::Result<Self> {
        let roles = BuiltinRole::seed(tenant.kind);
        let role_id = BuiltinRole::Administrator.seeded_id(&roles).context("the seed has no Administrator role")?;
        let admin = NewUser {
            id: Uuid::now_v7(),
            tenant_id: tenant.id,
            role_id,
            login: admin.login,
            email: admin.email,
            first_name: admin.first_name,
            last_name: admin.last_name,
            password_hash: admin.password_hash,
            disabled: false,
            activation_at: None,
            expires_at: None,
            timezone: Timezone::UTC,
            language: Language::ENGLISH,
            directory: Default::default(),
        };
        Ok(Self { tenant, roles, admin })
    }
}

#[derive(Debug, Clone)]
pub struct CreateTenant {
    pub parent_id: Option<Uuid>,
    pub kind: TenantKind,
    pub name: TenantName,
    pub slug: Slug,
    pub admin_login: Login,
    pub admin_email: Email,
    pub admin_first_name: PersonName,
    pub admin_last_name: PersonName,
    pub admin_password: NewPassword,
    /// Write the administrator's welcome email.
    pub send_welcome_email: bool,
}

#[derive(Debug)]
pub struct CreatedTenant {
    pub tenant: Tenant,
    pub admin: CreatedUser,
}

/// What the first start of an installation created.
#[derive(Debug)]
pub struct Bootstrapped {
    pub admin: User,
    /// Set when the password was generated: print it once.
    pub generated_password: Option<Password>,
}

impl<S: Store> Voxport<S> {
    /// # Errors
    /// See [`CreateTenantError`].
    pub async fn create_tenant(
        &self,
        actor: &Actor,
        req: CreateTenant,
        now: DateTime<Utc>,
    ) -> Result<CreatedTenant, CreateTenantError> {
        let parent_id = req.parent_id.unwrap_or(actor.tenant_id);
        let parent =
            self.store.tenant_visible_to(actor.tenant_id, parent_id).await?.ok_or(CreateTenantError::ParentNotFound)?;
        if !parent.kind.can_have_children() {
            return Err(CreateTenantError::ParentIsCustomer);
        }
        // Its first administrator gets its kind's Administrator role, so
        // the creator must hold all of that (rule 7): otherwise creating a
        // tenant with an administrator's password of one's choosing would
        // hand oneself what one was never given.
        let missing = actor.cannot_grant(&BuiltinRole::Administrator.permissions(req.kind));
        if !missing.is_empty() {
            return Err(CreateTenantError::PermissionNotHeld(missing));
        }
        let personal = [
            req.admin_login.as_str(),
            req.admin_email.as_str(),
            req.admin_first_name.as_str(),
            req.admin_last_name.as_str(),
        ];
        let password = self.choose_password(&req.admin_password, &personal, req.send_welcome_email, true).await?;
        let tenant = NewTenant::new(Some(parent.id), req.kind, req.name, req.slug);
        let seed = TenantSeed::new(
            tenant,
            FirstAdmin {
                login: req.admin_login,
                email: Some(req.admin_email),
                first_name: req.admin_first_name,
                last_name: req.admin_last_name,
                password_hash: password.hash,
            },
        )?;
        let welcome = if req.send_welcome_email {
            self.welcome((&seed.admin).into(), seed.tenant.name.as_str(), password.by_link, now)?
        } else {
            None
        };
        let welcome_email = welcome.is_some();
        let audit = AuditEvent::by(actor, AuditAction::TenantCreated, TargetType::Tenant, Some(seed.tenant.id), now)
            .with(json!({
                "slug": seed.tenant.slug.as_str(),
                "kind": seed.tenant.kind.as_str(),
                "admin_id": seed.admin.id,
                "welcome_email": welcome_email,
            }));
        let (tenant, admin) = self.store.create_tenant(seed, welcome, &audit).await?;
        if welcome_email {
            self.outbox.notify_one();
        }
        tracing::info!(actor = %actor.caller_id(), tenant = %tenant.id, "created tenant");
        Ok(CreatedTenant {
            tenant,
            admin: CreatedUser { user: admin, generated_password: password.generated, welcome_email },
        })
    }

    /// # Errors
    /// When storage fails.
    pub async fn tenant(&self, actor: &Actor, id: Uuid) -> anyhow::Result<Option<Tenant>> {
        self.store.tenant_visible_to(actor.tenant_id, id).await
    }

    /// # Errors
    /// When storage fails.
    pub async fn list_tenants(
        &self,
        actor: &Actor,
        q: Option<&str>,
        page: PageRequest,
    ) -> anyhow::Result<Page<Tenant>> {
        self.store.list_tenants_below(actor.tenant_id, q, page).await
    }

    /// Only tenants below the actor's can be changed.
    ///
    /// # Errors
    /// See [`UpdateTenantError`].
    pub async fn update_tenant(
        &self,
        actor: &Actor,
        id: Uuid,
        changes: TenantChanges,
        now: DateTime<Utc>,
    ) -> Result<Tenant, UpdateTenantError> {
        if id == actor.tenant_id || self.store.tenant_visible_to(actor.tenant_id, id).await?.is_none() {
            return Err(UpdateTenantError::NotFound);
        }
        let audit = AuditEvent::by(actor, AuditAction::TenantUpdated, TargetType::Tenant, Some(id), now).with(json!({
            "fields": touched_fields(&[
                ("name", changes.name.is_some()),
                ("slug", changes.slug.is_some()),
                ("extension_digits", changes.extension_digits.is_some()),
                ("own_phone_numbers", changes.own_phone_numbers.is_some()),
            ]),
        }));
        let new_slug = changes.slug.is_some();
        let tenant = self.store.update_tenant(id, changes, &audit).await?;
        if new_slug {
            // The SIP domain follows the slug, and the digest hashes the
            // domain: a registrar checks the new ones from now on.
            let rewritten = self.refresh_digest_hashes(Some(id)).await?;
            tracing::info!(tenant = %id, rewritten, "new SIP domain");
        }
        tracing::info!(actor = %actor.caller_id(), tenant = %id, "changed tenant");
        Ok(tenant)
    }

    /// # Errors
    /// See [`DeleteTenantError`].
    pub async fn delete_tenant(&self, actor: &Actor, id: Uuid, now: DateTime<Utc>) -> Result<(), DeleteTenantError> {
        if id == actor.tenant_id {
            return Err(DeleteTenantError::OwnTenant);
        }
        if self.store.tenant_visible_to(actor.tenant_id, id).await?.is_none() {
            return Err(DeleteTenantError::NotFound);
        }
        let audit = AuditEvent::by(actor, AuditAction::TenantDeleted, TargetType::Tenant, Some(id), now);
        self.store.delete_tenant(id, &audit).await?;
        self.tokens_may_have_changed();
        tracing::info!(actor = %actor.caller_id(), tenant = %id, "deleted tenant");
        Ok(())
    }

    /// On an empty database, creates the platform tenant and its operator
    /// `login`, with `password` or a generated one. Several processes may
    /// start at once: exactly one creates, the others answer `None`.
    ///
    /// # Errors
    /// When `password` does not meet the policy, or storage fails.
    pub async fn bootstrap(
        &self,
        login: Login,
        password: Option<&str>,
        now: DateTime<Utc>,
    ) -> anyhow::Result<Option<Bootstrapped>> {
        if self.store.platform_tenant().await?.is_some() {
            return Ok(None);
        }
        let choice = password.map_or(NewPassword::Generate, |raw| NewPassword::Given(Secret::new(raw.to_owned())));
        let password = self
            .choose_password(&choice, &[login.as_str()], false, true)
            .await
            .map_err(|e| anyhow::anyhow!("VOXPORT_ADMIN_PASSWORD: {e}"))?;
        let tenant = NewTenant::new(
            None,
            TenantKind::Platform,
            TenantName::parse(PLATFORM_NAME).map_err(anyhow::Error::msg)?,
            Slug::parse(PLATFORM_SLUG).map_err(anyhow::Error::msg)?,
        );
        let seed = TenantSeed::new(tenant, FirstAdmin::operator(login, password.hash)?)?;
        let created = self.store.bootstrap_platform(seed, now).await?;
        Ok(created.map(|admin| Bootstrapped { admin, generated_password: password.generated }))
    }

    /// Creates another platform operator (an Administrator of the platform
    /// tenant), for `voxport admin create`.
    ///
    /// # Errors
    /// `LoginTaken`, `WeakPassword`, or when the installation was never
    /// bootstrapped.
    pub async fn create_operator(
        &self,
        login: Login,
        password: NewPassword,
        now: DateTime<Utc>,
    ) -> Result<CreatedUser, CreateUserError> {
        let platform = self.store.platform_tenant().await?.ok_or_else(|| anyhow::anyhow!("no platform tenant yet"))?;
        let role = self
            .store
            .builtin_role(platform.id, BuiltinRole::Administrator)
            .await?
            .ok_or_else(|| anyhow::anyhow!("the platform tenant has no Administrator role"))?;
        let system = Actor::system(platform.id, role.permissions.clone());
        let operator = FirstAdmin::operator(login, None)?;
        let request = CreateUser {
            login: operator.login,
            email: None,
            first_name: operator.first_name,
            last_name: operator.last_name,
            role_id: Some(role.id),
            password,
            disabled: false,
            activation_at: None,
            expires_at: None,
            timezone: Timezone::UTC,
            language: Language::ENGLISH,
            directory: Default::default(),
            telephony: Telephony::default(),
            send_welcome_email: false,
        };
        self.create_user(&system, request, CreateOptions::default(), now).await
    }
}
