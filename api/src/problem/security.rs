//! Problems of second factors, allowlists and support access.

use actix_web::http::StatusCode;
use voxport_domain::errors::{SecurityAdminError, SupportAccessError, TwoFactorError};

use super::{ApiError, users::own_restriction};

impl From<TwoFactorError> for ApiError {
    fn from(e: TwoFactorError) -> Self {
        match e {
            TwoFactorError::AlreadyEnabled => Self::conflict(
                "two_factor_already_enabled",
                "A second factor is already enabled; turn it off (or have it reset) first.",
            ),
            TwoFactorError::NotEnrolling => {
                Self::conflict("two_factor_not_enrolling", "Start enrolment first (POST /v1/me/2fa).")
            }
            TwoFactorError::NotEnabled => Self::conflict("two_factor_not_enabled", "No second factor is enabled."),
            TwoFactorError::WrongCode => Self::new(
                StatusCode::FORBIDDEN,
                "verification_failed",
                "The code (or the password) is wrong, used or too old.",
            ),
            TwoFactorError::Required => Self::conflict(
                "two_factor_required",
                "Your administrator requires a second factor; it cannot be turned off.",
            ),
            TwoFactorError::PasswordRequired => Self::field(
                "password",
                "enrolling while signed in needs your current password (an enrolment token needs none)",
            ),
            TwoFactorError::Unknown(e) => Self::internal(e),
        }
    }
}

impl From<SecurityAdminError> for ApiError {
    fn from(e: SecurityAdminError) -> Self {
        match e {
            SecurityAdminError::UserNotFound => Self::not_found("user"),
            SecurityAdminError::PermissionNotHeld(missing) => Self::not_held(&missing),
            SecurityAdminError::LocksOutSelf => Self::conflict(
                "allowlist_excludes_you",
                "The allowlist would shut out the address you are calling from.",
            ),
            SecurityAdminError::OwnRestriction => own_restriction(),
            SecurityAdminError::OwnSecondFactor => Self::conflict(
                "cannot_reset_own_two_factor",
                "Turn your own second factor off with your password and a code (DELETE /v1/me/2fa).",
            ),
            SecurityAdminError::Unknown(e) => Self::internal(e),
        }
    }
}

impl From<SupportAccessError> for ApiError {
    fn from(e: SupportAccessError) -> Self {
        match e {
            SupportAccessError::TenantNotFound => Self::not_found("tenant"),
            SupportAccessError::Unknown(e) => Self::internal(e),
        }
    }
}
