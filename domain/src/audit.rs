//! The audit log (SECURITY.md "Audit"): who did what to which object, when,
//! from which address, and on whose behalf (a parent's support agent acting
//! in a customer tenant, PRODUCT.md rule 11). Every event is written in the
//! transaction of the change it records, so the log never claims a change
//! that rolled back nor misses one that committed. It is append-only.
//!
//! Details name what changed (field names, counts, reasons), never a
//! value that is a secret: no password, token, TOTP secret, recovery code
//! or SIP secret reaches an event.

use std::net::IpAddr;

use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::actor::Actor;

macro_rules! actions {
    ($($variant:ident => $code:literal,)*) => {
        /// What happened. The wire form is `object.verb`.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum AuditAction {
            $($variant,)*
        }

        impl AuditAction {
            pub const ALL: &'static [AuditAction] = &[$(AuditAction::$variant,)*];

            #[must_use]
            pub fn code(self) -> &'static str {
                match self {
                    $(AuditAction::$variant => $code,)*
                }
            }

            #[must_use]
            pub fn parse(code: &str) -> Option<Self> {
                Self::ALL.iter().copied().find(|a| a.code() == code)
            }
        }
    };
}

actions! {
    SignInSucceeded => "sign_in.succeeded",
    SignInFailed => "sign_in.failed",
    SignInRefused => "sign_in.refused",
    AccountLocked => "account.locked",
    AccountUnlocked => "account.unlocked",
    RefreshTokenReused => "refresh_token.reused",
    SignedOut => "session.ended",
    SupportAccessStarted => "support_access.started",
    PasswordChanged => "password.changed",
    PasswordSetWithLink => "password.set_with_link",
    PasswordResetRequested => "password.reset_requested",
    TwoFactorEnrolmentStarted => "two_factor.enrolment_started",
    TwoFactorEnabled => "two_factor.enabled",
    TwoFactorDisabled => "two_factor.disabled",
    TwoFactorReset => "two_factor.reset",
    RecoveryCodeUsed => "two_factor.recovery_code_used",
    AllowlistChanged => "allowlist.changed",
    UserCreated => "user.created",
    UserUpdated => "user.updated",
    UserDeleted => "user.deleted",
    UsersImported => "users.imported",
    WelcomeEmailQueued => "user.welcome_email_queued",
    RoleCreated => "role.created",
    RoleUpdated => "role.updated",
    RoleDeleted => "role.deleted",
    TenantCreated => "tenant.created",
    TenantUpdated => "tenant.updated",
    TenantDeleted => "tenant.deleted",
    StationCreated => "station.created",
    StationUpdated => "station.updated",
    StationDeleted => "station.deleted",
    StationAssigned => "station.assigned",
    StationReleased => "station.released",
    DeviceCreated => "device.created",
    DeviceUpdated => "device.updated",
    DeviceDeleted => "device.deleted",
    DeviceAssigned => "device.assigned",
    DeviceReleased => "device.released",
    DeviceClaimed => "device.claimed",
    DeviceMoved => "device.moved",
    DeviceProvisioningIssued => "device.provisioning_credentials_issued",
    DeviceProvisioned => "device.provisioned",
    DeviceProvisioningFailed => "device.provisioning_failed",
    ExtensionCreated => "extension.created",
    ExtensionUpdated => "extension.updated",
    ExtensionDeleted => "extension.deleted",
    ExtensionAssigned => "extension.assigned",
    ExtensionReleased => "extension.released",
    SipSecretRead => "extension.sip_secret_read",
    SipSecretRotated => "extension.sip_secret_rotated",
    PhoneNumberCreated => "phone_number.created",
    PhoneNumberUpdated => "phone_number.updated",
    PhoneNumberDeleted => "phone_number.deleted",
    PhoneNumberAssigned => "phone_number.assigned",
    PhoneNumberReleased => "phone_number.released",
    PhoneNumberClaimed => "phone_number.claimed",
    PhoneNumberMoved => "phone_number.moved",
    ApiClientCreated => "api_client.created",
    ApiClientUpdated => "api_client.updated",
    ApiClientDeleted => "api_client.deleted",
    ApiClientSecretRotated => "api_client.secret_rotated",
    ScimTokenCreated => "scim_token.created",
    ScimTokenDeleted => "scim_token.deleted",
    DeprovisionSettingsChanged => "scim.deprovisioning_changed",
    HoldEnded => "user.hold_ended",
    WebhookCreated => "webhook.created",
    WebhookUpdated => "webhook.updated",
    WebhookDeleted => "webhook.deleted",
    WebhookDisabledForFailing => "webhook.disabled_for_failing",
    WebhookDeliveryRetried => "webhook.delivery_retried",
}

/// The kind of object an event is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TargetType {
    User,
    Role,
    Tenant,
    Station,
    Device,
    Extension,
    PhoneNumber,
    Session,
    ApiClient,
    Webhook,
    ScimToken,
}

impl TargetType {
    pub const ALL: [TargetType; 11] = [
        Self::User,
        Self::Role,
        Self::Tenant,
        Self::Station,
        Self::Device,
        Self::Extension,
        Self::PhoneNumber,
        Self::Session,
        Self::ApiClient,
        Self::Webhook,
        Self::ScimToken,
    ];

    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::User => "user",
            Self::Role => "role",
            Self::Tenant => "tenant",
            Self::Station => "station",
            Self::Device => "device",
            Self::Extension => "extension",
            Self::PhoneNumber => "phone_number",
            Self::Session => "session",
            Self::ApiClient => "api_client",
            Self::Webhook => "webhook",
            Self::ScimToken => "scim_token",
        }
    }

    #[must_use]
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == s)
    }
}

