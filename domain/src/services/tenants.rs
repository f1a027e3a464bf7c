//! Tenants and the bootstrap of a fresh installation.
//!
//! The platform operator (and, for their own customers, a reseller)
//! creates customer tenants, each with the four built-in roles and a first
//! administrator. A tenant is visible only to itself and to the tenants
//! above it; anything else is reported as missing.

use uuid::Uuid;

use chrono::Utc;
use serde_json::json;

use super::{CreateOptions, CreateUser, CreatedUser, NewPassword, Telephony, Voxport, changed};
use crate::{
    actor::Actor,
    audit::{AuditAction, AuditEvent, TargetType},
    errors::{CreateTenantError, CreateUserError, DeleteTenantError, UpdateTenantError},
    paging::{Page, PageRequest},
    ports::Store,
    role::BuiltinRole,
    tenant::{NewTenant, Tenant, TenantChanges, TenantKind},
    user::{NewUser, User},
    values::{Email, Language, Login, Password, PersonName, Slug, TenantName, Timezone},
};

const PLATFORM_SLUG: &str = "platform";

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
    pub async fn create_tenant(&self, actor: &Actor, req: CreateTenant) -> Result<CreatedTenant, CreateTenantError> {
        let parent_id = req.parent_id.unwrap_or(actor.tenant_id);
        let parent =
            self.store.tenant_visible_to(actor.tenant_id, parent_id).await?.ok_or(CreateTenantError::ParentNotFound)?;
        if !parent.kind.can_have_children() {
            return Err(CreateTenantError::ParentIsCustomer);
        }
        let personal = [
            req.admin_login.as_str(),
            req.admin_email.as_str(),
            req.admin_first_name.as_str(),
            req.admin_last_name.as_str(),
        ];
        let (password, generated) = match &req.admin_password {
            NewPassword::Given(raw) => {
                (Some(self.policy.check(raw, &personal).map_err(CreateTenantError::WeakPassword)?), false)
            }
            NewPassword::Generate => (Some(self.policy.generate()), true),
            NewPassword::None if !req.send_welcome_email => return Err(CreateTenantError::PasswordRequired),
            NewPassword::None => (None, false),
        };
        let password_hash = match &password {
            Some(p) => Some(self.hasher.hash(p).await?),
            None => None,
        };
        let admin = NewUser {
            id: Uuid::now_v7(),
            // The store fills in the new tenant's id and Administrator role.
            tenant_id: Uuid::nil(),
            role_id: Uuid::nil(),
            login: req.admin_login,
            email: Some(req.admin_email),
            first_name: req.admin_first_name,
            last_name: req.admin_last_name,
            password_hash,
            disabled: false,
            activation_at: None,
            expires_at: None,
            timezone: Timezone::UTC,
            language: Language::ENGLISH,
        };
        let welcome = if req.send_welcome_email {
            self.welcome((&admin).into(), req.name.as_str(), password.is_none(), Utc::now())?
        } else {
            None
        };
        let welcome_email = welcome.is_some();
        let tenant = NewTenant { parent_id: parent.id, kind: req.kind, name: req.name, slug: req.slug };
        let audit = AuditEvent::by(actor, AuditAction::TenantCreated, TargetType::Tenant, None).with(json!({
            "slug": tenant.slug.as_str(),
            "kind": tenant.kind.as_str(),
            "admin_id": admin.id,
            "welcome_email": welcome_email,
        }));
        let (tenant, admin) = self.store.create_tenant(tenant, admin, welcome, &audit).await?;
        if welcome_email {
            self.outbox.notify_one();
        }
        tracing::info!(actor = %actor.user_id, tenant = %tenant.id, "created tenant");
        Ok(CreatedTenant {
            tenant,
            admin: CreatedUser { user: admin, generated_password: password.filter(|_| generated), welcome_email },
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
    ) -> Result<Tenant, UpdateTenantError> {
        if id == actor.tenant_id || self.store.tenant_visible_to(actor.tenant_id, id).await?.is_none() {
            return Err(UpdateTenantError::NotFound);
        }
        let audit = AuditEvent::by(actor, AuditAction::TenantUpdated, TargetType::Tenant, Some(id)).with(json!({
            "fields": changed(&[
                ("name", changes.name.is_some()),
                ("slug", changes.slug.is_some()),
                ("extension_digits", changes.extension_digits.is_some()),
                ("own_phone_numbers", changes.own_phone_numbers.is_some()),
            ]),
        }));
        let tenant = self.store.update_tenant(id, changes, &audit).await?;
        tracing::info!(actor = %actor.user_id, tenant = %id, "changed tenant");
        Ok(tenant)
    }

    /// # Errors
    /// See [`DeleteTenantError`].
    pub async fn delete_tenant(&self, actor: &Actor, id: Uuid) -> Result<(), DeleteTenantError> {
        if id == actor.tenant_id {
            return Err(DeleteTenantError::OwnTenant);
        }
        if self.store.tenant_visible_to(actor.tenant_id, id).await?.is_none() {
            return Err(DeleteTenantError::NotFound);
        }
        let audit = AuditEvent::by(actor, AuditAction::TenantDeleted, TargetType::Tenant, Some(id));
        self.store.delete_tenant(id, &audit).await?;
        tracing::info!(actor = %actor.user_id, tenant = %id, "deleted tenant");
        Ok(())
    }

    /// On an empty database, creates the platform tenant and its operator
    /// `login`, with `password` or a generated one. Several processes may
    /// start at once: exactly one creates, the others answer `None`.
    ///
    /// # Errors
    /// When `password` does not meet the policy, or storage fails.
    pub async fn bootstrap(&self, login: Login, password: Option<&str>) -> anyhow::Result<Option<Bootstrapped>> {
        if self.store.platform_tenant().await?.is_some() {
            return Ok(None);
        }
        let (password, generated) = match password {
            Some(raw) => {
                let p = self
                    .policy
                    .check(raw, &[login.as_str()])
                    .map_err(|e| anyhow::anyhow!("VOXPORT_ADMIN_PASSWORD {e}"))?;
                (p, false)
            }
            None => (self.policy.generate(), true),
        };
        let admin = NewUser {
            id: Uuid::now_v7(),
            tenant_id: Uuid::nil(),
            role_id: Uuid::nil(),
            login,
            email: None,
            first_name: PersonName::parse("Platform").map_err(anyhow::Error::msg)?,
            last_name: PersonName::parse("Operator").map_err(anyhow::Error::msg)?,
            password_hash: Some(self.hasher.hash(&password).await?),
            disabled: false,
            activation_at: None,
            expires_at: None,
            timezone: Timezone::UTC,
            language: Language::ENGLISH,
        };
        let slug = Slug::parse(PLATFORM_SLUG).map_err(anyhow::Error::msg)?;
        let created = self.store.bootstrap_platform(slug, admin).await?;
        Ok(created.map(|admin| Bootstrapped { admin, generated_password: generated.then_some(password) }))
    }

    /// Creates another platform operator (an Administrator of the platform
    /// tenant), for `voxport admin create`.
    ///
    /// # Errors
    /// `LoginTaken`, `WeakPassword`, or when the installation was never
    /// bootstrapped.
    pub async fn create_operator(&self, login: Login, password: NewPassword) -> Result<CreatedUser, CreateUserError> {
        let platform = self.store.platform_tenant().await?.ok_or_else(|| anyhow::anyhow!("no platform tenant yet"))?;
        let role = self
            .store
            .builtin_role(platform.id, BuiltinRole::Administrator)
            .await?
            .ok_or_else(|| anyhow::anyhow!("the platform tenant has no Administrator role"))?;
        let system = Actor {
            user_id: Uuid::nil(),
            tenant_id: platform.id,
            home_tenant_id: platform.id,
            session_id: Uuid::nil(),
            permissions: role.permissions.clone(),
            ip: None,
        };
        let request = CreateUser {
            login,
            email: None,
            first_name: PersonName::parse("Platform").map_err(anyhow::Error::msg)?,
            last_name: PersonName::parse("Operator").map_err(anyhow::Error::msg)?,
            role_id: Some(role.id),
            password,
            disabled: false,
            activation_at: None,
            expires_at: None,
            timezone: Timezone::UTC,
            language: Language::ENGLISH,
            telephony: Telephony::default(),
            send_welcome_email: false,
        };
        self.create_user(&system, request, CreateOptions::default()).await
    }
}
