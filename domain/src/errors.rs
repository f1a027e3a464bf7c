//! One error enum per operation (STYLE.md 3). The edge (`api/`) matches
//! every variant without a wildcard, so adding one forces a decision about
//! its HTTP answer. [`Unavailable`] marks the failures every operation
//! shares: storage out of reach.

use crate::{
    device::Holder, permission::Permission, station::Application, user::ExpiresBeforeActivation,
    values::InvalidPassword,
};

/// Storage could not be reached (connection refused, pool exhausted,
/// database restarting). Adapters wrap such failures in this type inside
/// the `anyhow::Error` of an `Unknown` variant, so the edge can answer 503
/// instead of 500 without knowing which database is behind the port.
#[derive(Debug, Clone, Copy, thiserror::Error)]
#[error("storage is unavailable")]
pub struct Unavailable;

/// Whether `err` (or anything in its chain) says storage was unreachable.
/// `Unavailable` usually rides as context, which only a downcast of the
/// `anyhow::Error` itself finds (the chain shows context layers as other
/// types).
#[must_use]
pub fn is_unavailable(err: &anyhow::Error) -> bool {
    err.downcast_ref::<Unavailable>().is_some() || err.chain().any(|cause| cause.is::<Unavailable>())
}

#[derive(Debug, thiserror::Error)]
pub enum CreateUserError {
    #[error("the login is already in use")]
    LoginTaken,
    #[error("no such role in the tenant")]
    RoleNotFound,
    #[error("the role grants permissions the caller does not hold")]
    PermissionNotHeld(Vec<Permission>),
    #[error("the password does not meet the policy: {0}")]
    WeakPassword(InvalidPassword),
    /// Without an email address, or without the welcome email, nothing
    /// would carry the set-password link.
    #[error("a user without a welcome email needs a password")]
    PasswordRequired,
    #[error(transparent)]
    InvalidWindow(#[from] ExpiresBeforeActivation),
    /// Telephony was asked for without a phone number or an extension
    /// (PRODUCT.md rule 4).
    #[error("setting up telephony needs a phone number or an extension")]
    NeedsNumberOrExtension,
    #[error(transparent)]
    Telephony(#[from] TelephonyError),
    #[error(transparent)]
    Unknown(#[from] anyhow::Error),
}

#[derive(Debug, thiserror::Error)]
pub enum UpdateUserError {
    #[error("no such user")]
    NotFound,
    #[error("the login is already in use")]
    LoginTaken,
    #[error("no such role in the tenant")]
    RoleNotFound,
    #[error("the change needs permissions the caller does not hold")]
    PermissionNotHeld(Vec<Permission>),
    #[error("nobody changes their own role")]
    OwnRole,
    #[error("nobody disables or ends their own account")]
    OwnAccess,
    /// One's own password changes at `/v1/me/password`, which asks for the
    /// current one (ASVS 6.2.3).
    #[error("one's own password changes only with the current one")]
    OwnPassword,
    /// Nobody loosens a restriction on their own account (PRODUCT.md rule
    /// 8 in spirit): another administrator must.
    #[error("nobody loosens a restriction on their own account")]
    OwnRestriction,
    #[error("the tenant would be left without an active administrator")]
    LastAdministrator,
    #[error("the password does not meet the policy: {0}")]
    WeakPassword(InvalidPassword),
    #[error(transparent)]
    InvalidWindow(#[from] ExpiresBeforeActivation),
    /// PRODUCT.md rule 9: applications come from the user's station.
    #[error("the user's station does not unlock {0:?}")]
    ApplicationsNotUnlocked(Vec<Application>),
    #[error(transparent)]
    Unknown(#[from] anyhow::Error),
}

/// Changing a user and what they hold at once.
#[derive(Debug, thiserror::Error)]
pub enum ChangeUserError {
    #[error(transparent)]
    User(#[from] UpdateUserError),
    #[error(transparent)]
    Telephony(#[from] TelephonyError),
    /// What the user holds changed between working out the change and
    /// applying it: work it out again.
    #[error("the user changed while the change was applied")]
    Changed,
}

impl From<anyhow::Error> for ChangeUserError {
    fn from(e: anyhow::Error) -> Self {
        Self::User(UpdateUserError::Unknown(e))
    }
}

#[derive(Debug, thiserror::Error)]
pub enum DeleteUserError {
    #[error("no such user")]
    NotFound,
    #[error("nobody deletes their own account")]
    OwnAccount,
    #[error("deleting the user needs permissions the caller does not hold")]
    PermissionNotHeld(Vec<Permission>),
    #[error("the tenant would be left without an active administrator")]
    LastAdministrator,
    #[error(transparent)]
    Unknown(#[from] anyhow::Error),
}

#[derive(Debug, thiserror::Error)]
pub enum CreateRoleError {
    #[error("the tenant already has a role of that name")]
    NameTaken,
    #[error("the role grants permissions the caller does not hold")]
    PermissionNotHeld(Vec<Permission>),
    #[error(transparent)]
    Unknown(#[from] anyhow::Error),
}

#[derive(Debug, thiserror::Error)]
pub enum UpdateRoleError {
    #[error("no such role")]
    NotFound,
    #[error("built-in roles cannot be changed")]
    BuiltIn,
    #[error("the tenant already has a role of that name")]
    NameTaken,
    #[error("the role would grant permissions the caller does not hold")]
    PermissionNotHeld(Vec<Permission>),
    #[error(transparent)]
    Unknown(#[from] anyhow::Error),
}

#[derive(Debug, thiserror::Error)]
pub enum DeleteRoleError {
    #[error("no such role")]
    NotFound,
    #[error("built-in roles cannot be deleted")]
    BuiltIn,
    #[error("users still hold the role")]
    InUse,
    #[error(transparent)]
    Unknown(#[from] anyhow::Error),
}

#[derive(Debug, thiserror::Error)]
pub enum CreateTenantError {
    #[error("another tenant has that slug")]
    SlugTaken,
    #[error("no such parent tenant")]
    ParentNotFound,
    #[error("a customer tenant cannot own tenants")]
    ParentIsCustomer,
    /// The new tenant's administrator would hold these, which the creator
    /// lacks (PRODUCT.md rule 7): choosing that administrator's password
    /// would be a way to them.
    #[error("the new administrator would hold permissions the creator lacks: {0:?}")]
    PermissionNotHeld(Vec<Permission>),
    #[error("the administrator's login is already in use")]
    AdminLoginTaken,
    #[error("the administrator's password does not meet the policy: {0}")]
    WeakPassword(InvalidPassword),
    /// Without the welcome email nothing would carry the set-password link.
    #[error("an administrator without a welcome email needs a password")]
    PasswordRequired,
    #[error(transparent)]
    Unknown(#[from] anyhow::Error),
}

#[derive(Debug, thiserror::Error)]
pub enum UpdateTenantError {
    #[error("no such tenant")]
    NotFound,
    #[error("another tenant has that slug")]
    SlugTaken,
    #[error(transparent)]
    Unknown(#[from] anyhow::Error),
}

#[derive(Debug, thiserror::Error)]
pub enum DeleteTenantError {
    #[error("no such tenant")]
    NotFound,
    #[error("nobody deletes their own tenant")]
    OwnTenant,
    #[error("the tenant still owns other tenants")]
    HasChildren,
    #[error(transparent)]
    Unknown(#[from] anyhow::Error),
}

/// Why a password-reset request is not taken. Neither depends on the
/// login asked for.
#[derive(Debug, thiserror::Error)]
pub enum ResetRequestRefused {
    /// The address asked too often for the window.
    #[error("too many password-reset requests from the address")]
    TooMany { retry_after: u64 },
    /// As many requests as may wait are waiting.
    #[error("too many password-reset requests are waiting")]
    Busy,
    #[error(transparent)]
    Unknown(#[from] anyhow::Error),
}

#[derive(Debug, thiserror::Error)]
pub enum LoginError {
    /// Unknown login, wrong password, no password set, or an account that
    /// is not active: one answer for all (ASVS 5.0 6.3.8).
    #[error("invalid credentials")]
    InvalidCredentials,
    /// The right password, from a client the user may not use (PRODUCT.md
    /// rule 9: the desktop app needs `desktop_app`).
    #[error("the application is not enabled for the user")]
    ApplicationNotEnabled(Application),
    /// Too many failures from the source address (a password spray).
    #[error("too many failed sign-ins from this address")]
    TooManyAttempts { retry_after: u64 },
    /// The right password from outside the user's allowlist.
    #[error("the user may not sign in from this address")]
    IpNotAllowed,
    /// The right password; the user has a second factor and gave no code.
    #[error("a one-time code is required")]
    OtpRequired,
    /// The right password and a wrong, used or throttled code.
    #[error("the one-time code is wrong")]
    OtpInvalid,
    /// The right password; an administrator requires a second factor the
    /// user has not enrolled. The token lets them enrol, nothing else.
    #[error("the user must enrol a second factor")]
    TwoFactorEnrolmentRequired { token: EnrolmentToken },
    #[error(transparent)]
    Unknown(#[from] anyhow::Error),
}

/// A short-lived token that lets a user enrol a second factor, nothing
/// else; for the client's eyes only (its `Debug` hides it).
#[derive(Clone, PartialEq, Eq)]
pub struct EnrolmentToken(pub String);

impl std::fmt::Debug for EnrolmentToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("EnrolmentToken(..)")
    }
}

#[derive(Debug, thiserror::Error)]
pub enum RefreshError {
    /// Unknown, spent, expired or revoked; or its user may no longer sign in.
    #[error("invalid refresh token")]
    InvalidToken,
    #[error("the user may not call from this address")]
    IpNotAllowed,
    #[error(transparent)]
    Unknown(#[from] anyhow::Error),
}

#[derive(Debug, thiserror::Error)]
pub enum AuthenticateError {
    /// Malformed, forged, expired, of the wrong kind, or its session ended.
    #[error("invalid access token")]
    InvalidToken,
    /// A valid token from outside the user's allowlist.
    #[error("the user may not call from this address")]
    IpNotAllowed,
    #[error(transparent)]
    Unknown(#[from] anyhow::Error),
}

#[derive(Debug, thiserror::Error)]
pub enum ChangePasswordError {
    #[error("the current password is wrong")]
    WrongPassword,
    #[error("the new password does not meet the policy: {0}")]
    WeakPassword(InvalidPassword),
    #[error(transparent)]
    Unknown(#[from] anyhow::Error),
}

#[derive(Debug, thiserror::Error)]
pub enum CreateStationError {
    #[error("the tenant already has a station with that code")]
    CodeTaken,
    #[error("no such tenant below the caller's")]
    TenantNotFound,
    /// A reseller's own pools come from its parent (PRODUCT.md rule 11).
    #[error("only the parent tenant creates a station pool")]
    NotTheParent,
    #[error(transparent)]
    Unknown(#[from] anyhow::Error),
}

#[derive(Debug, thiserror::Error)]
pub enum UpdateStationError {
    #[error("no such station")]
    NotFound,
    /// Only the parent tenant (or the platform for its own pools) changes
    /// a pool (PRODUCT.md rule 11).
    #[error("only the parent tenant changes a station pool")]
    NotTheParent,
    #[error("the quantity would be below the {in_use} licences in use")]
    QuantityBelowInUse { in_use: u32 },
    #[error(transparent)]
    Unknown(#[from] anyhow::Error),
}

#[derive(Debug, thiserror::Error)]
pub enum DeleteStationError {
    #[error("no such station")]
    NotFound,
    #[error("only the parent tenant changes a station pool")]
    NotTheParent,
    #[error("users still hold licences of the station")]
    InUse,
    #[error(transparent)]
    Unknown(#[from] anyhow::Error),
}

#[derive(Debug, thiserror::Error)]
pub enum CreateDeviceError {
    #[error("a device with that MAC address is already registered")]
    MacTaken,
    #[error(transparent)]
    Unknown(#[from] anyhow::Error),
}

#[derive(Debug, thiserror::Error)]
pub enum UpdateDeviceError {
    #[error("no such device")]
    NotFound,
    #[error(transparent)]
    Unknown(#[from] anyhow::Error),
}

/// Why a desk phone is not given its configuration.
#[derive(Debug, thiserror::Error)]
pub enum ProvisioningRefused {
    /// No credentials, unknown ones or a wrong password: 401.
    #[error("the device's provisioning credentials are missing or wrong")]
    Unauthenticated,
    /// An unknown MAC address, another device's, or one that serves nobody
    /// who may sign in now: one answer for all.
    #[error("no configuration for that MAC address")]
    NotFound,
    /// Too many failures from the source address.
    #[error("too many failed fetches from this address")]
    TooMany { retry_after: u64 },
    #[error(transparent)]
    Unknown(#[from] anyhow::Error),
}

#[derive(Debug, thiserror::Error)]
pub enum DeleteDeviceError {
    #[error("no such device")]
    NotFound,
    #[error("the device serves a user")]
    Assigned(crate::device::Holder),
    #[error(transparent)]
    Unknown(#[from] anyhow::Error),
}

/// Giving a user (or taking back) a station licence, a desk phone, an
/// extension, a phone number or applications; also what a one-call set-up
/// can run into. PRODUCT.md rules 2, 3, 4 and 9.
#[derive(Debug, thiserror::Error)]
pub enum TelephonyError {
    #[error("no such user")]
    UserNotFound,
    #[error("the change needs permissions the caller does not hold")]
    PermissionNotHeld(Vec<Permission>),
    #[error("no such station in the tenant")]
    StationNotFound,
    /// The pool has no free licence: order more (rule 2).
    #[error("no free licence: {in_use} of {quantity} in use")]
    StationUnavailable { quantity: u32, in_use: u32 },
    #[error("no such device in the tenant")]
    DeviceNotFound,
    /// The device serves another user (rule 3).
    #[error("the device serves another user")]
    DeviceAssigned(Holder),
    #[error(transparent)]
    TooManyPorts(#[from] crate::device::TooManyPorts),
    #[error("no such extension in the tenant")]
    ExtensionNotFound,
    #[error("the extension rings another user")]
    ExtensionAssigned(Holder),
    #[error("the tenant already has an extension with that number")]
    ExtensionNumberTaken,
    #[error("extension numbers of the tenant have {min} to {max} digits")]
    ExtensionNumberOutOfRange { min: u8, max: u8 },
    #[error("no such phone number in the tenant")]
    PhoneNumberNotFound,
    /// The number rings another user (rule 4).
    #[error("the phone number rings another user")]
    PhoneNumberAssigned(Holder),
    /// A deleted user's number rests before anyone is given it (issue 14).
    #[error("the phone number rests until {0}")]
    PhoneNumberResting(chrono::DateTime<chrono::Utc>),
    /// Rule 9: applications come from the user's station.
    #[error("the station does not unlock {0:?}")]
    ApplicationsNotUnlocked(Vec<Application>),
    #[error(transparent)]
    Unknown(#[from] anyhow::Error),
}

#[derive(Debug, thiserror::Error)]
pub enum CreateExtensionError {
    #[error("the tenant already has an extension with that number")]
    NumberTaken,
    #[error("extension numbers of the tenant have {min} to {max} digits")]
    NumberOutOfRange { min: u8, max: u8 },
    #[error(transparent)]
    Unknown(#[from] anyhow::Error),
}

#[derive(Debug, thiserror::Error)]
pub enum UpdateExtensionError {
    #[error("no such extension")]
    NotFound,
    #[error("the tenant already has an extension with that number")]
    NumberTaken,
    #[error("extension numbers of the tenant have {min} to {max} digits")]
    NumberOutOfRange { min: u8, max: u8 },
    #[error(transparent)]
    Unknown(#[from] anyhow::Error),
}

#[derive(Debug, thiserror::Error)]
pub enum DeleteExtensionError {
    #[error("no such extension")]
    NotFound,
    #[error("the extension rings a user")]
    Assigned(Holder),
    #[error(transparent)]
    Unknown(#[from] anyhow::Error),
}

#[derive(Debug, thiserror::Error)]
pub enum CreatePhoneNumberError {
    #[error("the number is already on the platform")]
    NumberTaken,
    #[error("no such tenant below the caller's")]
    TenantNotFound,
    /// Customers add numbers only when their parent allows it.
    #[error("only the parent tenant adds phone numbers")]
    NotTheParent,
    #[error(transparent)]
    Unknown(#[from] anyhow::Error),
}

#[derive(Debug, thiserror::Error)]
pub enum UpdatePhoneNumberError {
    #[error("no such phone number")]
    NotFound,
    #[error(transparent)]
    Unknown(#[from] anyhow::Error),
}

#[derive(Debug, thiserror::Error)]
pub enum DeletePhoneNumberError {
    #[error("no such phone number")]
    NotFound,
    #[error("only the parent tenant removes phone numbers")]
    NotTheParent,
    #[error("the number rings a user")]
    Assigned(Holder),
    #[error(transparent)]
    Unknown(#[from] anyhow::Error),
}

#[derive(Debug, thiserror::Error)]
pub enum SetPasswordError {
    /// Unknown, used or expired.
    #[error("the link is not valid")]
    InvalidToken,
    #[error("the password does not meet the policy: {0}")]
    WeakPassword(InvalidPassword),
    #[error(transparent)]
    Unknown(#[from] anyhow::Error),
}

#[derive(Debug, thiserror::Error)]
pub enum SendEmailError {
    #[error("no such user")]
    UserNotFound,
    #[error("the change needs permissions the caller does not hold")]
    PermissionNotHeld(Vec<Permission>),
    #[error("the user has no email address")]
    NoEmail,
    #[error(transparent)]
    Unknown(#[from] anyhow::Error),
}

#[derive(Debug, thiserror::Error)]
pub enum TwoFactorError {
    /// Enrolment is already confirmed: disable it (or have it reset) first.
    #[error("a second factor is already enabled")]
    AlreadyEnabled,
    /// Nothing to confirm: start enrolment first.
    #[error("no enrolment is in progress")]
    NotEnrolling,
    #[error("no second factor is enabled")]
    NotEnabled,
    /// The code (or, to disable, the password) is wrong.
    #[error("the code or password is wrong")]
    WrongCode,
    /// The user or their role requires a second factor.
    #[error("a second factor is required for this user")]
    Required,
    /// A signed-in user enrols only with their password.
    #[error("enrolling with a session needs the password")]
    PasswordRequired,
    #[error(transparent)]
    Unknown(#[from] anyhow::Error),
}

#[derive(Debug, thiserror::Error)]
pub enum SecurityAdminError {
    #[error("no such user")]
    UserNotFound,
    #[error("the change needs permissions the caller does not hold")]
    PermissionNotHeld(Vec<Permission>),
    /// Nobody locks themself out by their own allowlist.
    #[error("the allowlist would shut out the caller's own address")]
    LocksOutSelf,
    /// Nobody widens their own allowlist: another administrator must.
    #[error("nobody loosens a restriction on their own account")]
    OwnRestriction,
    /// One's own second factor is turned off with the password and a code
    /// (`DELETE /v1/me/2fa`), not reset.
    #[error("nobody resets their own second factor")]
    OwnSecondFactor,
    #[error(transparent)]
    Unknown(#[from] anyhow::Error),
}

#[derive(Debug, thiserror::Error)]
pub enum ClaimError {
    /// Claims are the platform operator's: only they see every tenant.
    #[error("only the platform operator handles claims")]
    NotOperator,
    #[error("no such claim")]
    NotFound,
    /// The object moved or went since it was claimed; the claim is gone.
    #[error("the claimed object is no longer where the claim found it")]
    Stale,
    #[error(transparent)]
    Unknown(#[from] anyhow::Error),
}

#[derive(Debug, thiserror::Error)]
pub enum SupportAccessError {
    #[error("no such tenant below the caller's")]
    TenantNotFound,
    #[error(transparent)]
    Unknown(#[from] anyhow::Error),
}

#[cfg(test)]
mod tests {
    use anyhow::Context as _;

    use super::*;

    #[test]
    fn unavailable_is_found_under_any_context() {
        let err: anyhow::Error = anyhow::anyhow!("connection refused").context("loading a user").context(Unavailable);
        assert!(is_unavailable(&err));
        let wrapped = Err::<(), _>(err).context("signing in").unwrap_err();
        assert!(is_unavailable(&wrapped));
        assert!(!is_unavailable(&anyhow::anyhow!("a constraint failed")));
    }

    #[test]
    fn an_enrolment_token_stays_out_of_debug_output() {
        let e = LoginError::TwoFactorEnrolmentRequired { token: EnrolmentToken("eyJ.secret.token".into()) };
        assert!(!format!("{e:?} {e}").contains("secret"), "{e:?}");
    }
}

/// Managing API clients.
#[derive(Debug, thiserror::Error)]
pub enum ApiClientError {
    #[error("no such API client")]
    NotFound,
    /// A client may hold only permissions its creator holds (PRODUCT.md rule 7).
    #[error("the caller lacks permissions the client would hold")]
    PermissionNotHeld(Vec<crate::permission::Permission>),
    #[error(transparent)]
    Unknown(#[from] anyhow::Error),
}

/// Managing webhooks.
#[derive(Debug, thiserror::Error)]
pub enum WebhookError {
    #[error("no such webhook")]
    NotFound,
    #[error("the webhook has no such delivery")]
    DeliveryNotFound,
    /// A delivery of a switched-off webhook is not sent again.
    #[error("the webhook is switched off")]
    Disabled,
    #[error("the delivery is being sent right now")]
    DeliveryBusy,
    #[error(transparent)]
    Unknown(#[from] anyhow::Error),
}

/// An OAuth2 request refused (RFC 6749 §5.2 names).
#[derive(Debug, thiserror::Error)]
pub enum OAuthError {
    /// Unknown client, wrong secret, disabled or expired: one answer for all.
    #[error("client authentication failed")]
    InvalidClient,
    /// The right secret from outside the client's allowed networks.
    #[error("the client may not be used from this address")]
    UnauthorizedClient,
    /// A permission asked for that is unknown or not the client's.
    #[error("the scope {0} is unknown or not the client's")]
    InvalidScope(String),
    /// Too many failures from the address.
    #[error("too many failed client authentications from this address")]
    TooMany { retry_after: u64 },
    #[error(transparent)]
    Unknown(#[from] anyhow::Error),
}
