//! Problems of portal users.

use std::fmt;

use actix_web::http::StatusCode;
use voxport_domain::{
    errors::{ChangeUserError, CreateUserError, DeleteUserError, UpdateUserError},
    station::Application,
};

use super::ApiError;

/// A body names a role (role_id) that the tenant does not have: the request
/// is well-formed, the reference is not there.
pub(crate) fn role_not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "role_not_found", "No such role (role_id) in your tenant.")
}

pub(crate) fn weak_password(field: &str, e: &impl fmt::Display) -> ApiError {
    ApiError::field(field, e)
}

impl From<CreateUserError> for ApiError {
    fn from(e: CreateUserError) -> Self {
        match e {
            CreateUserError::LoginTaken => login_taken(),
            CreateUserError::RoleNotFound => role_not_found(),
            CreateUserError::PermissionNotHeld(missing) => Self::not_held(&missing),
            CreateUserError::WeakPassword(e) => weak_password("password", &e),
            CreateUserError::PasswordRequired => Self::field(
                "password",
                "without an email address or the welcome email, nothing can carry a set-password link: \
                 give a password or generate one",
            ),
            CreateUserError::InvalidWindow(e) => Self::field("expires_at", e),
            CreateUserError::NeedsNumberOrExtension => {
                Self::field("extension", "setting up telephony needs a phone number (phone_number_id) or an extension")
            }
            CreateUserError::Telephony(e) => e.into(),
            CreateUserError::Unknown(e) => Self::internal(e),
        }
    }
}

impl From<UpdateUserError> for ApiError {
    fn from(e: UpdateUserError) -> Self {
        match e {
            UpdateUserError::NotFound => Self::not_found("user"),
            UpdateUserError::LoginTaken => login_taken(),
            UpdateUserError::RoleNotFound => role_not_found(),
            UpdateUserError::PermissionNotHeld(missing) => Self::not_held(&missing),
            UpdateUserError::OwnRole => Self::conflict("cannot_change_own_role", "Nobody changes their own role."),
            UpdateUserError::OwnAccess => {
                Self::conflict("cannot_disable_self", "Nobody disables, ends or postpones their own account.")
            }
            UpdateUserError::OwnPassword => Self::conflict(
                "own_password_needs_current",
                "Change your own password at POST /v1/me/password, which asks for the current one.",
            ),
            UpdateUserError::OwnRestriction => own_restriction(),
            UpdateUserError::LastAdministrator => last_administrator(),
            UpdateUserError::WeakPassword(e) => weak_password("password", &e),
            UpdateUserError::InvalidWindow(e) => Self::field("expires_at", e),
            UpdateUserError::ApplicationsNotUnlocked(apps) => not_unlocked(&apps),
            UpdateUserError::Unknown(e) => Self::internal(e),
        }
    }
}

impl From<ChangeUserError> for ApiError {
    fn from(e: ChangeUserError) -> Self {
        match e {
            ChangeUserError::User(e) => e.into(),
            ChangeUserError::Telephony(e) => e.into(),
            ChangeUserError::Changed => Self::conflict(
                "changed_concurrently",
                "The user changed while this change was applied; read them again and retry.",
            ),
        }
    }
}

impl From<DeleteUserError> for ApiError {
    fn from(e: DeleteUserError) -> Self {
        match e {
            DeleteUserError::NotFound => Self::not_found("user"),
            DeleteUserError::OwnAccount => Self::conflict("cannot_delete_self", "Nobody deletes their own account."),
            DeleteUserError::PermissionNotHeld(missing) => Self::not_held(&missing),
            DeleteUserError::LastAdministrator => last_administrator(),
            DeleteUserError::Unknown(e) => Self::internal(e),
        }
    }
}

/// 422 naming the applications a station does not unlock (rule 9).
pub(crate) fn not_unlocked(apps: &[Application]) -> ApiError {
    let names: Vec<&str> = apps.iter().map(|a| a.as_str()).collect();
    ApiError::field(
        "applications",
        format!("the user's station does not unlock {}; give them a station that does", names.join(", ")),
    )
}

pub(crate) fn login_taken() -> ApiError {
    ApiError::conflict("login_taken", "That login is already in use.")
}

/// PRODUCT.md rule 7: a tenant keeps an active administrator.
fn last_administrator() -> ApiError {
    ApiError::conflict("last_administrator", "The tenant would be left without an active administrator.")
}

pub(crate) fn own_restriction() -> ApiError {
    ApiError::conflict(
        "cannot_loosen_own_restrictions",
        "Nobody loosens a restriction on their own account (allowlist, expiry, required second factor); \
         another administrator must.",
    )
}
