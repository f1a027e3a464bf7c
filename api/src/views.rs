//! What the API answers: the wire shapes of users, roles and tenants.
//! Field names are part of the contract (PRODUCT.md "Request and response
//! shapes"); keep them.

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use crate::schema::{ApplicationName, AuditActionCode, AuditTargetType};
use uuid::Uuid;
use voxport_domain::{
    audit::AuditEvent,
    device::{Device, Holder},
    email::OutboxEmail,
    extension::{Extension, ExtensionType, SipCredentials},
    paging::Page,
    phone_number::PhoneNumber,
    role::Role,
    station::Station,
    tenant::Tenant,
    user::{User, UserStatus},
};

#[derive(Debug, Clone, Copy, Serialize, serde::Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Pending,
    Active,
    Expired,
    Disabled,
}

impl From<UserStatus> for Status {
    fn from(s: UserStatus) -> Self {
        match s {
            UserStatus::Pending => Self::Pending,
            UserStatus::Active => Self::Active,
            UserStatus::Expired => Self::Expired,
            UserStatus::Disabled => Self::Disabled,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RoleRef {
    pub id: Uuid,
    #[schema(example = "User")]
    pub name: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct StationRef {
    pub id: Uuid,
    #[schema(example = "Standard")]
    pub name: String,
}

/// A station licence pool.
#[derive(Debug, Serialize, ToSchema)]
pub struct StationView {
    pub id: Uuid,
    /// The tenant whose users take licences from the pool.
    pub tenant_id: Uuid,
    #[schema(example = "Standard")]
    pub name: String,
    #[schema(example = "standard")]
    pub code: String,
    /// What a licence unlocks for its user.
    #[schema(value_type = Vec<ApplicationName>)]
    pub applications: Vec<&'static str>,
    /// Licences bought.
    #[schema(example = 10)]
    pub quantity: u32,
    /// Licences given to users.
    #[schema(example = 7)]
    pub in_use: u32,
    /// `quantity - in_use`.
    #[schema(example = 3)]
    pub available: u32,
}

impl From<&Station> for StationView {
    fn from(s: &Station) -> Self {
        Self {
            id: s.id,
            tenant_id: s.tenant_id,
            name: s.name.as_str().to_owned(),
            code: s.code.as_str().to_owned(),
            applications: s.applications.iter().map(|a| a.as_str()).collect(),
            quantity: s.quantity,
            in_use: s.in_use,
            available: s.available(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DeviceRefView {
    pub id: Uuid,
    #[schema(example = "80:5e:c0:12:34:56")]
    pub mac: String,
    #[schema(example = "T54W")]
    pub model: String,
    /// The line ports the user has on it.
    #[schema(example = 1)]
    pub ports: u8,
}

/// Who a device, extension or phone number serves.
#[derive(Debug, Serialize, ToSchema)]
pub struct HolderView {
    pub id: Uuid,
    #[schema(example = "jsmith@example.com")]
    pub login: String,
}

impl From<&Holder> for HolderView {
    fn from(h: &Holder) -> Self {
        Self { id: h.user_id, login: h.login.clone() }
    }
}

/// How an extension rings: `sip` (softphone or desk phone) or `web`
/// (the browser only).
#[derive(Debug, Clone, Copy, Serialize, serde::Deserialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ExtensionTypeView {
    Sip,
    Web,
}

impl From<ExtensionType> for ExtensionTypeView {
    fn from(t: ExtensionType) -> Self {
        match t {
            ExtensionType::Sip => Self::Sip,
            ExtensionType::Web => Self::Web,
        }
    }
}

impl From<ExtensionTypeView> for ExtensionType {
    fn from(t: ExtensionTypeView) -> Self {
        match t {
            ExtensionTypeView::Sip => Self::Sip,
            ExtensionTypeView::Web => Self::Web,
        }
    }
}

/// An extension as a user view shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ExtensionRefView {
    pub id: Uuid,
    #[schema(example = "204")]
    pub number: String,
    #[serde(rename = "type")]
    pub kind: ExtensionTypeView,
    /// Calls ring only while the user is signed in to the portal.
    pub force_login: bool,
}

/// An extension.
#[derive(Debug, Serialize, ToSchema)]
pub struct ExtensionView {
    pub id: Uuid,
    #[schema(example = "204")]
    pub number: String,
    /// The display name, also the caller id name.
    #[schema(example = "Front desk")]
    pub name: Option<String>,
    #[serde(rename = "type")]
    pub kind: ExtensionTypeView,
    /// Calls ring only while the holder is signed in to the portal.
    pub force_login: bool,
    pub voicemail_enabled: bool,
    /// The SIP username; the secret is at `/v1/extensions/{id}/sip-credentials`.
    #[schema(example = "vxk3m9x4q2ab7c")]
    pub sip_username: String,
    /// The user the extension rings, or null.
    pub user: Option<HolderView>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<&Extension> for ExtensionView {
    fn from(e: &Extension) -> Self {
        Self {
            id: e.id,
            number: e.number.as_str().to_owned(),
            name: e.name.as_ref().map(|n| n.as_str().to_owned()),
            kind: e.kind.into(),
            force_login: e.force_login,
            voicemail_enabled: e.voicemail_enabled,
            sip_username: e.sip_username.clone(),
            user: e.holder.as_ref().map(HolderView::from),
            created_at: e.created_at,
            updated_at: e.updated_at,
        }
    }
}

/// What a softphone or desk phone needs to register an extension.
#[derive(Serialize, ToSchema)]
pub struct SipCredentialsView {
    /// The extension's id.
    pub extension_id: Uuid,
    /// The extension's number.
    #[schema(example = "204")]
    pub extension: String,
    #[schema(example = "vxk3m9x4q2ab7c")]
    pub username: String,
    #[schema(example = "Hq7ZtVb2mKp9XwR4cNs8Ld3F")]
    pub secret: String,
    /// The registrar: `<tenant slug>.<platform SIP domain>`.
    #[schema(example = "acme.sip.voxport.example")]
    pub domain: String,
}

impl From<SipCredentials> for SipCredentialsView {
    fn from(c: SipCredentials) -> Self {
        Self {
            extension_id: c.extension_id,
            extension: c.number,
            username: c.username,
            secret: c.secret.expose().to_owned(),
            domain: c.domain,
        }
    }
}

/// A phone number as a user view shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct PhoneNumberRefView {
    pub id: Uuid,
    #[schema(example = "+14155550100")]
    pub number: String,
}

/// A phone number (DID).
#[derive(Debug, Serialize, ToSchema)]
pub struct PhoneNumberView {
    pub id: Uuid,
    /// The tenant that owns the number.
    pub tenant_id: Uuid,
    /// E.164.
    #[schema(example = "+14155550100")]
    pub number: String,
    #[schema(example = "Main line")]
    pub label: Option<String>,
    /// The user the number rings, or null when it is available.
    pub user: Option<HolderView>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<&PhoneNumber> for PhoneNumberView {
    fn from(n: &PhoneNumber) -> Self {
        Self {
            id: n.id,
            tenant_id: n.tenant_id,
            number: n.number.as_str().to_owned(),
            label: n.label.as_ref().map(|l| l.as_str().to_owned()),
            user: n.holder.as_ref().map(HolderView::from),
            created_at: n.created_at,
            updated_at: n.updated_at,
        }
    }
}

/// Where an email is on its way out.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum EmailStatusView {
    /// Waiting for its first or next attempt.
    Pending,
    Sent,
    /// Every attempt failed; resend it once the problem is fixed.
    Failed,
}

/// An email written for a user, with its delivery status.
#[derive(Debug, Serialize, ToSchema)]
pub struct EmailView {
    pub id: Uuid,
    /// `welcome` or `password_reset`.
    #[schema(example = "welcome")]
    pub kind: &'static str,
    #[schema(example = "jsmith@example.com")]
    pub to: String,
    #[schema(example = "Welcome to Acme")]
    pub subject: String,
    pub status: EmailStatusView,
    /// Attempts made so far.
    pub attempts: u32,
    /// Why the last attempt failed.
    pub last_error: Option<String>,
    /// When the next attempt is due (pending only).
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
}

impl From<&OutboxEmail> for EmailView {
    fn from(e: &OutboxEmail) -> Self {
        use voxport_domain::email::EmailStatus;
        Self {
            id: e.id,
            kind: e.kind.as_str(),
            to: e.recipient.clone(),
            subject: e.subject.clone(),
            status: match e.status {
                EmailStatus::Pending => EmailStatusView::Pending,
                EmailStatus::Sent => EmailStatusView::Sent,
                EmailStatus::Failed => EmailStatusView::Failed,
            },
            attempts: e.attempts,
            last_error: e.last_error.clone(),
            next_attempt_at: e.next_attempt_at,
            created_at: e.created_at,
            sent_at: e.sent_at,
        }
    }
}

/// A desk phone.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeviceView {
    pub id: Uuid,
    /// Canonical: lower-case, colon-separated.
    #[schema(example = "80:5e:c0:12:34:56")]
    pub mac: String,
    #[schema(example = "Yealink")]
    pub vendor: String,
    #[schema(example = "T54W")]
    pub model: String,
    /// Line ports, 1 to 16.
    #[schema(example = 16)]
    pub ports: u8,
    pub label: Option<String>,
    /// The user the device serves, or null when it is available.
    pub user: Option<HolderView>,
}

impl From<&Device> for DeviceView {
    fn from(d: &Device) -> Self {
        Self {
            id: d.id,
            mac: d.mac.as_str().to_owned(),
            vendor: d.vendor.as_str().to_owned(),
            model: d.model.as_str().to_owned(),
            ports: d.ports,
            label: d.label.as_ref().map(|l| l.as_str().to_owned()),
            user: d.holder.as_ref().map(HolderView::from),
        }
    }
}

/// Where a user stands with the second factor.
#[derive(Debug, Serialize, ToSchema)]
pub struct TwoFactorView {
    /// Sign-in needs a code from an authenticator app.
    pub enabled: bool,
    /// An administrator requires it, for the user or their role.
    pub required: bool,
}

/// A portal user as `GET /v1/users/{id}` shows them.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserView {
    pub id: Uuid,
    #[schema(example = "jsmith@example.com")]
    pub login: String,
    #[schema(example = "jsmith@example.com")]
    pub email: Option<String>,
    #[schema(example = "John")]
    pub first_name: String,
    #[schema(example = "Smith")]
    pub last_name: String,
    pub role: RoleRef,
    /// The station licence the user holds.
    pub station: Option<StationRef>,
    /// The desk phone the user holds.
    pub device: Option<DeviceRefView>,
    /// The extensions that ring the user, by number.
    pub extensions: Vec<ExtensionRefView>,
    /// The phone number (DID) that rings the user.
    pub phone_number: Option<PhoneNumberRefView>,
    /// The applications enabled for the user; always among those their
    /// station unlocks.
    #[schema(value_type = Vec<ApplicationName>)]
    pub applications: Vec<&'static str>,
    pub two_factor: TwoFactorView,
    /// Derived: `pending` before `activation_at`, `expired` from
    /// `expires_at`, `disabled` when switched off, else `active`.
    pub status: Status,
    pub disabled: bool,
    pub activation_at: Option<DateTime<Utc>>,
    pub expires_at: Option<DateTime<Utc>>,
    #[schema(example = "Europe/Berlin")]
    pub timezone: String,
    #[schema(example = "en")]
    pub language: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl UserView {
    pub fn new(u: &User, now: DateTime<Utc>) -> Self {
        Self {
            id: u.id,
            login: u.login.as_str().to_owned(),
            email: u.email.as_ref().map(|e| e.as_str().to_owned()),
            first_name: u.first_name.as_str().to_owned(),
            last_name: u.last_name.as_str().to_owned(),
            role: RoleRef { id: u.role.id, name: u.role.name.as_str().to_owned() },
            station: u.station.as_ref().map(|s| StationRef { id: s.id, name: s.name.clone() }),
            device: u.device.as_ref().map(|d| DeviceRefView {
                id: d.id,
                mac: d.mac.clone(),
                model: d.model.clone(),
                ports: d.ports,
            }),
            extensions: u
                .extensions
                .iter()
                .map(|e| ExtensionRefView {
                    id: e.id,
                    number: e.number.clone(),
                    kind: e.kind.into(),
                    force_login: e.force_login,
                })
                .collect(),
            phone_number: u.phone_number.as_ref().map(|n| PhoneNumberRefView { id: n.id, number: n.number.clone() }),
            applications: u.applications.iter().map(|a| a.as_str()).collect(),
            two_factor: TwoFactorView { enabled: u.two_factor.enabled, required: u.two_factor.required },
            status: u.status(now).into(),
            disabled: u.disabled,
            activation_at: u.activation_at,
            expires_at: u.expires_at,
            timezone: u.timezone.as_str().to_owned(),
            language: u.language.as_str().to_owned(),
            created_at: u.created_at,
            updated_at: u.updated_at,
        }
    }
}

/// A user just created: the user, plus the generated password, shown
/// this once.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedUserView {
    #[serde(flatten)]
    pub user: UserView,
    /// Present only when `generate_password` was set. It is not stored
    /// and cannot be shown again.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(example = "k7Qm2vX9pLr4TzW8nHc3")]
    pub password: Option<String>,
    /// Whether a welcome email was written to the outbox.
    pub welcome_email: bool,
}

/// What a dry run of `POST /v1/users` found: the user as they would be.
/// Nothing was written; the ids are not kept.
#[derive(Debug, Serialize, ToSchema)]
pub struct DryRunView {
    /// Always true.
    pub dry_run: bool,
    pub user: UserView,
    /// Whether a welcome email would be written.
    pub welcome_email: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RoleView {
    pub id: Uuid,
    #[schema(example = "Receptionist")]
    pub name: String,
    pub description: Option<String>,
    #[schema(example = json!(["users:read", "call_records:read_own"]))]
    pub permissions: Vec<String>,
    /// Built-in roles (Administrator, User, Call Center Admin,
    /// Transactions only) cannot be changed or deleted.
    pub builtin: bool,
    /// Every holder must sign in with a second factor.
    pub two_factor_required: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<&Role> for RoleView {
    fn from(r: &Role) -> Self {
        Self {
            id: r.id,
            name: r.name.as_str().to_owned(),
            description: r.description.clone(),
            permissions: r.permissions.iter().map(|p| p.code().to_owned()).collect(),
            builtin: r.builtin.is_some(),
            two_factor_required: r.two_factor_required,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

#[derive(Debug, Clone, Copy, Serialize, serde::Deserialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum TenantKindView {
    Platform,
    Reseller,
    Customer,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TenantView {
    pub id: Uuid,
    pub parent_id: Option<Uuid>,
    pub kind: TenantKindView,
    #[schema(example = "Acme Corporation")]
    pub name: String,
    #[schema(example = "acme")]
    pub slug: String,
    /// How many digits new extension numbers have.
    pub extension_digits: ExtensionDigitsView,
    /// Whether the tenant's own administrators may add phone numbers.
    pub own_phone_numbers: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A tenant's dial plan.
#[derive(Debug, Serialize, ToSchema)]
pub struct ExtensionDigitsView {
    #[schema(minimum = 1, maximum = 15, example = 2)]
    pub min: u8,
    #[schema(minimum = 1, maximum = 15, example = 6)]
    pub max: u8,
}

impl From<&Tenant> for TenantView {
    fn from(t: &Tenant) -> Self {
        use voxport_domain::tenant::TenantKind;
        Self {
            id: t.id,
            parent_id: t.parent_id,
            kind: match t.kind {
                TenantKind::Platform => TenantKindView::Platform,
                TenantKind::Reseller => TenantKindView::Reseller,
                TenantKind::Customer => TenantKindView::Customer,
            },
            name: t.name.as_str().to_owned(),
            slug: t.slug.as_str().to_owned(),
            extension_digits: ExtensionDigitsView { min: t.extension_digits.min(), max: t.extension_digits.max() },
            own_phone_numbers: t.own_phone_numbers,
            created_at: t.created_at,
            updated_at: t.updated_at,
        }
    }
}

/// A tenant just created, with its first administrator.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedTenantView {
    #[serde(flatten)]
    pub tenant: TenantView,
    pub admin: CreatedUserView,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PermissionView {
    #[schema(example = "users:write")]
    pub code: String,
    pub description: String,
}

macro_rules! page_of {
    ($name:ident, $item:ty) => {
        /// One page of a list.
        #[derive(Debug, Serialize, ToSchema)]
        pub struct $name {
            pub items: Vec<$item>,
            /// How many items match, over all pages.
            pub total: u64,
            pub page: u64,
            pub per_page: u64,
        }

        impl $name {
            pub fn new<T>(page: Page<T>, view: impl FnMut(&T) -> $item) -> Self {
                Self {
                    items: page.items.iter().map(view).collect(),
                    total: page.total,
                    page: page.page,
                    per_page: page.per_page,
                }
            }
        }
    };
}

page_of!(UserPage, UserView);
page_of!(RolePage, RoleView);
page_of!(TenantPage, TenantView);
page_of!(PermissionPage, PermissionView);
page_of!(StationPage, StationView);
page_of!(DevicePage, DeviceView);
page_of!(ExtensionPage, ExtensionView);
page_of!(PhoneNumberPage, PhoneNumberView);
page_of!(EmailPage, EmailView);

/// Who did something.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditActorView {
    pub user_id: Uuid,
    /// The actor's own tenant.
    pub tenant_id: Option<Uuid>,
}

/// What an event is about.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditTargetView {
    #[serde(rename = "type")]
    #[schema(value_type = AuditTargetType)]
    pub kind: &'static str,
    pub id: Option<Uuid>,
}

/// One entry of the audit log.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditEventView {
    pub id: Uuid,
    pub occurred_at: DateTime<Utc>,
    /// The tenant it happened in; null for a sign-in with an unknown login.
    pub tenant_id: Option<Uuid>,
    /// Null for an anonymous caller or the system.
    pub actor: Option<AuditActorView>,
    /// The customer tenant a parent's support agent acted in.
    pub on_behalf_of: Option<Uuid>,
    #[schema(value_type = AuditActionCode)]
    pub action: &'static str,
    pub target: Option<AuditTargetView>,
    /// The client address.
    #[schema(example = "203.0.113.9")]
    pub ip: Option<String>,
    /// What changed or why; never a secret.
    #[schema(value_type = Object)]
    pub details: serde_json::Value,
}

impl From<&AuditEvent> for AuditEventView {
    fn from(e: &AuditEvent) -> Self {
        Self {
            id: e.id,
            occurred_at: e.occurred_at,
            tenant_id: e.tenant_id,
            actor: e.actor_user_id.map(|user_id| AuditActorView { user_id, tenant_id: e.actor_tenant_id }),
            on_behalf_of: e.on_behalf_of,
            action: e.action.code(),
            target: e.target_type.map(|t| AuditTargetView { kind: t.as_str(), id: e.target_id }),
            ip: e.ip.map(|ip| ip.to_string()),
            details: e.details.clone(),
        }
    }
}

page_of!(AuditEventPage, AuditEventView);