/// One event, as written and as read.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditEvent {
    pub id: Uuid,
    pub occurred_at: DateTime<Utc>,
    /// The tenant it happened in; `None` for a sign-in with an unknown login.
    pub tenant_id: Option<Uuid>,
    /// Who did it; `None` for an anonymous caller, an API client or the system.
    pub actor_user_id: Option<Uuid>,
    /// The API client or SCIM token that did it.
    pub actor_client_id: Option<Uuid>,
    /// The actor's own tenant.
    pub actor_tenant_id: Option<Uuid>,
    /// The tenant a parent's support agent acted in on the customer's behalf.
    pub on_behalf_of: Option<Uuid>,
    pub action: AuditAction,
    pub target_type: Option<TargetType>,
    /// The object; storage fills it in for objects it creates.
    pub target_id: Option<Uuid>,
    pub ip: Option<IpAddr>,
    /// The request that caused it (its `X-Request-Id`), if any.
    pub request_id: Option<Uuid>,
    /// What changed or why; never a secret.
    pub details: Value,
}

impl AuditEvent {
    /// An event by `actor` about an object of `target_type`, at `now`.
    #[must_use]
    pub fn by(
        actor: &Actor,
        action: AuditAction,
        target_type: TargetType,
        target_id: Option<Uuid>,
        now: DateTime<Utc>,
    ) -> Self {
        Self {
            id: Uuid::now_v7(),
            occurred_at: now,
            tenant_id: Some(actor.tenant_id),
            actor_user_id: actor.person(),
            actor_client_id: actor.client_id,
            actor_tenant_id: Some(actor.home_tenant_id),
            on_behalf_of: (actor.home_tenant_id != actor.tenant_id).then_some(actor.tenant_id),
            action,
            target_type: Some(target_type),
            target_id,
            ip: actor.ip,
            request_id: crate::request::current(),
            details: json!({}),
        }
    }

    /// An event of an anonymous caller (a sign-in, a reset request) about
    /// `user` of `tenant`, if known.
    #[must_use]
    pub fn anonymous(
        action: AuditAction,
        tenant: Option<Uuid>,
        user: Option<Uuid>,
        ip: Option<IpAddr>,
        now: DateTime<Utc>,
    ) -> Self {
        Self {
            id: Uuid::now_v7(),
            occurred_at: now,
            tenant_id: tenant,
            actor_user_id: None,
            actor_client_id: None,
            actor_tenant_id: None,
            on_behalf_of: None,
            action,
            target_type: user.map(|_| TargetType::User),
            target_id: user,
            ip,
            request_id: crate::request::current(),
            details: json!({}),
        }
    }

    /// An event of `user` acting on themself (signing in, changing their
    /// password, enrolling a second factor).
    #[must_use]
    pub fn own(action: AuditAction, tenant: Uuid, user: Uuid, ip: Option<IpAddr>, now: DateTime<Utc>) -> Self {
        Self {
            actor_user_id: Some(user),
            actor_tenant_id: Some(tenant),
            ..Self::anonymous(action, Some(tenant), Some(user), ip, now)
        }
    }

    /// An event of `actor` changing their own account. It belongs to
    /// their home tenant even while they act inside a customer as a support
    /// agent: the customer's log is not told about the agent's account,
    /// nor sees the agent's address (issue 11, finding 7).
    #[must_use]
    pub fn of_own_account(actor: &Actor, action: AuditAction, now: DateTime<Utc>) -> Self {
        Self::own(action, actor.home_tenant_id, actor.user_id, actor.ip, now)
    }

    #[must_use]
    pub fn with(mut self, details: Value) -> Self {
        self.details = details;
        self
    }
}

/// Which events a list shows.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub actor_user_id: Option<Uuid>,
    pub action: Option<AuditAction>,
    pub target_type: Option<TargetType>,
    pub target_id: Option<Uuid>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
}

/// What moves an object's version (its `ETag`, issue 9): every change
/// recorded about it, but not what only reads or uses it.
impl AuditAction {
    #[must_use]
    pub fn changes_target(self) -> bool {
        !matches!(
            self,
            Self::SignInSucceeded
                | Self::SignInFailed
                | Self::SignInRefused
                | Self::RefreshTokenReused
                | Self::SignedOut
                | Self::SupportAccessStarted
                | Self::PasswordResetRequested
                | Self::SipSecretRead
                | Self::DeviceProvisioned
                | Self::DeviceProvisioningFailed
                | Self::WebhookDeliveryRetried
                // The tenant is where it happened; each user has an event.
                | Self::UsersImported
        )
    }
}

impl TargetType {
    /// Whether objects of this type carry a version (an `ETag`): all but
    /// sessions, which nobody edits.
    #[must_use]
    pub fn is_versioned(self) -> bool {
        !matches!(self, Self::Session)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_are_unique() {
        let mut seen = std::collections::HashSet::new();
        for a in AuditAction::ALL {
            assert!(seen.insert(a.code()), "{}", a.code());
            assert_eq!(AuditAction::parse(a.code()), Some(*a));
        }
        for t in TargetType::ALL {
            assert_eq!(TargetType::parse(t.as_str()), Some(t));
        }
    }
}
