//! Problems of signing in, sessions and passwords.

use actix_web::http::StatusCode;
use voxport_domain::errors::{
    AuthenticateError, ChangePasswordError, LoginError, RefreshError, ResetRequestRefused, SetPasswordError,
};

use super::{ApiError, weak_password};

impl From<LoginError> for ApiError {
    fn from(e: LoginError) -> Self {
        match e {
            LoginError::InvalidCredentials => invalid_credentials(),
            LoginError::ApplicationNotEnabled(app) => Self::new(
                StatusCode::FORBIDDEN,
                "application_not_enabled",
                format!("The {app} application is not enabled for this user; ask an administrator."),
            ),
            LoginError::TooManyAttempts { retry_after } => {
                let mut e = Self::new(
                    StatusCode::TOO_MANY_REQUESTS,
                    "too_many_attempts",
                    "Too many failed sign-ins from your address; wait and try again.",
                );
                e.extra_mut().retry_after = Some(retry_after);
                e
            }
            LoginError::IpNotAllowed => ip_not_allowed(),
            LoginError::OtpRequired => Self::new(
                StatusCode::UNAUTHORIZED,
                "otp_required",
                "Give the code of your authenticator app (otp), or a recovery code.",
            ),
            LoginError::OtpInvalid => Self::new(
                StatusCode::UNAUTHORIZED,
                "otp_invalid",
                "The one-time code is wrong, used or too old; wait for the next one.",
            ),
            LoginError::TwoFactorEnrolmentRequired { token } => {
                let mut e = Self::new(
                    StatusCode::FORBIDDEN,
                    "two_factor_enrolment_required",
                    "Your administrator requires a second factor: enrol one with the enrolment_token \
                     (POST /v1/me/2fa, then POST /v1/me/2fa/confirm), then sign in again.",
                );
                e.extra_mut().enrolment_token = Some(token.0);
                e
            }
            LoginError::Unknown(e) => Self::internal(e),
        }
    }
}

/// A right password or token from outside the user's IP allowlist.
pub(crate) fn ip_not_allowed() -> ApiError {
    ApiError::new(StatusCode::FORBIDDEN, "ip_not_allowed", "Your account may not be used from this address.")
}

/// The one answer for every failed sign-in.
pub fn invalid_credentials() -> ApiError {
    ApiError::new(
        StatusCode::UNAUTHORIZED,
        "invalid_credentials",
        "The login or password is wrong, or the account may not sign in.",
    )
}

impl From<RefreshError> for ApiError {
    fn from(e: RefreshError) -> Self {
        match e {
            RefreshError::InvalidToken => Self::new(
                StatusCode::UNAUTHORIZED,
                "invalid_refresh_token",
                "The refresh token is unknown, spent or expired; sign in again.",
            ),
            RefreshError::IpNotAllowed => ip_not_allowed(),
            RefreshError::Unknown(e) => Self::internal(e),
        }
    }
}

impl From<AuthenticateError> for ApiError {
    fn from(e: AuthenticateError) -> Self {
        match e {
            AuthenticateError::InvalidToken => Self::unauthenticated(),
            AuthenticateError::IpNotAllowed => ip_not_allowed(),
            AuthenticateError::Unknown(e) => Self::internal(e),
        }
    }
}

impl From<ChangePasswordError> for ApiError {
    fn from(e: ChangePasswordError) -> Self {
        match e {
            ChangePasswordError::WrongPassword => {
                Self::new(StatusCode::FORBIDDEN, "current_password_wrong", "The current password is wrong.")
            }
            ChangePasswordError::WeakPassword(e) => weak_password("new_password", &e),
            ChangePasswordError::Unknown(e) => Self::internal(e),
        }
    }
}

impl From<SetPasswordError> for ApiError {
    fn from(e: SetPasswordError) -> Self {
        match e {
            SetPasswordError::InvalidToken => Self::new(
                StatusCode::UNAUTHORIZED,
                "invalid_link",
                "The link is unknown, used or expired; ask for a new one.",
            ),
            SetPasswordError::WeakPassword(e) => weak_password("password", &e),
            SetPasswordError::Unknown(e) => Self::internal(e),
        }
    }
}

impl From<ResetRequestRefused> for ApiError {
    fn from(e: ResetRequestRefused) -> Self {
        let (mut e, seconds) = match e {
            ResetRequestRefused::TooMany { retry_after } => (
                Self::new(
                    StatusCode::TOO_MANY_REQUESTS,
                    "too_many_attempts",
                    "Too many password-reset requests from your address; wait and try again.",
                ),
                retry_after,
            ),
            ResetRequestRefused::Busy => (
                Self::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "busy",
                    "Too many password-reset requests are waiting; try again in a moment.",
                ),
                1,
            ),
            ResetRequestRefused::Unknown(e) => return Self::internal(e),
        };
        e.extra_mut().retry_after = Some(seconds);
        e
    }
}
