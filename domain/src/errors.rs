//! One error enum per operation (STYLE.md 3). The edge (`api/`) matches
//! every variant without a wildcard, so adding one forces a decision about
//! its HTTP answer.

use crate::{permission::Permission, user::ExpiresBeforeActivation, values::InvalidPassword};

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
    #[error("a user without an email address needs a password")]
    PasswordRequired,
    #[error(transparent)]
    InvalidWindow(#[from] ExpiresBeforeActivation),
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
    #[error("the tenant would be left without an active administrator")]
    LastAdministrator,
    #[error("the password does not meet the policy: {0}")]
    WeakPassword(InvalidPassword),
    #[error(transparent)]
    InvalidWindow(#[from] ExpiresBeforeActivation),
    #[error(transparent)]
    Unknown(#[from] anyhow::Error),
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
    #[error("the administrator's login is already in use")]
    AdminLoginTaken,
    #[error("the administrator's password does not meet the policy: {0}")]
    WeakPassword(InvalidPassword),
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

#[derive(Debug, thiserror::Error)]
pub enum LoginError {
    /// Unknown login, wrong password, no password set, or an account that
    /// is not active: one answer for all (ASVS 5.0 6.3.8).
    #[error("invalid credentials")]
    InvalidCredentials,
    #[error(transparent)]
    Unknown(#[from] anyhow::Error),
}

#[derive(Debug, thiserror::Error)]
pub enum RefreshError {
    /// Unknown, spent, expired or revoked; or its user may no longer sign in.
    #[error("invalid refresh token")]
    InvalidToken,
    #[error(transparent)]
    Unknown(#[from] anyhow::Error),
}

#[derive(Debug, thiserror::Error)]
pub enum AuthenticateError {
    /// Malformed, forged, expired, of the wrong kind, or its session ended.
    #[error("invalid access token")]
    InvalidToken,
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
pub enum AssignStationError {
    #[error("no such user")]
    UserNotFound,
    #[error("no such station in the tenant")]
    StationNotFound,
    #[error("the change needs permissions the caller does not hold")]
    PermissionNotHeld(Vec<Permission>),
    /// The pool has no free licence: order more.
    #[error("no free licence: {in_use} of {quantity} in use")]
    Unavailable { quantity: u32, in_use: u32 },
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

#[derive(Debug, thiserror::Error)]
pub enum DeleteDeviceError {
    #[error("no such device")]
    NotFound,
    #[error("the device serves a user")]
    Assigned(crate::device::Holder),
    #[error(transparent)]
    Unknown(#[from] anyhow::Error),
}

#[derive(Debug, thiserror::Error)]
pub enum AssignDeviceError {
    #[error("no such user")]
    UserNotFound,
    #[error("no such device in the tenant")]
    DeviceNotFound,
    #[error("the change needs permissions the caller does not hold")]
    PermissionNotHeld(Vec<Permission>),
    /// The device serves another user (PRODUCT.md rule 3).
    #[error("the device serves another user")]
    Assigned(crate::device::Holder),
    #[error("the device has only {max} line ports")]
    TooManyPorts { max: u8 },
    #[error(transparent)]
    Unknown(#[from] anyhow::Error),
}
