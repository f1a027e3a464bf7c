//! Rows to domain types. Stored values were parsed on the way in; parsing
//! them again on the way out keeps the domain's guarantees even for rows
//! edited by hand, and turns a corrupt row into an error, not a panic.

use anyhow::{Context as _, anyhow};
use voxport_domain::{
    auth::{Client, Session},
    device::DeviceRef,
    extension::{ExtensionDigits, ExtensionRef},
    permission::PermissionSet,
    phone_number::PhoneNumberRef,
    role::{BuiltinRole, Role},
    station::{Application, StationRef},
    tenant::{Tenant, TenantKind},
    user::{Directory, Principal, TwoFactorStatus, User},
    values::{Cidr, Email, Label, Language, Login, PersonName, Slug, TenantName, Timezone},
};

use crate::entities::{roles, sessions, tenants, users};

pub(crate) fn tenant(m: tenants::Model) -> anyhow::Result<Tenant> {
    Ok(Tenant {
        id: m.id,
        parent_id: m.parent_id,
        kind: TenantKind::parse(&m.kind).ok_or_else(|| anyhow!("tenant {} has kind {:?}", m.id, m.kind))?,
        name: TenantName::parse(&m.name).with_context(|| format!("tenant {} name", m.id))?,
        slug: Slug::parse(&m.slug).with_context(|| format!("tenant {} slug", m.id))?,
        extension_digits: ExtensionDigits::new(
            u32::try_from(m.extension_min_digits).unwrap_or(0),
            u32::try_from(m.extension_max_digits).unwrap_or(0),
        )
        .with_context(|| format!("tenant {} extension digits", m.id))?,
        own_phone_numbers: m.own_phone_numbers,
        created_at: m.created_at,
        updated_at: m.updated_at,
    })
}

pub(crate) fn role(m: roles::Model) -> anyhow::Result<Role> {
    let builtin = match &m.builtin {
        Some(key) => Some(BuiltinRole::parse_key(key).ok_or_else(|| anyhow!("role {} is builtin {key:?}", m.id))?),
        None => None,
    };
    Ok(Role {
        id: m.id,
        tenant_id: m.tenant_id,
        name: Label::parse(&m.name).with_context(|| format!("role {} name", m.id))?,
        description: m.description,
        permissions: PermissionSet::from_codes(&m.permissions),
        builtin,
        two_factor_required: m.two_factor_required,
        created_at: m.created_at,
        updated_at: m.updated_at,
    })
}

/// What a user holds besides their own row, loaded in batches.
#[derive(Debug, Default)]
pub(crate) struct Holdings {
    pub station: Option<StationRef>,
    pub device: Option<DeviceRef>,
    pub extensions: Vec<ExtensionRef>,
    pub phone_number: Option<PhoneNumberRef>,
    /// Whether the user's second factor is confirmed.
    pub two_factor_enabled: bool,
    pub allowed_networks: Vec<Cidr>,
}

pub(crate) fn principal(m: users::Model, r: Option<roles::Model>, networks: Vec<Cidr>) -> anyhow::Result<Principal> {
    let r = r.ok_or_else(|| anyhow!("user {} has no role {}", m.id, m.role_id))?;
    Ok(Principal {
        id: m.id,
        tenant_id: m.tenant_id,
        role: role(r)?,
        disabled: m.disabled,
        activation_at: m.activation_at,
        expires_at: m.expires_at,
        allowed_networks: networks,
    })
}

pub(crate) fn user(m: users::Model, r: Option<roles::Model>, holdings: Holdings) -> anyhow::Result<User> {
    let r = r.ok_or_else(|| anyhow!("user {} has no role {}", m.id, m.role_id))?;
    let two_factor = TwoFactorStatus {
        enabled: holdings.two_factor_enabled,
        required: m.two_factor_required || r.two_factor_required,
    };
    let ctx = |field: &'static str| format!("user {} {field}", m.id);
    Ok(User {
        id: m.id,
        tenant_id: m.tenant_id,
        login: Login::parse(&m.login).with_context(|| ctx("login"))?,
        email: m.email.as_deref().map(Email::parse).transpose().with_context(|| ctx("email"))?,
        first_name: PersonName::parse(&m.first_name).with_context(|| ctx("first_name"))?,
        last_name: PersonName::parse(&m.last_name).with_context(|| ctx("last_name"))?,
        role: role(r)?,
        station: holdings.station,
        device: holdings.device,
        extensions: holdings.extensions,
        phone_number: holdings.phone_number,
        applications: Application::from_codes(&m.applications),
        two_factor,
        allowed_networks: holdings.allowed_networks,
        disabled: m.disabled,
        activation_at: m.activation_at,
        expires_at: m.expires_at,
        timezone: Timezone::parse(&m.timezone).with_context(|| ctx("timezone"))?,
        language: Language::parse(&m.language).with_context(|| ctx("language"))?,
        directory: Directory {
            external_id: m.external_id,
            deprovisioned_at: m.deprovisioned_at,
            held_station_id: m.held_station_id,
            ..match m.directory.as_deref() {
                Some(json) => serde_json::from_str(json).with_context(|| ctx("directory"))?,
                None => Directory::default(),
            }
        },
        created_at: m.created_at,
        updated_at: m.updated_at,
    })
}

pub(crate) fn session(m: sessions::Model) -> anyhow::Result<Session> {
    Ok(Session {
        id: m.id,
        user_id: m.user_id,
        tenant_id: m.tenant_id,
        client: Client::parse(&m.client).ok_or_else(|| anyhow!("session {} has client {:?}", m.id, m.client))?,
        created_at: m.created_at,
        expires_at: m.expires_at,
        revoked_at: m.revoked_at,
        acting_tenant_id: m.acting_tenant_id,
    })
}
